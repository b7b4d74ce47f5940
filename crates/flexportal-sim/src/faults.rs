//! Switchable misbehaviour, shared between the server and whoever holds a [`Faults`] handle.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A cloneable handle to the sim's fault switches. Every switch takes effect on the next
/// request; counted faults ("the next N calls") are consumed one per API call.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<FaultState>);

#[derive(Debug, Default)]
struct FaultState {
    latency_ms: AtomicU64,
    fail_429: AtomicU32,
    retry_after_secs: AtomicU64,
    fail_500: AtomicU32,
    hang: AtomicU32,
    hang_ms: AtomicU64,
    prose_mode: AtomicBool,
    honour_files_customer_id: AtomicBool,
    ignore_files_offset: AtomicBool,
    email_case_insensitive: AtomicBool,
    clock_offset_secs: AtomicI64,
    rate_limit: Mutex<RateLimit>,
    /// Customer records changed since the tenant was seeded, by customer id: what an edit in
    /// FlexPortal's dashboard would do to them.
    customer_changes: Mutex<BTreeMap<String, CustomerChange>>,
}

/// A change to one customer record, as the tenant's staff might make it upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerChange {
    /// `active` or `inactive`.
    pub status: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Default)]
struct RateLimit {
    per_minute: Option<u32>,
    window_start: Option<Instant>,
    used: u32,
}

/// What a request should run into, decided once per API call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    TooManyRequests { retry_after_secs: u64 },
    ServerError,
    Hang(Duration),
}

