//! Rate limits per key (an email, a client address, a principal): [`SharedLimiter`] in Folio's
//! database, counted alike by every instance (the sign-in limits), and [`RateLimiter`] in memory,
//! per instance (the file routes' lookups, which are bounded per instance's budget share anyway).
//!
//! Counts live in fixed windows: when a new window starts, the old counts are dropped whole,
//! so a hit never scans the map. The map is bounded: once it holds `max_keys` keys, a new key
//! takes the place of an arbitrary old one. A flood of new keys (addresses, say) thus costs
//! memory only up to the bound and never turns away a newcomer; what it can do is make the
//! limiter forget some counts early, which takes `max_keys` requests per forgotten count.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use sqlx::Row;

use crate::base::server::store::{Store, StoreResult};

/// The window of the per-email and per-address limits.
pub const LIMIT_WINDOW_SECS: i64 = 15 * 60;

/// Counts events per key in fixed windows of `window_secs`.
#[derive(Debug)]
pub struct RateLimiter {
    window_secs: i64,
    max_keys: usize,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    number: i64,
    counts: HashMap<String, u32>,
}

/// Counts events per key in fixed windows of `window_secs`, in Folio's database, so that the
/// limit holds across every instance. Keys are stored hashed: the table names no address.
#[derive(Clone, Debug)]
pub struct SharedLimiter {
    store: Store,
    /// Keeps two limiters' keys apart in the one table.
    name: &'static str,
    window_secs: i64,
}

impl SharedLimiter {
    pub fn new(store: Store, name: &'static str, window_secs: i64) -> Self {
        Self {
            store,
            name,
            window_secs: window_secs.max(1),
        }
    }

    /// Counts one event for `key` at `now` (unix seconds) and returns how many the key has in
    /// the current window, this one included; `None` when the database fails (a limit that
    /// cannot be counted is not lifted: the caller says the service is unavailable).
    pub async fn hit(&self, key: &str, now: i64) -> Option<u32> {
        use sha2::{Digest, Sha256};
        let window = now.div_euclid(self.window_secs);
        let digest = Sha256::digest(format!("{}\u{1f}{key}", self.name).as_bytes());
        let bucket: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        match self.store.rate_hit(&bucket, window).await {
            Ok(count) => Some(u32::try_from(count).unwrap_or(u32::MAX)),
            Err(e) => {
                tracing::error!(error = %e, "cannot count a sign-in limit");
                None
            }
        }
    }
}

impl Store {
    /// Adds one to `bucket`'s count in window `window_no`; returns the new count.
    async fn rate_hit(&self, bucket: &str, window_no: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO rate_counts (bucket, window_no, count) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_no) DO UPDATE SET count = rate_counts.count + 1 \
             RETURNING count",
        )
        .bind(bucket)
        .bind(window_no)
        .fetch_one(&self.pool)
        .await?;
        row.try_get(0)
    }

    /// Drops counts of windows before `window_no` (any limiter's: windows are numbered by
    /// the same clock, and the longest window decides).
    pub async fn rate_prune(&self, before_window_no: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM rate_counts WHERE window_no < $1")
            .bind(before_window_no)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

/// Keys one limiter tracks in a window, by default: about 10 MB at most.
pub const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub fn new(window_secs: i64) -> Self {
        Self::bounded(window_secs, MAX_KEYS)
    }

    pub fn bounded(window_secs: i64, max_keys: usize) -> Self {
        Self {
            window_secs: window_secs.max(1),
            max_keys: max_keys.max(1),
            window: Mutex::new(Window::default()),
        }
    }

    /// Counts one event for `key` at `now` (unix seconds) and returns how many the key has in
    /// the current window, this one included.
    pub fn hit(&self, key: &str, now: i64) -> u32 {
        let number = now.div_euclid(self.window_secs);
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        // A new window: the old counts are taken out whole, and freed once the lock is let go.
        let _old = if window.number != number {
            let old = std::mem::take(&mut *window);
            window.number = number;
            Some(old)
        } else {
            None
        };
        if !window.counts.contains_key(key) && window.counts.len() >= self.max_keys {
            if let Some(old) = window.counts.keys().next().cloned() {
                window.counts.remove(&old);
            }
        }
        let count = window.counts.entry(key.to_owned()).or_insert(0);
        *count = count.saturating_add(1);
        let count = *count;
        drop(window);
        count
    }

    /// Counts one event and tells whether the key is still within `limit` events.
    pub fn allows(&self, key: &str, now: i64, limit: u32) -> bool {
        self.hit(key, now) <= limit
    }

    /// Keys tracked in the current window.
    pub fn len(&self) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .counts
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The part of a client address that per-address limits count: an IPv4 address whole, an
/// IPv6 address by its /64 (one subscriber's network: anyone holding one has all of its
/// addresses), an IPv4-mapped IPv6 address as the IPv4 address. Anything else as it is.
pub fn address_group(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let network = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{network}/64")
            }
        },
        Err(_) => address.to_owned(),
    }
}

