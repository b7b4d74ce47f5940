//! The answers Folio keeps in its database (`base::server::answer_store`): a restart or a
//! second instance starts warm, the budget and the sign-in limits hold for all instances, and
//! FlexPortal's webhooks mark answers for refresh, never more.

use std::time::Duration;

use axum::http::StatusCode;

use crate::common::*;

const CLARA: &str = "clara.jensen@example.org"; // several orders
const SECRET: &str = "webhook-secret-of-the-test-0123";

/// A scratch folder for a database that outlives one app.
fn scratch() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "folio-answers-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Waits until `done` holds, for at most two seconds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test]
async fn after_a_restart_a_known_customers_first_view_costs_no_call() {
    let dir = scratch();
    let db = format!("sqlite://{}/folio.db", dir.display());
    let vars = [("DATABASE_URL", db.as_str())];
    let first = TestApp::new(&vars).await;
    let mut clara = signed_in(&first, CLARA).await;
    let before = clara.get("/documents").await;
    assert_eq!(before.status, StatusCode::OK);
    let session = clara.session.clone();
    drop(clara);
    drop(first);

    // The same database, a new process's worth of memory (and a new stand-in, with the same
    // demo data): the session and the answers are both there.
    let second = TestApp::new(&vars).await;
    let mut clara = Browser::new(&second);
    clara.session = session;
    let after = clara.get("/documents").await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.without_nonce(), before.without_nonce());
    assert_eq!(second.sim().counters.total(), 0, "no upstream call");
    assert!(metric(&second, "folio_upstream_store_loads_total") > 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn two_instances_on_postgresql_share_answers_sessions_and_the_budget() {
    let Some(pg) = PgDatabase::try_create().await else {
        panic!("the PostgreSQL server on 127.0.0.1:5432 answers");
    };
    let url = pg.url();
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("FLEXPORTAL_RATE_LIMIT_PER_MIN", "12"),
    ];
    let a = TestApp::new(&vars).await;
    let b = TestApp::new(&vars).await;
    let mut on_a = signed_in(&a, CLARA).await;
    assert_eq!(on_a.get("/documents").await.status, StatusCode::OK);
    // The same session on the other instance: the answers fetched through a serve it.
    let mut on_b = Browser::new(&b);
    on_b.session = on_a.session.clone();
    let page = on_b.get("/documents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(b.sim().counters.total(), 0, "b asked FlexPortal nothing");

    // Sign-out on one is sign-out on both.
    on_a.post("/logout", "").await;
    assert_eq!(
        on_b.get("/documents").await.status,
        StatusCode::UNAUTHORIZED
    );

    // One budget for both: cold reads of many orders through both instances at once never
    // exceed it, whichever instance sends them.
    let calls = a.sim().counters.total() + b.sim().counters.total();
    let (ca, cb) = (
        a.state.upstream.client.clone(),
        b.state.upstream.client.clone(),
    );
    let mut tasks = Vec::new();
    for i in 0..30 {
        let client = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        tasks.push(tokio::spawn(async move {
            client.order(&format!("ord_{}", 10001 + i)).await.is_ok()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let sent = a.sim().counters.total() + b.sim().counters.total();
    println!("two instances: {calls} requests before the burst, {sent} after; budget 12");
    assert!(
        sent <= 12,
        "{sent} requests in one window, budget 12 ({calls} before)"
    );
    assert!(sent > calls, "the burst got some of the budget");
    drop((a, b));
    pg.drop_it().await;
}

async fn hook(app: &TestApp, path: &str, secret: Option<&str>, body: &str) -> Answer {
    let mut request = axum::http::Request::post(path).header("content-type", "application/json");
    if let Some(secret) = secret {
        request = request.header("x-folio-webhook-secret", secret);
    }
    app.send(
        request
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn webhooks_mark_answers_for_one_refresh_and_trust_nothing_else() {
    let app = TestApp::new(&[("FOLIO_WEBHOOK_SECRET", SECRET)]).await;
    let mut clara = signed_in(&app, CLARA).await;
    assert_eq!(clara.get("/documents").await.status, StatusCode::OK);
    let event = r#"{"event":"order.fulfilled","timestamp":"2026-12-01T10:00:00Z",
        "data":{"customerId":"cust_0003","orderId":"ord_10003"}}"#;

    // A wrong or missing secret: as if the endpoint did not exist.
    for secret in [None, Some("wrong"), Some("webhook-secret-of-the-test-0124")] {
        let answer = hook(&app, "/hooks/flexportal", secret, event).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{secret:?}");
    }
    let answer = hook(
        &app,
        "/hooks/flexportal/wrong-secret-wrong-secret-00",
        None,
        event,
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // A malformed body, with the right secret.
    for body in ["", "{", r#"{"data":{}}"#, "[1,2]"] {
        let answer = hook(&app, "/hooks/flexportal", Some(SECRET), body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
    }
    // Unknown events are accepted and change nothing.
    let calls = app.sim().counters.total();
    let unknown = r#"{"event":"asset.teleported","data":{"customerId":"cust_0003"}}"#;
    let answer = hook(&app, "/hooks/flexportal", Some(SECRET), unknown).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);

    // A flood of the same event, in the header and in the path, while FlexPortal is slow:
    // each marked answer has one refresh in flight, from the API.
    app.sim().faults.set_latency(Duration::from_millis(600));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let path = if i % 2 == 0 {
            "/hooks/flexportal".to_owned()
        } else {
            format!("/hooks/flexportal/{SECRET}")
        };
        let secret = (i % 2 == 0).then_some(SECRET);
        let app = &app;
        tasks.push(async move { hook(app, &path, secret, event).await });
    }
    for answer in futures::future::join_all(tasks).await {
        assert_eq!(answer.status, StatusCode::ACCEPTED);
    }
    let counters = app.sim().counters.clone();
    assert!(eventually(|| counters.total() >= calls + 3).await);
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The order's files, the customer and the customer's orders: one refresh each. (The
    // order on its own was never asked for, so there is nothing of it to refresh.)
    assert_eq!(counters.total(), calls + 3, "{:?}", counters.snapshot());
    app.sim().faults.set_latency(Duration::ZERO);

    // A customer the event names but Folio keeps nothing of costs nothing.
    let stranger = r#"{"event":"payment.succeeded","data":{"customerId":"cust_9999"}}"#;
    let answer = hook(&app, "/hooks/flexportal", Some(SECRET), stranger).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(counters.total(), calls + 3);
}

#[tokio::test]
async fn without_a_webhook_secret_there_is_no_webhook_endpoint() {
    let app = TestApp::new(&[]).await;
    let body = r#"{"event":"order.created","data":{"customerId":"cust_0003"}}"#;
    let answer = hook(&app, "/hooks/flexportal", Some(SECRET), body).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_first_page_after_the_sign_in_mail_is_warm() {
    let app = TestApp::new(&[]).await;
    let mut clara = signed_in(&app, CLARA).await;
    // The warm-up runs at the lowest priority once the mail is out.
    let counters = app.sim().counters.clone();
    let (mut last, mut quiet) = (u64::MAX, 0);
    for _ in 0..100 {
        let now = counters.total();
        quiet = if now == last { quiet + 1 } else { 0 };
        if quiet == 5 {
            break;
        }
        last = now;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metric(
            &app,
            "folio_upstream_granted_total{priority=\"background\"}"
        ) > 0
    );
    counters.reset();
    assert_eq!(clara.get("/documents").await.status, StatusCode::OK);
    assert_eq!(counters.total(), 0, "{:?}", counters.snapshot());

    // An address that is no customer's starts nothing but its lookup.
    let before = metric(
        &app,
        "folio_upstream_granted_total{priority=\"background\"}",
    );
    let answer = Browser::new(&app)
        .post("/login", "email=nobody%40example.com")
        .await;
    assert_eq!(answer.location(), "/login/check");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(counters.get("GET /v1/customers"), 1);
    assert_eq!(counters.total(), 1, "{:?}", counters.snapshot());
    assert_eq!(
        metric(
            &app,
            "folio_upstream_granted_total{priority=\"background\"}"
        ),
        before
    );
}

#[tokio::test]
async fn a_429_pauses_every_instance_and_sign_in_limits_hold_across_them() {
    let pg = PgDatabase::create().await;
    let url = pg.url();
    // No background work (warm-ups after the mails), which could meet the 429 first.
    let vars = [
        ("DATABASE_URL", url.as_str()),
        ("FOLIO_BUDGET_BACKGROUND_PERCENT", "0"),
    ];
    let a = TestApp::new(&vars).await;
    let b = TestApp::new(&vars).await;

    // Three sign-in mails per address per 15 minutes, whichever instance is asked.
    for (i, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let answer = Browser::new(app)
            .post("/login", &format!("email={}", form_value(CLARA)))
            .await;
        assert_eq!(answer.location(), "/login/check", "request {i}");
    }
    let mut mails = 0;
    for _ in 0..20 {
        mails = mails_to(&a, CLARA).await + mails_to(&b, CLARA).await;
        if mails >= 3 {
            break;
        }
    }
    // A moment more, for a fourth that should not come.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails_then = mails_to(&a, CLARA).await + mails_to(&b, CLARA).await;
    assert_eq!(
        (mails, mails_then),
        (3, 3),
        "the fourth request got no mail"
    );

    // FlexPortal says 429 to a, for 30 s: b sends nothing either.
    a.sim().faults.fail_next_with_429(1, 30);
    let limited = a.state.upstream.client.order("ord_10001").await;
    assert!(
        matches!(limited, Err(flexportal::Error::RateLimited { .. })),
        "{limited:?}"
    );
    let calls = b.sim().counters.total();
    let held = b.state.upstream.client.order("ord_10002").await;
    assert!(
        matches!(held, Err(flexportal::Error::BudgetExhausted { .. })),
        "{held:?}"
    );
    assert_eq!(b.sim().counters.total(), calls, "b held back too");
    drop((a, b));
    pg.drop_it().await;
}

#[test]
fn the_request_log_hides_a_webhook_secret_in_the_path() {
    use folio::base::server::telemetry::loggable_path;
    let path = format!("/hooks/flexportal/{SECRET}");
    assert_eq!(loggable_path(&path), "/hooks/flexportal/…");
    assert_eq!(loggable_path("/hooks/flexportal"), "/hooks/flexportal");
}

/// The store's own rules, on SQLite and on PostgreSQL: an older answer never replaces a newer
/// one, a mark made while an answer was in flight keeps it past its freshness, a grant never
/// exceeds the budget, and pruning keeps the store within its bytes.
#[tokio::test]
async fn the_store_keeps_the_newest_answer_the_mark_and_the_budget_on_both_engines() {
    use flexportal::{Allowance, AnswerStore, Priority, StoredAnswer};
    use folio::base::server::answer_store::SqlAnswers;
    use folio::base::server::store::Store;

    let dir = scratch();
    let pg = PgDatabase::create().await;
    for url in [format!("sqlite://{}/store.db", dir.display()), pg.url()] {
        let store = Store::connect(&url).await.unwrap();
        let allowance = Allowance {
            limit: 5,
            window: Duration::from_secs(60),
            shares: Default::default(),
        };
        let answers = SqlAnswers::new(store, allowance).await.unwrap();
        let answer = |fetched_ms: i64, version: i64| StoredAnswer {
            body: format!("[{version}]"),
            version,
            fetched_ms,
            fresh_until_ms: fetched_ms + 1_000,
            owner: Some("cust_1".into()),
            hint: None,
        };
        assert_eq!(
            answers.save("k", &answer(100, 1)).await.unwrap(),
            Some(1_100)
        );
        assert_eq!(
            answers.save("k", &answer(50, 2)).await.unwrap(),
            None,
            "{url}"
        );
        assert_eq!(answers.load("k").await.unwrap().unwrap().version, 1);
        // Marked at 200; an answer asked for at 150 lands after the mark.
        assert_eq!(answers.expire(&["k".into()], 200).await.unwrap(), vec!["k"]);
        assert_eq!(answers.save("k", &answer(150, 3)).await.unwrap(), Some(200));
        assert_eq!(
            answers.save("k", &answer(300, 4)).await.unwrap(),
            Some(1_300)
        );
        assert!(answers
            .expire(&["nothing".into()], 400)
            .await
            .unwrap()
            .is_empty());

        // Five grants a window, whatever asks, however many at once.
        let now = flexportal::clock::now_ms();
        let grants =
            futures::future::join_all((0..20).map(|_| answers.grant(Priority::Reader, now))).await;
        let granted = grants.iter().filter(|g| matches!(g, Ok(None))).count();
        assert_eq!(granted, 5, "{url}: {grants:?}");

        // Pruning: the store's bytes fit the bound afterwards.
        for i in 0..50 {
            answers
                .save(&format!("p{i}"), &answer(1_000 + i, 10 + i))
                .await
                .unwrap();
        }
        let gone = answers
            .prune(Duration::from_secs(86_400 * 365 * 100), 100)
            .await
            .unwrap();
        assert!(gone >= 45, "{url}: {gone}");
    }
    pg.drop_it().await;
    let _ = std::fs::remove_dir_all(dir);
}
