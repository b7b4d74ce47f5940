//! The bytes behind a signed URL, for what Folio builds from several files at once (an
//! archive). A single file is never fetched here: browsers get its signed URL.

use std::time::Duration;

use crate::client::{transport_error, Client};
use crate::model::SignedUrl;
use crate::Error;

/// A file's bytes arriving from FlexPortal's storage, one chunk at a time, so that what holds
/// them in memory is bounded by the chunk size, whatever the file's size.
#[derive(Debug)]
pub struct Download {
    response: reqwest::Response,
}

/// Longest wait for the next chunk of a file; a stalled transfer fails, it does not hang.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest a single file's transfer may take, from its first byte to its last.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);

impl Client {
    /// Starts fetching the bytes a signed URL points at. The storage host is not the API: the
    /// transfer costs none of the request budget (the signing did). Errors never carry the URL,
    /// whose query signs the file.
    pub async fn download(&self, signed: &SignedUrl) -> Result<Download, Error> {
        let response = self
            .inner
            .http
            .get(&signed.url)
            .timeout(TRANSFER_TIMEOUT)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(Error::NotFound);
        }
        if !status.is_success() {
            return Err(Error::Server {
                status: status.as_u16(),
            });
        }
        Ok(Download { response })
    }
}

impl Download {
    /// The next chunk, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        match tokio::time::timeout(IDLE_TIMEOUT, self.response.chunk()).await {
            Err(_) => Err(Error::Timeout),
            Ok(Err(e)) => Err(transport_error(&e)),
            Ok(Ok(chunk)) => Ok(chunk),
        }
    }
}
