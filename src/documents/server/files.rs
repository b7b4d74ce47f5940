//! `/files/{id}/view` and `/files/{id}/download`: the one place a browser gets a file. The
//! file's ownership is checked on every request; then the upstream signs a short-lived URL and
//! the browser is sent there with `303 See Other`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flexportal::{Ask, Client, FileAction};

use super::ownership::{owned_orders, visible, OwnedOrders};
use super::rows::row;
use super::upstream::{plausible_id, upstream_error};
use super::views::{visible_documents, MAX_ORDERS_LISTED};
use crate::base::error::AppError;
use crate::base::server::answers::{not_found, unavailable};
use crate::base::server::audit::AuditEvent;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::principal::{scope_of, Principal, Scope, Staff};
use crate::base::server::rate_limit::FileLookups;
use crate::base::server::state::AppState;
use crate::base::who::DocType;
use crate::documents::model::DocumentRow;

/// What the `/files/{id}/view|download` routes need once a file is known to be visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisibleFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub order_id: String,
    pub doc_type: DocType,
}

impl VisibleFile {
    pub(super) fn of(row: &DocumentRow) -> Self {
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            content_type: row.content_type.clone(),
            order_id: row.order_id.clone(),
            doc_type: row.doc_type,
        }
    }
}

/// Who asks the file routes for a file, for the limits on asking FlexPortal about ids that
/// the asker's document index lacks.
pub struct Asker<'a> {
    /// The principal's subject (a customer, a link session, a staff member).
    pub who: &'a str,
    pub lookups: &'a FileLookups,
    /// Unix seconds, from the application's clock.
    pub now: i64,
}

/// Single file lookups per principal in a quarter of an hour, for indexes cut short.
const FILE_LOOKUPS_PER_15_MIN: u32 = 20;

/// Checks that a file may be opened by this scope, for the view and download routes. Every
/// refusal is [`AppError::NotFound`], whatever the reason.
///
/// The id is looked up in the scope's document index, built the way the documents page
/// builds it (from cached answers, so usually at no cost): an id that is not there is not
/// found, without asking FlexPortal. Only two cases ask, each bounded per principal by
/// [`FileLookups`]: an index older than a minute may be rebuilt from fresh lists once a
/// minute, and an index cut short by the order cap may look single files up.
pub async fn authorize_file(
    client: &Client,
    scope: &Scope,
    file_id: &str,
    asker: &Asker<'_>,
) -> Result<VisibleFile, AppError> {
    if !plausible_id(file_id) {
        return Err(AppError::NotFound);
    }
    let owned = owned_orders(client, scope).await?;
    let (index, _) = visible_documents(client, scope, &owned).await?;
    if let Some(row) = index.find(file_id) {
        return Ok(VisibleFile::of(row));
    }
    if owned.orders.len() > MAX_ORDERS_LISTED {
        if !asker
            .lookups
            .lookups
            .allows(asker.who, asker.now, FILE_LOOKUPS_PER_15_MIN)
        {
            return Err(AppError::NotFound);
        }
        return look_up_file(client, scope, &owned, file_id).await;
    }
    if index.built.elapsed() >= asker.lookups.refresh_after
        && asker.lookups.refreshes.allows(asker.who, asker.now, 1)
    {
        // The newest lists, while the asker waits: the file may be new.
        let mut asks = vec![Ask::OrdersOf(scope.customer_id.clone())];
        asks.extend(
            owned
                .orders
                .iter()
                .map(|o| Ask::FilesOf(o.order_id.clone())),
        );
        client.forget(&asks);
        let owned = owned_orders(client, scope).await?;
        let (index, _) = visible_documents(client, scope, &owned).await?;
        if let Some(row) = index.find(file_id) {
            return Ok(VisibleFile::of(row));
        }
    }
    Err(AppError::NotFound)
}

/// A file of a scope whose index is incomplete, from its own metadata.
async fn look_up_file(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
    file_id: &str,
) -> Result<VisibleFile, AppError> {
    let file = match client.file(file_id).await {
        Ok(f) => f.value,
        Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
            return Err(AppError::NotFound)
        }
        Err(e) => return Err(upstream_error(e)),
    };
    if file.file_id != file_id || !visible(&file, owned, client.tenant_id(), scope) {
        return Err(AppError::NotFound);
    }
    Ok(VisibleFile::of(&row(&file)))
}

