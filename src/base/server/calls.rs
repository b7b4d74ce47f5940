//! What every server function does first and last: find out who calls, and answer errors
//! with their HTTP status.

use crate::base::error::AppError;
use crate::base::server::principal::{Scope, Staff};
use crate::base::server::state::AppState;

/// The state and the caller's scope; anonymous callers must sign in.
pub fn caller() -> Result<(AppState, Scope), AppError> {
    let state = leptos::prelude::expect_context::<AppState>();
    let scope = crate::base::server::principal::current_principal()
        .as_ref()
        .and_then(crate::base::server::principal::scope_of)
        .ok_or_else(|| {
            // A link session that has just ended says so, rather than asking its
            // recipient, who has no account, to sign in.
            match crate::base::server::principal::request_extension::<
                crate::base::server::principal::LinkEnded,
            >() {
                Some(ended) => AppError::Gone(ended.0),
                None => AppError::Unauthorized,
            }
        })
        .inspect_err(set_status)?;
    Ok((state, scope))
}

/// The state and the calling staff member. For anyone else the staff functions do not
/// exist: not found, exactly like an unknown endpoint.
pub fn staff() -> Result<(AppState, Staff), AppError> {
    let state = leptos::prelude::expect_context::<AppState>();
    let staff = Staff::of(crate::base::server::principal::current_principal().as_ref())
        .ok_or(AppError::NotFound)
        .inspect_err(set_status)?;
    Ok((state, staff))
}

/// The FlexPortal client for this request. While a page renders to be kept, a handle
/// that notes the answers the page is made from (`base::server::page_cache`).
pub fn upstream(state: &AppState) -> flexportal::Client {
    match crate::base::server::principal::request_extension::<
        crate::base::server::page_cache::PageLog,
    >() {
        Some(log) => state.upstream.client.logging_to(log.0),
        None => state.upstream.client.clone(),
    }
}

/// Answers a failed call with the error's HTTP status (404, 503, …) instead of 500.
fn set_status(error: &AppError) {
    crate::base::http_status::set_http_status(error.status_code());
}

/// Internal errors carry the request's id, under which their cause was logged.
pub fn fill<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    result.inspect_err(set_status).map_err(|error| match error {
        AppError::Internal { request_id } if request_id.is_empty() => AppError::Internal {
            request_id: crate::base::server::principal::current_request_id().unwrap_or_default(),
        },
        other => other,
    })
}

/// A page's raw query string (`a=1&b=2`, with or without `?`) as pairs; unreadable text
/// reads as no parameters.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query.trim_start_matches('?')).unwrap_or_default()
}
