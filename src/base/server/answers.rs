//! Plain answers that several routes give: not found, busy, a page without the app (for when
//! the app cannot run: a body too large, the database away), and the logging of an internal
//! error.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::i18n::Locale;

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

/// FlexPortal cannot answer now: a 503 that asks to try again in a minute.
pub fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "30")],
        "The document service is busy or unreachable right now. Please try again in a minute.",
    )
        .into_response()
}

pub fn internal(e: sqlx::Error, what: &str) -> crate::base::error::AppError {
    tracing::error!(error = %e, "{what}");
    crate::base::error::AppError::Internal {
        request_id: String::new(),
    }
}

/// A page of its own, outside the app: a title, a text and one link, in `locale`. The texts
/// come from the translations, never from the request.
pub fn plain_page(
    status: StatusCode,
    locale: Locale,
    title: &str,
    text: &str,
    link: (&str, &str),
) -> Response {
    plain_page_with(status, locale, title, text, "", link)
}

/// A [`plain_page`] with `html` (a form, say) between the text and the link. The caller makes
/// `html` safe: whatever it holds from the request must be escaped.
pub fn plain_page_with(
    status: StatusCode,
    locale: Locale,
    title: &str,
    text: &str,
    html: &str,
    (href, link): (&str, &str),
) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p>{html}\
         <p><a href=\"{href}\">{link}</a></p></main></body></html>",
        lang = leptos_i18n::Locale::as_str(locale),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The database cannot be reached: a clear 503 page that asks to try again, which works as
/// soon as the database is back (the pool reconnects by itself).
pub fn database_down(locale: Locale) -> Response {
    use leptos_i18n::td_string;
    let mut response = plain_page(
        StatusCode::SERVICE_UNAVAILABLE,
        locale,
        td_string!(locale, db_down_title),
        td_string!(locale, db_down_text),
        // The same address again.
        ("", td_string!(locale, db_down_retry)),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
    response
}
