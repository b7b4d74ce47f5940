//! How FlexPortal's answers and failures read to the documents pages.

use flexportal::model::FileType;
use flexportal::Fetched;

use crate::base::error::AppError;
use crate::base::server::clock::iso_time;
use crate::base::who::DocType;
use crate::documents::model::DataAge;

/// Maps an upstream failure to what a page may say. Nothing of the upstream's text travels.
pub(crate) fn upstream_error(error: flexportal::Error) -> AppError {
    match error {
        flexportal::Error::NotFound => AppError::NotFound,
        e if e.is_transient() => {
            tracing::warn!(error = %e, "FlexPortal unavailable");
            AppError::Unavailable
        }
        e => {
            if e.is_configuration_problem() {
                tracing::error!(error = %e, "FlexPortal refused Folio's credentials; check the configuration");
            } else {
                tracing::error!(error = %e, "unexpected answer from FlexPortal");
            }
            AppError::Internal {
                request_id: String::new(),
            }
        }
    }
}

/// How current an answer is, as a page says it.
pub(super) fn age_of<T>(fetched: &Fetched<T>) -> DataAge {
    DataAge {
        stale: fetched.stale,
        updated: (!fetched.fresh).then(|| iso_time(fetched.fetched_ms.div_euclid(1000))),
    }
}

/// Whether a string can be a FlexPortal id (the platform's rule, shared with the webhooks).
pub(crate) use crate::base::server::upstream::plausible_id;

/// FlexPortal's file type as a customer-facing document type.
pub fn doc_type(file_type: &FileType) -> DocType {
    match file_type {
        FileType::Contract => DocType::Contract,
        FileType::Invoice => DocType::Invoice,
        FileType::Document => DocType::Document,
        FileType::Attachment => DocType::Attachment,
        FileType::Other(_) => DocType::Other,
    }
}
