//! The bytes of the files an archive holds, from FlexPortal: a signed URL each (one request of
//! the tenant's budget, unless one is at hand), then the storage host.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use flexportal::model::SignedUrl;
use flexportal::{Client, Download, Error, FileAction, Priority};
use tokio::task::JoinHandle;

use super::archive::{Chunks, Failure, Files};
use crate::documents::model::DocumentRow;

/// How long a signed URL for an archive lives: the archive asks for it just before fetching.
const SIGNED_URL_MINUTES: u32 = 5;

/// The longest a background archive waits for the budget before one more try.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// How long a background archive waits for room in the budget for one file, in all, before
/// it lists the file as missing.
const PATIENCE: Duration = Duration::from_secs(30 * 60);

pub(super) struct Upstream {
    client: Client,
    /// Waits for room in the budget rather than failing (a background archive).
    patient: bool,
    /// Files opened so far.
    opened: Arc<AtomicUsize>,
    /// Signed URLs asked for ahead of their file, by file id: each is asked for once, and
    /// what is still in flight when the archive ends (or its reader goes) is called off.
    ahead: Mutex<HashMap<String, JoinHandle<Result<SignedUrl, Error>>>>,
}

impl Upstream {
    /// For a download someone waits for: the reader's share of the budget, no waiting.
    pub(super) fn now(client: Client) -> Self {
        Upstream {
            client,
            patient: false,
            opened: Arc::default(),
            ahead: Mutex::default(),
        }
    }

    /// For a background archive: the background share of the budget, waiting for room; counts
    /// the files it opens in `opened`.
    pub(super) fn patient(client: &Client, opened: Arc<AtomicUsize>) -> Self {
        Upstream {
            client: client.with_priority(Priority::Background),
            patient: true,
            opened,
            ahead: Mutex::default(),
        }
    }

    fn ahead(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<Result<SignedUrl, Error>>>> {
        self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file's signed URL: the one asked for ahead, or asked for now.
    async fn signed(&self, row: &DocumentRow) -> Result<SignedUrl, Error> {
        let early = self.ahead().remove(&row.id);
        match early {
            Some(handle) => handle
                .await
                .unwrap_or_else(|e| Err(Error::Unreachable(format!("signing cut short: {e}")))),
            None => sign(&self.client, &row.id, self.patient).await,
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        for (_, handle) in self.ahead().drain() {
            handle.abort();
        }
    }
}

/// Asks FlexPortal to sign a download URL for the file; a patient caller waits for room in
/// the budget, for at most [`PATIENCE`] in all.
async fn sign(client: &Client, file_id: &str, patient: bool) -> Result<SignedUrl, Error> {
    let mut waited = Duration::ZERO;
    loop {
        match client
            .signed_url(file_id, FileAction::Download, SIGNED_URL_MINUTES)
            .await
        {
            Err(
                Error::BudgetExhausted { retry_after }
                | Error::RateLimited {
                    retry_after: Some(retry_after),
                },
            ) if patient && waited < PATIENCE => {
                let wait = retry_after.clamp(Duration::from_millis(200), MAX_WAIT);
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            other => return other,
        }
    }
}

struct UpstreamChunks(Download);

#[async_trait]
impl Files for Upstream {
    /// Signs the next files' URLs while the current one streams, each once: the same requests
    /// of the budget as one after another, without a round trip's wait between files.
    fn ahead(&self, next: &[DocumentRow]) {
        let mut ahead = self.ahead();
        for row in next {
            if ahead.contains_key(&row.id) || self.client.has_signed(&row.id, FileAction::Download)
            {
                continue;
            }
            let (client, id, patient) = (self.client.clone(), row.id.clone(), self.patient);
            let handle = tokio::spawn(async move { sign(&client, &id, patient).await });
            ahead.insert(row.id.clone(), handle);
        }
    }

    async fn open(&self, row: &DocumentRow) -> Result<Box<dyn Chunks>, Failure> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        let signed = self.signed(row).await.map_err(|e| Failure(e.to_string()))?;
        let download = self
            .client
            .download(&signed)
            .await
            .map_err(|e| Failure(e.to_string()))?;
        Ok(Box::new(UpstreamChunks(download)))
    }
}

#[async_trait]
impl Chunks for UpstreamChunks {
    async fn next(&mut self) -> Result<Option<Bytes>, Failure> {
        self.0.chunk().await.map_err(|e| Failure(e.to_string()))
    }
}
