//! Every data page answers under concurrent load, on one multi-threaded runtime as in
//! production. A page whose server rendering can stall (a lost wake-up in a `<Suspense>`) shows
//! up here as a request that never completes; each is given ten seconds, far beyond its
//! milliseconds, so this checks completion, not speed.
//!
//! It is a test binary of its own: the other tests each run their own runtime, side by side in
//! one process, which is not how Folio runs.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;

use crate::common::{signed_in, TestApp};

/// Requests per page, and how many are in flight at once.
const REQUESTS: usize = 300;
const IN_FLIGHT: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_data_page_answers_under_concurrent_load() {
    let app = TestApp::new(&[("FOLIO_SIGNIN_LIMIT_PER_EMAIL", "50")]).await;
    let customer = signed_in(&app, "clara.jensen@example.org")
        .await
        .session
        .expect("a session");
    let staff = staff_session(&app).await;
    let token = "A".repeat(43);
    let link = app
        .state
        .store
        .links(&Default::default(), 0, 1, 0)
        .await
        .expect("the register")
        .0
        .remove(0)
        .id;
    let pages = [
        (&customer, "/".to_owned()),
        (&customer, "/documents".to_owned()),
        (&customer, "/documents?type=invoice&year=2025".to_owned()),
        (&customer, "/invoices".to_owned()),
        (&customer, "/orders/ord_10002".to_owned()),
        (&customer, "/access".to_owned()),
        (&customer, format!("/s/{token}")),
        (&customer, "/s/short".to_owned()),
        (&staff, "/manage?q=cust_0003".to_owned()),
        (&staff, "/manage/customers/cust_0003".to_owned()),
        (&staff, "/manage/customers/cust_0003/share".to_owned()),
        (&staff, "/manage/links".to_owned()),
        (&staff, format!("/manage/links/{link}")),
        (&staff, "/manage/audit".to_owned()),
    ];
    for (cookie, page) in pages {
        let stalled = stalls(&app, cookie, &page).await;
        assert_eq!(
            stalled, 0,
            "{page}: {stalled} of {REQUESTS} responses never completed"
        );
    }
}

/// How many of [`REQUESTS`] views of `page`, [`IN_FLIGHT`] at a time, never complete.
async fn stalls(app: &TestApp, cookie: &str, page: &str) -> usize {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let cookie: Arc<str> = Arc::from(cookie);
    let mut tasks = Vec::new();
    for _ in 0..REQUESTS {
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let (router, cookie, page) = (app.router.clone(), cookie.clone(), page.to_owned());
        tasks.push(tokio::spawn(async move {
            let request = Request::get(&page)
                .header("cookie", &*cookie)
                .body(Body::empty())
                .unwrap();
            let answer = tokio::time::timeout(
                Duration::from_secs(10),
                crate::common::send(router, request),
            )
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
    stalled
}

/// The demo account manager's session, with one link created through the staff form.
async fn staff_session(app: &TestApp) -> String {
    use crate::common::{form_value, mails_to, wait_for_mail, Browser};
    let email = folio::base::server::upstream::DEMO_MANAGER_EMAIL;
    let mut browser = Browser::new(app);
    let before = mails_to(app, email).await;
    browser
        .post("/manage/login", &format!("email={}", form_value(email)))
        .await;
    let (_, code) = wait_for_mail(app, email, before).await;
    let answer = browser
        .post("/manage/login/code", &format!("code={code}"))
        .await;
    assert_eq!(answer.location(), "/manage");
    let answer = browser
        .post("/manage/customers/cust_0003/share", "scope=all")
        .await;
    assert!(answer.location().starts_with("/manage/links/"));
    browser.session.expect("a staff session")
}
