//! `/files/{id}/view` and `/files/{id}/download`: the one place a browser gets a file. The
//! file's ownership is checked on every request; then the upstream signs a short-lived URL and
//! the browser is sent there with `303 See Other`.

use axum::{
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use flexportal::FileAction;

use crate::error::AppError;
use crate::server::auth::{ClientIp, Principal};
use crate::server::documents::{authorize_file, scope_of, Asker, Scope};
use crate::server::links::Staff;
use crate::server::state::AppState;
use crate::server::store::AuditEvent;

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
    let Some(axum::Extension(principal)) = principal else {
        return not_found();
    };
    let Some(scope) = scope_of(&principal) else {
        return not_found();
    };
    let who = Who {
        actor: principal.subject().to_owned(),
        link_id: principal.link_id().map(str::to_owned),
    };
    serve(state, ip, who, scope, file_id, action).await
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
struct Who {
    actor: String,
    link_id: Option<String>,
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
    let event = AuditEvent {
        at: state.clock.now(),
        kind: match action {
            FileAction::View => "file_viewed".into(),
            FileAction::Download => "file_downloaded".into(),
        },
        actor: Some(who.actor),
        customer_id: Some(scope.customer_id.clone()),
        subject: Some(file.id.clone()),
        ip: Some(ip),
        link_id: who.link_id,
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, "cannot write an audit event");
    }
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

use crate::server::links::not_found;

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        "The document service is busy or unreachable right now. Please try again in a minute.",
    )
        .into_response()
}
