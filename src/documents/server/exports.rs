//! Many documents at once, for the accountant: `GET /documents.zip?<filters>` and
//! `POST /documents.zip` (picked files) as one streamed archive, or one made in the background
//! when it is too big to fetch now. Scoped like the pages (a link session gets its link's
//! part, never more; a staff member the customer's portal), every file is checked against the
//! scope's documents, and every archive is audited once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use flexportal::{Client, FileAction};
use tokio::sync::mpsc;
use tower_sessions::Session;

use super::archive::{pump, Selection};
use super::background::{self, link_session, Job, Refused};
use super::delivery::{as_download, ids, safe_name, Desk, Exporter};
use super::fetch::Upstream;
use super::files::audit;
use super::index::{matching, DocumentIndex};
use super::ownership::owned_orders;
use super::views::visible_documents;
use crate::base::error::AppError;
use crate::base::server::answers::{
    database_down, not_found, plain_page, plain_page_with, unavailable,
};
use crate::base::server::calls::query_pairs;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::locale::request_locale;
use crate::base::server::principal::{Principal, Scope};
use crate::base::server::state::AppState;
use crate::documents::model::DocumentQuery;
use crate::i18n::Locale;

/// `GET /documents.zip?<the filters of /documents>`: every matching document.
pub async fn documents_zip(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    principal: Option<axum::Extension<Principal>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(exporter) = Exporter::of(principal.as_deref()) else {
        return not_found();
    };
    zip_of_query(state, ip, request_locale(&headers), exporter, query).await
}

/// `POST /documents.zip`, a form with one `file` field per picked document, or with the
/// filters of `/documents`: a POST, so that no JavaScript is needed and no URL grows past its
/// limits. A selection too big to fetch now is made in the background.
pub async fn selected_zip(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    principal: Option<axum::Extension<Principal>>,
    session: Session,
    body: Bytes,
) -> Response {
    let Some(axum::Extension(principal)) = principal else {
        return not_found();
    };
    let Some(exporter) = Exporter::of(Some(&principal)) else {
        return not_found();
    };
    let locale = request_locale(&headers);
    let later = Later {
        session_id: link_session(&principal, &session),
        mail: match &principal {
            Principal::Customer { email, .. } => Some((email.clone(), locale)),
            _ => None,
        },
    };
    zip_of_form(state, ip, locale, exporter, &body, later).await
}

/// The archive of the documents that `query` (the filters of `/documents`) selects.
pub async fn zip_of_query(
    state: AppState,
    ip: ClientIp,
    locale: Locale,
    exporter: Exporter,
    query: Option<String>,
) -> Response {
    let picked = Picked::Query(filters(query));
    archive(state, ip, locale, exporter, picked, None).await
}

/// The archive of a posted form's picked files (or filters); made in the background when it
/// is too big to fetch now.
pub async fn zip_of_form(
    state: AppState,
    ip: ClientIp,
    locale: Locale,
    exporter: Exporter,
    body: &[u8],
    later: Later,
) -> Response {
    let fields: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let ids: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "file")
        .map(|(_, v)| v.clone())
        .collect();
    let picked = if ids.is_empty() && fields.iter().any(|(k, _)| k != "file") {
        Picked::Query(DocumentQuery::from_query_pairs(fields).0)
    } else {
        Picked::Ids(ids)
    };
    archive(state, ip, locale, exporter, picked, Some(later)).await
}

/// What a background archive needs beyond a download: whose session, and where to announce.
pub struct Later {
    /// For a link session: the session alone may see the archive.
    pub session_id: Option<String>,
    /// The address to mail when it is ready, and in which language.
    pub mail: Option<(String, Locale)>,
}

/// What a download asks for.
enum Picked {
    Query(DocumentQuery),
    Ids(Vec<String>),
}

impl Picked {
    /// The archive's file name: what it holds, e.g. `invoices-2026.zip`; on a staff screen
    /// with the customer's id first.
    fn file_name(&self, desk: &Desk) -> String {
        format!("{}{}.zip", desk.name_prefix(), self.stem())
    }

    fn stem(&self) -> String {
        let Picked::Query(q) = self else {
            return "documents".to_owned();
        };
        let mut name = q
            .doc_type
            .map_or("documents", |t| match t {
                crate::base::who::DocType::Invoice => "invoices",
                crate::base::who::DocType::Contract => "contracts",
                _ => "documents",
            })
            .to_owned();
        if let Some(order) = &q.order {
            name = format!("{name}-{}", safe_name(order));
        }
        if let Some(year) = q.year {
            name = format!("{name}-{year}");
        }
        name
    }
}

/// Downloads running now, per person, on this instance.
static RUNNING: LazyLock<Mutex<HashMap<String, u32>>> = LazyLock::new(Mutex::default);

