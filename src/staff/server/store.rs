//! Folio's own list of account managers.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::base::server::store::{Store, StoreResult};

pub use crate::base::who::LinkState;

/// A staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub email: String,
    pub name: String,
    pub created_at: i64,
}

impl Store {
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
}

fn staff_from_row(row: &AnyRow) -> StoreResult<StaffMember> {
    Ok(StaffMember {
        email: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: row.try_get(2)?,
    })
}
