//! What everything Folio hands out in bulk shares: the header that makes it a download, and
//! the one audit line per export.

use axum::http::{header, HeaderValue};
use axum::response::Response;

use super::files::Who;
use crate::base::server::audit::AuditEvent;
use crate::base::server::principal::Scope;
use crate::base::server::state::AppState;
use crate::documents::model::DocumentRow;

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
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// The documents' ids, for an audit line.
pub(super) fn ids(rows: &[DocumentRow]) -> String {
    rows.iter()
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes the one audit event of an export; a failure is logged, never shown.
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