/// The serialisable view of every switch, used by the admin endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub struct FaultSettings {
    pub latency_ms: u64,
    pub fail_429_next: u32,
    pub retry_after_secs: u64,
    pub fail_500_next: u32,
    pub hang_next: u32,
    pub hang_ms: u64,
    pub prose_mode: bool,
    pub honour_files_customer_id: bool,
    pub ignore_files_offset: bool,
    pub email_case_insensitive: bool,
    pub clock_offset_secs: i64,
    pub rate_limit_per_minute: Option<u32>,
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultPatch {
    pub latency_ms: Option<u64>,
    pub fail_429_next: Option<u32>,
    pub retry_after_secs: Option<u64>,
    pub fail_500_next: Option<u32>,
    pub hang_next: Option<u32>,
    pub hang_ms: Option<u64>,
    pub prose_mode: Option<bool>,
    pub honour_files_customer_id: Option<bool>,
    pub ignore_files_offset: Option<bool>,
    pub email_case_insensitive: Option<bool>,
    pub clock_offset_secs: Option<i64>,
    /// `null` switches the limit off; absent leaves it alone.
    #[serde(default, deserialize_with = "double_option")]
    pub rate_limit_per_minute: Option<Option<u32>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

/// Long enough that any sensible client gives up first, short enough that a forgotten
/// connection does not live forever.
const DEFAULT_HANG: Duration = Duration::from_secs(3600);
const DEFAULT_RETRY_AFTER_SECS: u64 = 2;

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    /// Delay every API response by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.0
            .latency_ms
            .store(latency.as_millis() as u64, Ordering::SeqCst);
    }

    /// Answer the next `n` API calls with 429 and `Retry-After: retry_after_secs`.
    pub fn fail_next_with_429(&self, n: u32, retry_after_secs: u64) {
        self.0
            .retry_after_secs
            .store(retry_after_secs, Ordering::SeqCst);
        self.0.fail_429.store(n, Ordering::SeqCst);
    }

    /// Answer the next `n` API calls with 500.
    pub fn fail_next_with_500(&self, n: u32) {
        self.0.fail_500.store(n, Ordering::SeqCst);
    }

    /// Never answer the next `n` API calls (they sleep for an hour).
    pub fn hang_next(&self, n: u32) {
        self.0.hang.store(n, Ordering::SeqCst);
    }

    /// How long a hanging call sleeps before answering normally; defaults to an hour.
    pub fn set_hang_duration(&self, d: Duration) {
        self.0.hang_ms.store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// Emit the documentation prose's field names (`fileName`, `fileType`, `mimeType`, `size`;
    /// `subscriptions`/`subscriptionId`/`serialNumber`) instead of the schema's.
    pub fn set_prose_mode(&self, on: bool) {
        self.0.prose_mode.store(on, Ordering::SeqCst);
    }

    /// Honour the undeclared `customerId` filter on `GET /v1/files` (ignored by default, like
    /// an API that does not know the parameter).
    pub fn set_honour_files_customer_id(&self, on: bool) {
        self.0.honour_files_customer_id.store(on, Ordering::SeqCst);
    }

    /// Ignore the undeclared `offset` parameter on `GET /v1/files`.
    pub fn set_ignore_files_offset(&self, on: bool) {
        self.0.ignore_files_offset.store(on, Ordering::SeqCst);
    }

    /// Match the `email` filter on customers case-insensitively, so a lookup can return more
    /// than one customer.
    pub fn set_email_case_insensitive(&self, on: bool) {
        self.0.email_case_insensitive.store(on, Ordering::SeqCst);
    }

    /// Shift the sim's clock, e.g. to make issued signed URLs expire.
    pub fn advance_clock(&self, by: Duration) {
        self.0
            .clock_offset_secs
            .fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    /// Allow at most `n` API calls per minute (`None`: unlimited), answering 429 beyond it.
    pub fn set_rate_limit_per_minute(&self, n: Option<u32>) {
        let mut rl = self.0.rate_limit.lock().unwrap_or_else(|e| e.into_inner());
        *rl = RateLimit {
            per_minute: n,
            window_start: None,
            used: 0,
        };
    }

    /// From now on, serve customer `customer_id` changed as given (on top of earlier changes).
    pub fn change_customer(&self, customer_id: &str, change: CustomerChange) {
        let mut changes = self.customer_changes();
        let entry = changes.entry(customer_id.to_owned()).or_default();
        if change.status.is_some() {
            entry.status = change.status;
        }
        if change.email.is_some() {
            entry.email = change.email;
        }
    }

    /// The change to `customer_id`, if any.
    pub(crate) fn customer_change(&self, customer_id: &str) -> Option<CustomerChange> {
        self.customer_changes().get(customer_id).cloned()
    }

    fn customer_changes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, CustomerChange>> {
        self.0
            .customer_changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Switch everything off.
    pub fn reset(&self) {
        self.apply(&FaultPatch {
            latency_ms: Some(0),
            fail_429_next: Some(0),
            retry_after_secs: Some(DEFAULT_RETRY_AFTER_SECS),
            fail_500_next: Some(0),
            hang_next: Some(0),
            hang_ms: Some(0),
            prose_mode: Some(false),
            honour_files_customer_id: Some(false),
            ignore_files_offset: Some(false),
            email_case_insensitive: Some(false),
            clock_offset_secs: Some(0),
            rate_limit_per_minute: Some(None),
        });
    }

    pub fn settings(&self) -> FaultSettings {
        let s = &self.0;
        FaultSettings {
            latency_ms: s.latency_ms.load(Ordering::SeqCst),
            fail_429_next: s.fail_429.load(Ordering::SeqCst),
            retry_after_secs: self.retry_after_secs(),
            fail_500_next: s.fail_500.load(Ordering::SeqCst),
            hang_next: s.hang.load(Ordering::SeqCst),
            hang_ms: self.hang_duration().as_millis() as u64,
            prose_mode: self.prose_mode(),
            honour_files_customer_id: self.honour_files_customer_id(),
            ignore_files_offset: self.ignore_files_offset(),
            email_case_insensitive: self.email_case_insensitive(),
            clock_offset_secs: self.clock_offset_secs(),
            rate_limit_per_minute: s
                .rate_limit
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .per_minute,
        }
    }

    pub fn apply(&self, p: &FaultPatch) {
        let s = &self.0;
        if let Some(v) = p.latency_ms {
            s.latency_ms.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.retry_after_secs {
            s.retry_after_secs.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.fail_429_next {
            s.fail_429.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.fail_500_next {
            s.fail_500.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.hang_next {
            s.hang.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.hang_ms {
            s.hang_ms.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.prose_mode {
            self.set_prose_mode(v);
        }
        if let Some(v) = p.honour_files_customer_id {
            self.set_honour_files_customer_id(v);
        }
        if let Some(v) = p.ignore_files_offset {
            self.set_ignore_files_offset(v);
        }
        if let Some(v) = p.email_case_insensitive {
            self.set_email_case_insensitive(v);
        }
        if let Some(v) = p.clock_offset_secs {
            s.clock_offset_secs.store(v, Ordering::SeqCst);
        }
        if let Some(v) = p.rate_limit_per_minute {
            self.set_rate_limit_per_minute(v);
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.0.latency_ms.load(Ordering::SeqCst))
    }

    pub(crate) fn prose_mode(&self) -> bool {
        self.0.prose_mode.load(Ordering::SeqCst)
    }

    pub(crate) fn honour_files_customer_id(&self) -> bool {
        self.0.honour_files_customer_id.load(Ordering::SeqCst)
    }

    pub(crate) fn ignore_files_offset(&self) -> bool {
        self.0.ignore_files_offset.load(Ordering::SeqCst)
    }

    pub(crate) fn email_case_insensitive(&self) -> bool {
        self.0.email_case_insensitive.load(Ordering::SeqCst)
    }

    pub(crate) fn clock_offset_secs(&self) -> i64 {
        self.0.clock_offset_secs.load(Ordering::SeqCst)
    }

    fn retry_after_secs(&self) -> u64 {
        match self.0.retry_after_secs.load(Ordering::SeqCst) {
            0 => DEFAULT_RETRY_AFTER_SECS,
            n => n,
        }
    }

    fn hang_duration(&self) -> Duration {
        match self.0.hang_ms.load(Ordering::SeqCst) {
            0 => DEFAULT_HANG,
            ms => Duration::from_millis(ms),
        }
    }

    /// Consumes one unit of a counted fault, if any is armed.
    fn take(counter: &AtomicU32) -> bool {
        counter
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Decides the fate of one API call. Counted faults go first (hang, 429, 500), then the
    /// per-minute budget, which every call that reaches it spends.
    pub(crate) fn on_request(&self) -> Option<Injected> {
        if Self::take(&self.0.hang) {
            return Some(Injected::Hang(self.hang_duration()));
        }
        if Self::take(&self.0.fail_429) {
            return Some(Injected::TooManyRequests {
                retry_after_secs: self.retry_after_secs(),
            });
        }
        if Self::take(&self.0.fail_500) {
            return Some(Injected::ServerError);
        }
        let mut rl = self.0.rate_limit.lock().unwrap_or_else(|e| e.into_inner());
        let limit = rl.per_minute?;
        let now = Instant::now();
        let start = *rl.window_start.get_or_insert(now);
        let elapsed = now.duration_since(start);
        if elapsed >= Duration::from_secs(60) {
            rl.window_start = Some(now);
            rl.used = 0;
        }
        if rl.used >= limit {
            let left = Duration::from_secs(60)
                .saturating_sub(now.duration_since(rl.window_start.unwrap_or(now)));
            return Some(Injected::TooManyRequests {
                retry_after_secs: left.as_secs().max(1),
            });
        }
        rl.used += 1;
        None
    }
}

/// Calls per endpoint (method plus route template, e.g. `GET /v1/files/{fileId}`), so tests can
/// count what a client really sent upstream.
#[derive(Debug, Clone, Default)]
pub struct Counters(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counters {
    pub(crate) fn hit(&self, endpoint: String) {
        *self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(endpoint)
            .or_default() += 1;
    }

    /// Calls to one endpoint, named like `"GET /v1/orders"` or `"POST /v1/files/url"`.
    pub fn get(&self, endpoint: &str) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// Calls to every `/v1` endpoint together.
    pub fn total(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_are_consumed_in_order() {
        let f = Faults::new();
        f.fail_next_with_429(1, 7);
        f.fail_next_with_500(2);
        assert_eq!(
            f.on_request(),
            Some(Injected::TooManyRequests {
                retry_after_secs: 7
            })
        );
        assert_eq!(f.on_request(), Some(Injected::ServerError));
        assert_eq!(f.on_request(), Some(Injected::ServerError));
        assert_eq!(f.on_request(), None);
    }

    #[test]
    fn rate_limit_allows_budget_then_refuses() {
        let f = Faults::new();
        f.set_rate_limit_per_minute(Some(3));
        for _ in 0..3 {
            assert_eq!(f.on_request(), None);
        }
        match f.on_request() {
            Some(Injected::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected 429, got {other:?}"),
        }
        f.set_rate_limit_per_minute(None);
        assert_eq!(f.on_request(), None);
    }

    #[test]
    fn patch_round_trips_through_settings() {
        let f = Faults::new();
        let patch: FaultPatch = serde_json::from_str(
            r#"{"latencyMs": 25, "proseMode": true, "rateLimitPerMinute": 10}"#,
        )
        .unwrap();
        f.apply(&patch);
        let s = f.settings();
        assert_eq!(s.latency_ms, 25);
        assert!(s.prose_mode);
        assert_eq!(s.rate_limit_per_minute, Some(10));
        let off: FaultPatch = serde_json::from_str(r#"{"rateLimitPerMinute": null}"#).unwrap();
        f.apply(&off);
        assert_eq!(f.settings().rate_limit_per_minute, None);
        assert!(f.settings().prose_mode);
        f.reset();
        assert_eq!(
            f.settings(),
            FaultSettings {
                retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
                hang_ms: DEFAULT_HANG.as_millis() as u64,
                ..Default::default()
            }
        );
    }
}
