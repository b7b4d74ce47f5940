//! The one error type shared by the server and the browser.
//!
//! Server functions return it directly; pages render it with [`crate::ui::error_view`].
//! Its variants carry only what a user may see: internal causes are logged on the server with the
//! request id, and only that id travels to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The thing does not exist, or the caller may not know that it exists.
    #[error("not found")]
    NotFound,
    /// A portal link that existed but no longer opens.
    #[error("link no longer valid")]
    Gone(crate::base::who::LinkState),
    /// The caller must sign in first.
    #[error("sign-in required")]
    Unauthorized,
    /// The request was malformed; the message is safe to show.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The upstream is down, too slow or rate-limiting us.
    #[error("temporarily unavailable")]
    Unavailable,
    /// Anything else. The cause has been logged under `request_id`.
    #[error("internal error (reference {request_id})")]
    Internal { request_id: String },
}

impl AppError {
    /// The HTTP status a page or server function answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::Gone(_) => 410,
            AppError::Unauthorized => 401,
            AppError::BadRequest(_) => 400,
            AppError::Unavailable => 503,
            AppError::Internal { .. } => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The caller sent arguments we could not read: that is their mistake, and the text
            // names only the argument, never server state.
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest(msg)
            }
            ServerFnErrorErr::Request(_) => AppError::Unavailable,
            _ => AppError::Internal {
                request_id: String::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_the_variants() {
        assert_eq!(AppError::NotFound.status_code(), 404);
        assert_eq!(AppError::Unavailable.status_code(), 503);
        assert_eq!(
            AppError::Internal {
                request_id: "x".into()
            }
            .status_code(),
            500
        );
    }

    #[test]
    fn internal_errors_do_not_leak_server_text() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "connection to 10.0.0.3 refused".into(),
        ));
        assert!(!format!("{e}").contains("10.0.0.3"));
    }
}
