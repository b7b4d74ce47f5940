//! A bounded TTL cache of decoded answers, with coalescing of identical concurrent reads and
//! the last good answer kept for when the upstream fails.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
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

/// The cached answers one piece of work read (a page render, say), and whether any was an old
/// answer served stale. Whatever was made from them is still current while
/// [`crate::Client::answers_current`] says so: every one of them is still the cache's fresh
/// answer under its key.
#[derive(Debug, Default)]
pub struct AnswerLog {
    reads: Mutex<Vec<Arc<Stamp>>>,
    stale: AtomicBool,
}

impl AnswerLog {
    fn read(&self, stamp: &Arc<Stamp>) {
        let mut reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        if !reads.iter().any(|r| Arc::ptr_eq(r, stamp)) {
            reads.push(stamp.clone());
        }
    }

    fn read_stale(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// True when an answer was served stale because the upstream failed: what was made from
    /// it says so, and should not be kept.
    pub fn saw_stale(&self) -> bool {
        self.stale.load(Ordering::Relaxed)
    }

    /// How many distinct answers were read.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.reads.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True while no answer read was served stale, and every one is younger than `ttl` and
    /// still the one under its key. No lock on the cache: each answer carries its own stamp.
    fn all_current(&self, ttl: Duration) -> bool {
        let now = Instant::now();
        !self.saw_stale()
            && self
                .reads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .all(|stamp| {
                    !stamp.gone.load(Ordering::Acquire)
                        && now.saturating_duration_since(stamp.fetched_at) < ttl
                })
    }
}

/// When an answer was fetched, and whether the cache has let go of it since (replaced by a
/// newer answer, evicted or invalidated).
#[derive(Debug)]
struct Stamp {
    fetched_at: Instant,
    gone: AtomicBool,
}

impl Stamp {
    fn let_go(&self) {
        self.gone.store(true, Ordering::Release);
    }
}

struct Entry {
    value: Value,
    stamp: Arc<Stamp>,
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
    /// that answer is returned marked stale. Notes in `log`, when given, which answer was read.
    pub async fn get_or_fetch<T, F, Fut>(
        &self,
        key: String,
        metrics: &Metrics,
        log: Option<&AnswerLog>,
        fetch: F,
    ) -> Result<Fetched<T>, Error>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let fresh = |value: Arc<T>, stamp: Arc<Stamp>| {
            if let Some(log) = log {
                log.read(&stamp);
            }
            Ok(Fetched {
                value,
                stale: false,
            })
        };
        if let Some((value, stamp)) = self.lookup::<T>(&key, false) {
            Metrics::bump(&metrics.cache_hits);
            return fresh(value, stamp);
        }

