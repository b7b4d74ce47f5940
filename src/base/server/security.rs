//! Security headers and the same-origin rule for state-changing requests.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::server::config::Config;

/// The headers every response carries, prepared once at start-up.
#[derive(Clone, Debug)]
pub struct SecurityPolicy {
    /// The portal's origin, as browsers send it in `Origin`.
    origin: String,
    /// CSP for responses that are not pages (pages get one with a fresh nonce).
    default_csp: HeaderValue,
    hsts: Option<HeaderValue>,
}

impl SecurityPolicy {
    pub fn new(config: &Config) -> Arc<Self> {
        Arc::new(Self {
            origin: config.public_url.origin.clone(),
            default_csp: HeaderValue::from_static(
                "default-src 'none'; img-src 'self'; style-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            ),
            hsts: config
                .public_url
                .https
                .then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains")),
        })
    }
}

/// The Content-Security-Policy of a rendered page: scripts only from this site or carrying the
/// page's nonce (Leptos puts it on its inline hydration scripts), WebAssembly allowed, nothing
/// may frame the page.
pub fn page_csp(nonce: &str, logo_origin: Option<&str>) -> String {
    let img = match logo_origin {
        Some(origin) => format!("'self' data: {origin}"),
        None => "'self' data:".to_owned(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src {img}; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's CSP from the nonce Leptos generated for this render. Called from the shell.
pub fn apply_page_csp() {
    use leptos::prelude::use_context;

    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let logo_origin = use_context::<crate::base::server::state::AppState>()
        .and_then(|state| state.config.brand.logo.clone())
        .and_then(|logo| https_origin(&logo));
    if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce, logo_origin.as_deref())) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

fn https_origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("https://{host}"))
}

/// Adds the security headers to every response. A handler that set its own CSP or referrer
/// policy (pages, token pages) keeps it.
pub async fn security_headers(
    State(policy): State<Arc<SecurityPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert_with(|| policy.default_csp.clone());
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if let Some(hsts) = &policy.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    response
}

/// The largest request body Folio reads: far more than any of its forms or server functions
/// send (a long selection of file ids included).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Refuses a request body over [`MAX_BODY_BYTES`] before anything acts on it, with a page
/// that says what happened, in the asker's language. A declared length over the limit is
/// refused unread; a body of undeclared length is read up to the limit first.
async fn within_body_limit(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let locale = |headers: &HeaderMap| crate::base::server::locale::request_locale(headers);
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => too_large(locale(request.headers())),
        // Within the limit: the server cuts off a body longer than it declared.
        Some(_) => next.run(request).await,
        None => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(bytes) => {
                    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                        .await
                }
                Err(_) => too_large(locale(&parts.headers)),
            }
        }
    }
}

fn too_large(locale: crate::i18n::Locale) -> Response {
    use leptos_i18n::td_string;
    let text =
        td_string!(locale, too_large_text).replace("%kb%", &(MAX_BODY_BYTES / 1024).to_string());
    crate::base::server::answers::plain_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        locale,
        td_string!(locale, too_large_title),
        &text,
        ("/", td_string!(locale, too_large_home)),
    )
}

/// Admits state-changing requests (anything but GET, HEAD and OPTIONS) only from the portal's
/// own pages, and with a body within [`MAX_BODY_BYTES`]. Browsers label every request with
/// `Sec-Fetch-Site` or `Origin`; a request with neither did not come from a browser page and
/// cannot carry a victim's cookies by accident. Reads pass straight through.
pub async fn same_origin_only(
    State(policy): State<Arc<SecurityPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe_method(request.method()) {
        next.run(request).await
    } else if is_same_origin(request.headers(), &policy.origin) {
        within_body_limit(request, next).await
    } else {
        tracing::warn!(
            method = %request.method(),
            path = %super::telemetry::loggable_path(request.uri().path()),
            "cross-origin request refused"
        );
        (StatusCode::FORBIDDEN, "cross-origin request refused").into_response()
    }
}

fn is_safe_method(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none` is a navigation the user started (typed address, bookmark).
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN) {
        Some(value) => value.as_bytes().eq_ignore_ascii_case(origin.as_bytes()),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_rules() {
        let o = "http://127.0.0.1:3000";
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            o
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            o
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            o
        ));
        assert!(is_same_origin(
            &headers(&[("origin", "http://127.0.0.1:3000")]),
            o
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            o
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), o));
        assert!(is_same_origin(&headers(&[]), o));
    }

    #[test]
    fn page_csp_carries_the_nonce_and_forbids_framing() {
        let csp = page_csp("abc123", Some("https://cdn.example"));
        assert!(csp.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("img-src 'self' data: https://cdn.example"));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn logo_origins() {
        assert_eq!(
            https_origin("https://cdn.example/logo.svg").as_deref(),
            Some("https://cdn.example")
        );
        assert_eq!(https_origin("/logo.svg"), None);
    }
}
