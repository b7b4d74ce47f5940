//! The time, as Folio's rules see it. Tests move it forward to expire tokens without waiting.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Unix milliseconds, at this clock's second (what the archives count in).
    pub fn now_ms(&self) -> i64 {
        self.now() * 1000
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Unix seconds as an RFC 3339 UTC time, the form view types carry times in.
pub fn iso_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
