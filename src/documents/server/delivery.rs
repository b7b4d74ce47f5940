//! What everything Folio hands out in bulk shares: who asks and where the answers point, and
//! the header that makes an answer a download.

use axum::http::{header, HeaderValue};
use axum::response::Response;

use super::files::{caller, Who};
use crate::base::server::principal::{Principal, Scope};
use crate::documents::model::{DocumentRow, ARCHIVES_PAGE, STAFF_ARCHIVES_PAGE};
use crate::i18n::Locale;
use crate::ui::pager::encoded;

/// Who exports what: a customer or a link session their own documents, or a staff member a
/// customer's, under the staff member's name. Made only by the two constructors, so that the
/// scope is always the caller's own or the customer's whole portal.
pub struct Exporter {
    pub(super) who: Who,
    pub(super) scope: Scope,
    pub(super) desk: Desk,
}

impl Exporter {
    /// A staff member (`actor`) exporting the documents of `customer_id`, a customer FlexPortal
    /// knows in our tenant: the customer's whole portal, as the staff screens show it.
    pub fn staff(actor: String, customer_id: String) -> Self {
        Exporter {
            who: Who {
                actor,
                link_id: None,
            },
            scope: Scope::customer(customer_id.clone()),
            desk: Desk::Staff(customer_id),
        }
    }

    /// A customer's or a link session's own export; `None` for anyone else.
    pub(super) fn of(principal: Option<&Principal>) -> Option<Self> {
        let (who, scope) = caller(principal)?;
        Some(Exporter {
            who,
            scope,
            desk: Desk::Own,
        })
    }
}

/// Where an export's answers point: the reader's own pages, or the staff screen of a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Desk {
    Own,
    /// A staff member's screen of the customer with this id.
    Staff(String),
}

impl Desk {
    /// The list an export starts from, for the way back.
    pub(super) fn list(&self) -> String {
        match self {
            Desk::Own => "/documents".to_owned(),
            Desk::Staff(customer) => format!("/manage/customers/{}", encoded(customer)),
        }
    }

    /// The way back, in words.
    pub(super) fn back(&self, locale: Locale) -> &'static str {
        use leptos_i18n::td_string;
        match self {
            Desk::Own => td_string!(locale, archive_back),
            Desk::Staff(_) => td_string!(locale, archive_back_customer),
        }
    }

    /// Where the exports of this desk live: `/documents.zip` and so on, under this.
    pub(super) fn exports(&self) -> String {
        match self {
            Desk::Own => String::new(),
            Desk::Staff(_) => self.list(),
        }
    }

    /// The address that downloads one file, checking the session again.
    pub(super) fn file(&self, origin: &str, id: &str) -> String {
        format!("{origin}{}/files/{}/download", self.exports(), encoded(id))
    }

    /// The page that lists background archives.
    pub(super) fn archives(&self) -> &'static str {
        match self {
            Desk::Own => ARCHIVES_PAGE,
            Desk::Staff(_) => STAFF_ARCHIVES_PAGE,
        }
    }

    /// What an export's file name starts with: on a staff screen, whose documents they are.
    pub(super) fn name_prefix(&self) -> String {
        match self {
            Desk::Own => String::new(),
            Desk::Staff(customer) => format!("{}-", safe_name(customer)),
        }
    }
}

/// A part of a file name from an id: letters, digits, `-` and `_`, at most 40.
pub(super) fn safe_name(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect()
}

/// Makes `response` a file to save as `name`, of `content_type`.
pub(super) fn as_download(response: &mut Response, content_type: &'static str, name: &str) {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&attachment(name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
}

/// `Content-Disposition` for a download, with the name both plain and per RFC 6266 / 5987.
fn attachment(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 5987 allows a few more characters unencoded; encoding them too is as valid.
    format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{}",
        encoded(name)
    )
}

/// The documents' ids, for an audit line.
pub(super) fn ids(rows: &[DocumentRow]) -> String {
    rows.iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attachment_header_names_the_file_plainly_and_in_utf8() {
        assert_eq!(
            attachment("invoices-2026.zip"),
            "attachment; filename=\"invoices-2026.zip\"; filename*=UTF-8''invoices-2026.zip"
        );
        assert_eq!(
            attachment("Rechnungen März.zip"),
            "attachment; filename=\"Rechnungen_M_rz.zip\"; \
             filename*=UTF-8''Rechnungen%20M%C3%A4rz.zip"
        );
    }
}
