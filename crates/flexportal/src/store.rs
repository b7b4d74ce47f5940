//! Where answers and the budget live beyond one process.
//!
//! A [`Client`](crate::Client) keeps its decoded answers in memory for the hot path and in an
//! [`AnswerStore`] behind it: Folio's database, shared by every instance, so that a restart or
//! a new instance starts warm, one instance's refresh serves the others, and the tenant's
//! request budget is one budget whatever the number of instances. [`MemoryStore`] keeps them
//! in the process only: for one instance without a shared store, and for tests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::budget::{Allowance, Budget, Priority};

/// A decoded answer as kept: the model as JSON (never FlexPortal's raw answer) and its times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAnswer {
    pub body: String,
    /// Tells this answer apart from every other answer under its key, old or new.
    pub version: i64,
    /// Unix milliseconds.
    pub fetched_ms: i64,
    /// Unix milliseconds; before then the answer is fresh.
    pub fresh_until_ms: i64,
    /// The customer the answer is about, when known: answers go with their customer.
    pub owner: Option<String>,
    /// What the answer's freshness was derived from beyond the answer (an order's status for
    /// its file list), so that a refresh elsewhere derives it alike.
    pub hint: Option<String>,
}

/// A change to a kept answer, as another instance learns of it: the answer now under `key`
/// is `version`, fresh until `fresh_until_ms` (version 0: there is none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub version: i64,
    pub fresh_until_ms: i64,
}

/// A failure of the store itself (the database), as text fit for a log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("answer store: {0}")]
pub struct StoreError(pub String);

/// The shared store of answers, leases and the budget. Every method is one or two statements,
/// none held across a call to FlexPortal.
#[async_trait]
pub trait AnswerStore: Send + Sync + 'static {
    /// Whether other instances share this store: then the client follows
    /// [`AnswerStore::changes_since`] to learn of their refreshes.
    fn shared(&self) -> bool;

    async fn load(&self, key: &str) -> Result<Option<StoredAnswer>, StoreError>;

    /// Keeps `answer` under `key` and notes the change, unless the answer kept there was
    /// asked for later (`fetched_ms`): then nothing changes and `None` is returned. Otherwise
    /// returns the freshness kept: the answer's own, or, when the key was marked for refresh
    /// after the answer was asked for, that mark's time (the answer may predate the change
    /// the mark was for).
    async fn save(&self, key: &str, answer: &StoredAnswer) -> Result<Option<i64>, StoreError>;

    /// Marks the answers under `keys` as past their freshness at `now_ms` (not gone: readers
    /// still get them while a refresh runs), remembers the mark for answers in flight (see
    /// [`AnswerStore::save`]), notes the changes, and returns the keys that had an answer.
    async fn expire(&self, keys: &[String], now_ms: i64) -> Result<Vec<String>, StoreError>;

    /// Drops the answers under `keys` and notes the changes.
    async fn remove(&self, keys: &[String]) -> Result<(), StoreError>;

    /// The keys of `owner`'s answers, with their hints.
    async fn keys_of(&self, owner: &str) -> Result<Vec<(String, Option<String>)>, StoreError>;

    /// Takes the refresh lease of `key` for `holder` until `until_ms`, unless someone else
    /// holds one that has not run out at `now_ms`. True when taken.
    async fn lease(
        &self,
        key: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError>;

    /// Takes one request from the tenant's budget for `priority` at `now_ms`. `Ok(None)` when
    /// granted; `Ok(Some(ms))` when there is no room, with when there may be.
    async fn grant(&self, priority: Priority, now_ms: i64) -> Result<Option<i64>, StoreError>;

    /// When a grant for `priority` would succeed, without taking it: `now_ms` or earlier when
    /// there is room now.
    async fn room(&self, priority: Priority, now_ms: i64) -> Result<i64, StoreError>;

    /// FlexPortal answered 429: nobody, on any instance, sends before `until_ms`.
    async fn pause(&self, until_ms: i64) -> Result<(), StoreError>;

    /// Changes noted since `since_ms` (by any instance's clock), oldest first.
    async fn changes_since(&self, since_ms: i64) -> Result<Vec<Change>, StoreError>;

    /// Notes that the answers under `keys` were read at `now_ms`: kept answers go once
    /// unused for long.
    async fn touch(&self, keys: &[String], now_ms: i64) -> Result<(), StoreError>;
}

/// Answers and the budget in this process only.
#[derive(Debug)]
pub struct MemoryStore {
    answers: Mutex<HashMap<String, StoredAnswer>>,
    /// When each key was last marked for refresh.
    marks: Mutex<HashMap<String, i64>>,
    leases: Mutex<HashMap<String, (String, i64)>>,
    budget: Budget,
    /// Whether clients on this store behave as instances sharing it (for tests).
    shared: bool,
    changes: Mutex<std::collections::VecDeque<(i64, Change)>>,
}

