//! Archives too big to fetch while the reader waits: made in the background within the
//! budget's background share, kept in Folio's database in chunks (so that any instance can
//! serve them) for `FOLIO_ARCHIVE_KEEP_HOURS`, listed with their progress on `/archives` (a
//! staff member's on `/manage/archives`), and announced by mail to a signed-in customer or staff
//! member. Only their owner may see or download them: the person, and for a link session that
//! session alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use tokio::sync::mpsc;
use tower_sessions::Session;

use super::archive::{pump, Outcome, Selection};
use super::archive_store::{ArchiveState, StoredArchive};
use super::delivery::{as_download, ids};
use super::fetch::Upstream;
use super::files::audit;
use super::files::Who;
use crate::base::server::answers::not_found;
use crate::base::server::locale::request_locale;
use crate::base::server::mail::Composed;
use crate::base::server::principal::{Principal, Scope};
use crate::base::server::state::AppState;
use crate::base::server::tokens::random_token;
use crate::documents::model::{ArchiveList, ArchiveView, ARCHIVES_PAGE, STAFF_ARCHIVES_PAGE};
use crate::i18n::Locale;

/// Bytes per stored chunk: what one archive holds in memory while it is made.
const CHUNK_BYTES: usize = 1024 * 1024;

/// How often a job writes its progress (and so shows it is alive).
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// What a background archive is asked to hold, and for whom.
pub(super) struct Job {
    pub who: Who,
    pub scope: Scope,
    pub session_id: Option<String>,
    pub ip: String,
    /// The address and language of a signed-in customer or staff member, for the mail when it
    /// is ready (a link session has no address).
    pub mail: Option<(String, Locale)>,
    pub name: String,
    /// The page that lists the archive: the customer's or the staff member's.
    pub archives: &'static str,
    pub selection: Selection,
}

/// Why no archive was started.
pub(super) enum Refused {
    /// As many as allowed are in the making.
    Running,
    /// What is kept already fills the person's share.
    Full,
    /// As many as the tenant allows are in the making, of everyone.
    Busy,
    Store,
}

/// Starts a background archive; its id.
pub(super) async fn start(state: &AppState, job: Job) -> Result<String, Refused> {
    let limits = &state.config.archives;
    let now_ms = state.clock.now_ms();
    let theirs = state
        .store
        .archives_of(&job.who.actor, now_ms)
        .await
        .map_err(|_| Refused::Store)?;
    if theirs.iter().filter(|a| a.is_running(now_ms)).count() >= limits.at_once as usize {
        return Err(Refused::Running);
    }
    // Background archives share the budget's background share with the refreshes behind
    // readers: however many people ask, only so many are made at once.
    let running = state
        .store
        .archives_running(now_ms)
        .await
        .map_err(|_| Refused::Store)?;
    if running >= i64::from(limits.running) {
        return Err(Refused::Busy);
    }
    let kept: i64 = theirs.iter().map(|a| a.bytes).sum();
    if kept >= i64::from(limits.keep_mb) * 1024 * 1024 {
        return Err(Refused::Full);
    }
    let archive = StoredArchive {
        id: random_token(16),
        owner: job.who.actor.clone(),
        session_id: job.session_id.clone(),
        customer_id: job.scope.customer_id.clone(),
        name: job.name.clone(),
        state: ArchiveState::Running,
        files_total: job.selection.included.len() as i64,
        files_done: 0,
        bytes: 0,
        created_ms: now_ms,
        heartbeat_ms: now_ms,
        expires_ms: now_ms + keep_ms(state),
        detail: None,
    };
    state
        .store
        .archive_create(&archive)
        .await
        .map_err(|_| Refused::Store)?;
    let id = archive.id.clone();
    tokio::spawn(run(state.clone(), archive.id, job));
    Ok(id)
}

fn keep_ms(state: &AppState) -> i64 {
    i64::from(state.config.archives.keep_hours) * 3_600_000
}

