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

pub use crate::model::LinkState;

/// The second migration is the same SQL on both engines.
const STAFF_AND_LINKS: (i64, &str, &str) = (
    2,
    "staff and links",
    include_str!("../../migrations/both/0002_staff_and_links.sql"),
);

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

/// Who a sign-in is for: a customer (looked up in FlexPortal) or a staff member (in Folio's
/// own `staff` table). The two never mix: a code or link of one audience is worthless on the
/// other's pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    #[default]
    Customer,
    Staff,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Customer => "customer",
            Audience::Staff => "staff",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "staff" {
            Audience::Staff
        } else {
            Audience::Customer
        }
    }
}

/// A stored sign-in attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub id: String,
    pub audience: Audience,
    /// The customer's id, or the staff member's address.
    pub account_id: String,
    pub email: String,
    pub code_hash: String,
    pub code_attempts: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Attempt {
    /// Whether the attempt can still sign in on `audience`'s side: not used, not expired, and
    /// its code tries not spent ([`Store::attempt_take_code_try`] checks the same in SQL).
    pub fn usable(&self, audience: Audience, now: i64) -> bool {
        self.audience == audience
            && self.used_at.is_none()
            && self.expires_at > now
            && self.code_attempts < crate::server::auth::MAX_CODE_TRIES
    }
}

/// What spends a sign-in attempt: its mailed link, or its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpendBy {
    Link,
    Code,
}

/// One audit event, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    pub kind: String,
    /// `customer:<id>`, `staff:<email>` or `link:<id>`.
    pub actor: Option<String>,
    pub customer_id: Option<String>,
    /// What the event is about: a file id, a sign-in method, a new expiry.
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub link_id: Option<String>,
}

/// Which audit events to read; every filter is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub customer_id: Option<String>,
    pub link_id: Option<String>,
    pub actor: Option<String>,
    pub kinds: Vec<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

/// A staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub email: String,
    pub name: String,
    pub created_at: i64,
}

/// A portal link as stored. Its token exists only in the URL handed out at creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareLink {
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub order_id: Option<String>,
    /// `None`: every type.
    pub doc_types: Option<Vec<String>>,
    pub label: String,
    pub recipient: Option<String>,
    pub locale: String,
    pub created_by: String,
    pub created_by_name: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_opens: Option<i64>,
    pub opens: i64,
    pub last_opened_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub revoked_by: Option<String>,
}

/// [`ShareLink::state`] as SQL, `?` standing for the current time where it matters.
fn state_condition(state: LinkState) -> &'static str {
    match state {
        LinkState::Revoked => "revoked_at IS NOT NULL",
        LinkState::Expired => "revoked_at IS NULL AND expires_at <= ?",
        LinkState::UsedUp => {
            "revoked_at IS NULL AND expires_at > ? AND max_opens IS NOT NULL AND opens >= max_opens"
        }
        LinkState::Active => {
            "revoked_at IS NULL AND expires_at > ? AND (max_opens IS NULL OR opens < max_opens)"
        }
    }
}

impl ShareLink {
    pub fn state(&self, now: i64) -> LinkState {
        if self.revoked_at.is_some() {
            LinkState::Revoked
        } else if self.expires_at <= now {
            LinkState::Expired
        } else if self.max_opens.is_some_and(|max| self.opens >= max) {
            LinkState::UsedUp
        } else {
            LinkState::Active
        }
    }

