//! FlexPortal's answers, the refresh leases and the tenant's request budget in Folio's
//! database, so that every instance on it shares them (`flexportal::AnswerStore`).
//!
//! Every operation is one or two statements, none held across a call to FlexPortal, and the
//! same SQL on SQLite and PostgreSQL. The budget is one row per request a window allows: a
//! grant is one conditional `UPDATE` that takes a row whose last grant is older than the
//! window, so no window ever holds more grants than there are rows, whatever the number of
//! instances. Background work may take only the first rows, sign-in lookups only the next
//! ones; readers take any, their own first.

use std::time::Duration;

use async_trait::async_trait;
use flexportal::{Allowance, AnswerStore, Change, Priority, StoreError, StoredAnswer};
use sqlx::Row;

use crate::base::server::store::{Store, StoreResult};

/// Changes are kept this long for the other instances to read.
const CHANGES_KEPT_MS: i64 = 10 * 60 * 1000;

/// Tries of a grant when other instances took the row it picked at the same moment.
const GRANT_TRIES: usize = 5;

/// The shared store of one Folio database.
#[derive(Clone, Debug)]
pub struct SqlAnswers {
    store: Store,
    allowance: Allowance,
}

fn failed(e: sqlx::Error) -> StoreError {
    StoreError(e.to_string())
}

impl SqlAnswers {
    /// The store on `store`'s database, with one budget row per request of `allowance`'s
    /// window. Every instance must be started with the same budget.
    pub async fn new(store: Store, allowance: Allowance) -> StoreResult<Self> {
        let limit = i64::from(allowance.limit);
        let mut tx = store.pool.begin().await?;
        sqlx::query("DELETE FROM upstream_budget WHERE slot >= $1")
            .bind(limit)
            .execute(&mut *tx)
            .await?;
        for slot in 0..limit {
            sqlx::query(
                "INSERT INTO upstream_budget (slot, granted_ms, priority) VALUES ($1, 0, '') \
                 ON CONFLICT (slot) DO NOTHING",
            )
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Self { store, allowance })
    }

    /// The rows `priority` may take, and where its own begin: `[from, to)`, own from `own`.
    fn rows(&self, priority: Priority) -> (i64, i64, i64) {
        let a = &self.allowance;
        let background = i64::from(a.cap(Priority::Background));
        let sign_in = i64::from(a.cap(Priority::SignIn));
        let limit = i64::from(a.limit);
        match priority {
            Priority::Background => (0, background.min(limit), 0),
            Priority::SignIn => {
                let from = background.min(limit - 1).max(0);
                (from, (from + sign_in).min(limit), from)
            }
            Priority::Reader => (0, limit, (background + sign_in).min(limit - 1)),
        }
    }