/// Changes a shared memory store remembers.
const CHANGES_KEPT: usize = 10_000;

impl MemoryStore {
    pub fn new(allowance: Allowance) -> Self {
        Self {
            answers: Mutex::default(),
            marks: Mutex::default(),
            leases: Mutex::default(),
            budget: Budget::new(allowance),
            shared: false,
            changes: Mutex::default(),
        }
    }

    /// A store that clients in one process share as instances share a database: each follows
    /// the others' changes. For tests of what several instances do.
    pub fn shared(allowance: Allowance) -> Self {
        Self {
            shared: true,
            ..Self::new(allowance)
        }
    }

    fn note(&self, key: &str, version: i64, fresh_until_ms: i64) {
        if !self.shared {
            return;
        }
        let mut changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        if changes.len() >= CHANGES_KEPT {
            changes.pop_front();
        }
        changes.push_back((
            crate::clock::now_ms(),
            Change {
                key: key.to_owned(),
                version,
                fresh_until_ms,
            },
        ));
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredAnswer>> {
        self.answers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl AnswerStore for MemoryStore {
    fn shared(&self) -> bool {
        self.shared
    }

    async fn load(&self, key: &str) -> Result<Option<StoredAnswer>, StoreError> {
        Ok(self.answers().get(key).cloned())
    }

    async fn save(&self, key: &str, answer: &StoredAnswer) -> Result<Option<i64>, StoreError> {
        let mark = self
            .marks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0);
        let mut answers = self.answers();
        if answers
            .get(key)
            .is_some_and(|kept| kept.fetched_ms > answer.fetched_ms)
        {
            return Ok(None);
        }
        let mut kept = answer.clone();
        if mark > answer.fetched_ms {
            kept.fresh_until_ms = kept.fresh_until_ms.min(mark);
        }
        let fresh_until_ms = kept.fresh_until_ms;
        answers.insert(key.to_owned(), kept);
        self.note(key, answer.version, fresh_until_ms);
        Ok(Some(fresh_until_ms))
    }

    async fn expire(&self, keys: &[String], now_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            marks.insert(key.clone(), now_ms);
        }
        drop(marks);
        let mut answers = self.answers();
        let mut kept = Vec::new();
        for key in keys {
            if let Some(a) = answers.get_mut(key.as_str()) {
                a.fresh_until_ms = a.fresh_until_ms.min(now_ms);
                self.note(key, a.version, a.fresh_until_ms);
                kept.push(key.clone());
            }
        }
        Ok(kept)
    }

    async fn remove(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut answers = self.answers();
        for key in keys {
            answers.remove(key);
            self.note(key, 0, 0);
        }
        Ok(())
    }

    async fn keys_of(&self, owner: &str) -> Result<Vec<(String, Option<String>)>, StoreError> {
        Ok(self
            .answers()
            .iter()
            .filter(|(_, a)| a.owner.as_deref() == Some(owner))
            .map(|(k, a)| (k.clone(), a.hint.clone()))
            .collect())
    }

    async fn lease(
        &self,
        key: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if leases.get(key).is_some_and(|(_, until)| *until > now_ms) {
            return Ok(false);
        }
        leases.insert(key.to_owned(), (holder.to_owned(), until_ms));
        Ok(true)
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if leases.get(key).is_some_and(|(h, _)| h == holder) {
            leases.remove(key);
        }
        Ok(())
    }

    async fn grant(&self, priority: Priority, now_ms: i64) -> Result<Option<i64>, StoreError> {
        Ok(self.budget.try_take(priority).err().map(|ready| {
            let wait = ready.saturating_duration_since(Instant::now());
            now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
        }))
    }

    async fn room(&self, priority: Priority, now_ms: i64) -> Result<i64, StoreError> {
        Ok(match self.budget.room(priority) {
            Ok(()) => now_ms,
            Err(ready) => {
                let wait = ready.saturating_duration_since(Instant::now());
                now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
            }
        })
    }

    async fn pause(&self, until_ms: i64) -> Result<(), StoreError> {
        let wait = until_ms.saturating_sub(crate::clock::now_ms()).max(0);
        self.budget
            .pause_for(Duration::from_millis(wait.unsigned_abs()));
        Ok(())
    }

    async fn changes_since(&self, since_ms: i64) -> Result<Vec<Change>, StoreError> {
        let changes = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        Ok(changes
            .iter()
            .filter(|(at, _)| *at > since_ms)
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn touch(&self, _keys: &[String], _now_ms: i64) -> Result<(), StoreError> {
        Ok(())
    }
}
