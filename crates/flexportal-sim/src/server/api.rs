//! What every API route shares: the key check, errors in FlexPortal's shape, and paging.

use std::collections::HashMap;

use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::state::SimState;
use crate::faults::Injected;

/// The error body FlexPortal documents: `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(super) fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub(super) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

pub(super) type ApiResult = Result<Response, ApiError>;

pub(super) type Params = Query<HashMap<String, String>>;

/// Runs before every `/v1` handler: counts the call, applies injected faults, then checks the
/// two headers the way the docs describe.
pub(super) async fn api_guard(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    state.0.counters.hit(format!("{} {}", req.method(), route));

    let faults = &state.0.faults;
    let latency = faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match faults.on_request() {
        Some(Injected::Hang(d)) => tokio::time::sleep(d).await,
        Some(Injected::TooManyRequests { retry_after_secs }) => {
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "Too many requests",
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return resp;
        }
        Some(Injected::ServerError) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal server error",
            )
            .into_response();
        }
        None => {}
    }
    if let Err(e) = authorize(&state, req.headers()) {
        return e.into_response();
    }
    next.run(req).await
}

fn authorize(state: &SimState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "Authorization header is required",
        ));
    };
    let token = auth
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if token != Some(state.0.api_key.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "Invalid or expired API key",
        ));
    }
    let tenant = headers.get("tenant-id").and_then(|v| v.to_str().ok());
    if tenant != Some(state.0.tenant.tenant_id.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NO_TENANT_ACCESS",
            "Tenant-ID is missing or not accessible with this key",
        ));
    }
    Ok(())
}

/// `limit` as the schema declares it: a string holding a plain decimal number.
pub(super) fn parse_limit(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(50),
        Some(s) if !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()) => {
            let n: usize = s
                .parse()
                .map_err(|_| ApiError::validation("limit must be a number"))?;
            if (1..=100).contains(&n) {
                Ok(n)
            } else {
                Err(ApiError::validation("limit must be between 1 and 100"))
            }
        }
        Some(_) => Err(ApiError::validation("limit must be a plain decimal number")),
    }
}

pub(super) fn check_enum(
    q: &HashMap<String, String>,
    key: &str,
    allowed: &[&str],
) -> Result<(), ApiError> {
    match q.get(key) {
        Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::validation(format!(
            "{key} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

pub(super) fn matches(q: &HashMap<String, String>, key: &str, value: &str) -> bool {
    q.get(key).is_none_or(|v| v == value)
}

/// One page of a cursor list, newest first.
pub(super) struct Page {
    pub(super) items: Vec<Value>,
    pub(super) limit: usize,
    pub(super) has_more: bool,
    pub(super) next_cursor: Option<String>,
}

pub(super) fn cursor_page<T>(
    mut items: Vec<&T>,
    q: &HashMap<String, String>,
    id: impl Fn(&T) -> &str,
    created: impl Fn(&T) -> &str,
    to_json: impl Fn(&T) -> Value,
) -> Result<Page, ApiError> {
    let limit = parse_limit(q)?;
    items.sort_by(|a, b| created(b).cmp(created(a)).then_with(|| id(b).cmp(id(a))));
    let start = match q.get("startAfter") {
        None => 0,
        Some(cursor) => items
            .iter()
            .position(|i| id(i) == cursor)
            .map(|p| p + 1)
            .ok_or_else(|| ApiError::validation("startAfter is not a valid cursor"))?,
    };
    let rest = &items[start.min(items.len())..];
    let page = &rest[..limit.min(rest.len())];
    let has_more = rest.len() > page.len();
    Ok(Page {
        items: page.iter().map(|i| to_json(i)).collect(),
        limit,
        has_more,
        next_cursor: if has_more {
            page.last().map(|i| id(i).to_owned())
        } else {
            None
        },
    })
}

pub(super) fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}
