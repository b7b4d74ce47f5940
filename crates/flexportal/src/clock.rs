//! Wall-clock time in unix milliseconds: kept answers and the shared budget are compared across
//! instances, which share a database but not a process.

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in whole milliseconds, as the store counts them.
pub(crate) fn ms(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
