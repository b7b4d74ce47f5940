//! Router-level tests: the whole HTTP stack, driven without opening a port.

use axum::http::{header, StatusCode};

use crate::common::TestApp;

async fn app() -> TestApp {
    TestApp::new(&[
        ("FOLIO_BRAND_NAME", "Acme Rentals"),
        ("FOLIO_BRAND_COLOR", "#aa3300"),
    ])
    .await
}

#[tokio::test]
async fn home_answers_200_with_the_shell_and_the_brand() {
    let answer = app().await.get("/", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.body.starts_with("<!DOCTYPE html>"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains(r#"<html lang="en""#));
    assert!(answer.body.contains("Acme Rentals"));
    assert!(answer.body.contains("--brand: #aa3300"));
    for label in ["Overview", "Documents", "Invoices", "Sign in"] {
        assert!(answer.body.contains(label), "missing nav entry {label}");
    }
    assert!(
        answer.body.contains("/pkg/folio"),
        "hydration scripts are linked"
    );
}

#[tokio::test]
async fn accept_language_chooses_german() {
    let answer = app()
        .await
        .get("/", &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.contains(r#"<html lang="de""#));
    assert!(answer.body.contains("Übersicht"));
    assert!(answer.body.contains("Ihre Dokumente an einem Ort"));
}

#[tokio::test]
async fn the_language_cookie_wins_over_accept_language() {
    let answer = app()
        .await
        .get(
            "/",
            &[("accept-language", "de"), ("cookie", "i18n_pref_locale=en")],
        )
        .await;
    assert!(answer.body.contains(r#"<html lang="en""#));
    assert!(answer.body.contains("Your documents in one place"));
}

#[tokio::test]
async fn unknown_paths_answer_404_with_the_not_found_page() {
    let answer = app().await.get("/no/such/page", &[]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("Page not found"));
    assert!(
        answer.body.contains("Acme Rentals"),
        "the 404 page keeps the shell"
    );
}

#[tokio::test]
async fn pages_for_signed_in_customers_answer_401_with_a_sign_in_prompt() {
    for path in ["/documents", "/orders", "/invoices"] {
        let answer = app().await.get(path, &[("accept-language", "de")]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(answer.body.contains("Bitte melden Sie sich an"), "{path}");
    }
}

#[tokio::test]
async fn pages_carry_the_security_headers_with_a_fresh_nonce() {
    let first = app().await.get("/", &[]).await;
    let csp = first.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("'wasm-unsafe-eval'"));
    assert!(!csp.contains("unsafe-inline"));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the CSP");
    assert!(nonce.len() >= 16);
    assert!(
        first.body.contains(&format!(r#"nonce="{nonce}""#)),
        "inline scripts carry the CSP's nonce"
    );
    assert_eq!(first.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(first.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(
        first.headers[header::REFERRER_POLICY],
        "strict-origin-when-cross-origin"
    );
    assert!(first.headers.get("x-request-id").is_some());
    assert!(first
        .headers
        .get(header::STRICT_TRANSPORT_SECURITY)
        .is_none());

    let second = app().await.get("/", &[]).await;
    assert_ne!(
        second.headers[header::CONTENT_SECURITY_POLICY],
        first.headers[header::CONTENT_SECURITY_POLICY],
        "every page gets its own nonce"
    );
}

#[tokio::test]
async fn non_page_responses_get_a_locked_down_csp_and_https_gets_hsts() {
    let app = TestApp::new(&[("FOLIO_PUBLIC_URL", "https://docs.example.com")]).await;
    let answer = app.get("/healthz", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "ok");
    let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'none'"));
    assert!(answer
        .headers
        .get(header::STRICT_TRANSPORT_SECURITY)
        .is_some());
}

#[tokio::test]
async fn pages_are_compressed_when_the_browser_accepts_it() {
    let answer = app().await.get("/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(answer.headers[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test]
async fn the_language_form_sets_the_cookie_and_goes_back() {
    let answer = app()
        .await
        .post_form(
            "/locale",
            "lang=de&next=%2Fdocuments%3Ftype%3Dinvoice",
            &[("origin", "http://127.0.0.1:3000")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/documents?type=invoice");
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("i18n_pref_locale=de;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"));
}

#[tokio::test]
async fn the_language_form_never_redirects_off_site() {
    let answer = app()
        .await
        .post_form("/locale", "lang=en&next=%2F%2Fevil.example", &[])
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers[header::LOCATION], "/");
}

#[tokio::test]
async fn the_language_form_refuses_unknown_languages() {
    let answer = app()
        .await
        .post_form("/locale", "lang=xx&next=%2F", &[])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    for headers in [
        &[("origin", "https://evil.example")][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ][..],
    ] {
        let answer = app()
            .await
            .post_form("/locale", "lang=de&next=%2F", headers)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
}

#[test]
fn a_bad_environment_variable_stops_start_up_naming_it() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .env("FOLIO_ADDR", "not-an-address")
        .output()
        .expect("the folio binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    assert!(stderr.contains("FOLIO_ADDR"), "{stderr}");
}

#[tokio::test]
async fn demo_mode_runs_the_stand_in_and_reports_it_ready() {
    let answer = app().await.get("/readyz", &[]).await;
    assert!(
        answer.body.contains(r#""name":"upstream","ok":true"#),
        "{}",
        answer.body
    );

    let answer = app().await.get("/", &[]).await;
    assert!(answer.body.contains("Demo mode"), "the demo banner shows");
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = TestApp::new(&[("FOLIO_METRICS_TOKEN", "a-token-of-the-operator")]).await;
    let answer = app
        .get(
            "/metrics",
            &[("authorization", "Bearer a-token-of-the-operator")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer
        .body
        .contains("# TYPE folio_upstream_requests_total counter"));
    assert!(answer.body.contains("folio_upstream_cache_hits_total 0"));
}

#[tokio::test]
async fn in_order_pages_carry_the_nonce_too() {
    let answer = app().await.get("/login", &[]).await;
    let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the CSP");
    assert!(
        answer.body.contains(&format!(r#"nonce="{nonce}""#)),
        "inline scripts carry the CSP's nonce: {}",
        &answer.body[..1500.min(answer.body.len())]
    );
}
