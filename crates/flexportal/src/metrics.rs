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
    pub store_loads: AtomicU64,
    pub refreshes: AtomicU64,
    pub refresh_failures: AtomicU64,
    pub granted_reader: AtomicU64,
    pub granted_sign_in: AtomicU64,
    pub granted_background: AtomicU64,
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
    /// Reads answered from the shared store (not memory, not FlexPortal).
    pub store_loads: u64,
    /// Answers refreshed behind their readers.
    pub refreshes: u64,
    /// Refreshes behind readers that FlexPortal failed.
    pub refresh_failures: u64,
    /// Refreshes running in this process now.
    pub refreshing: u64,
    /// Requests granted by the budget, by whom they were for.
    pub granted_reader: u64,
    pub granted_sign_in: u64,
    pub granted_background: u64,
}

impl Metrics {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self, refreshing: usize) -> MetricsSnapshot {
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
            store_loads: get(&self.store_loads),
            refreshes: get(&self.refreshes),
            refresh_failures: get(&self.refresh_failures),
            refreshing: refreshing as u64,
            granted_reader: get(&self.granted_reader),
            granted_sign_in: get(&self.granted_sign_in),
            granted_background: get(&self.granted_background),
        }
    }
}
