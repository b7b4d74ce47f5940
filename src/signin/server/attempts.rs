//! Sign-in attempts: one per mail sent, holding the hashes of its link and code, spent once.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::base::server::store::{Store, StoreResult};

/// Wrong codes before an attempt ends.
pub const MAX_CODE_TRIES: i64 = 5;

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
            && self.code_attempts < MAX_CODE_TRIES
    }
}

/// What spends a sign-in attempt: its mailed link, or its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpendBy {
    Link,
    Code,
}

impl Store {
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
    /// [`MAX_CODE_TRIES`]: MAX_CODE_TRIES
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
        .bind(MAX_CODE_TRIES)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(attempt_from_row).transpose()
    }

    /// Marks the attempt used, once: of two concurrent spends, exactly one gets `true`. An
    /// attempt whose code tries are spent can no longer be spent by its link; a code spends it
    /// after its own try was counted (see [`Store::attempt_take_code_try`]).
    pub async fn attempt_spend(&self, id: &str, now: i64, by: SpendBy) -> StoreResult<bool> {
        let tries_left_over = match by {
            SpendBy::Link => MAX_CODE_TRIES,
            SpendBy::Code => MAX_CODE_TRIES + 1,
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
