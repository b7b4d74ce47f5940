use std::time::Duration;

/// Everything that can go wrong talking to FlexPortal. Messages never contain the API key,
/// query strings (they carry emails) or signed URLs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// 401: the API key is missing, unknown or revoked. A configuration problem.
    #[error("FlexPortal refused the API key ({code})")]
    Unauthorized { code: String },
    /// 403: the key may not use this tenant (`Tenant-ID`) or lacks a permission. A
    /// configuration problem.
    #[error("FlexPortal refused access to the tenant ({code})")]
    Forbidden { code: String },
    /// 404.
    #[error("not found at FlexPortal")]
    NotFound,
    /// 400 or 422: FlexPortal rejected the request.
    #[error("FlexPortal rejected the request: {code}: {message}")]
    Rejected { code: String, message: String },
    /// 429, with the wait FlexPortal asked for.
    #[error("FlexPortal is rate limiting")]
    RateLimited { retry_after: Option<Duration> },
    /// Our own per-minute budget is spent and the wait would be too long.
    #[error("the FlexPortal request budget is spent for now")]
    BudgetExhausted { retry_after: Duration },
    /// 5xx, or another status FlexPortal should not send.
    #[error("FlexPortal answered with status {status}")]
    Server { status: u16 },
    /// No answer within the request timeout.
    #[error("FlexPortal did not answer in time")]
    Timeout,
    /// The connection failed.
    #[error("FlexPortal is unreachable: {0}")]
    Unreachable(String),
    /// The answer could not be decoded; `path` names the field, e.g. `orders[3].totals.total`.
    #[error("FlexPortal sent an answer that cannot be read ({endpoint}, at {path}): {message}")]
    Decode {
        endpoint: String,
        path: String,
        message: String,
    },
}

impl Error {
    /// True for problems that only an operator can fix (wrong key or tenant).
    pub fn is_configuration_problem(&self) -> bool {
        matches!(self, Error::Unauthorized { .. } | Error::Forbidden { .. })
    }

    /// True when the upstream is busy or broken and the same request may succeed later: the
    /// cases where serving the last good answer is right.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::BudgetExhausted { .. }
                | Error::Server { .. }
                | Error::Timeout
                | Error::Unreachable(_)
                | Error::Decode { .. }
        )
    }

    /// How long the caller should wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } => *retry_after,
            Error::BudgetExhausted { retry_after } => Some(*retry_after),
            _ => None,
        }
    }
}
