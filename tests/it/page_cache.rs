//! Kept pages (`base::server::page_cache`): served again only to the session they were rendered
//! for, each with a fresh nonce, and only while the upstream answers they were made from are
//! the newest under their keys.

use std::time::Duration;

use axum::http::{header, StatusCode};

use crate::common::{signed_in, Answer, TestApp};

const BEN: &str = "ben.okafor@example.com"; // one order
const CLARA: &str = "clara.jensen@example.org"; // several orders

fn nonce(answer: &Answer) -> String {
    let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let rest = csp.split("'nonce-").nth(1).expect("a page nonce");
    rest.split('\'').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_kept_page_goes_back_only_to_the_session_it_was_made_for() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let mut clara = signed_in(&app, CLARA).await;

    let ben_first = ben.get("/documents?type=invoice").await;
    let clara_first = clara.get("/documents?type=invoice").await;
    let ben_again = ben.get("/documents?type=invoice").await;
    let clara_again = clara.get("/documents?type=invoice").await;
    let stats = app.state.pages.stats();
    assert_eq!((stats.misses, stats.hits), (2, 2), "{stats:?}");

    for answer in [&ben_first, &clara_first, &ben_again, &clara_again] {
        assert_eq!(answer.status, StatusCode::OK);
    }
    assert_eq!(ben_again.without_nonce(), ben_first.without_nonce());
    assert_eq!(clara_again.without_nonce(), clara_first.without_nonce());
    assert_ne!(ben_first.without_nonce(), clara_first.without_nonce());
    assert!(ben_again.text().contains("ord_10001"));
    assert!(!clara_again.text().contains("ord_10001"));

    // Another query, another page.
    ben.get("/documents?type=contract").await;
    // The same customer in another browser gets a render of its own.
    let mut ben_elsewhere = signed_in(&app, BEN).await;
    let elsewhere = ben_elsewhere.get("/documents?type=invoice").await;
    assert_eq!(elsewhere.without_nonce(), ben_first.without_nonce());
    assert_eq!(app.state.pages.stats().misses, 4);

    // Signed out, the session's kept pages are never served again, even to its old cookie.
    let old_cookie = ben.session.clone().unwrap();
    ben.post("/logout", "").await;
    let replay = app
        .get("/documents?type=invoice", &[("cookie", &old_cookie)])
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(!replay.text().contains("ord_10001"));
    assert_eq!(app.state.pages.stats().hits, 2);
}

#[tokio::test]
async fn each_copy_of_a_kept_page_has_a_fresh_nonce() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let first = ben.get("/").await;
    let again = ben.get("/").await;
    assert_eq!(app.state.pages.stats().hits, 1);
    let (old, new) = (nonce(&first), nonce(&again));
    assert_ne!(old, new);
    assert!(again.body.contains(&format!("nonce=\"{new}\"")));
    assert!(!again.body.contains(&old));
    assert_eq!(again.without_nonce(), first.without_nonce());
    // The rest of the headers are the render's.
    for name in [header::CONTENT_TYPE, header::CACHE_CONTROL] {
        assert_eq!(first.headers.get(&name), again.headers.get(&name), "{name}");
    }
}

/// Waits until the stand-in has answered more than `calls` requests.
async fn until_called(app: &TestApp, calls: u64) {
    for _ in 0..100 {
        if app.sim().counters.total() > calls {
            // And a moment for the answers to be kept.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no refresh reached FlexPortal");
}

#[tokio::test]
async fn a_kept_page_lasts_while_its_answers_are_the_newest() {
    let app = TestApp::new(&[("FLEXPORTAL_CACHE_TTL_SECS", "1")]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let first = clara.get("/documents").await;
    clara.get("/documents").await;
    assert_eq!(app.state.pages.stats().hits, 1);

    // Past the answers' freshness the page is made again (it would now say how old its data
    // is), from the kept answers at once, and their refresh runs behind it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let calls = app.sim().counters.total();
    let old = clara.get("/documents").await;
    assert_eq!(old.status, StatusCode::OK);
    assert_eq!(app.state.pages.stats().misses, 2, "rendered again");
    until_called(&app, calls).await;
    // The refreshes replace the answers: the page is made anew from the new ones, and then
    // kept again while they are the newest.
    let hits = app.state.pages.stats().hits;
    let mut fresh = clara.get("/documents").await;
    for _ in 0..50 {
        if app.state.pages.stats().hits > hits && !fresh.text().contains("Shown as of") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        fresh = clara.get("/documents").await;
    }
    assert!(app.state.pages.stats().hits > hits, "kept again");
    assert!(app.state.pages.stats().misses >= 3);
    assert_eq!(fresh.without_nonce(), first.without_nonce());

    // When the refresh fails, the page says so, from then on.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.sim().faults.fail_next_with_500(1000);
    let mut stale = clara.get("/documents").await;
    for _ in 0..50 {
        if stale.text().contains("may be out of date") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stale = clara.get("/documents").await;
    }
    assert_eq!(stale.status, StatusCode::OK);
    assert!(stale.text().contains("may be out of date"));
    assert_ne!(stale.without_nonce(), first.without_nonce());
}

#[tokio::test]
async fn pages_are_not_kept_when_the_cache_is_off() {
    let app = TestApp::new(&[("FOLIO_PAGE_CACHE_MB", "0")]).await;
    let mut ben = signed_in(&app, BEN).await;
    ben.get("/documents").await;
    let again = ben.get("/documents").await;
    assert_eq!(again.status, StatusCode::OK);
    let stats = app.state.pages.stats();
    assert_eq!((stats.misses, stats.hits, stats.pages), (2, 0, 0));
}
