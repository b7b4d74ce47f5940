use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters of one client, for `/metrics` and for tests.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub upstream_requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub coalesced: AtomicU64,
    pub stale_served: AtomicU64,
    pub rate_limited: AtomicU64,
    pub retries: AtomicU64,
    pub failures: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// Requests sent to FlexPortal, retries included.
    pub upstream_requests: u64,
    /// Reads answered from the cache without waiting.
    pub cache_hits: u64,
    /// Reads that had to go upstream.
    pub cache_misses: u64,
    /// Reads that waited for an identical read in flight and used its answer.
    pub coalesced: u64,
    /// Reads answered with a stale value because FlexPortal failed.
    pub stale_served: u64,
    /// 429 answers from FlexPortal.
    pub rate_limited: u64,
    /// Requests sent again after a retryable failure.
    pub retries: u64,
    /// Requests that failed for good.
    pub failures: u64,
}

impl Metrics {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            upstream_requests: get(&self.upstream_requests),
            cache_hits: get(&self.cache_hits),
            cache_misses: get(&self.cache_misses),
            coalesced: get(&self.coalesced),
            stale_served: get(&self.stale_served),
            rate_limited: get(&self.rate_limited),
            retries: get(&self.retries),
            failures: get(&self.failures),
        }
    }
}
