//! Folio's benchmark: prints figures, never fails on speed. Every figure stands beside a
//! baseline taken in the same run, since the machines are noisy.
//!
//! `cargo run --release --features ssr --example bench [rounds]`
//!
//! - sign-in request time for a known and an unknown address (median of many);
//! - the cost of a session lookup per request, SQLite and PostgreSQL;
//! - the extra cost of a portal-link session, whose link is re-read on every request;
//! - server-side render throughput of `/documents` (business customer, warm cache) as a ratio
//!   to axum serving the same bytes from memory;
//! - upstream calls per page view, cold and warm.
//!
//! It drives Folio in-process with the router-level tests' harness.

#[path = "../tests/it/common.rs"]
mod common;

use std::time::Instant;

use axum::{body::Body, http::Request, routing::get, Router};
use common::{signed_in, PgDatabase, TestApp};

/// Quiet logs and limits high enough for hundreds of sign-ins from one address.
const BENCH_VARS: [(&str, &str); 3] = [
    ("FOLIO_SIGNIN_LIMIT_PER_EMAIL", "1000"),
    ("FOLIO_SIGNIN_LIMIT_PER_IP", "100000"),
    ("FOLIO_LOG", "error"),
];

async fn app(database_url: Option<&str>) -> TestApp {
    let mut vars = BENCH_VARS.to_vec();
    if let Some(url) = database_url {
        vars.push(("DATABASE_URL", url));
    }
    TestApp::new(&vars).await
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    println!("Folio benchmark, {rounds} rounds per figure, in-process (no sockets between client and Folio)");
    println!();
    sign_in_times(rounds).await;
    session_cost(rounds, "SQLite", None).await;
    match PgDatabase::try_create().await {
        Some(db) => {
            session_cost(rounds, "PostgreSQL", Some(&db.url())).await;
            db.drop_it().await;
        }
        None => println!("(PostgreSQL at 127.0.0.1:5432 is not reachable: session cost skipped)"),
    }
    link_session_cost(rounds).await;
    documents_throughput(rounds).await;
}