    /// Whether sessions opened through this link may go on: not revoked, not expired. A link
    /// whose opens are used up admits nobody new, but those it let in stay until it ends.
    pub fn sessions_may_continue(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Which links the register shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkFilter {
    pub customer_id: Option<String>,
    pub state: Option<LinkState>,
    pub created_by: Option<String>,
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

    pub fn engine(&self) -> Engine {
        self.engine
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrations = match self.engine {
            Engine::Sqlite => Embedded(&[
                (
                    1,
                    "initial",
                    include_str!("../../migrations/sqlite/0001_initial.sql"),
                ),
                STAFF_AND_LINKS,
            ]),
            Engine::Postgres => Embedded(&[
                (
                    1,
                    "initial",
                    include_str!("../../migrations/postgres/0001_initial.sql"),
                ),
                STAFF_AND_LINKS,
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
    async fn find<T>(
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

    // --- sign-in attempts -------------------------------------------------------------------

    pub async fn attempt_insert(
        &self,
        attempt: &Attempt,
        token_hash: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sign_in_attempts \
             (id, audience, account_id, email, token_hash, code_hash, code_attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
        )
        .bind(&attempt.id)
        .bind(attempt.audience.as_str())
        .bind(&attempt.account_id)
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
        let sql = format!("{ATTEMPT_COLUMNS} WHERE id = $1");
        self.find(&sql, id, attempt_from_row).await
    }

    pub async fn attempt_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Attempt>> {
        let sql = format!("{ATTEMPT_COLUMNS} WHERE token_hash = $1");
        self.find(&sql, token_hash, attempt_from_row).await
    }

    /// Takes one code try of a usable attempt and counts it, in one statement: of any number
    /// of concurrent tries, at most [`MAX_CODE_TRIES`] ever get the attempt back, so at most
    /// that many codes are ever compared. `None` when there is no such attempt for this side
    /// (an unknown address has none), or it is used, expired or out of tries.
    ///
    /// [`MAX_CODE_TRIES`]: crate::server::auth::MAX_CODE_TRIES
    pub async fn attempt_take_code_try(
        &self,
        id: &str,
        audience: Audience,
        now: i64,
    ) -> StoreResult<Option<Attempt>> {
        let row = sqlx::query(&format!(
            "UPDATE sign_in_attempts SET code_attempts = code_attempts + 1 \
             WHERE id = $1 AND audience = $2 AND used_at IS NULL AND expires_at > $3 \
             AND code_attempts < $4 RETURNING {ATTEMPT_FIELDS}"
        ))
        .bind(id)
        .bind(audience.as_str())
        .bind(now)
        .bind(crate::server::auth::MAX_CODE_TRIES)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attempt_from_row).transpose()
    }

    /// Marks the attempt used, once: of two concurrent spends, exactly one gets `true`. An
    /// attempt whose code tries are spent can no longer be spent by its link; a code spends it
    /// after its own try was counted (see [`Store::attempt_take_code_try`]).
    pub async fn attempt_spend(&self, id: &str, now: i64, by: SpendBy) -> StoreResult<bool> {
        let tries_left_over = match by {
            SpendBy::Link => crate::server::auth::MAX_CODE_TRIES,
            SpendBy::Code => crate::server::auth::MAX_CODE_TRIES + 1,
        };
        let done = sqlx::query(
            "UPDATE sign_in_attempts SET used_at = $1 \
             WHERE id = $2 AND used_at IS NULL AND expires_at > $1 AND code_attempts < $3",
        )
        .bind(now)
        .bind(id)
        .bind(tries_left_over)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // --- audit ------------------------------------------------------------------------------

    pub async fn audit(&self, event: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, kind, actor, customer_id, subject, ip, link_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event.at)
        .bind(&event.kind)
        .bind(&event.actor)
        .bind(&event.customer_id)
        .bind(&event.subject)
        .bind(&event.ip)
        .bind(&event.link_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest events of one kind, newest first.
    pub async fn audit_recent(&self, kind: &str, limit: i64) -> StoreResult<Vec<AuditEvent>> {
        let filter = AuditFilter {
            kinds: vec![kind.to_owned()],
            ..AuditFilter::default()
        };
        self.audit_events(&filter, limit, 0).await
    }

    /// Events matching `filter`, newest first, `limit` of them after skipping `offset`.
    pub async fn audit_events(
        &self,
        filter: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<AuditEvent>> {
        let mut conditions = Conditions::default();
        if let Some(customer) = &filter.customer_id {
            conditions.push("customer_id = ?", Value::Text(customer.clone()));
        }
        if let Some(link) = &filter.link_id {
            conditions.push("link_id = ?", Value::Text(link.clone()));
        }
        if let Some(actor) = &filter.actor {
            conditions.push("actor = ?", Value::Text(actor.clone()));
        }
        if !filter.kinds.is_empty() {
            let mut any = Vec::new();
            for kind in &filter.kinds {
                conditions.values.push(Value::Text(kind.clone()));
                any.push(format!("kind = ${}", conditions.values.len()));
            }
            conditions.clauses.push(format!("({})", any.join(" OR ")));
        }
        if let Some(from) = filter.from {
            conditions.push("at >= ?", Value::Int(from));
        }
        if let Some(until) = filter.until {
            conditions.push("at < ?", Value::Int(until));
        }
        let n = conditions.values.len();
        let sql = format!(
            "{AUDIT_COLUMNS}{} ORDER BY at DESC, id DESC LIMIT ${} OFFSET ${}",
            conditions.sql(),
            n + 1,
            n + 2
        );
        let rows = conditions
            .bind(sqlx::query(&sql))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    // --- staff ------------------------------------------------------------------------------

    /// Adds a staff member, or renames one already there. Returns true when added.
    pub async fn staff_upsert(&self, email: &str, name: &str, now: i64) -> StoreResult<bool> {
        let email = email.to_lowercase();
        let existed = self.staff_by_email(&email).await?.is_some();
        sqlx::query(
            "INSERT INTO staff (email, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO UPDATE SET name = excluded.name",
        )
        .bind(&email)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(!existed)
    }

    /// Removes a staff member and ends their sessions. Returns whether they existed.
    pub async fn staff_remove(&self, email: &str) -> StoreResult<bool> {
        let email = email.to_lowercase();
        let done = sqlx::query("DELETE FROM staff WHERE email = $1")
            .bind(&email)
            .execute(&self.pool)
            .await?;
        self.sessions_delete_subject(&format!("staff:{email}"))
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn staff_by_email(&self, email: &str) -> StoreResult<Option<StaffMember>> {
        let sql = "SELECT email, name, created_at FROM staff WHERE email = $1";
        self.find(sql, &email.to_lowercase(), staff_from_row).await
    }

    pub async fn staff_list(&self) -> StoreResult<Vec<StaffMember>> {
        let rows = sqlx::query("SELECT email, name, created_at FROM staff ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(staff_from_row).collect()
    }

    // --- portal links -----------------------------------------------------------------------

    pub async fn link_insert(&self, link: &ShareLink, token_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO share_links (id, token_hash, customer_id, customer_name, order_id, \
             doc_types, label, recipient, locale, created_by, created_by_name, created_at, \
             expires_at, max_opens, opens) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0)",
        )
        .bind(&link.id)
        .bind(token_hash)
        .bind(&link.customer_id)
        .bind(&link.customer_name)
        .bind(&link.order_id)
        .bind(link.doc_types.as_ref().map(|t| t.join(",")))
        .bind(&link.label)
        .bind(&link.recipient)
        .bind(&link.locale)
        .bind(&link.created_by)
        .bind(&link.created_by_name)
        .bind(link.created_at)
        .bind(link.expires_at)
        .bind(link.max_opens)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn link_by_id(&self, id: &str) -> StoreResult<Option<ShareLink>> {
        let sql = format!("{LINK_COLUMNS} WHERE id = $1");
        self.find(&sql, id, link_from_row).await
    }

    pub async fn link_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<ShareLink>> {
        let sql = format!("{LINK_COLUMNS} WHERE token_hash = $1");
        self.find(&sql, token_hash, link_from_row).await
    }

    /// Counts one open if the link is active, in one statement: of concurrent opens of a link
    /// with one open left, exactly one succeeds. Returns the link as it is after the open.
    pub async fn link_open(&self, token_hash: &str, now: i64) -> StoreResult<Option<ShareLink>> {
        let row = sqlx::query(
            "UPDATE share_links SET opens = opens + 1, last_opened_at = $2 \
             WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
             AND (max_opens IS NULL OR opens < max_opens) RETURNING id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => self.link_by_id(&row.try_get::<String, _>(0)?).await,
            None => Ok(None),
        }
    }

    /// Revokes a link, once. Returns false if it was already revoked (or does not exist). The
    /// sessions it opened end at their next request, when the link is checked (and their
    /// page view can then say why).
    pub async fn link_revoke(&self, id: &str, by: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE share_links SET revoked_at = $1, revoked_by = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a new expiry on a link that is not revoked. Returns whether it changed.
    pub async fn link_set_expiry(&self, id: &str, expires_at: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE share_links SET expires_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(expires_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Links matching `filter`, newest first, with the total count for paging.
    pub async fn links(
        &self,
        filter: &LinkFilter,
        now: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ShareLink>, i64)> {
        let mut conditions = Conditions::default();
        if let Some(state) = filter.state {
            conditions.push(&format!("({})", state_condition(state)), Value::Int(now));
        }
        if let Some(customer) = &filter.customer_id {
            conditions.push("customer_id = ?", Value::Text(customer.clone()));
        }
        if let Some(creator) = &filter.created_by {
            conditions.push("created_by = ?", Value::Text(creator.clone()));
        }
        let n = conditions.values.len();
        let sql = format!(
            "{LINK_COLUMNS}{} ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
            conditions.sql(),
            n + 1,
            n + 2
        );
        let rows = conditions
            .bind(sqlx::query(&sql))
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let count_sql = format!("SELECT COUNT(*) FROM share_links{}", conditions.sql());
        let total: i64 = conditions
            .bind(sqlx::query(&count_sql))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let links = rows.iter().map(link_from_row).collect::<StoreResult<_>>()?;
        Ok((links, total))
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

/// The columns [`attempt_from_row`] reads, in its order.
macro_rules! attempt_fields {
    () => {
        "id, account_id, email, code_hash, code_attempts, expires_at, used_at, audience"
    };
}
const ATTEMPT_FIELDS: &str = attempt_fields!();
const ATTEMPT_COLUMNS: &str = concat!("SELECT ", attempt_fields!(), " FROM sign_in_attempts");

fn attempt_from_row(row: &AnyRow) -> StoreResult<Attempt> {
    Ok(Attempt {
        id: row.try_get(0)?,
        account_id: row.try_get(1)?,
        email: row.try_get(2)?,
        code_hash: row.try_get(3)?,
        code_attempts: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        used_at: row.try_get(6)?,
        audience: Audience::parse(row.try_get::<String, _>(7)?.as_str()),
    })
}

const LINK_COLUMNS: &str = "SELECT id, customer_id, customer_name, order_id, doc_types, label, \
     recipient, locale, created_by, created_by_name, created_at, expires_at, max_opens, opens, \
     last_opened_at, revoked_at, revoked_by FROM share_links";

fn link_from_row(row: &AnyRow) -> StoreResult<ShareLink> {
    let types: Option<String> = row.try_get(4)?;
    Ok(ShareLink {
        id: row.try_get(0)?,
        customer_id: row.try_get(1)?,
        customer_name: row.try_get(2)?,
        order_id: row.try_get(3)?,
        doc_types: types.map(|t| {
            t.split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        label: row.try_get(5)?,
        recipient: row.try_get(6)?,
        locale: row.try_get(7)?,
        created_by: row.try_get(8)?,
        created_by_name: row.try_get(9)?,
        created_at: row.try_get(10)?,
        expires_at: row.try_get(11)?,
        max_opens: row.try_get(12)?,
        opens: row.try_get(13)?,
        last_opened_at: row.try_get(14)?,
        revoked_at: row.try_get(15)?,
        revoked_by: row.try_get(16)?,
    })
}

const AUDIT_COLUMNS: &str =
    "SELECT at, kind, actor, customer_id, subject, ip, link_id FROM audit_events";

fn audit_from_row(row: &AnyRow) -> StoreResult<AuditEvent> {
    Ok(AuditEvent {
        at: row.try_get(0)?,
        kind: row.try_get(1)?,
        actor: row.try_get(2)?,
        customer_id: row.try_get(3)?,
        subject: row.try_get(4)?,
        ip: row.try_get(5)?,
        link_id: row.try_get(6)?,
    })
}

/// A `WHERE` clause built from optional filters, with its values bound in order. Only
/// placeholders go into the SQL text; every value is bound.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    values: Vec<Value>,
}

enum Value {
    Text(String),
    Int(i64),
}

impl Conditions {
    /// Adds `clause`, in which every `?` stands for `value`; a clause without one binds
    /// nothing.
    fn push(&mut self, clause: &str, value: Value) {
        if !clause.contains('?') {
            self.clauses.push(clause.to_owned());
            return;
        }
        self.values.push(value);
        let n = self.values.len();
        self.clauses.push(clause.replace('?', &format!("${n}")));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    fn bind<'q>(
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

fn staff_from_row(row: &AnyRow) -> StoreResult<StaffMember> {
    Ok(StaffMember {
        email: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: row.try_get(2)?,
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
