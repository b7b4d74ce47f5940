//! Folio's own counters, shown on `/metrics` beside the upstream client's.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counters {
    /// Sign-in codes compared with a stored attempt's: tries the database granted.
    pub codes_compared: AtomicU64,
    /// Sign-in codes refused without a comparison: no usable attempt, or its tries spent.
    pub codes_refused: AtomicU64,
}

impl Counters {
    /// Counts one sign-in code try, granted or not.
    pub fn code_try(&self, granted: bool) {
        let counter = if granted {
            &self.codes_compared
        } else {
            &self.codes_refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
