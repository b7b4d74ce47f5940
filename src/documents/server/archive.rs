//! Many documents as one ZIP: which files go in, under which names, and the stream that
//! fetches them one after another and passes their bytes on as they arrive. The archive ends
//! with `manifest.csv` (every document asked for, in or not, and why) and `SHA256SUMS`
//! (checkable with `sha256sum -c`).
//!
//! Memory per archive is bounded by one chunk of one file at a time and the channel to the
//! client; a client that goes away stops the work at the next chunk.

use std::collections::HashSet;

use async_trait::async_trait;
use axum::body::Bytes;
use sha2::Digest;
use tokio::sync::mpsc;

use super::csv::{Cell, Csv};
use super::zip::{DosTime, ZipWriter, MAX_ENTRIES};
use crate::documents::model::DocumentRow;

/// What goes into an archive, decided before its first byte.
#[derive(Debug, Default)]
pub(super) struct Selection {
    /// Visible documents, each once, in the order asked for.
    pub included: Vec<DocumentRow>,
    /// Ids asked for that are not among the scope's documents: listed in the manifest as not
    /// included, and nothing more said about them.
    pub unknown: Vec<String>,
}

/// The longest id taken from a form into the manifest.
const MAX_ID_CHARS: usize = 64;

impl Selection {
    /// The documents of `ids` that `find` knows (the scope's visible documents), each once.
    pub(super) fn of_ids<'a>(
        ids: impl IntoIterator<Item = &'a str>,
        find: impl Fn(&str) -> Option<&'a DocumentRow>,
    ) -> Self {
        let mut seen = HashSet::new();
        let mut selection = Selection::default();
        for id in ids {
            let id = id.trim();
            if id.is_empty() || !seen.insert(id) {
                continue;
            }
            match find(id) {
                Some(row) => selection.included.push(row.clone()),
                None => selection.unknown.push(
                    id.chars()
                        .filter(|c| !c.is_control())
                        .take(MAX_ID_CHARS)
                        .collect(),
                ),
            }
        }
        selection
    }
}

/// Why a document asked for is not in the archive, as the manifest's `status` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Included,
    /// Not one of the documents this session may see, or no document at all.
    NotIncluded,
    /// FlexPortal did not deliver it (failed, timed out, or broke off half-way).
    Missing,
    /// The archive had reached its size limit.
    OverLimit,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Included => "included",
            Status::NotIncluded => "not_included",
            Status::Missing => "missing",
            Status::OverLimit => "over_limit",
        }
    }
}

/// Names of the archive's own files, kept free for them.
const MANIFEST: &str = "manifest.csv";
const CHECKSUMS: &str = "SHA256SUMS";