/// One running download, counted until it is dropped (when its stream ends or breaks off).
struct Running(String);

impl Running {
    fn start(who: &str, at_once: u32) -> Option<Running> {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        let count = running.entry(who.to_owned()).or_default();
        if *count >= at_once {
            return None;
        }
        *count += 1;
        Some(Running(who.to_owned()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = running.get_mut(&self.0) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                running.remove(&self.0);
            }
        }
    }
}

async fn archive(
    state: AppState,
    ClientIp(ip): ClientIp,
    locale: Locale,
    exporter: Exporter,
    picked: Picked,
    later: Option<Later>,
) -> Response {
    use leptos_i18n::td_string;
    let Exporter { who, scope, desk } = exporter;
    let limits = state.config.archives.clone();
    let refusal =
        |status, title, text: &str| refusal_page(status, locale, &desk, title, text, None);
    let come_back = |after, text| {
        let title = td_string!(locale, archive_busy_title);
        let secs = Some(after);
        refusal_page(
            StatusCode::SERVICE_UNAVAILABLE,
            locale,
            &desk,
            title,
            text,
            secs,
        )
    };
    let one_too_many = || {
        let text =
            td_string!(locale, archive_running_text).replace("%max%", &limits.at_once.to_string());
        refusal(
            StatusCode::TOO_MANY_REQUESTS,
            td_string!(locale, archive_busy_title),
            &text,
        )
    };
    let client = state.upstream.client.clone();
    let selection = match select(&client, &scope, &picked, limits.max_files).await {
        Ok(selection) => selection,
        Err(Refusal::Upstream) => return unavailable(),
        Err(Refusal::TooMany(n)) => {
            let text = td_string!(locale, archive_too_many_text)
                .replace("%count%", &n.to_string())
                .replace("%max%", &limits.max_files.to_string());
            let title = td_string!(locale, archive_too_many_title);
            return refusal(StatusCode::PAYLOAD_TOO_LARGE, title, &text);
        }
    };
    if selection.included.is_empty() {
        let title = td_string!(locale, archive_empty_title);
        let text = td_string!(locale, archive_empty_text);
        return refusal(StatusCode::BAD_REQUEST, title, text);
    }
    // Each file not signed lately costs one request of the tenant's budget.
    let to_sign = selection
        .included
        .iter()
        .filter(|r| !client.has_signed(&r.id, FileAction::Download))
        .count();
    if to_sign > limits.stream_files as usize {
        // Too many to fetch while the reader waits: made in the background, on a POST.
        let Some(later) = later else {
            return offer(locale, &desk, &picked, to_sign, limits.stream_files);
        };
        let archives = desk.archives();
        let job = Job {
            who,
            scope,
            session_id: later.session_id,
            ip,
            mail: later.mail,
            name: picked.file_name(&desk),
            archives,
            selection,
        };
        return match background::start(&state, job).await {
            Ok(id) => Redirect::to(&format!("{archives}#archive-{id}")).into_response(),
            Err(Refused::Store) => database_down(locale),
            Err(Refused::Running) => one_too_many(),
            Err(Refused::Busy) => come_back("300", td_string!(locale, archive_tenant_busy_text)),
            Err(Refused::Full) => {
                let title = td_string!(locale, archive_full_title);
                let text = td_string!(locale, archive_full_text);
                refusal(StatusCode::INSUFFICIENT_STORAGE, title, text)
            }
        };
    }
    if to_sign > 0 && client.budget_wait().await > Duration::ZERO {
        return come_back("60", td_string!(locale, archive_busy_text));
    }
    let Some(running) = Running::start(&who.actor, limits.at_once) else {
        return one_too_many();
    };

    let (sink, mut body) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let max_bytes = u64::from(limits.max_mb) * 1024 * 1024;
    let asked = selection.included.len() + selection.unknown.len();
    tokio::spawn(async move {
        let _running = running;
        let files = Upstream::now(client);
        let outcome = pump(&files, &selection, max_bytes, &sink).await;
        let (kind, subject) = match &outcome {
            Ok(o) => (
                "archive_downloaded",
                format!(
                    "{} of {asked} files ({} missing, {} over the size limit): {}",
                    o.included,
                    o.missing,
                    o.over_limit,
                    ids(&selection.included)
                ),
            ),
            Err(_) => (
                "archive_abandoned",
                format!("{asked} files asked for: {}", ids(&selection.included)),
            ),
        };
        audit(&state, kind, who, &scope, subject, ip).await;
    });
    let stream = futures::stream::poll_fn(move |cx| body.poll_recv(cx));
    let mut response = Body::from_stream(stream).into_response();
    as_download(&mut response, "application/zip", &picked.file_name(&desk));
    response
}

/// Why an archive was not started.
enum Refusal {
    Upstream,
    TooMany(usize),
}