        let flight = self.flight(&key);
        let mut last_failure = flight.lock().await;
        let result = if let Some((value, stamp)) = self.lookup::<T>(&key, false) {
            Metrics::bump(&metrics.coalesced);
            fresh(value, stamp)
        } else if let Some((_, error)) = last_failure
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FAILURE_SHARED_FOR)
        {
            Metrics::bump(&metrics.coalesced);
            self.stale_or(&key, error.clone(), metrics, log)
        } else {
            Metrics::bump(&metrics.cache_misses);
            match fetch().await {
                Ok(value) => {
                    let value = Arc::new(value);
                    let stamp = self.insert(key.clone(), value.clone());
                    *last_failure = None;
                    fresh(value, stamp)
                }
                Err(error) => {
                    *last_failure = Some((Instant::now(), error.clone()));
                    self.stale_or(&key, error, metrics, log)
                }
            }
        };
        drop(last_failure);
        self.land(&key, flight);
        result
    }

    /// True while every answer in `log` is still the fresh answer under its key.
    pub fn all_current(&self, log: &AnswerLog) -> bool {
        log.all_current(self.ttl)
    }

    /// Forgets `key`, e.g. after a write.
    pub fn invalidate(&self, key: &str) {
        let removed = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        if let Some(entry) = removed {
            entry.stamp.let_go();
        }
    }

    fn stale_or<T: Send + Sync + 'static>(
        &self,
        key: &str,
        error: Error,
        metrics: &Metrics,
        log: Option<&AnswerLog>,
    ) -> Result<Fetched<T>, Error> {
        if error.is_transient() {
            if let Some((value, _)) = self.lookup::<T>(key, true) {
                if let Some(log) = log {
                    log.read_stale();
                }
                Metrics::bump(&metrics.stale_served);
                return Ok(Fetched { value, stale: true });
            }
        }
        Err(error)
    }

    /// The usable answer under `key` and its stamp.
    fn lookup<T: Send + Sync + 'static>(
        &self,
        key: &str,
        allow_stale: bool,
    ) -> Option<(Arc<T>, Arc<Stamp>)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        let age = entry.stamp.fetched_at.elapsed();
        let usable = age < self.ttl || (allow_stale && age < self.ttl + self.keep_stale_for);
        if !usable {
            return None;
        }
        let value = entry.value.clone().downcast::<T>().ok()?;
        Some((value, entry.stamp.clone()))
    }

    /// Keeps `value` under `key`; returns the answer's stamp.
    fn insert(&self, key: String, value: Value) -> Arc<Stamp> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if entries.len() >= self.max_entries && !entries.contains_key(&key) {
            let limit = self.ttl + self.keep_stale_for;
            entries.retain(|_, e| {
                let keep = now.duration_since(e.stamp.fetched_at) < limit;
                if !keep {
                    e.stamp.let_go();
                }
                keep
            });
            if entries.len() >= self.max_entries {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.stamp.fetched_at)
                    .map(|(k, _)| k.clone())
                {
                    if let Some(entry) = entries.remove(&oldest) {
                        entry.stamp.let_go();
                    }
                }
            }
        }
        let stamp = Arc::new(Stamp {
            fetched_at: now,
            gone: AtomicBool::new(false),
        });
        let replaced = entries.insert(
            key,
            Entry {
                value,
                stamp: stamp.clone(),
            },
        );
        if let Some(old) = replaced {
            old.stamp.let_go();
        }
        stamp
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
    use std::sync::atomic::AtomicU32;

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
                    .get_or_fetch("k".into(), &metrics, None, || async {
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
            .get_or_fetch("k".into(), &metrics, None, || async {
                Ok::<_, Error>(1u32)
            })
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let stale = cache
            .get_or_fetch("k".into(), &metrics, None, || async {
                Err::<u32, _>(Error::Server { status: 500 })
            })
            .await
            .unwrap();
        assert!(stale.stale);
        assert_eq!(*stale.value, 1);

        let not_found = cache
            .get_or_fetch::<u32, _, _>("k".into(), &metrics, None, || async {
                Err(Error::NotFound)
            })
            .await;
        assert!(
            not_found.is_ok(),
            "the shared failure is still the 500 within a second"
        );
        tokio::time::sleep(FAILURE_SHARED_FOR).await;
        let not_found = cache
            .get_or_fetch::<u32, _, _>("k".into(), &metrics, None, || async {
                Err(Error::NotFound)
            })
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
                .get_or_fetch(format!("k{i}"), &metrics, None, || async move {
                    Ok::<_, Error>(i)
                })
                .await
                .unwrap();
        }
        assert!(cache.entries.lock().unwrap().len() <= 10);
        assert!(cache.flights.lock().unwrap().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_log_stays_current_until_an_answer_it_read_is_replaced_or_ages() {
        let cache = Cache::new(Duration::from_secs(30), Duration::from_secs(600), 100);
        let metrics = Metrics::default();
        async fn read(cache: &Cache, key: &str, log: Option<&AnswerLog>, value: u32) {
            cache
                .get_or_fetch(key.into(), &Metrics::default(), log, || async move {
                    Ok::<_, Error>(value)
                })
                .await
                .unwrap();
        }
        let log = AnswerLog::default();
        read(&cache, "a", Some(&log), 1).await;
        read(&cache, "b", Some(&log), 2).await;
        read(&cache, "a", Some(&log), 9).await;
        assert_eq!(log.len(), 2, "one entry per answer read");
        assert!(cache.all_current(&log));

        // Another reader's refetch of one of them (at the same instant) makes the log old.
        cache.invalidate("b");
        read(&cache, "b", None, 3).await;
        assert!(!cache.all_current(&log));

        let log = AnswerLog::default();
        read(&cache, "a", Some(&log), 1).await;
        read(&cache, "b", Some(&log), 1).await;
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(cache.all_current(&log));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!cache.all_current(&log), "no longer fresh");
        assert!(!log.saw_stale());

        // An old answer served because the upstream failed is noted as such.
        let log = AnswerLog::default();
        let stale = cache
            .get_or_fetch::<u32, _, _>("a".into(), &metrics, Some(&log), || async {
                Err(Error::Unreachable("down".into()))
            })
            .await
            .unwrap();
        assert!(stale.stale && log.saw_stale());
        assert!(!cache.all_current(&log));

        // An answer the cache let go of to make room.
        let small = Cache::new(Duration::from_secs(30), Duration::from_secs(600), 2);
        let log = AnswerLog::default();
        read(&small, "a", Some(&log), 1).await;
        tokio::time::advance(Duration::from_millis(1)).await;
        read(&small, "b", None, 2).await;
        assert!(small.all_current(&log));
        read(&small, "c", None, 3).await;
        assert!(!small.all_current(&log), "evicted");
    }
}
