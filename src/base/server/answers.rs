//! Plain answers that several routes give: not found, busy, and the logging of an internal error.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        "not found",
    )
        .into_response()
}

pub fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "5")],
        "Busy right now. Please try again in a moment.",
    )
        .into_response()
}

pub fn internal(e: sqlx::Error, what: &str) -> crate::base::error::AppError {
    tracing::error!(error = %e, "{what}");
    crate::base::error::AppError::Internal {
        request_id: String::new(),
    }
}