/// Makes the archive: fetches and writes the files, then the manifest, in chunks; then says
/// how it went, in the database, the audit log and (but for a link session) a mail.
async fn run(state: AppState, id: String, job: Job) {
    let opened = Arc::new(AtomicUsize::new(0));
    let files = Upstream::patient(&state.upstream.client, Arc::clone(&opened));
    let max_bytes = u64::from(state.config.archives.max_mb) * 1024 * 1024;
    let (sink, body) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let selection = &job.selection;
    let producer = async move {
        let outcome = pump(&files, selection, max_bytes, &sink).await;
        drop(sink);
        outcome
    };
    let (outcome, written) = tokio::join!(producer, write(&state, &id, body, &opened));
    let now_ms = state.clock.now_ms();
    let asked = job.selection.included.len() + job.selection.unknown.len();
    let files = ids(&job.selection.included);
    match (outcome, written) {
        (Ok(outcome), Ok(bytes)) => {
            let store = &state.store;
            let done = store
                .archive_progress(&id, asked as i64, bytes, now_ms)
                .await
                .and(
                    store
                        .archive_finish(
                            &id,
                            ArchiveState::Ready,
                            &detail(&outcome),
                            now_ms + keep_ms(&state),
                            now_ms,
                        )
                        .await,
                );
            if let Err(e) = done {
                tracing::error!(error = %e, "cannot finish a background archive");
                return;
            }
            let subject = format!(
                "{} of {asked} files ({} missing, {} over the size limit), in the background: {files}",
                outcome.included, outcome.missing, outcome.over_limit
            );
            audit(
                &state,
                "archive_prepared",
                job.who,
                &job.scope,
                subject,
                job.ip,
            )
            .await;
            if let Some((to, locale)) = job.mail {
                announce(&state, &id, (&job.name, job.archives), &to, locale).await;
            }
        }
        _ => {
            let expires = now_ms + keep_ms(&state);
            let finished = state
                .store
                .archive_finish(&id, ArchiveState::Failed, "failed", expires, now_ms)
                .await;
            if let Err(e) = finished {
                tracing::warn!(error = %e, "cannot mark a background archive failed");
            }
            let subject = format!("{asked} files asked for, in the background: {files}");
            audit(
                &state,
                "archive_failed",
                job.who,
                &job.scope,
                subject,
                job.ip,
            )
            .await;
        }
    }
}

/// What a ready archive holds, for its page: `included,missing,over_limit`.
fn detail(outcome: &Outcome) -> String {
    format!(
        "{},{},{}",
        outcome.included, outcome.missing, outcome.over_limit
    )
}

/// Writes the archive's bytes to the database as they come, a chunk at a time, with the
/// progress; the bytes written. Stops (and so stops the job) when the database fails or the
/// archive was deleted meanwhile.
async fn write(
    state: &AppState,
    id: &str,
    mut body: mpsc::Receiver<Result<Bytes, std::io::Error>>,
    opened: &AtomicUsize,
) -> Result<i64, ()> {
    let store = &state.store;
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES);
    let (mut seq, mut written) = (0_i64, 0_i64);
    let mut every = tokio::time::interval(PROGRESS_EVERY);
    loop {
        tokio::select! {
            chunk = body.recv() => match chunk {
                Some(Ok(bytes)) => buffer.extend_from_slice(&bytes),
                Some(Err(_)) => return Err(()),
                None => break,
            },
            _ = every.tick() => {
                let now_ms = state.clock.now_ms();
                let done = opened.load(Ordering::Relaxed).saturating_sub(1) as i64;
                let size = written + buffer.len() as i64;
                store.archive_progress(id, done, size, now_ms).await.map_err(|_| ())?;
            }
        }
        if buffer.len() >= CHUNK_BYTES {
            store
                .archive_append(id, seq, &buffer)
                .await
                .map_err(|_| ())?;
            (seq, written) = (seq + 1, written + buffer.len() as i64);
            buffer.clear();
        }
    }
    if !buffer.is_empty() {
        store
            .archive_append(id, seq, &buffer)
            .await
            .map_err(|_| ())?;
        written += buffer.len() as i64;
    }
    Ok(written)
}

/// The mail that says an archive is ready. The link opens it in its owner's own sessions only.
/// `(name, archives)` are the archive's file name and the page that lists it.
async fn announce(
    state: &AppState,
    id: &str,
    (name, archives): (&str, &str),
    to: &str,
    locale: Locale,
) {
    use leptos_i18n::td_string;
    let origin = &state.config.public_url.origin;
    let link = format!("{origin}{archives}#archive-{id}");
    let hours = state.config.archives.keep_hours.to_string();
    let mail = Composed {
        brand: &state.config.brand,
        lang: leptos_i18n::Locale::as_str(locale),
        to,
        subject: td_string!(locale, archive_mail_subject).to_owned(),
        before: vec![td_string!(locale, archive_mail_text).replace("%name%", name)],
        link: &link,
        button: td_string!(locale, archive_mail_button).to_owned(),
        after: vec![td_string!(locale, archive_mail_after).replace("%hours%", &hours)],
    }
    .into_mail();
    state.mailer.send(mail).await;
}

