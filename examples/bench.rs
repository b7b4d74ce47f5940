//! Folio's benchmark: prints figures, never fails on speed. Every figure stands beside a
//! baseline taken in the same run, since the machines are noisy.
//!
//! `cargo run --release --features ssr --example bench`
//!
//! - sign-in request time for a known and an unknown address (median of many);
//! - the cost of a session lookup per request, SQLite and PostgreSQL;
//! - server-side render throughput of `/documents` (business customer, warm cache) as a ratio
//!   to axum serving the same bytes from memory;
//! - upstream calls per page view, cold and warm.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::{body::Body, http::Request, routing::get, Router};
use folio::server::{router, AppState, Config};
use http_body_util::BodyExt;
use tower::ServiceExt;

const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

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
    let pg = format!(
        "postgres://postgres@127.0.0.1:5432/folio_bench_{}",
        std::process::id()
    );
    if create_pg_database(&pg).await {
        session_cost(rounds, "PostgreSQL", Some(&pg)).await;
        drop_pg_database(&pg).await;
    } else {
        println!("(PostgreSQL at 127.0.0.1:5432 is not reachable: session cost skipped)");
    }
    documents_throughput(rounds).await;
}

/// A Folio in demo mode on a scratch database, removed when dropped.
struct App {
    router: Router,
    state: AppState,
    dir: std::path::PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn app(vars: &[(&str, &str)]) -> App {
    let dir =
        std::env::temp_dir().join(format!("folio-bench-{}-{}", std::process::id(), rand_u32()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.entry("DATABASE_URL".into())
        .or_insert_with(|| format!("sqlite://{}/folio.db", dir.display()));
    map.insert("FOLIO_SIGNIN_LIMIT_PER_EMAIL".into(), "1000".into());
    map.insert("FOLIO_SIGNIN_LIMIT_PER_IP".into(), "100000".into());
    map.insert("FOLIO_LOG".into(), "error".into());
    let config = Config::from_lookup(|name| map.get(name).cloned()).expect("config");
    let state = AppState::new(config).await.expect("state");
    App {
        router: router(state.clone()),
        state,
        dir,
    }
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

async fn call(router: &Router, request: Request<Body>) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

fn post(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin");
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

fn get_req(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    r.body(Body::empty()).unwrap()
}

fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("folio_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn p99(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[((xs.len() - 1) as f64 * 0.99) as usize]
}

/// Signs in as `email` through the real flow; returns the session cookie.
async fn sign_in(app: &App, email: &str) -> String {
    let (_, headers, _) = call(
        &app.router,
        post(
            "/login",
            &format!("email={}", email.replace('@', "%40")),
            None,
        ),
    )
    .await;
    let cookie = session_cookie(&headers).expect("a session");
    let code = loop {
        let outbox = app.state.mailer.outbox().unwrap();
        if let Some(mail) = outbox.iter().find(|m| m.to == email) {
            break mail
                .text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .unwrap()
                .to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (_, headers, _) = call(
        &app.router,
        post("/login/code", &format!("code={code}"), Some(&cookie)),
    )
    .await;
    session_cookie(&headers).expect("a signed-in session")
}

async fn sign_in_times(rounds: usize) {
    let app = app(&[]).await;
    // Warm the upstream cache for the known address, as in steady use.
    call(
        &app.router,
        post("/login", "email=ben.okafor%40example.com", None),
    )
    .await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..rounds {
        let start = Instant::now();
        call(
            &app.router,
            post("/login", "email=ben.okafor%40example.com", None),
        )
        .await;
        known.push(start.elapsed().as_secs_f64() * 1e6);
        let start = Instant::now();
        call(
            &app.router,
            post("/login", &format!("email=nobody{i}%40example.com"), None),
        )
        .await;
        unknown.push(start.elapsed().as_secs_f64() * 1e6);
    }
    println!("## Sign-in request (POST /login), answer time");
    println!("| address | median | p99 |");
    println!("|---|---|---|");
    println!(
        "| known customer | {:.0} µs | {:.0} µs |",
        median(known.clone()),
        p99(known.clone())
    );
    println!(
        "| unknown address | {:.0} µs | {:.0} µs |",
        median(unknown.clone()),
        p99(unknown.clone())
    );
    println!(
        "ratio known/unknown (medians): {:.3}",
        median(known) / median(unknown)
    );
    println!();
}

async fn session_cost(rounds: usize, name: &str, url: Option<&str>) {
    let vars: Vec<(&str, &str)> = url.map(|u| vec![("DATABASE_URL", u)]).unwrap_or_default();
    let app = app(&vars).await;
    let cookie = sign_in(&app, "ben.okafor@example.com").await;
    // The same small page, anonymous and signed in: the difference is the session lookup.
    let page = "/login/verify";
    for _ in 0..50 {
        call(&app.router, get_req(page, None)).await;
        call(&app.router, get_req(page, Some(&cookie))).await;
    }
    let mut without = Vec::new();
    let mut with = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        call(&app.router, get_req(page, None)).await;
        without.push(start.elapsed().as_secs_f64() * 1e6);
        let start = Instant::now();
        call(&app.router, get_req(page, Some(&cookie))).await;
        with.push(start.elapsed().as_secs_f64() * 1e6);
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

async fn documents_throughput(rounds: usize) {
    let app = app(&[]).await;
    let counters = app
        .state
        .upstream
        .demo
        .as_ref()
        .unwrap()
        .sim
        .counters
        .clone();
    let cookie = sign_in(&app, "dana.fischer@example.com").await;

    counters.reset();
    let (status, _, body) = call(&app.router, get_req("/documents", Some(&cookie))).await;
    assert_eq!(status, 200);
    let cold_calls = counters.total();
    counters.reset();
    call(&app.router, get_req("/documents", Some(&cookie))).await;
    let warm_calls = counters.total();
    let overview_cold = {
        let fresh = self::app(&[]).await;
        let c = sign_in(&fresh, "dana.fischer@example.com").await;
        let counters = fresh
            .state
            .upstream
            .demo
            .as_ref()
            .unwrap()
            .sim
            .counters
            .clone();
        counters.reset();
        call(&fresh.router, get_req("/", Some(&c))).await;
        counters.total()
    };

    // The ceiling: axum handing out the same bytes from memory.
    let bytes = body.clone();
    let ceiling: Router = Router::new().route(
        "/documents",
        get(move || {
            let bytes = bytes.clone();
            async move { ([("content-type", "text/html; charset=utf-8")], bytes) }
        }),
    );

    let measure = |router: Router, cookie: Option<String>| async move {
        let start = Instant::now();
        for _ in 0..rounds {
            let (status, _, _) = call(&router, get_req("/documents", cookie.as_deref())).await;
            assert_eq!(status, 200);
        }
        rounds as f64 / start.elapsed().as_secs_f64()
    };
    let folio_rps = measure(app.router.clone(), Some(cookie.clone())).await;
    let ceiling_rps = measure(ceiling.clone(), None).await;
    let folio_rps2 = measure(app.router.clone(), Some(cookie)).await;
    let ceiling_rps2 = measure(ceiling, None).await;
    let (f, c) = (
        (folio_rps + folio_rps2) / 2.0,
        (ceiling_rps + ceiling_rps2) / 2.0,
    );

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
    println!("| /documents, cold (business customer: 44 orders) | {cold_calls} |");
    println!("| / (overview), cold | {overview_cold} |");
    println!("| /documents, warm | {warm_calls} |");
}

async fn create_pg_database(url: &str) -> bool {
    use sqlx::Connection;
    let name = url.rsplit('/').next().unwrap();
    let Ok(Ok(mut admin)) =
        tokio::time::timeout(Duration::from_secs(3), sqlx::PgConnection::connect(PG)).await
    else {
        return false;
    };
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .is_ok()
}

async fn drop_pg_database(url: &str) {
    use sqlx::Connection;
    let name = url.rsplit('/').next().unwrap();
    if let Ok(mut admin) = sqlx::PgConnection::connect(PG).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}