/// Microseconds `f` takes.
async fn micros<F: std::future::Future>(f: F) -> f64 {
    let start = Instant::now();
    f.await;
    start.elapsed().as_secs_f64() * 1e6
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn p99(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[((xs.len() - 1) as f64 * 0.99) as usize]
}

const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

async fn sign_in_times(rounds: usize) {
    let app = app(None).await;
    let known = "email=ben.okafor%40example.com";
    // Warm the upstream cache for the known address, as in steady use.
    app.post_form("/login", known, &[SAME_ORIGIN]).await;
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    for i in 0..rounds {
        known_times.push(micros(app.post_form("/login", known, &[SAME_ORIGIN])).await);
        let unknown = format!("email=nobody{i}%40example.com");
        unknown_times.push(micros(app.post_form("/login", &unknown, &[SAME_ORIGIN])).await);
    }
    println!("## Sign-in request (POST /login), answer time");
    println!("| address | median | p99 |");
    println!("|---|---|---|");
    println!(
        "| known customer | {:.0} µs | {:.0} µs |",
        median(known_times.clone()),
        p99(known_times.clone())
    );
    println!(
        "| unknown address | {:.0} µs | {:.0} µs |",
        median(unknown_times.clone()),
        p99(unknown_times.clone())
    );
    println!(
        "ratio known/unknown (medians): {:.3}",
        median(known_times) / median(unknown_times)
    );
    println!();
}

async fn session_cost(rounds: usize, name: &str, database_url: Option<&str>) {
    let app = app(database_url).await;
    let browser = signed_in(&app, "ben.okafor@example.com").await;
    let cookie = browser.session.clone().expect("a session");
    let signed_in = [("cookie", cookie.as_str())];
    // The same small page, anonymous and signed in: the difference is the session lookup.
    let page = "/login/verify";
    for _ in 0..50 {
        app.get(page, &[]).await;
        app.get(page, &signed_in).await;
    }
    let mut without = Vec::new();
    let mut with = Vec::new();
    for _ in 0..rounds {
        without.push(micros(app.get(page, &[])).await);
        with.push(micros(app.get(page, &signed_in)).await);
    }
    let (a, b) = (median(without), median(with));
    println!("## Session lookup per request, {name}");
    println!("| request | median |");
    println!("|---|---|");
    println!("| page without a session (baseline) | {a:.0} µs |");
    println!("| same page with a signed-in session | {b:.0} µs |");
    println!(
        "session lookup: {:+.0} µs per request ({:.2}× the baseline)",
        b - a,
        b / a
    );
    println!();
}

/// A link session costs one more read per request than a customer session: its link is
/// checked each time, so that revoking it takes effect at once.
async fn link_session_cost(rounds: usize) {
    use folio::base::server::tokens::{random_token, token_hash};
    use folio::links::server::store::PortalLink;
    let app = app(None).await;
    let now = app.state.clock.now();
    let token = random_token(32);
    let link = PortalLink {
        id: "bench-link".into(),
        customer_id: "cust_0002".into(),
        customer_name: "Ben Okafor".into(),
        order_id: None,
        doc_types: None,
        label: "Bench".into(),
        recipient: None,
        locale: "en".into(),
        created_by: "alex.morgan@example.net".into(),
        created_by_name: "Alex Morgan".into(),
        created_at: now,
        expires_at: now + 86_400,
        max_opens: None,
        opens: 0,
        last_opened_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    app.state
        .store
        .link_insert(&link, &token_hash(&token))
        .await
        .expect("the link is stored");
    let opened = app
        .post_form(&format!("/s/{token}"), "", &[SAME_ORIGIN])
        .await;
    let link_cookie = opened.cookie("folio_session").expect("a link session");
    let customer_cookie = signed_in(&app, "ben.okafor@example.com")
        .await
        .session
        .expect("a customer session");
    let page = "/login/verify";
    let customer = [("cookie", customer_cookie.as_str())];
    let linked = [("cookie", link_cookie.as_str())];
    for _ in 0..50 {
        app.get(page, &customer).await;
        app.get(page, &linked).await;
    }
    let mut customer_times = Vec::new();
    let mut link_times = Vec::new();
    for _ in 0..rounds {
        customer_times.push(micros(app.get(page, &customer)).await);
        link_times.push(micros(app.get(page, &linked)).await);
    }
    let (a, b) = (median(customer_times), median(link_times));
    println!("## Link session check per request, SQLite");
    println!("| request | median |");
    println!("|---|---|");
    println!("| page in a customer session (baseline) | {a:.0} µs |");
    println!("| same page in a portal-link session | {b:.0} µs |");
    println!(
        "link check: {:+.0} µs per request ({:.2}× the baseline)",
        b - a,
        b / a
    );
    println!();
}

/// Upstream calls, counted at the stand-in, that one view of `path` makes on a fresh app.
async fn cold_calls(path: &str) -> u64 {
    let app = app(None).await;
    let browser = signed_in(&app, "dana.fischer@example.com").await;
    let cookie = browser.session.clone().expect("a session");
    app.sim().counters.reset();
    app.get(path, &[("cookie", cookie.as_str())]).await;
    app.sim().counters.total()
}

async fn documents_throughput(rounds: usize) {
    let cold_calls_documents = cold_calls("/documents").await;
    let cold_calls_overview = cold_calls("/").await;

    let app = app(None).await;
    let browser = signed_in(&app, "dana.fischer@example.com").await;
    let cookie = browser.session.clone().expect("a session");
    let signed_in = [("cookie", cookie.as_str())];
    let first = app.get("/documents", &signed_in).await;
    assert_eq!(first.status, 200);
    app.sim().counters.reset();
    app.get("/documents", &signed_in).await;
    let warm_calls = app.sim().counters.total();

    // The ceiling: axum handing out the same bytes from memory.
    let body = first.body;
    let ceiling: Router = Router::new().route(
        "/documents",
        get({
            let body = body.clone();
            move || {
                let body = body.clone();
                async move { ([("content-type", "text/html; charset=utf-8")], body) }
            }
        }),
    );

    let folio = || async {
        let start = Instant::now();
        for _ in 0..rounds {
            assert_eq!(app.get("/documents", &signed_in).await.status, 200);
        }
        rounds as f64 / start.elapsed().as_secs_f64()
    };
    let static_bytes = || async {
        let start = Instant::now();
        for _ in 0..rounds {
            let request = Request::get("/documents").body(Body::empty()).unwrap();
            assert_eq!(common::send(ceiling.clone(), request).await.status, 200);
        }
        rounds as f64 / start.elapsed().as_secs_f64()
    };
    // Interleaved, so that a noisy moment hurts both sides alike.
    let (f1, c1) = (folio().await, static_bytes().await);
    let (f2, c2) = (folio().await, static_bytes().await);
    let (f, c) = ((f1 + f2) / 2.0, (c1 + c2) / 2.0);

    println!("## /documents for the business customer (836 documents, page 1 of 34), warm cache");
    println!("| server | pages/s (one client, sequential) |");
    println!("|---|---|");
    println!(
        "| static HTML of the same {} bytes from axum (ceiling) | {c:.0} |",
        body.len()
    );
    println!("| Folio, server-side render | {f:.0} |");
    println!(
        "Folio renders at {:.1} % of the static ceiling",
        100.0 * f / c
    );
    println!();
    println!("## Upstream calls per page view (counted at the stand-in)");
    println!("| view | calls |");
    println!("|---|---|");
    println!("| /documents, cold (business customer: 44 orders) | {cold_calls_documents} |");
    println!("| / (overview), cold | {cold_calls_overview} |");
    println!("| /documents, warm | {warm_calls} |");
}