    /// When a grant for `priority` may succeed, read on `conn`.
    async fn room_on(
        &self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
        priority: Priority,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let (from, to, _) = self.rows(priority);
        if from >= to {
            // No share at all: never.
            return Ok(i64::MAX);
        }
        let window = i64::try_from(self.allowance.window.as_millis()).unwrap_or(i64::MAX);
        let row = sqlx::query(
            "SELECT MIN(granted_ms), (SELECT until_ms FROM upstream_pause WHERE id = 1) \
             FROM upstream_budget WHERE slot >= $1 AND slot < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(&mut **conn)
        .await
        .map_err(failed)?;
        let oldest: Option<i64> = row.try_get(0).map_err(failed)?;
        let paused: i64 = row.try_get(1).map_err(failed)?;
        Ok(oldest
            .map_or(now_ms, |t| t.saturating_add(window))
            .max(paused))
    }

    async fn note(&self, key: &str, version: i64, fresh_until_ms: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO answer_changes (key, version, fresh_until_ms, at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(key)
        .bind(version)
        .bind(fresh_until_ms)
        .bind(flexportal::clock::now_ms())
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// Drops answers unused for `retention`, then the least recently used until the rest fit
    /// in `max_bytes`; and changes and leases nobody needs any more. Returns how many answers
    /// went.
    pub async fn prune(&self, retention: Duration, max_bytes: i64) -> StoreResult<u64> {
        let now = flexportal::clock::now_ms();
        let pool = &self.store.pool;
        let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
        let mut gone = sqlx::query("DELETE FROM answers WHERE used_ms < $1")
            .bind(now.saturating_sub(retention_ms))
            .execute(pool)
            .await?
            .rows_affected();
        loop {
            // PostgreSQL sums BIGINTs as NUMERIC, which the Any driver cannot read.
            let bytes: Option<i64> = sqlx::query("SELECT CAST(SUM(bytes) AS BIGINT) FROM answers")
                .fetch_one(pool)
                .await?
                .try_get(0)?;
            if bytes.unwrap_or(0) <= max_bytes {
                break;
            }
            let done = sqlx::query(
                "DELETE FROM answers WHERE key IN \
                 (SELECT key FROM answers ORDER BY used_ms LIMIT 100)",
            )
            .execute(pool)
            .await?;
            gone += done.rows_affected();
            if done.rows_affected() == 0 {
                break;
            }
        }
        sqlx::query("DELETE FROM answer_changes WHERE at_ms < $1")
            .bind(now - CHANGES_KEPT_MS)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM answer_leases WHERE until_ms < $1")
            .bind(now)
            .execute(pool)
            .await?;
        Ok(gone)
    }

    /// Drops every kept answer of one customer, or all of them, noting the changes for the
    /// running instances. Returns how many went. Touches nothing else (the budget's rows are
    /// the running instances').
    pub async fn purge(store: &Store, owner: Option<&str>) -> StoreResult<u64> {
        let keys: Vec<String> = match owner {
            Some(owner) => sqlx::query("SELECT key FROM answers WHERE owner = $1").bind(owner),
            None => sqlx::query("SELECT key FROM answers"),
        }
        .fetch_all(&store.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
        let answers = Self {
            store: store.clone(),
            allowance: Allowance::per_minute(1),
        };
        answers
            .remove(&keys)
            .await
            .map_err(|e| sqlx::Error::Protocol(e.0))?;
        Ok(keys.len() as u64)
    }
}

#[async_trait]
impl AnswerStore for SqlAnswers {
    fn shared(&self) -> bool {
        true
    }

    async fn load(&self, key: &str) -> Result<Option<StoredAnswer>, StoreError> {
        let row = sqlx::query(
            "SELECT body, version, fetched_ms, fresh_until_ms, owner, hint FROM answers \
             WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.store.pool)
        .await
        .map_err(failed)?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> StoreResult<StoredAnswer> {
            Ok(StoredAnswer {
                body: row.try_get(0)?,
                version: row.try_get(1)?,
                fetched_ms: row.try_get(2)?,
                fresh_until_ms: row.try_get(3)?,
                owner: row.try_get(4)?,
                hint: row.try_get(5)?,
            })
        };
        read().map(Some).map_err(failed)
    }

    async fn save(&self, key: &str, answer: &StoredAnswer) -> Result<Option<i64>, StoreError> {
        // One statement: an answer asked for earlier than the kept one changes nothing, and
        // one asked for before the key's last mark keeps that mark as its freshness.
        let row = sqlx::query(
            "INSERT INTO answers \
             (key, body, version, fetched_ms, fresh_until_ms, owner, hint, used_ms, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, version = excluded.version, \
             fetched_ms = excluded.fetched_ms, \
             fresh_until_ms = CASE WHEN answers.marked_ms > excluded.fetched_ms \
                 THEN answers.marked_ms ELSE excluded.fresh_until_ms END, \
             owner = excluded.owner, hint = excluded.hint, used_ms = excluded.used_ms, \
             bytes = excluded.bytes \
             WHERE answers.fetched_ms <= excluded.fetched_ms \
             RETURNING fresh_until_ms",
        )
        .bind(key)
        .bind(&answer.body)
        .bind(answer.version)
        .bind(answer.fetched_ms)
        .bind(answer.fresh_until_ms)
        .bind(answer.owner.as_deref())
        .bind(answer.hint.as_deref())
        .bind(answer.fetched_ms)
        .bind(i64::try_from(answer.body.len() + key.len()).unwrap_or(i64::MAX))
        .fetch_optional(&self.store.pool)
        .await
        .map_err(failed)?;
        let Some(row) = row else { return Ok(None) };
        let fresh_until_ms: i64 = row.try_get(0).map_err(failed)?;
        self.note(key, answer.version, fresh_until_ms)
            .await
            .map_err(failed)?;
        Ok(Some(fresh_until_ms))
    }

    async fn expire(&self, keys: &[String], now_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut kept = Vec::new();
        for key in keys {
            let row = sqlx::query(
                "UPDATE answers SET fresh_until_ms = CASE WHEN fresh_until_ms < $2 \
                 THEN fresh_until_ms ELSE $2 END, marked_ms = $2 \
                 WHERE key = $1 RETURNING version, fresh_until_ms",
            )
            .bind(key)
            .bind(now_ms)
            .fetch_optional(&self.store.pool)
            .await
            .map_err(failed)?;
            // Only a kept answer is marked.
            let Some(row) = row else { continue };
            let version: i64 = row.try_get(0).map_err(failed)?;
            let fresh_until_ms: i64 = row.try_get(1).map_err(failed)?;
            self.note(key, version, fresh_until_ms)
                .await
                .map_err(failed)?;
            kept.push(key.clone());
        }
        Ok(kept)
    }

    async fn remove(&self, keys: &[String]) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query("DELETE FROM answers WHERE key = $1")
                .bind(key)
                .execute(&self.store.pool)
                .await
                .map_err(failed)?;
            self.note(key, 0, 0).await.map_err(failed)?;
        }
        Ok(())
    }

    async fn keys_of(&self, owner: &str) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT key, hint FROM answers WHERE owner = $1")
            .bind(owner)
            .fetch_all(&self.store.pool)
            .await
            .map_err(failed)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<StoreResult<_>>()
            .map_err(failed)
    }

    async fn lease(
        &self,
        key: &str,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO answer_leases (key, holder, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, \
             until_ms = excluded.until_ms WHERE answer_leases.until_ms <= $4",
        )
        .bind(key)
        .bind(holder)
        .bind(until_ms)
        .bind(now_ms)
        .execute(&self.store.pool)
        .await
        .map_err(failed)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, key: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM answer_leases WHERE key = $1 AND holder = $2")
            .bind(key)
            .bind(holder)
            .execute(&self.store.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn grant(&self, priority: Priority, _asked_ms: i64) -> Result<Option<i64>, StoreError> {
        let (from, to, own) = self.rows(priority);
        let window = i64::try_from(self.allowance.window.as_millis()).unwrap_or(i64::MAX);
        // The grant is stamped with the time it is made, once a connection is in hand: a time
        // taken before waiting for one could free a row early.
        let mut conn = self.store.pool.acquire().await.map_err(failed)?;
        for _ in 0..GRANT_TRIES {
            let now_ms = flexportal::clock::now_ms();
            let free_before = now_ms.saturating_sub(window);
            // The row is picked at random among the free ones, so that instances asking at
            // the same moment rarely pick the same; if they do, the condition fails for all
            // but one, who try again.
            let done = sqlx::query(
                "UPDATE upstream_budget SET granted_ms = $1, priority = $2 \
                 WHERE slot = (SELECT slot FROM upstream_budget \
                               WHERE slot >= $3 AND slot < $4 AND granted_ms <= $5 \
                               ORDER BY CASE WHEN slot >= $6 THEN 0 ELSE 1 END, random() \
                               LIMIT 1) \
                 AND granted_ms <= $5 \
                 AND (SELECT until_ms FROM upstream_pause WHERE id = 1) <= $1",
            )
            .bind(now_ms)
            .bind(priority.as_str())
            .bind(from)
            .bind(to)
            .bind(free_before)
            .bind(own)
            .execute(&mut *conn)
            .await
            .map_err(failed)?;
            if done.rows_affected() == 1 {
                return Ok(None);
            }
            let ready = self.room_on(&mut conn, priority, now_ms).await?;
            if ready > now_ms {
                return Ok(Some(ready));
            }
        }
        // Free rows, but always taken by others first: a moment later.
        Ok(Some(flexportal::clock::now_ms() + 20))
    }

    async fn room(&self, priority: Priority, now_ms: i64) -> Result<i64, StoreError> {
        let mut conn = self.store.pool.acquire().await.map_err(failed)?;
        self.room_on(&mut conn, priority, now_ms).await
    }

    async fn pause(&self, until_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE upstream_pause SET until_ms = $1 WHERE id = 1 AND until_ms < $1")
            .bind(until_ms)
            .execute(&self.store.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn changes_since(&self, since_ms: i64) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, version, fresh_until_ms FROM answer_changes WHERE at_ms > $1 \
             ORDER BY seq",
        )
        .bind(since_ms)
        .fetch_all(&self.store.pool)
        .await
        .map_err(failed)?;
        rows.iter()
            .map(|r| {
                Ok(Change {
                    key: r.try_get(0)?,
                    version: r.try_get(1)?,
                    fresh_until_ms: r.try_get(2)?,
                })
            })
            .collect::<StoreResult<_>>()
            .map_err(failed)
    }

    async fn touch(&self, keys: &[String], now_ms: i64) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query("UPDATE answers SET used_ms = $1 WHERE key = $2")
                .bind(now_ms)
                .bind(key)
                .execute(&self.store.pool)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}
