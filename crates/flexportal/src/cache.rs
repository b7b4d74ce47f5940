//! The in-memory tier of the answers: decoded values for the hot path, in front of the
//! [`crate::AnswerStore`]. Bounded; one read in flight per key; one refresh per key at a time.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::now_ms;
use crate::error::Error;
use crate::store::{Change, StoredAnswer};

/// An answer, and how old it is.
#[derive(Debug)]
pub struct Fetched<T> {
    pub value: Arc<T>,
    /// True when FlexPortal failed when last asked for this answer: pages should say the data
    /// may be out of date.
    pub stale: bool,
    /// True while the answer is within its freshness. An answer past it is served at once
    /// while a refresh runs behind it; pages say when it was fetched.
    pub fresh: bool,
    /// When the answer was fetched from FlexPortal, in unix milliseconds.
    pub fetched_ms: i64,
}

impl<T> Fetched<T> {
    /// An answer made here rather than fetched (an empty list for a 404, say).
    pub fn made(value: T) -> Self {
        Self {
            value: Arc::new(value),
            stale: false,
            fresh: true,
            fetched_ms: now_ms(),
        }
    }
}

impl<T> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            stale: self.stale,
            fresh: self.fresh,
            fetched_ms: self.fetched_ms,
        }
    }
}

pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// The answers one piece of work read (a page render, say). Whatever was made from them is
/// what the same work would make now while [`crate::Client::answers_current`] says so: every
/// answer is still the newest under its key, and none that was fresh when read has aged
/// past its freshness since (a page made then would now say how old its data is).
#[derive(Debug, Default)]
pub struct AnswerLog {
    reads: Mutex<Vec<(Arc<Stamp>, bool)>>,
}

impl AnswerLog {
    fn read(&self, stamp: &Arc<Stamp>, fresh: bool) {
        let mut reads = self.reads.lock().unwrap_or_else(|e| e.into_inner());
        if !reads.iter().any(|(r, _)| Arc::ptr_eq(r, stamp)) {
            reads.push((stamp.clone(), fresh));
        }
    }

    /// True while no answer read has been replaced, invalidated or evicted, and none read
    /// fresh has aged past its freshness. No lock on the cache: each answer has its stamp.
    pub(crate) fn all_current(&self) -> bool {
        let now = now_ms();
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .all(|(stamp, fresh)| {
                !stamp.gone.load(Ordering::Acquire) && (!fresh || now < stamp.fresh_until_ms)
            })
    }

    /// The keys of the answers read that are past their freshness now.
    pub(crate) fn past_fresh(&self) -> Vec<String> {
        let now = now_ms();
        self.reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(stamp, _)| now >= stamp.fresh_until_ms)
            .map(|(stamp, _)| stamp.key.clone())
            .collect()
    }
}

/// One answer in memory, as it was when read: the cache lets go of it (marks it gone) when
/// it is replaced, invalidated or evicted.
#[derive(Debug)]
pub(crate) struct Stamp {
    key: String,
    fresh_until_ms: i64,
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
    version: i64,
    fetched_ms: i64,
    /// FlexPortal failed when last asked to refresh this answer.
    failed: bool,
    owner: Option<String>,
    hint: Option<String>,
    /// When the answer was last noted as used in the store.
    touched: Instant,
}

impl Entry {
    /// The entry as a read sees it now.
    fn hit(&self) -> Hit {
        Hit {
            value: self.value.clone(),
            stamp: self.stamp.clone(),
            fetched_ms: self.fetched_ms,
            fresh: now_ms() < self.stamp.fresh_until_ms,
            failed: self.failed,
            hint: self.hint.clone(),
        }
    }
}

/// An answer in memory, as a read sees it.
pub(crate) struct Hit {
    pub value: Value,
    pub stamp: Arc<Stamp>,
    pub fetched_ms: i64,
    pub fresh: bool,
    pub failed: bool,
    /// What the answer's freshness followed (a file list's order status).
    pub hint: Option<String>,
}

