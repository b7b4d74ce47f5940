//! Folio's own data: sessions, sign-in attempts, staff, portal links, audit events and
//! settings, in SQLite (the default, one file) or PostgreSQL (for several instances), chosen by
//! `DATABASE_URL`.
//!
//! One pool of sqlx's `Any` driver serves both: the SQL below is written to run unchanged on
//! both engines, and the migrations differ only where the engines do.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row};

/// The second migration is the same SQL on both engines.
const STAFF_AND_LINKS: (i64, &str, &str) = (
    2,
    "staff and links",
    include_str!("../../../migrations/both/0002_staff_and_links.sql"),
);

/// How long a request waits for a database connection before it gives up: when the database
/// is away, the person waiting gets a clear answer (`answers::database_down`) in this time.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The third too: the kept answers, leases, the budget and the sign-in counts. (Only the
/// fourth, the change feed, needs each engine's own auto-numbered key.)
const ANSWERS: (i64, &str, &str) = (
    3,
    "answers",
    include_str!("../../../migrations/both/0003_answers.sql"),
);

/// The fifth too: the archives made in the background, and their bytes.
const ARCHIVES: (i64, &str, &str) = (
    5,
    "archives",
    include_str!("../../../migrations/both/0005_archives.sql"),
);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    /// Open to the crate: each feature keeps its own queries beside it, as `impl Store`.
    pub(crate) pool: AnyPool,
    engine: Engine,
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
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // A SQLite connection is a file in this process and cannot have gone away while
            // idle; the ping before each use would cost one more round trip to its worker
            // thread on every request (the session lookup). A server's connection can.
            .test_before_acquire(engine == Engine::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        // WAL lets readers and the one writer work side by side; the busy
                        // timeout makes a second writer wait instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        // In WAL mode, NORMAL syncs at checkpoints rather than on every
                        // commit: a crash of Folio loses nothing, a power cut at most the last
                        // commits (a download's audit line, a session's last touch). FULL
                        // made every download wait for a disk flush (bench/FINDINGS.md).
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
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

    /// The configuration and its database, for a command-line tool: on a failure, says why
    /// on standard error and gives the exit status (2 for the configuration, 1 for the
    /// database).
    pub async fn for_command(
    ) -> Result<(crate::base::server::config::Config, Store), std::process::ExitCode> {
        let config = crate::base::server::config::Config::from_env().map_err(|err| {
            eprintln!("folio: configuration error: {err}");
            std::process::ExitCode::from(2)
        })?;
        let store = Store::connect(&config.database_url).await.map_err(|err| {
            eprintln!("folio: cannot open the database (DATABASE_URL): {err}");
            std::process::ExitCode::FAILURE
        })?;
        Ok((config, store))
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrations = match self.engine {
            Engine::Sqlite => Embedded(&[
                (
                    1,
                    "initial",
                    include_str!("../../../migrations/sqlite/0001_initial.sql"),
                ),
                STAFF_AND_LINKS,
                ANSWERS,
                (
                    4,
                    "answer changes",
                    include_str!("../../../migrations/sqlite/0004_answer_changes.sql"),
                ),
                ARCHIVES,
            ]),
            Engine::Postgres => Embedded(&[
                (
                    1,
                    "initial",
                    include_str!("../../../migrations/postgres/0001_initial.sql"),
                ),
                STAFF_AND_LINKS,
                ANSWERS,
                (
                    4,
                    "answer changes",
                    include_str!("../../../migrations/postgres/0004_answer_changes.sql"),
                ),
                ARCHIVES,
            ]),
        };
        let migrator = Migrator::new(migrations)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        migrator
            .run(&self.pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))
    }

    /// The one row `sql` selects with `key` bound as `$1`, if any.
    pub(crate) async fn find<T>(
        &self,
        sql: &str,
        key: &str,
        from_row: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let row = sqlx::query(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| from_row(&r)).transpose()
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

    /// Writes a session that exists, and only then: a session ended meanwhile (signed out
    /// everywhere, expired, its link revoked) stays ended, whatever a request still in flight
    /// for it writes afterwards.
    pub async fn session_update(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        subject: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET data = $2, expires_at = $3, subject = $4 WHERE id = $1")
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

    /// The ids and data of one principal's sessions.
    pub async fn sessions_of_subject(&self, subject: &str) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT id, data FROM sessions WHERE subject = $1")
            .bind(subject)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Ends every session opened through any portal link to one customer's documents.
    pub async fn sessions_delete_links_of(&self, customer_id: &str) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE subject IN \
             (SELECT 'link:' || id FROM share_links WHERE customer_id = $1)",
        )
        .bind(customer_id)
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

/// A `WHERE` clause built from optional filters, with its values bound in order. Only
/// placeholders go into the SQL text; every value is bound.
#[derive(Default)]
pub(crate) struct Conditions {
    pub(crate) clauses: Vec<String>,
    pub(crate) values: Vec<Value>,
}

pub(crate) enum Value {
    Text(String),
    Int(i64),
}

impl Conditions {
    /// Adds `clause`, in which every `?` stands for `value`; a clause without one binds
    /// nothing.
    pub(crate) fn push(&mut self, clause: &str, value: Value) {
        if !clause.contains('?') {
            self.clauses.push(clause.to_owned());
            return;
        }
        self.values.push(value);
        let n = self.values.len();
        self.clauses.push(clause.replace('?', &format!("${n}")));
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub(crate) fn bind<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.values {
            query = match value {
                Value::Text(text) => query.bind(text.as_str()),
                Value::Int(n) => query.bind(*n),
            };
        }
        query
    }
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
