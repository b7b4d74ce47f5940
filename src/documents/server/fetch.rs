//! The bytes of the files an archive holds, from FlexPortal: a signed URL each (one request of
//! the tenant's budget, unless one is at hand), then the storage host.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::body::Bytes;
use flexportal::model::SignedUrl;
use flexportal::{Client, Download, Error, FileAction, Priority};
use tokio::task::JoinHandle;

use super::archive::{Chunks, Failure, Files};
use crate::documents::model::DocumentRow;

/// How long a signed URL for an archive lives: the archive asks for it just before fetching,
/// or a few files before.
const SIGNED_URL_MINUTES: u32 = 5;

/// A URL signed ahead of its file and older than this when the file's turn comes is signed
/// again: a slow reader may have held the archive up.
const AHEAD_FOR_AT_MOST: Duration = Duration::from_secs(120);

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
    /// URLs signed ahead of their file's turn, by file id: each is asked for once, and what is
    /// still in flight when the archive ends (or its reader goes) is called off.
    ahead: Mutex<HashMap<String, Early>>,
}

/// A signing started ahead of its file's turn, and when.
type Early = (Instant, JoinHandle<Result<SignedUrl, Error>>);

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

    fn ahead(&self) -> std::sync::MutexGuard<'_, HashMap<String, Early>> {
        self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file's signed URL: the one signed ahead if it came and is recent, or else one asked
    /// for now (a failed early signing is tried once more in the file's turn).
    async fn signed(&self, row: &DocumentRow) -> Result<SignedUrl, Error> {
        let early = self.ahead().remove(&row.id);
        if let Some((asked, handle)) = early {
            if let Ok(Ok(signed)) = handle.await {
                if asked.elapsed() < AHEAD_FOR_AT_MOST {
                    return Ok(signed);
                }
            }
        }
        sign(&self.client, &row.id, self.patient).await
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        for (_, (_, handle)) in self.ahead().drain() {
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
    /// Signs the next files' URLs while the current one streams, each once, so that the reader
    /// does not wait a round trip between files. A reader who leaves mid-archive may have cost
    /// the few signed ahead. A background archive, where nobody waits and a file may wait long
    /// for room in the budget, signs each file in its turn.
    fn ahead(&self, next: &[DocumentRow]) {
        if self.patient {
            return;
        }
        let mut ahead = self.ahead();
        for row in next {
            if ahead.contains_key(&row.id) || self.client.has_signed(&row.id, FileAction::Download)
            {
                continue;
            }
            let (client, id) = (self.client.clone(), row.id.clone());
            let handle = tokio::spawn(async move { sign(&client, &id, false).await });
            ahead.insert(row.id.clone(), (Instant::now(), handle));
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