/// How often one principal may make the file routes go to FlexPortal for an id that is not
/// in its document index. Without these bounds, anyone signed in could spend the tenant's
/// budget, which every customer shares, by asking for invented ids.
///
/// The documents feature's file routes apply these; they are kept here, in the state the
/// platform builds, because the state holds every limit and depends on no feature.
#[derive(Debug)]
pub struct FileLookups {
    /// How old an index must be before a missing id may rebuild it.
    pub(crate) refresh_after: std::time::Duration,
    /// Rebuilds of an old index: one a minute per principal.
    pub(crate) refreshes: RateLimiter,
    /// Single lookups when the index was cut short by the order cap: 20 per 15 minutes.
    pub(crate) lookups: RateLimiter,
}

/// How old an index must be before a missing id may rebuild it.
const INDEX_REFRESH_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for FileLookups {
    fn default() -> Self {
        Self::refreshing_after(INDEX_REFRESH_AFTER)
    }
}

impl FileLookups {
    /// With indexes counted as old after `refresh_after` (a minute by default).
    pub fn refreshing_after(refresh_after: std::time::Duration) -> Self {
        Self {
            refresh_after,
            refreshes: RateLimiter::new(60),
            lookups: RateLimiter::new(15 * 60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_window() {
        let limiter = RateLimiter::new(900);
        assert_eq!(limiter.hit("a", 0), 1);
        assert_eq!(limiter.hit("a", 10), 2);
        assert_eq!(limiter.hit("b", 10), 1);
        assert_eq!(limiter.hit("a", 900), 1, "a new window starts afresh");
        assert_eq!(limiter.len(), 1, "the old window's keys are gone");
        assert!(limiter.allows("c", 900, 1));
        assert!(!limiter.allows("c", 901, 1));
    }

    #[test]
    fn a_full_map_makes_room_and_turns_no_newcomer_away() {
        let limiter = RateLimiter::bounded(900, 3);
        for key in ["a", "b", "c"] {
            assert_eq!(limiter.hit(key, 0), 1);
        }
        assert_eq!(limiter.hit("a", 0), 2, "known keys keep their count");
        assert_eq!(limiter.hit("d", 0), 1, "a new key starts at one");
        assert_eq!(limiter.hit("e", 0), 1);
        assert_eq!(limiter.len(), 3);
    }

    #[test]
    fn a_million_addresses_stay_within_the_bound() {
        let limiter = RateLimiter::bounded(900, 10_000);
        for i in 0..1_000_000u32 {
            limiter.hit(&std::net::Ipv4Addr::from(i).to_string(), 5);
        }
        assert_eq!(limiter.len(), 10_000);
        assert_eq!(
            limiter.hit("203.0.113.9", 5),
            1,
            "a newcomer is not over any limit"
        );
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        assert_eq!(address_group("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(
            address_group("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(address_group("2001:db8:1:3::1"), "2001:db8:1:2::/64");
        assert_eq!(address_group("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(address_group("198.51.100.7"), "198.51.100.7");
        assert_eq!(address_group("unknown"), "unknown");
    }
}
