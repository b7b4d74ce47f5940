//! Every data page answers under concurrent load, on one multi-threaded runtime as in
//! production. A page whose server rendering can stall (a lost wake-up in a `<Suspense>`) shows
//! up here as a request that never completes; each is given ten seconds, far beyond its
//! milliseconds, so this checks completion, not speed.
//!
//! It is a test binary of its own: the other tests each run their own runtime, side by side in
//! one process, which is not how Folio runs.
#![cfg(feature = "ssr")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::{signed_in, TestApp};

/// Requests per page, and how many are in flight at once.
const REQUESTS: usize = 300;
const IN_FLIGHT: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_data_page_answers_under_concurrent_load() {
    let app = TestApp::new(&[("FOLIO_SIGNIN_LIMIT_PER_EMAIL", "50")]).await;
    let cookie = signed_in(&app, "clara.jensen@example.org")
        .await
        .session
        .expect("a session");
    let token = "A".repeat(43);
    let pages = [
        "/".to_owned(),
        "/documents".to_owned(),
        "/documents?type=invoice&year=2025".to_owned(),
        "/invoices".to_owned(),
        "/orders/ord_10002".to_owned(),
        "/access".to_owned(),
        format!("/s/{token}"),
        "/s/short".to_owned(),
    ];
    let router = app.router.clone();
    let cookie = Arc::new(cookie);
    for page in pages {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tasks = Vec::new();
        for _ in 0..REQUESTS {
            let permit = semaphore.clone().acquire_owned().await.unwrap();
            let (router, cookie, page) = (router.clone(), cookie.clone(), page.clone());
            tasks.push(tokio::spawn(async move {
                let request = Request::get(&page)
                    .header("cookie", cookie.as_str())
                    .body(Body::empty())
                    .unwrap();
                let answer =
                    tokio::time::timeout(Duration::from_secs(10), common::send(router, request))
                        .await;
                drop(permit);
                answer.map(|a| a.status)
            }));
        }
        let mut stalled = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(status) => assert!(status.as_u16() < 500, "{page}: {status}"),
                Err(_) => stalled += 1,
            }
        }
        assert_eq!(
            stalled, 0,
            "{page}: {stalled} of {REQUESTS} responses never completed"
        );
    }
}
