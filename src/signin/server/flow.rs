//! What every step of the sign-in shares: the pending sign-in in the session, the forms, where
//! each audience's pages live, and the audit of each step.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::attempts::Audience;
use crate::base::server::audit::AuditEvent;
use crate::base::server::state::AppState;
use crate::i18n::Locale;

/// How long a link and a code stay valid.
pub const SIGN_IN_TTL_SECS: i64 = 15 * 60;

/// A sign-in in progress, kept in the (anonymous) session that asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Customer or staff: a sign-in started on one side's page completes only there.
    #[serde(default)]
    pub audience: Audience,
    /// The attempt's id. For an unknown email no attempt exists under it, and every code is
    /// simply wrong.
    pub attempt_id: String,
    pub email: String,
    pub requested_at: i64,
    /// Wrong codes typed in this session, so that the answer after five is the same whether
    /// or not an attempt exists.
    #[serde(default)]
    pub wrong_codes: i64,
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub(super) email: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) code: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub(super) token: String,
}

/// The audience of a sign-in request is the address it was posted to: the staff's pages live
/// under `/manage`, the customers' everywhere else.
impl<S: Send + Sync> FromRequestParts<S> for Audience {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(if parts.uri.path().starts_with("/manage/") {
            Audience::Staff
        } else {
            Audience::Customer
        })
    }
}

/// Where each audience's sign-in pages live: `/login…` for customers, `/manage/login…` for
/// staff.
pub(super) fn base(audience: Audience) -> &'static str {
    match audience {
        Audience::Customer => "",
        Audience::Staff => "/manage",
    }
}

pub(super) fn to(audience: Audience, path: &str) -> Response {
    Redirect::to(&format!("{}{path}", base(audience))).into_response()
}

pub(super) fn too_many_requests(locale: Locale) -> Response {
    use leptos_i18n::td_string;
    let text = td_string!(locale, too_many_requests).to_string();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, text).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
    response
}

pub(super) async fn audit(
    state: &AppState,
    kind: &str,
    actor: &str,
    customer_id: Option<&str>,
    subject: Option<&str>,
    ip: &str,
) {
    let event = AuditEvent {
        at: state.clock.now(),
        kind: kind.to_owned(),
        actor: Some(actor.to_owned()),
        customer_id: customer_id.map(str::to_owned),
        subject: subject.map(str::to_owned),
        ip: Some(ip.to_owned()),
        link_id: None,
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, kind, "cannot write an audit event");
    }
}