/// Each document's path in the archive: `{order}/{name}`, made safe to unpack anywhere (no
/// separators, no `..`, no control characters, no names Windows reserves) and unique, also
/// where file systems ignore case: a repeated name gets ` (2)`, ` (3)`… before its extension.
pub(super) fn entry_names(rows: &[DocumentRow]) -> Vec<String> {
    let mut taken: HashSet<String> = [MANIFEST, CHECKSUMS]
        .iter()
        .map(|n| n.to_lowercase())
        .collect();
    rows.iter()
        .map(|row| {
            let folder = safe_part(&row.order_id, "documents");
            let mut name = safe_part(&row.name, &row.id);
            if !name.contains('.') && row.content_type == "application/pdf" {
                name.push_str(".pdf");
            }
            let (stem, extension) = match name.rfind('.') {
                Some(dot) if dot > 0 => name.split_at(dot),
                _ => (name.as_str(), ""),
            };
            let mut candidate = format!("{folder}/{stem}{extension}");
            let mut n = 2;
            while !taken.insert(candidate.to_lowercase()) {
                candidate = format!("{folder}/{stem} ({n}){extension}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// The longest name part, in characters: well within every file system's limit.
const MAX_PART_CHARS: usize = 100;

/// One path segment from untrusted text; `fallback` when nothing usable is left.
fn safe_part(text: &str, fallback: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    let mut part: String = if trimmed.chars().count() > MAX_PART_CHARS {
        // Keep the extension: it tells what opens the file.
        let extension: String = match trimmed.rfind('.') {
            Some(dot) if trimmed.len() - dot <= 10 => trimmed[dot..].to_owned(),
            _ => String::new(),
        };
        let keep = MAX_PART_CHARS - extension.chars().count();
        trimmed.chars().take(keep).collect::<String>() + &extension
    } else {
        trimmed.to_owned()
    };
    if part.is_empty() {
        part = safe_part_plain(fallback);
    }
    let stem = part.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        part.insert(0, '_');
    }
    part
}

/// A fallback (an id) reduced to letters, digits, `-` and `_`.
fn safe_part_plain(text: &str) -> String {
    let part: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(MAX_PART_CHARS)
        .collect();
    if part.is_empty() {
        "document".to_owned()
    } else {
        part
    }
}

/// Why a file's bytes did not come, for the log (never shown, never in the manifest).
#[derive(Debug)]
pub(super) struct Failure(pub String);

/// Where the documents' bytes come from: FlexPortal in production, a stand-in in tests.
#[async_trait]
pub(super) trait Files: Send + Sync {
    async fn open(&self, row: &DocumentRow) -> Result<Box<dyn Chunks>, Failure>;

    /// The files asked for next, in order, while one streams: a source may get them ready
    /// (FlexPortal's signed URLs, each a round trip) so that the archive does not wait for
    /// each in turn.
    fn ahead(&self, _next: &[DocumentRow]) {}
}

/// How many files ahead of the one streaming a source is told of.
const AHEAD: usize = 4;

/// One file's bytes, chunk by chunk; `None` at the end.
#[async_trait]
pub(super) trait Chunks: Send {
    async fn next(&mut self) -> Result<Option<Bytes>, Failure>;
}

/// The client went away: nothing more is fetched.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Gone;

/// How an archive went: what the audit log and the metrics record.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Outcome {
    pub included: usize,
    pub missing: usize,
    pub over_limit: usize,
    pub bytes: u64,
}

/// Where the archive's bytes go: the response body. A full channel makes the pump wait, so
/// a slow client slows the fetching down instead of filling memory.
pub(super) type Sink = mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Writes the archive of `selection` into `sink`: each file fetched from `files` in turn,
/// then the manifest and the checksums. Documents past `max_bytes` are left out and listed.
pub(super) async fn pump(
    files: &dyn Files,
    selection: &Selection,
    max_bytes: u64,
    sink: &Sink,
) -> Result<Outcome, Gone> {
    let send = |bytes: Bytes| async move { sink.send(Ok(bytes)).await.map_err(|_| Gone) };
    let names = entry_names(&selection.included);
    let mut zip = ZipWriter::default();
    let mut outcome = Outcome::default();
    let mut manifest = Csv::with_header(&[
        "name",
        "document_id",
        "type",
        "order",
        "date",
        "size",
        "sha256",
        "status",
    ]);
    let mut sums = String::new();
    // Room left for the manifest, the checksums and the central directory.
    let reserve = 300 * (selection.included.len() + selection.unknown.len()) as u64 + 4096;
    let limit = max_bytes.saturating_sub(reserve);
    let mut full = selection.included.len() > MAX_ENTRIES - 2;
    for (at, (row, name)) in selection.included.iter().zip(&names).enumerate() {
        let mut status = Status::OverLimit;
        let mut digest = None;
        let announced = row.size.unwrap_or(0);
        if !full && zip.written().saturating_add(announced) <= limit {
            status = Status::Missing;
            // The next few that fit in what is left, by their announced sizes: none is named
            // that the size limit would leave out.
            let mut room = limit.saturating_sub(zip.written().saturating_add(announced));
            let next = &selection.included[at + 1..];
            let fitting = next
                .iter()
                .take(AHEAD)
                .take_while(|r| {
                    let size = r.size.unwrap_or(0);
                    let fits = size <= room;
                    room = room.saturating_sub(size);
                    fits
                })
                .count();
            files.ahead(&next[..fitting]);
            match files.open(row).await {
                Err(Failure(why)) => {
                    tracing::warn!(file = %row.id, %why, "archive: file not delivered")
                }
                Ok(mut chunks) => {
                    let when = DosTime::from_iso(row.created.as_deref());
                    let started = zip.start(name, when);
                    let Ok((mut entry, header)) = started else {
                        full = true;
                        status = Status::OverLimit;
                        tally(&mut outcome, status);
                        manifest_row(&mut manifest, row, "", None, status);
                        continue;
                    };
                    send(Bytes::from(header)).await?;
                    loop {
                        match chunks.next().await {
                            Ok(Some(chunk)) => {
                                if zip.written().saturating_add(chunk.len() as u64) > limit {
                                    // Past the limit half-way: the entry is left out.
                                    status = Status::OverLimit;
                                    full = true;
                                    break;
                                }
                                zip.data(&mut entry, &chunk);
                                send(chunk).await?;
                            }
                            Ok(None) => {
                                if let Ok((digested, descriptor)) = zip.finish(entry) {
                                    send(Bytes::from(descriptor)).await?;
                                    status = Status::Included;
                                    digest = Some(digested);
                                }
                                break;
                            }
                            Err(Failure(why)) => {
                                tracing::warn!(
                                    file = %row.id, bytes = entry.size(), %why,
                                    "archive: file broke off"
                                );
                                break;
                            }
                        }
                    }
                }
            }
        }
        tally(&mut outcome, status);
        if let Some(d) = &digest {
            sums.push_str(&format!("{}  {name}\n", d.sha256));
        }
        manifest_row(&mut manifest, row, name, digest.as_ref(), status);
    }
    for id in &selection.unknown {
        manifest.row(&[
            Cell::Text(""),
            Cell::Text(id),
            Cell::Text(""),
            Cell::Text(""),
            Cell::Text(""),
            Cell::Number(""),
            Cell::Text(""),
            Cell::Text(Status::NotIncluded.as_str()),
        ]);
    }
    outcome.bytes = zip.written();
    let finished = (|| {
        // The checksums cover the manifest too, so that `sha256sum -c` checks all of it.
        let manifest = manifest.into_bytes();
        let manifest_sum = crate::base::server::tokens::hex(&sha2::Sha256::digest(&manifest));
        sums.push_str(&format!("{manifest_sum}  {MANIFEST}\n"));
        let mut tail = zip.whole(MANIFEST, DosTime::EARLIEST, &manifest)?;
        tail.extend(zip.whole(CHECKSUMS, DosTime::EARLIEST, sums.as_bytes())?);
        tail.extend(zip.end()?);
        Ok::<_, super::zip::TooLarge>(tail)
    })();
    match finished {
        Ok(tail) => {
            outcome.bytes += tail.len() as u64;
            send(Bytes::from(tail)).await?;
        }
        Err(_) => {
            // Cannot happen within the limits above; the client sees a broken download.
            tracing::error!("archive: past the format's limits at its end");
            let _ = sink
                .send(Err(std::io::Error::other("archive too large")))
                .await;
        }
    }
    Ok(outcome)
}

fn tally(outcome: &mut Outcome, status: Status) {
    match status {
        Status::Included => outcome.included += 1,
        Status::Missing => outcome.missing += 1,
        _ => outcome.over_limit += 1,
    }
}

/// A document's line in the manifest; its name in the archive only if it is there.
fn manifest_row(
    manifest: &mut Csv,
    row: &DocumentRow,
    name: &str,
    digest: Option<&super::zip::Digested>,
    status: Status,
) {
    let size = digest.map(|d| d.size.to_string());
    let in_archive = if status == Status::Included { name } else { "" };
    manifest.row(&[
        Cell::Text(in_archive),
        Cell::Text(&row.id),
        Cell::Text(row.doc_type.as_str()),
        Cell::Text(&row.order_id),
        Cell::Text(
            row.created
                .as_deref()
                .map_or("", |c| c.get(..10).unwrap_or(c)),
        ),
        Cell::Number(size.as_deref().unwrap_or("")),
        Cell::Text(digest.map_or("", |d| d.sha256.as_str())),
        Cell::Text(status.as_str()),
    ]);
}

#[cfg(test)]
#[path = "archive_tests.rs"]
mod tests;