/// The documents a download asks for, out of those the scope may see now.
async fn select(
    client: &Client,
    scope: &Scope,
    picked: &Picked,
    max_files: u32,
) -> Result<Selection, Refusal> {
    if let Picked::Ids(ids) = picked {
        // Counted before anything is fetched: an oversized form costs nothing.
        if ids.len() > max_files as usize {
            return Err(Refusal::TooMany(ids.len()));
        }
    }
    let index = visible(client, scope)
        .await
        .map_err(|_| Refusal::Upstream)?;
    let selection = match picked {
        Picked::Query(query) => Selection {
            included: matching(&index, query)
                .into_iter()
                .map(|i| index.rows[i].clone())
                .collect(),
            unknown: Vec::new(),
        },
        Picked::Ids(ids) => Selection::of_ids(ids.iter().map(String::as_str), |id| index.find(id)),
    };
    if selection.included.len() > max_files as usize {
        return Err(Refusal::TooMany(selection.included.len()));
    }
    Ok(selection)
}

/// The file name of a list of the documents that `query` selects.
pub(super) fn list_name(desk: &Desk, query: DocumentQuery) -> String {
    format!("{}{}.csv", desk.name_prefix(), Picked::Query(query).stem())
}

/// The filters of `/documents` in a query string; what is malformed is left out, as there.
pub(super) fn filters(query: Option<String>) -> DocumentQuery {
    DocumentQuery::from_query_pairs(query_pairs(query.as_deref().unwrap_or(""))).0
}

/// Every document the scope may see now.
pub(super) async fn visible(
    client: &Client,
    scope: &Scope,
) -> Result<Arc<DocumentIndex>, AppError> {
    let owned = owned_orders(client, scope).await?;
    Ok(visible_documents(client, scope, &owned).await?.0)
}

/// A GET for more than can be fetched now: the same selection as a background archive, a
/// button away (a POST: a link or a crawler must not start one).
fn offer(locale: Locale, desk: &Desk, picked: &Picked, count: usize, max: u32) -> Response {
    use crate::base::server::mail::escape_html;
    use leptos_i18n::td_string;
    let Picked::Query(query) = picked else {
        // Picked files always come by POST.
        return not_found();
    };
    let fields: String = query
        .with_page(1)
        .to_query_pairs()
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape_html(v)
            )
        })
        .collect();
    let text = td_string!(locale, archive_offer_text)
        .replace("%count%", &count.to_string())
        .replace("%max%", &max.to_string());
    let form = format!(
        "<form method=\"post\" action=\"{action}/documents.zip\">{fields}\
         <button type=\"submit\">{button}</button></form>",
        action = desk.exports(),
        button = td_string!(locale, archive_offer_button),
    );
    let title = td_string!(locale, archive_offer_title);
    let back = (desk.list(), desk.back(locale));
    plain_page_with(
        StatusCode::OK,
        locale,
        title,
        &text,
        &form,
        (&back.0, back.1),
    )
}

/// Why an archive is not made, as a page with the way back; with `retry_after` (seconds),
/// when to ask again.
fn refusal_page(
    status: StatusCode,
    locale: Locale,
    desk: &Desk,
    title: &str,
    text: &str,
    retry_after: Option<&'static str>,
) -> Response {
    let back = (desk.list(), desk.back(locale));
    let mut response = plain_page(status, locale, title, text, (&back.0, back.1));
    if let Some(secs) = retry_after {
        let headers = response.headers_mut();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static(secs));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_has_at_most_so_many_downloads_at_once() {
        let first = Running::start("customer:test-at-once", 2).unwrap();
        let second = Running::start("customer:test-at-once", 2).unwrap();
        assert!(Running::start("customer:test-at-once", 2).is_none());
        assert!(Running::start("customer:someone-else", 2).is_some());
        drop(first);
        assert!(Running::start("customer:test-at-once", 2).is_some());
        drop(second);
    }

    #[test]
    fn the_file_name_says_what_the_archive_holds() {
        let (query, _) = DocumentQuery::from_query_pairs([("type", "invoice"), ("year", "2026")]);
        let own = Desk::Own;
        assert_eq!(
            Picked::Query(query.clone()).file_name(&own),
            "invoices-2026.zip"
        );
        let staff = Desk::Staff("C-10/01".to_owned());
        assert_eq!(
            Picked::Query(query).file_name(&staff),
            "C-1001-invoices-2026.zip"
        );
        let (query, _) = DocumentQuery::from_query_pairs([("order", "ord/../x"), ("q", "a")]);
        assert_eq!(Picked::Query(query).file_name(&own), "documents-ordx.zip");
        assert_eq!(Picked::Ids(vec![]).file_name(&own), "documents.zip");
    }
}
