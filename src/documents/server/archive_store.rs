//! Background archives in Folio's database: a row per archive with its progress, and its bytes
//! in chunks, so that the instance that made it need not be the one that serves it.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::base::server::store::{Store, StoreResult};

/// A running archive whose job has not written for this long was interrupted (its instance
/// stopped); the job writes at least every few seconds.
pub const INTERRUPTED_AFTER_MS: i64 = 120_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredArchive {
    /// Random and unguessable; still, only its owner may use it.
    pub id: String,
    /// The principal's subject.
    pub owner: String,
    /// For a link session: the session, which alone may use it.
    pub session_id: Option<String>,
    pub customer_id: String,
    pub name: String,
    pub state: ArchiveState,
    pub files_total: i64,
    pub files_done: i64,
    pub bytes: i64,
    pub created_ms: i64,
    pub heartbeat_ms: i64,
    pub expires_ms: i64,
    pub detail: Option<String>,
}

pub use crate::documents::model::ArchiveState;

impl StoredArchive {
    /// Whether its job is still at work: running, and heard from lately.
    pub fn is_running(&self, now_ms: i64) -> bool {
        self.state == ArchiveState::Running && now_ms - self.heartbeat_ms < INTERRUPTED_AFTER_MS
    }

    /// Whether `owner` (in `session_id`) may see and download it.
    pub fn belongs_to(&self, owner: &str, session_id: Option<&str>) -> bool {
        self.owner == owner
            && self
                .session_id
                .as_deref()
                .is_none_or(|s| Some(s) == session_id)
    }
}

const COLUMNS: &str = "id, owner, session_id, customer_id, name, state, files_total, files_done, \
                       bytes, created_ms, heartbeat_ms, expires_ms, detail";

fn from_row(row: &AnyRow) -> StoreResult<StoredArchive> {
    Ok(StoredArchive {
        id: row.try_get(0)?,
        owner: row.try_get(1)?,
        session_id: row.try_get(2)?,
        customer_id: row.try_get(3)?,
        name: row.try_get(4)?,
        state: ArchiveState::parse(&row.try_get::<String, _>(5)?),
        files_total: row.try_get(6)?,
        files_done: row.try_get(7)?,
        bytes: row.try_get(8)?,
        created_ms: row.try_get(9)?,
        heartbeat_ms: row.try_get(10)?,
        expires_ms: row.try_get(11)?,
        detail: row.try_get(12)?,
    })
}

impl Store {
    pub async fn archive_create(&self, a: &StoredArchive) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO archives ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&a.id)
        .bind(&a.owner)
        .bind(&a.session_id)
        .bind(&a.customer_id)
        .bind(&a.name)
        .bind(a.state.as_str())
        .bind(a.files_total)
        .bind(a.files_done)
        .bind(a.bytes)
        .bind(a.created_ms)
        .bind(a.heartbeat_ms)
        .bind(a.expires_ms)
        .bind(&a.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn archive(&self, id: &str) -> StoreResult<Option<StoredArchive>> {
        self.find(
            &format!("SELECT {COLUMNS} FROM archives WHERE id = $1"),
            id,
            from_row,
        )
        .await
    }

    /// Archives in the making now, of anyone: their job wrote lately.
    pub async fn archives_running(&self, now_ms: i64) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM archives WHERE state = 'running' AND heartbeat_ms > $1",
        )
        .bind(now_ms - INTERRUPTED_AFTER_MS)
        .fetch_one(&self.pool)
        .await?;
        row.try_get::<i64, _>(0)
    }

    /// An owner's archives that have not expired, newest first.
    pub async fn archives_of(&self, owner: &str, now_ms: i64) -> StoreResult<Vec<StoredArchive>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM archives WHERE owner = $1 AND expires_ms > $2 \
             ORDER BY created_ms DESC, id"
        ))
        .bind(owner)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The job's progress; also its sign of life.
    pub async fn archive_progress(
        &self,
        id: &str,
        files_done: i64,
        bytes: i64,
        now_ms: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE archives SET files_done = $2, bytes = $3, heartbeat_ms = $4 \
             WHERE id = $1 AND state = 'running'",
        )
        .bind(id)
        .bind(files_done)
        .bind(bytes)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Appends one chunk. Fails if the archive is gone (deleted meanwhile), which stops the job.
    pub async fn archive_append(&self, id: &str, seq: i64, data: &[u8]) -> StoreResult<()> {
        let done = sqlx::query(
            "INSERT INTO archive_chunks (archive_id, seq, data) \
             SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM archives WHERE id = $1)",
        )
        .bind(id)
        .bind(seq)
        .bind(data)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(sqlx::Error::RowNotFound)
        }
    }

    /// Ends a job: ready (kept until `expires_ms`) or failed (its bytes dropped).
    pub async fn archive_finish(
        &self,
        id: &str,
        state: ArchiveState,
        detail: &str,
        expires_ms: i64,
        now_ms: i64,
    ) -> StoreResult<()> {
        if state == ArchiveState::Failed {
            self.archive_chunks_delete(id).await?;
        }
        sqlx::query(
            "UPDATE archives SET state = $2, detail = $3, expires_ms = $4, heartbeat_ms = $5 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(detail)
        .bind(expires_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The chunk at `seq`, if there is one.
    pub async fn archive_chunk(&self, id: &str, seq: i64) -> StoreResult<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT data FROM archive_chunks WHERE archive_id = $1 AND seq = $2")
            .bind(id)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    /// Removes an archive; its chunks go with it (`ON DELETE CASCADE`, on both engines).
    pub async fn archive_delete(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM archives WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn archive_chunks_delete(&self, id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM archive_chunks WHERE archive_id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes the archives past their time, and ends those whose job was interrupted (as
    /// failed, their bytes dropped); how many of each. Three statements, whatever the count.
    pub async fn archives_sweep(&self, now_ms: i64) -> StoreResult<(u64, u64)> {
        let expired = sqlx::query("DELETE FROM archives WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let interrupted = sqlx::query(
            "UPDATE archives SET state = 'failed', detail = 'interrupted' \
             WHERE state = 'running' AND heartbeat_ms < $1",
        )
        .bind(now_ms - INTERRUPTED_AFTER_MS)
        .execute(&self.pool)
        .await?
        .rows_affected();
        // A failed archive keeps no bytes: those of the ones just ended, and any a job wrote
        // after it was.
        sqlx::query(
            "DELETE FROM archive_chunks WHERE archive_id IN \
             (SELECT id FROM archives WHERE state = 'failed')",
        )
        .execute(&self.pool)
        .await?;
        Ok((expired, interrupted))
    }
}
