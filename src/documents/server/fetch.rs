//! The bytes of the files an archive holds, from FlexPortal: a signed URL each (one request of
//! the tenant's budget, unless one is at hand), then the storage host.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use flexportal::{Client, Download, Error, FileAction, Priority};

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
}

impl Upstream {
    /// For a download someone waits for: the reader's share of the budget, no waiting.
    pub(super) fn now(client: Client) -> Self {
        Upstream {
            client,
            patient: false,
            opened: Arc::default(),
        }
    }

    /// For a background archive: the background share of the budget, waiting for room; counts
    /// the files it opens in `opened`.
    pub(super) fn patient(client: &Client, opened: Arc<AtomicUsize>) -> Self {
        Upstream {
            client: client.with_priority(Priority::Background),
            patient: true,
            opened,
        }
    }

    async fn signed(&self, row: &DocumentRow) -> Result<flexportal::model::SignedUrl, Error> {
        let mut waited = Duration::ZERO;
        loop {
            match self
                .client
                .signed_url(&row.id, FileAction::Download, SIGNED_URL_MINUTES)
                .await
            {
                Err(
                    Error::BudgetExhausted { retry_after }
                    | Error::RateLimited {
                        retry_after: Some(retry_after),
                    },
                ) if self.patient && waited < PATIENCE => {
                    let wait = retry_after.clamp(Duration::from_millis(200), MAX_WAIT);
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                other => return other,
            }
        }
    }
}

struct UpstreamChunks(Download);

#[async_trait]
impl Files for Upstream {
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
