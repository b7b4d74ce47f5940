//! tower-sessions on Folio's store: sessions survive restarts and are shared by every
//! instance on the same database.

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::server::store::Store;

/// The session key under which the signed-in principal is kept.
pub const PRINCIPAL_KEY: &str = "principal";

#[derive(Clone, Debug)]
pub struct SqlSessionStore {
    store: Store,
}

impl SqlSessionStore {
    pub fn new(store: Store) -> Self {
        Self { store }
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
            .session_upsert(
                &record.id.to_string(),
                &encode(record)?,
                record.expiry_date.unix_timestamp(),
                subject(record).as_deref(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
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
