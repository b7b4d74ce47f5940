//! `POST /locale`: the language switch for browsers without JavaScript.

use std::str::FromStr;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use leptos_i18n::Locale as _;
use serde::Deserialize;

use crate::base::server::state::AppState;
use crate::i18n::Locale;

/// The cookie the i18n context reads on the server and writes in the browser.
pub const LOCALE_COOKIE: &str = "i18n_pref_locale";

#[derive(Deserialize)]
pub struct LocaleForm {
    lang: String,
    #[serde(default)]
    next: String,
}

pub async fn set_locale(State(state): State<AppState>, Form(form): Form<LocaleForm>) -> Response {
    let Ok(locale) = Locale::from_str(&form.lang) else {
        return (StatusCode::BAD_REQUEST, "unknown language").into_response();
    };
    let secure = if state.config.public_url.https {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        locale.as_str()
    );
    let mut response = Redirect::to(local_path_or_root(&form.next)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Only a path on this site may be a redirect target; anything else (`//evil.example`,
/// `https://…`, `/\evil`) sends the browser to the overview.
pub fn local_path_or_root(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local {
        next
    } else {
        "/"
    }
}

/// The language of the person asking: the language switch's cookie, else `Accept-Language`.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOCALE_COOKIE)
        .and_then(|(_, value)| Locale::from_str(value).ok());
    if let Some(locale) = from_cookie {
        return locale;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for language in accepted.split(',') {
        let tag = language
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        if let Ok(locale) = Locale::from_str(primary) {
            return locale;
        }
    }
    Locale::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path_or_root("/documents?type=invoice"),
            "/documents?type=invoice"
        );
        for bad in [
            "",
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/a\nb",
            "documents",
        ] {
            assert_eq!(local_path_or_root(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn locale_from_cookie_then_accept_language() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-AT,de;q=0.9"),
        );
        assert_eq!(request_locale(&headers), Locale::de);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; i18n_pref_locale=en"),
        );
        assert_eq!(request_locale(&headers), Locale::en);
    }
}