impl Hit {
    pub fn deliver<T: Send + Sync + 'static>(
        self,
        log: Option<&AnswerLog>,
    ) -> Result<Fetched<T>, Error> {
        let value = self.value.downcast::<T>().map_err(|_| Error::Decode {
            endpoint: self.stamp.key.clone(),
            path: String::new(),
            message: "kept answer of another type".into(),
        })?;
        if let Some(log) = log {
            log.read(&self.stamp, self.fresh);
        }
        Ok(Fetched {
            value,
            stale: self.failed,
            fresh: self.fresh,
            fetched_ms: self.fetched_ms,
        })
    }
}

/// One read in flight per key. Whoever holds the lock fetches; the others wait for it and
/// then find the answer in the cache, or the failure here.
pub(crate) type Flight = Arc<tokio::sync::Mutex<Option<(Instant, Error)>>>;

/// How long a failure is handed to readers that waited for it, instead of each of them trying
/// the upstream again in turn.
pub(crate) const FAILURE_SHARED_FOR: Duration = Duration::from_secs(1);

/// How often an answer read from memory is noted as used in the store, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(600);

/// Refreshes tried or running, per key.
#[derive(Default)]
struct Refreshes {
    running: HashSet<String>,
    /// Keys not to try again before the time given (a refresh just failed or was skipped).
    resting: HashMap<String, Instant>,
}

pub(crate) struct Cache {
    max_entries: usize,
    entries: Mutex<HashMap<String, Entry>>,
    flights: Mutex<HashMap<String, Flight>>,
    refreshes: Mutex<Refreshes>,
    /// Keys read since the store last heard of it.
    used: Mutex<HashSet<String>>,
    /// Keys whose next read must ask FlexPortal.
    bypass: Mutex<HashSet<String>>,
}

