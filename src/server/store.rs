//! Folio's own data: sessions, sign-in attempts, audit events and settings, in SQLite (the
//! default, one file) or PostgreSQL (for several instances), chosen by `DATABASE_URL`.
//!
//! One pool of sqlx's `Any` driver serves both: the SQL below is written to run unchanged on
//! both engines, and the migrations differ only where the engines do.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
}

/// A stored sign-in attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub customer_id: String,
    pub email: String,
    pub code_hash: String,
    pub code_attempts: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// One audit event, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub customer_id: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
}

pub type StoreResult<T> = Result<T, sqlx::Error>;

impl Store {
    /// Connects and applies the migrations. An SQLite file and its folder are created when
    /// missing.
    pub async fn connect(database_url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let (engine, url) = if let Some(path) = database_url.strip_prefix("sqlite://") {
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(file)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Engine::Sqlite, format!("sqlite://{path}{sep}mode=rwc"))
        } else {
            (Engine::Postgres, database_url.to_owned())
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers and the one writer work side by side; the busy
                        // timeout makes a second writer wait instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let store = Store { pool, engine };
        store.migrate().await?;
        Ok(store)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrations = match self.engine {
            Engine::Sqlite => Embedded(&[(
                1,
                "initial",
                include_str!("../../migrations/sqlite/0001_initial.sql"),
            )]),
            Engine::Postgres => Embedded(&[(
                1,
                "initial",
                include_str!("../../migrations/postgres/0001_initial.sql"),
            )]),
        };
        let migrator = Migrator::new(migrations)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    // --- sessions ---------------------------------------------------------------------------

    pub async fn session_insert(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        subject: Option<&str>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, subject) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn session_upsert(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        subject: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, subject) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             subject = excluded.subject",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(subject)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(String, i64)>> {
        let row =
            sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    pub async fn session_delete(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of one principal ("sign out everywhere").
    pub async fn sessions_delete_subject(&self, subject: &str) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes expired sessions and sign-in attempts; returns how many rows went.
    pub async fn delete_expired(&self, now: i64) -> StoreResult<u64> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        // Attempts are kept a day past expiry, for the operator's questions.
        let attempts = sqlx::query("DELETE FROM sign_in_attempts WHERE expires_at <= $1")
            .bind(now - 86_400)
            .execute(&self.pool)
            .await?;
        Ok(sessions.rows_affected() + attempts.rows_affected())
    }

    // --- sign-in attempts -------------------------------------------------------------------

    pub async fn attempt_insert(
        &self,
        attempt: &Attempt,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sign_in_attempts \
             (id, customer_id, email, token_hash, code_hash, code_attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $7)",
        )
        .bind(&attempt.id)
        .bind(&attempt.customer_id)
        .bind(&attempt.email)
        .bind(token_hash)
        .bind(&attempt.code_hash)
        .bind(now)
        .bind(attempt.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn attempt_by_id(&self, id: &str) -> StoreResult<Option<Attempt>> {
        let row = sqlx::query(&format!("{ATTEMPT_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| attempt_from_row(&r)).transpose()
    }

    pub async fn attempt_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Attempt>> {
        let row = sqlx::query(&format!("{ATTEMPT_COLUMNS} WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| attempt_from_row(&r)).transpose()
    }

    /// Counts one wrong code; returns the attempts so far.
    pub async fn attempt_count_wrong_code(&self, id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "UPDATE sign_in_attempts SET code_attempts = code_attempts + 1 WHERE id = $1 \
             RETURNING code_attempts",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.try_get(0)
    }

    /// Marks the attempt used, once: of two concurrent spends, exactly one gets `true`.
    pub async fn attempt_spend(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sign_in_attempts SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- audit ------------------------------------------------------------------------------

    pub async fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, customer_id, subject, ip) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.at)
        .bind(&event.kind)
        .bind(&event.actor)
        .bind(&event.customer_id)
        .bind(&event.subject)
        .bind(&event.ip)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest events of one kind, newest first.
    pub async fn audit_recent(&self, kind: &str, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT at, kind, actor, customer_id, subject, ip FROM audit_events WHERE kind = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(kind)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEvent {
                    at: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    customer_id: r.try_get(3)?,
                    subject: r.try_get(4)?,
                    ip: r.try_get(5)?,
                })
            })
            .collect()
    }

    // --- settings ---------------------------------------------------------------------------

    /// The stored value of `key`, or `value` stored now. Concurrent first calls agree.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        row.try_get(0)
    }
}

const ATTEMPT_COLUMNS: &str = "SELECT id, customer_id, email, code_hash, code_attempts, expires_at, used_at FROM sign_in_attempts";

fn attempt_from_row(row: &AnyRow) -> StoreResult<Attempt> {
    Ok(Attempt {
        id: row.try_get(0)?,
        customer_id: row.try_get(1)?,
        email: row.try_get(2)?,
        code_hash: row.try_get(3)?,
        code_attempts: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        used_at: row.try_get(6)?,
    })
}

/// Migrations compiled into the binary, so it needs no files beside it at run time.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> futures::future::BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}
