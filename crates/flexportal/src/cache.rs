//! A bounded TTL cache of decoded answers, with coalescing of identical concurrent reads and
//! the last good answer kept for when the upstream fails.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::Error;
use crate::metrics::Metrics;

/// An answer, and whether it is an old one served because FlexPortal failed just now.
#[derive(Debug)]
pub struct Fetched<T> {
    pub value: Arc<T>,
    /// True when this is the last good answer, older than the cache's freshness, served
    /// because the upstream failed. Pages should say the data may be out of date.
    pub stale: bool,
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            stale: self.stale,
        }
    }
}

type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    value: Value,
    fetched_at: Instant,
}

/// One read in flight per key. Whoever holds the lock fetches; the others wait for it and
/// then find the answer in the cache, or the failure here.
type Flight = Arc<tokio::sync::Mutex<Option<(Instant, Error)>>>;

/// How long a failure is handed to readers that waited for it, instead of each of them trying
/// the upstream again in turn.
const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);

pub(crate) struct Cache {
    ttl: Duration,
    keep_stale_for: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<String, Entry>>,
    flights: Mutex<HashMap<String, Flight>>,
}

impl Cache {
    pub fn new(ttl: Duration, keep_stale_for: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            keep_stale_for,
            max_entries: max_entries.max(1),
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Answers `key` from the cache while fresh; otherwise runs `fetch` once for all concurrent
    /// readers of `key`. If `fetch` fails with a transient error and an older answer exists,
    /// that answer is returned marked stale.
    pub async fn get_or_fetch<T, F, Fut>(
        &self,
        key: String,
        metrics: &Metrics,
        fetch: F,
    ) -> Result<Fetched<T>, Error>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        if let Some(value) = self.lookup::<T>(&key, false) {
            Metrics::bump(&metrics.cache_hits);
            return Ok(Fetched {
                value,
                stale: false,
            });
        }

        let flight = self.flight(&key);
        let mut last_failure = flight.lock().await;
        let result = if let Some(value) = self.lookup::<T>(&key, false) {
            Metrics::bump(&metrics.coalesced);
            Ok(Fetched {
                value,
                stale: false,
            })
        } else if let Some((_, error)) = last_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_SHARED_FOR)
        {
            Metrics::bump(&metrics.coalesced);
            self.stale_or(&key, error.clone(), metrics)
        } else {
            Metrics::bump(&metrics.cache_misses);
            match fetch().await {
                Ok(value) => {
                    let value = Arc::new(value);
                    self.insert(key.clone(), value.clone());
                    *last_failure = None;
                    Ok(Fetched {
                        value,
                        stale: false,
                    })
                }
                Err(error) => {
                    *last_failure = Some((Instant::now(), error.clone()));
                    self.stale_or(&key, error, metrics)
                }
            }
        };
        drop(last_failure);
        self.land(&key, flight);
        result
    }

    /// Forgets `key`, e.g. after a write.
    #[allow(dead_code)]
    pub fn invalidate(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn stale_or<T: Send + Sync + 'static>(
        &self,
        key: &str,
        error: Error,
        metrics: &Metrics,
    ) -> Result<Fetched<T>, Error> {
        if error.is_transient() {
            if let Some(value) = self.lookup::<T>(key, true) {
                Metrics::bump(&metrics.stale_served);
                return Ok(Fetched { value, stale: true });
            }
        }
        Err(error)
    }

    fn lookup<T: Send + Sync + 'static>(&self, key: &str, allow_stale: bool) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        let age = entry.fetched_at.elapsed();
        let usable = age < self.ttl || (allow_stale && age < self.ttl + self.keep_stale_for);
        if !usable {
            return None;
        }
        entry.value.clone().downcast::<T>().ok()
    }

    fn insert(&self, key: String, value: Value) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            let limit = self.ttl + self.keep_stale_for;
            entries.retain(|_, e| now.duration_since(e.fetched_at) < limit);
            if entries.len() >= self.max_entries {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.fetched_at)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                fetched_at: now,
            },
        );
    }

    fn flight(&self, key: &str) -> Flight {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.entry(key.to_owned()).or_default().clone()
    }

    /// Drops the flight of `key` once nobody else holds or waits for it.
    fn land(&self, key: &str, flight: Flight) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // One reference is the map's, one is ours.
        if Arc::strong_count(&flight) <= 2 {
            let ours = flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight));
            if ours && flight.try_lock().is_ok_and(|f| f.is_none()) {
                flights.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn cache() -> Cache {
        Cache::new(Duration::from_secs(30), Duration::from_secs(600), 100)
    }

    #[tokio::test]
    async fn concurrent_identical_reads_fetch_once() {
        let cache = Arc::new(cache());
        let metrics = Arc::new(Metrics::default());
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, metrics, calls) = (cache.clone(), metrics.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("k".into(), &metrics, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, Error>(7u32)
                    })
                    .await
                    .unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(*task.await.unwrap().value, 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_transient_failure_serves_the_last_good_answer_marked_stale() {
        let cache = Cache::new(Duration::from_millis(20), Duration::from_secs(600), 100);
        let metrics = Metrics::default();
        cache
            .get_or_fetch("k".into(), &metrics, || async { Ok::<_, Error>(1u32) })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let stale = cache
            .get_or_fetch("k".into(), &metrics, || async {
                Err::<u32, _>(Error::Server { status: 500 })
            })
            .await
            .unwrap();
        assert!(stale.stale);
        assert_eq!(*stale.value, 1);

        let not_found = cache
            .get_or_fetch::<u32, _, _>("k".into(), &metrics, || async { Err(Error::NotFound) })
            .await;
        assert!(
            not_found.is_ok(),
            "the shared failure is still the 500 within a second"
        );
        tokio::time::sleep(FAILURE_SHARED_FOR).await;
        let not_found = cache
            .get_or_fetch::<u32, _, _>("k".into(), &metrics, || async { Err(Error::NotFound) })
            .await;
        assert_eq!(
            not_found.unwrap_err(),
            Error::NotFound,
            "a 404 is never papered over"
        );
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let cache = Cache::new(Duration::from_secs(30), Duration::from_secs(600), 10);
        let metrics = Metrics::default();
        for i in 0..50u32 {
            cache
                .get_or_fetch(
                    format!("k{i}"),
                    &metrics,
                    || async move { Ok::<_, Error>(i) },
                )
                .await
                .unwrap();
        }
        assert!(cache.entries.lock().unwrap().len() <= 10);
        assert!(cache.flights.lock().unwrap().is_empty());
    }
}