impl Cache {
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            entries: Mutex::default(),
            flights: Mutex::default(),
            refreshes: Mutex::default(),
            used: Mutex::default(),
            bypass: Mutex::default(),
        }
    }

    /// Has the next read of `key` ask FlexPortal, past memory and the store.
    pub fn bypass(&self, key: &str) {
        let mut bypass = self.bypass.lock().unwrap_or_else(|e| e.into_inner());
        if bypass.len() < self.max_entries {
            bypass.insert(key.to_owned());
        }
    }

    pub fn is_bypassed(&self, key: &str) -> bool {
        let bypass = self.bypass.lock().unwrap_or_else(|e| e.into_inner());
        !bypass.is_empty() && bypass.contains(key)
    }

    pub fn unbypass(&self, key: &str) {
        self.bypass
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer under `key` in memory.
    pub fn lookup(&self, key: &str) -> Option<Hit> {
        let mut entries = self.entries();
        let entry = entries.get_mut(key)?;
        let hit = entry.hit();
        if entry.touched.elapsed() >= TOUCH_EVERY {
            entry.touched = Instant::now();
            drop(entries);
            self.used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.to_owned());
        }
        Some(hit)
    }

    /// The owner and hint kept with the answer under `key`.
    pub fn context(&self, key: &str) -> Option<(Option<String>, Option<String>)> {
        let entries = self.entries();
        let entry = entries.get(key)?;
        Some((entry.owner.clone(), entry.hint.clone()))
    }

    /// The keys read since the last call, for the store to note as used.
    pub fn take_used(&self) -> Vec<String> {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.drain().collect()
    }

    /// Keeps `answer` (decoded as `value`) under `key`; the answer it replaces is let go of,
    /// unless it is the very same version.
    pub fn insert(&self, key: &str, value: Value, answer: &StoredAnswer) -> Hit {
        let mut entries = self.entries();
        if let Some(entry) = entries.get(key).filter(|e| {
            e.version == answer.version
                && e.stamp.fresh_until_ms == answer.fresh_until_ms
                && !e.failed
        }) {
            return entry.hit();
        }
        // An answer asked for before the one in memory was never replaces it.
        if let Some(entry) = entries
            .get(key)
            .filter(|e| e.version != answer.version && e.fetched_ms > answer.fetched_ms)
        {
            let mut hit = entry.hit();
            hit.fresh &= !hit.failed;
            return hit;
        }
        if entries.len() >= self.max_entries && !entries.contains_key(key) {
            // The least recently fetched answer goes: it is the one most likely to be
            // replaced soon anyway.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.fetched_ms)
                .map(|(k, _)| k.clone())
            {
                if let Some(entry) = entries.remove(&oldest) {
                    entry.stamp.let_go();
                }
            }
        }
        let stamp = Arc::new(Stamp {
            key: key.to_owned(),
            fresh_until_ms: answer.fresh_until_ms,
            gone: AtomicBool::new(false),
        });
        let entry = Entry {
            value,
            stamp,
            version: answer.version,
            fetched_ms: answer.fetched_ms,
            failed: false,
            owner: answer.owner.clone(),
            hint: answer.hint.clone(),
            touched: Instant::now(),
        };
        let hit = entry.hit();
        if let Some(old) = entries.insert(key.to_owned(), entry) {
            old.stamp.let_go();
        }
        hit
    }

    /// Notes that FlexPortal failed when asked to refresh `key`: what was made from the
    /// answer before did not say so, so it is let go of, and the answer is kept, marked.
    pub fn mark_failed(&self, key: &str) -> Option<Hit> {
        let mut entries = self.entries();
        let entry = entries.get_mut(key)?;
        if !entry.failed {
            entry.failed = true;
            let stamp = Arc::new(Stamp {
                key: key.to_owned(),
                fresh_until_ms: entry.stamp.fresh_until_ms,
                gone: AtomicBool::new(false),
            });
            std::mem::replace(&mut entry.stamp, stamp).let_go();
        }
        let mut hit = entry.hit();
        hit.fresh = false;
        Some(hit)
    }

    /// Forgets `key`: the next read asks the store, or FlexPortal.
    pub fn invalidate(&self, key: &str) {
        if let Some(entry) = self.entries().remove(key) {
            entry.stamp.let_go();
        }
    }

    /// Forgets every answer (the store's changes could not be followed).
    pub fn clear(&self) {
        for (_, entry) in self.entries().drain() {
            entry.stamp.let_go();
        }
    }

    /// Applies another instance's change: the answer in memory goes unless it is the one the
    /// change names.
    pub fn apply(&self, change: &Change) {
        let mut entries = self.entries();
        let same = entries.get(&change.key).is_some_and(|e| {
            e.version == change.version && e.stamp.fresh_until_ms == change.fresh_until_ms
        });
        if !same {
            if let Some(entry) = entries.remove(&change.key) {
                entry.stamp.let_go();
            }
        }
    }

    pub fn flight(&self, key: &str) -> Flight {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        flights.entry(key.to_owned()).or_default().clone()
    }

    /// Drops the flight of `key` once nobody else holds or waits for it.
    pub fn land(&self, key: &str, flight: Flight) {
        let mut flights = self.flights.lock().unwrap_or_else(|e| e.into_inner());
        // One reference is the map's, one is ours.
        if Arc::strong_count(&flight) <= 2 {
            let ours = flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight));
            if ours && flight.try_lock().is_ok_and(|f| f.is_none()) {
                flights.remove(key);
            }
        }
    }

    /// Whether a refresh of `key` may start now: none is running here, and none ended badly
    /// just now. When true, the caller must call [`Cache::end_refresh`].
    pub fn begin_refresh(&self, key: &str) -> bool {
        let mut refreshes = self.refreshes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if refreshes.running.contains(key)
            || refreshes.resting.get(key).is_some_and(|until| *until > now)
        {
            return false;
        }
        if refreshes.resting.len() > self.max_entries {
            refreshes.resting.retain(|_, until| *until > now);
        }
        refreshes.resting.remove(key);
        refreshes.running.insert(key.to_owned())
    }

    /// A refresh of `key` has ended; none is tried again for `rest`.
    pub fn end_refresh(&self, key: &str, rest: Duration) {
        let mut refreshes = self.refreshes.lock().unwrap_or_else(|e| e.into_inner());
        refreshes.running.remove(key);
        if !rest.is_zero() {
            refreshes
                .resting
                .insert(key.to_owned(), Instant::now() + rest);
        }
    }

    /// Refreshes running in this process.
    pub fn refreshing(&self) -> usize {
        self.refreshes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .running
            .len()
    }
}
