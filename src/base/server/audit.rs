//! The audit log: who did what, when, from where. Every feature writes its events here; the
//! staff screens and the customer's access page read them.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::store::{Conditions, Store, StoreResult, Value};

pub use crate::base::who::LinkState;

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

impl Store {
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
