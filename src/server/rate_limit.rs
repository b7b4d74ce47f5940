//! In-memory rate limits per key (an email, a client address), per instance.

use std::collections::HashMap;
use std::sync::Mutex;

/// Counts events per key in fixed windows of `window_secs`.
#[derive(Debug)]
pub struct RateLimiter {
    window_secs: i64,
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

/// Most keys tracked before old windows are swept.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(window_secs: i64) -> Self {
        Self {
            window_secs,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key` at `now` (unix seconds) and returns how many the key has in
    /// the current window, this one included.
    pub fn hit(&self, key: &str, now: i64) -> u32 {
        let window = now.div_euclid(self.window_secs);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (w, _)| *w == window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
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
    }
}