/// The signed URL's life: long enough to start a download, short enough to be useless later.
const SIGNED_URL_MINUTES: u32 = 5;

pub async fn view(
    state: State<AppState>,
    ip: ClientIp,
    principal: Option<axum::Extension<Principal>>,
    Path(id): Path<String>,
) -> Response {
    serve_own(state, ip, principal, id, FileAction::View).await
}

pub async fn download(
    state: State<AppState>,
    ip: ClientIp,
    principal: Option<axum::Extension<Principal>>,
    Path(id): Path<String>,
) -> Response {
    serve_own(state, ip, principal, id, FileAction::Download).await
}

/// `/manage/customers/{customer}/files/{id}/view|download`: a staff member opens a file as
/// the customer would, with the customer's scope.
pub async fn staff_view(
    state: State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((customer, id)): Path<(String, String)>,
) -> Response {
    serve_staff(state, staff, ip, customer, id, FileAction::View).await
}

pub async fn staff_download(
    state: State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((customer, id)): Path<(String, String)>,
) -> Response {
    serve_staff(state, staff, ip, customer, id, FileAction::Download).await
}

async fn serve_own(
    state: State<AppState>,
    ip: ClientIp,
    principal: Option<axum::Extension<Principal>>,
    file_id: String,
    action: FileAction,
) -> Response {
    // Anonymous callers get exactly what a missing file gets: nothing to tell them apart.
    let Some((who, scope)) = caller(principal.as_deref()) else {
        return not_found();
    };
    serve(state, ip, who, scope, file_id, action).await
}

/// Who is asking and what they may see: a customer's portal or a link's part of it; `None`
/// for anyone else (anonymous, or staff outside their customer screens).
pub(super) fn caller(principal: Option<&Principal>) -> Option<(Who, Scope)> {
    let principal = principal?;
    let scope = scope_of(principal)?;
    let who = Who {
        actor: principal.subject().to_owned(),
        link_id: principal.link_id().map(str::to_owned),
    };
    Some((who, scope))
}

async fn serve_staff(
    state: State<AppState>,
    staff: Staff,
    ip: ClientIp,
    customer_id: String,
    file_id: String,
    action: FileAction,
) -> Response {
    let who = Who {
        actor: staff.actor(),
        link_id: None,
    };
    serve(
        state,
        ip,
        who,
        Scope::customer(customer_id),
        file_id,
        action,
    )
    .await
}

/// Who opens a file, for the audit log.
pub struct Who {
    pub actor: String,
    pub link_id: Option<String>,
}

async fn serve(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Who,
    scope: Scope,
    file_id: String,
    action: FileAction,
) -> Response {
    let asker = Asker {
        who: &who.actor,
        lookups: &state.limits.files,
        now: state.clock.now(),
    };
    let file = match authorize_file(&state.upstream.client, &scope, &file_id, &asker).await {
        Ok(file) => file,
        Err(AppError::NotFound) => return not_found(),
        Err(AppError::Unavailable) => return unavailable(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    };
    let signed = match state
        .upstream
        .client
        .signed_url(&file.id, action, SIGNED_URL_MINUTES)
        .await
    {
        Ok(signed) => signed,
        Err(flexportal::Error::NotFound) => return not_found(),
        Err(e) if e.is_transient() => return unavailable(),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign a file URL");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let Ok(location) = HeaderValue::from_str(&signed.url) else {
        tracing::error!("FlexPortal signed an unusable URL");
        return (StatusCode::BAD_GATEWAY, "bad upstream answer").into_response();
    };
    let kind = match action {
        FileAction::View => "file_viewed",
        FileAction::Download => "file_downloaded",
    };
    audit(&state, kind, who, &scope, file.id.clone(), ip).await;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    // `Cache-Control: private, no-store`, as on every answer behind a session (the router).
    headers.insert(header::LOCATION, location);
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Writes the audit event of what `who` did in `scope` (a file opened, an export); a failure
/// is logged, never shown.
pub(super) async fn audit(
    state: &AppState,
    kind: &str,
    who: Who,
    scope: &Scope,
    subject: String,
    ip: String,
) {
    let event = AuditEvent {
        at: state.clock.now(),
        kind: kind.to_owned(),
        actor: Some(who.actor),
        customer_id: Some(scope.customer_id.clone()),
        subject: Some(subject),
        ip: Some(ip),
        link_id: who.link_id,
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, "cannot write an audit event");
    }
}
