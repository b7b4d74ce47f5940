//! Portal links in Folio's database: created, opened (counted in the same statement that checks them), revoked, extended, listed.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::base::server::store::{Conditions, Store, StoreResult, Value};

pub use crate::base::who::LinkState;

/// A portal link as stored. Its token exists only in the URL handed out at creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalLink {
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

/// [`PortalLink::state`] as SQL, `?` standing for the current time where it matters.
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

impl PortalLink {
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

impl Store {
    // --- portal links -----------------------------------------------------------------------

    pub async fn link_insert(&self, link: &PortalLink, token_hash: &str) -> StoreResult<()> {
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

    pub async fn link_by_id(&self, id: &str) -> StoreResult<Option<PortalLink>> {
        let sql = format!("{LINK_COLUMNS} WHERE id = $1");
        self.find(&sql, id, link_from_row).await
    }

    pub async fn link_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<PortalLink>> {
        let sql = format!("{LINK_COLUMNS} WHERE token_hash = $1");
        self.find(&sql, token_hash, link_from_row).await
    }

    /// Counts one open if the link is active, in one statement: of concurrent opens of a link
    /// with one open left, exactly one succeeds. Returns the link as it is after the open.
    pub async fn link_open(&self, token_hash: &str, now: i64) -> StoreResult<Option<PortalLink>> {
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
    ) -> StoreResult<(Vec<PortalLink>, i64)> {
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
}

const LINK_COLUMNS: &str = "SELECT id, customer_id, customer_name, order_id, doc_types, label, \
     recipient, locale, created_by, created_by_name, created_at, expires_at, max_opens, opens, \
     last_opened_at, revoked_at, revoked_by FROM share_links";

fn link_from_row(row: &AnyRow) -> StoreResult<PortalLink> {
    let types: Option<String> = row.try_get(4)?;
    Ok(PortalLink {
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
