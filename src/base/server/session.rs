//! tower-sessions on Folio's store: sessions survive restarts and are shared by every
//! instance on the same database.
//!
//! Session times come from Folio's [`Clock`]: the idle limit slides with activity (see
//! [`keep_alive`]) and the absolute limit caps it.

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::{Expiry, Session};

use crate::base::server::clock::Clock;
use crate::base::server::config::AuthConfig;
use crate::base::server::principal::{may_sign_in, Principal};
use crate::base::server::store::Store;

/// The session key under which the signed-in principal is kept.
pub const PRINCIPAL_KEY: &str = "principal";
/// The session key of when its expiry was last moved forward (unix seconds).
pub const TOUCHED_KEY: &str = "touched";
/// Session key of a sign-in in progress.
pub const PENDING_KEY: &str = "sign_in";

#[derive(Clone, Debug)]
pub struct SqlSessionStore {
    store: Store,
    clock: Clock,
}

impl SqlSessionStore {
    pub fn new(store: Store, clock: Clock) -> Self {
        Self { store, clock }
    }
}

/// Moves a session's idle limit forward after a request, both in the store and in the
/// cookie, without a write on every request: only once a quarter of the idle time has passed
/// since the last move, or when the request changed the session anyway. The new expiry never
/// passes the principal's absolute limit (`FOLIO_SESSION_MAX_HOURS` after sign-in).
pub async fn keep_alive(session: &Session, auth: &AuthConfig, now: i64) {
    if session.is_empty().await {
        return;
    }
    let idle = i64::from(auth.idle_minutes) * 60;
    let touched = session.get::<i64>(TOUCHED_KEY).await.ok().flatten();
    let due = touched.is_none_or(|t| now - t >= idle / 4 || t > now);
    if !(due || session.is_modified()) {
        return;
    }
    let signed_in_at = session
        .get::<Principal>(PRINCIPAL_KEY)
        .await
        .ok()
        .flatten()
        .map(|p| p.signed_in_at());
    let mut until = now + idle;
    if let Some(at) = signed_in_at {
        until = until.min(at + i64::from(auth.max_hours) * 3600);
    }
    let Ok(until) = OffsetDateTime::from_unix_timestamp(until) else {
        return;
    };
    if session.insert(TOUCHED_KEY, now).await.is_ok() {
        session.set_expiry(Some(Expiry::AtDateTime(until)));
    }
}

/// The principal's subject (e.g. `customer:cust_0001`), stored in its own column so that all
/// of one person's sessions can be ended at once.
fn subject(record: &Record) -> Option<String> {
    record
        .data
        .get(PRINCIPAL_KEY)
        .and_then(|p| p.get("subject"))
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for SqlSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let expires = record.expiry_date.unix_timestamp();
        let subject = subject(record);
        // A new id on the (astronomically unlikely) collision, never someone else's session.
        while !self
            .store
            .session_insert(&record.id.to_string(), &data, expires, subject.as_deref())
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store
            .session_update(
                &record.id.to_string(),
                &encode(record)?,
                record.expiry_date.unix_timestamp(),
                subject(record).as_deref(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = self.clock.now();
        let Some((data, expires_at)) = self
            .store
            .session_load(&id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .session_delete(&id.to_string())
            .await
            .map_err(backend)
    }
}

/// Ends the sessions that a customer record, just fetched from FlexPortal, no longer allows:
/// all of an inactive customer's sessions, their portal links' included, and the customer
/// sessions signed in with an address the record no longer carries (compared without case).
pub async fn end_outlived(store: &Store, customer: &flexportal::model::Customer) {
    use flexportal::model::CustomerStatus;
    let subject = format!("customer:{}", customer.customer_id);
    let ended = if customer.status != CustomerStatus::Active {
        let links = store.sessions_delete_links_of(&customer.customer_id).await;
        let own = store.sessions_delete_subject(&subject).await;
        links.and_then(|links| own.map(|own| links + own))
    } else {
        end_other_addresses(store, &subject, customer).await
    };
    match ended {
        Ok(0) => {}
        Ok(ended) => tracing::info!(
            customer = %customer.customer_id,
            ended,
            "sessions ended: the customer record changed upstream"
        ),
        Err(e) => tracing::error!(error = %e, "cannot end the sessions of a changed customer"),
    }
}

/// Ends the customer sessions of `subject` that `customer` no longer lets stay signed in.
async fn end_other_addresses(
    store: &Store,
    subject: &str,
    customer: &flexportal::model::Customer,
) -> sqlx::Result<u64> {
    let mut ended = 0;
    for (id, data) in store.sessions_of_subject(subject).await? {
        let principal = serde_json::from_str::<serde_json::Value>(&data)
            .ok()
            .and_then(|mut d| serde_json::from_value::<Principal>(d[PRINCIPAL_KEY].take()).ok());
        let allowed = match &principal {
            Some(Principal::Customer { email, .. }) => may_sign_in(customer, email),
            _ => false,
        };
        if !allowed {
            store.session_delete(&id).await?;
            ended += 1;
        }
    }
    Ok(ended)
}