/// The session's id, for a link session's archives.
pub(super) fn link_session(principal: &Principal, session: &Session) -> Option<String> {
    principal.link_id()?;
    session.id().map(|id| id.to_string())
}

/// The caller and their archive `id`, if it is theirs: a customer's, a staff member's, or a
/// link session's own. `None` for anyone else, and for anonymous callers.
async fn theirs(
    state: &AppState,
    principal: Option<axum::Extension<Principal>>,
    session: &Session,
    id: &str,
) -> Option<(Principal, StoredArchive)> {
    let axum::Extension(principal) = principal?;
    let session_id = link_session(&principal, session);
    let archive = state.store.archive(id).await.ok()??;
    let now_ms = state.clock.now_ms();
    (archive.belongs_to(principal.subject(), session_id.as_deref()) && archive.expires_ms > now_ms)
        .then_some((principal, archive))
}

/// The page that lists the caller's archives.
fn archives_page(principal: &Principal) -> &'static str {
    match principal {
        Principal::Staff { .. } => STAFF_ARCHIVES_PAGE,
        _ => ARCHIVES_PAGE,
    }
}

/// `GET /archives/{id}/download`: a ready archive, from the database, a chunk at a time.
pub async fn download(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let Some((_, archive)) = theirs(&state, principal, &session, &id).await else {
        return not_found();
    };
    if archive.state != ArchiveState::Ready {
        return not_found();
    }
    let store = state.store.clone();
    // The next chunk's number; `None` once the database failed, which ends the download
    // (cut short, so that the browser does not keep a file that lacks its end).
    let stream = futures::stream::unfold(Some(0_i64), move |seq| {
        let (store, id) = (store.clone(), archive.id.clone());
        async move {
            let seq = seq?;
            match store.archive_chunk(&id, seq).await {
                Ok(Some(data)) => Some((Ok(Bytes::from(data)), Some(seq + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let mut response = Body::from_stream(stream).into_response();
    as_download(&mut response, "application/zip", &archive.name);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(archive.bytes));
    response
}

/// `POST /archives/{id}/delete`: removes one of the caller's archives (or stops it).
pub async fn delete(
    State(state): State<AppState>,
    principal: Option<axum::Extension<Principal>>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some((principal, archive)) = theirs(&state, principal, &session, &id).await else {
        return not_found();
    };
    if let Err(e) = state.store.archive_delete(&archive.id).await {
        tracing::warn!(error = %e, "cannot delete an archive");
        return crate::base::server::answers::database_down(request_locale(&headers));
    }
    Redirect::to(archives_page(&principal)).into_response()
}

/// `/archives` (`/manage/archives` for staff): the caller's archives, newest first, and the
/// limits.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    session: Option<&Session>,
) -> Option<ArchiveList> {
    let owner = principal.subject();
    let session_id = session.and_then(|s| link_session(principal, s));
    let now_ms = state.clock.now_ms();
    let archives = state.store.archives_of(owner, now_ms).await.ok()?;
    let limits = &state.config.archives;
    Some(ArchiveList {
        archives: archives
            .iter()
            .filter(|a| a.belongs_to(owner, session_id.as_deref()))
            .map(|a| view_of(a, now_ms))
            .collect(),
        at_once: limits.at_once,
        keep_hours: limits.keep_hours,
        max_files: limits.max_files,
    })
}

fn view_of(archive: &StoredArchive, now_ms: i64) -> ArchiveView {
    // A job that stopped writing is over, whatever it last said.
    let state = match archive.state {
        ArchiveState::Running if !archive.is_running(now_ms) => ArchiveState::Failed,
        other => other,
    };
    let counts: Vec<u64> = archive
        .detail
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|n| n.parse().ok())
        .collect();
    let ms_iso = |ms: i64| crate::base::server::clock::iso_time(ms / 1000);
    ArchiveView {
        id: archive.id.clone(),
        name: archive.name.clone(),
        state,
        files_total: archive.files_total.max(0) as u64,
        files_done: archive.files_done.clamp(0, archive.files_total.max(0)) as u64,
        bytes: archive.bytes.max(0) as u64,
        missing: counts.get(1).copied().unwrap_or(0) + counts.get(2).copied().unwrap_or(0),
        created: ms_iso(archive.created_ms),
        expires: ms_iso(archive.expires_ms),
    }
}
