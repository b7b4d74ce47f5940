//! Where Leptos' "already been disposed" panics come from, and what Folio does about them.
//!
//! A render that is dropped midway (the browser went away, a client gave up) never cleans up:
//! its resources and effects stay alive, each with a task waiting for something that will
//! not come, and such a task that wakes later touches values of a render that is gone. Folio
//! runs every request to its end instead (`finish_what_was_started` in the router), so its
//! renders are torn down as usual. What Leptos may still do on its own is counted apart from
//! Folio's panics, on `/metrics` and in the log (`telemetry::install_panic_hook`).
//!
//! The panic hook and its counters are the process's: these tests count on running alone,
//! as `make test` runs every test (one at a time).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use folio::base::server::telemetry::{install_panic_hook, PANICS};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::common::*;

const CLARA: &str = "clara.jensen@example.org";
const DANA: &str = "dana.fischer@example.com";

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Sixteen page views at once, the customers' and pages in turn; a view `given_up` is
/// dropped after a few milliseconds, mid-render. Returns how many were given up, and checks
/// that every other one was answered whole.
async fn round(app: &TestApp, cookies: &[String], round: u64, give_up: bool) -> usize {
    let views: Vec<_> = (0..16u64)
        .map(|i| {
            let router = app.router.clone();
            let cookie = cookies[i as usize % cookies.len()].clone();
            let path = ["/documents", "/", "/invoices", "/documents?type=invoice"][i as usize % 4];
            let cut = Duration::from_millis(5 + (round * 7 + i * 13) % 40);
            tokio::spawn(async move {
                let request = Request::get(path)
                    .header("cookie", cookie)
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::empty())
                    .unwrap();
                let view = async move {
                    let response = router.oneshot(request).await.unwrap();
                    let status = response.status();
                    let body = response.into_body().collect().await.unwrap().to_bytes();
                    assert_eq!(status, StatusCode::OK, "{path}");
                    assert!(
                        body.windows(7).any(|w| w == b"</html>"),
                        "{path} answered whole"
                    );
                };
                if give_up {
                    tokio::time::timeout(cut, view).await.is_err()
                } else {
                    view.await;
                    false
                }
            })
        })
        .collect();
    let mut given_up = 0;
    for view in views {
        given_up += usize::from(view.await.expect("the view ran"));
    }
    given_up
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renders_given_up_midway_leave_no_task_behind_and_no_panic() {
    install_panic_hook();
    let other_before = PANICS.other.load(Ordering::Relaxed);
    // Every view renders (no kept pages) from answers fetched anew each second.
    let app = TestApp::new(&[
        ("FLEXPORTAL_CACHE_TTL_SECS", "1"),
        ("FOLIO_PAGE_CACHE_MB", "0"),
    ])
    .await;
    let cookies = vec![
        signed_in(&app, CLARA).await.session.clone().unwrap(),
        signed_in(&app, DANA).await.session.clone().unwrap(),
    ];
    // Upstream answers take a while, so that views are given up while they wait.
    app.sim().faults.set_latency(Duration::from_millis(15));

    // Views seen through: the connections and tasks that stay (pools, the stand-in's).
    for n in 0..3 {
        tokio::time::sleep(Duration::from_millis(1050)).await;
        round(&app, &cookies, n, false).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = alive_tasks();

    let mut given_up = 0;
    for n in 0..12 {
        tokio::time::sleep(Duration::from_millis(1050)).await;
        given_up += round(&app, &cookies, n, true).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(given_up >= 20, "only {given_up} views were given up midway");
    // Measured without running requests to their end: 26 tasks left behind by 35 views given
    // up, and growing with every one; with it, none.
    let left = alive_tasks();
    assert!(
        left <= settled + 3,
        "{given_up} views given up left {} tasks behind ({settled} before, {left} after)",
        left.saturating_sub(settled)
    );
    assert_eq!(PANICS.other.load(Ordering::Relaxed), other_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_outlives_its_render_panics_in_leptos_and_is_counted_apart() {
    use leptos::prelude::*;
    install_panic_hook();
    let (disposed_before, other_before) = (
        PANICS.reactive_disposed.load(Ordering::Relaxed),
        PANICS.other.load(Ordering::Relaxed),
    );
    // Building the router starts Leptos' executor on this runtime, as in production.
    let _app = TestApp::new(&[]).await;
    // A render's reactive value, and a task of that render that is still running when the
    // render is torn down: once it reads the value, it panics.
    let render = Owner::new();
    let value = render.with(|| RwSignal::new(1));
    let (wake, woken) = tokio::sync::oneshot::channel::<()>();
    let (done, outcome) = tokio::sync::oneshot::channel::<i32>();
    render.with(|| {
        leptos::reactive::spawn(async move {
            let _ = woken.await;
            let _ = done.send(value.get());
        })
    });
    render.cleanup();
    drop(render);
    let _ = wake.send(());
    assert!(outcome.await.is_err(), "the late read panics");
    assert_eq!(
        PANICS.reactive_disposed.load(Ordering::Relaxed),
        disposed_before + 1
    );
    assert_eq!(
        PANICS.other.load(Ordering::Relaxed),
        other_before,
        "not counted as Folio's own"
    );

    // Any other panic counts as Folio's.
    let _ = tokio::spawn(async { panic!("a bug") }).await;
    assert_eq!(PANICS.other.load(Ordering::Relaxed), other_before + 1);
}
