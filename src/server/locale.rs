//! `POST /locale`: the language switch for browsers without JavaScript.

use std::str::FromStr;

use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use serde::Deserialize;

use leptos_i18n::Locale as _;

use crate::i18n::Locale;
use crate::server::state::AppState;

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

#[cfg(test)]
mod tests {
    use super::local_path_or_root;

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
}
