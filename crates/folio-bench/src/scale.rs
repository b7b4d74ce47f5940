//! `folio-bench scale`: two Folio instances on one PostgreSQL database behind HAProxy, as an
//! operator scales out, and what that must hold:
//!
//! - an answer fetched through one instance serves the other, at no upstream call;
//! - sign-out on one is sign-out on both;
//! - an instance stopped with SIGTERM under load fails no request;
//! - one killed with SIGKILL fails at most the requests it held, and none once the balancer
//!   has noticed;
//! - the two together never send FlexPortal more than the tenant's budget in any window, even
//!   when cold views ask for far more.
//!
//! HAProxy checks `/readyz` every half second and retries a failed connection on the other
//! instance (`retries` with `option redispatch`). The budget's window is shortened to 10 s (11 s
//! in Folio, with the margin production has) so that the run takes about a minute. Exits non-zero on the first property that fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_sim::crowd_email;
use tokio::process::{Child, Command};

use crate::folio::{free_port, Folio, Http, Settings};
use crate::rig::{metric, settings};
use crate::smtp::Inbox;
use crate::upstream::Upstream;
use crate::Paths;

/// The tenant's budget for the run, per [`WINDOW`] as FlexPortal counts it. Folio's window
/// is a second longer, as in production (61 s for a minute): a request granted at the end of
/// one window may arrive a moment after it.
const BUDGET: u32 = 40;
const WINDOW: Duration = Duration::from_secs(10);
const FOLIO_WINDOW: Duration = Duration::from_secs(11);
const BUSINESS: &str = "dana.fischer@example.com";
/// Customers signed in through the balancer.
const CUSTOMERS: usize = 8;
/// Clients looping over pages while an instance is stopped.
const CLIENTS: usize = 8;

pub async fn run(paths: &Paths) -> Result<(), String> {
    let started = Instant::now();
    let db = Database::create().await?;
    let upstream = Upstream::start().await.map_err(|e| e.to_string())?;
    let (inbox, smtp_url) = Inbox::start().await.map_err(|e| e.to_string())?;
    let (port_a, port_b, port_lb) = (free_port()?, free_port()?, free_port()?);
    let lb = format!("http://127.0.0.1:{port_lb}");
    let instance = |port| Settings {
        extra: vec![
            ("DATABASE_URL", db.url.clone()),
            ("FOLIO_PUBLIC_URL", lb.clone()),
            (
                "FOLIO_BUDGET_WINDOW_SECS",
                FOLIO_WINDOW.as_secs().to_string(),
            ),
        ],
        port: Some(port),
        ..settings(&upstream, &smtp_url, BUDGET)
    };
    let a = Folio::start(&paths.folio, &paths.site, &instance(port_a)).await?;
    let b = Folio::start(&paths.folio, &paths.site, &instance(port_b)).await?;
    let balancer = Balancer::start(port_lb, [port_a, port_b]).await?;
    let http = Http::new();
    println!("scale: two instances on PostgreSQL behind HAProxy at {lb}");

    // Customers sign in through the balancer, each on whichever instance it picks.
    // The demo's business customer among them: one cold view of theirs needs more calls than
    // the budget's window allows.
    let mut cookies = vec![http.sign_in(&lb, &inbox, BUSINESS).await?];
    for i in 1..CUSTOMERS {
        cookies.push(http.sign_in(&lb, &inbox, &crowd_email(i)).await?);
    }
    println!("  {CUSTOMERS} customers signed in through the balancer");

    // An answer fetched through one instance serves the other. (The warm-ups after the
    // sign-in mails are done by now; nothing else runs.)
    tokio::time::sleep(Duration::from_secs(2)).await;
    let page = |base: &str, cookie: &str| {
        let (http, url, cookie) = (http.clone(), format!("{base}/documents"), cookie.to_owned());
        async move { http.get(&url, Some(&cookie)).await }
    };
    let first = page(&a.base, &cookies[1]).await?;
    check(first.status.as_u16() == 200, "a page through instance a")?;
    let before = upstream_requests(&http, &b.base).await?;
    let second = page(&b.base, &cookies[1]).await?;
    let after = upstream_requests(&http, &b.base).await?;
    check(
        second.status.as_u16() == 200 && after == before,
        &format!(
            "instance b served a's answers ({} upstream calls)",
            after - before
        ),
    )?;
    println!("  an answer fetched through a served b at no upstream call");

    // Sign-out on one is sign-out on both.
    let out = http
        .post_form_from(&lb, &a.base, "/logout", "", Some(&cookies[CUSTOMERS - 1]))
        .await?;
    check(out.status.is_redirection(), "sign-out on a")?;
    let gone = page(&b.base, &cookies[CUSTOMERS - 1]).await?;
    check(gone.status.as_u16() == 401, "the session ended on b too")?;
    println!("  sign-out on a is sign-out on b");
    let cookies = Arc::new(cookies[..CUSTOMERS - 1].to_vec());

    // One budget: every customer's pages through the balancer at once, with nothing kept
    // (dropped with `folio answers purge`; both instances follow within a second), so that
    // the views need far more calls than the budget allows.
    purge(paths, &db.url).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut views = tokio::task::JoinSet::new();
    for cookie in cookies.iter() {
        for path in ["/documents", "/invoices", "/"] {
            let (http, url, cookie) = (http.clone(), format!("{lb}{path}"), cookie.clone());
            views.spawn(async move { http.get(&url, Some(&cookie)).await.map(|a| a.status) });
        }
    }
    let mut statuses = Vec::new();
    while let Some(done) = views.join_next().await {
        statuses.push(done.map_err(|e| e.to_string())??.as_u16());
    }
    let most = upstream.max_calls_in(WINDOW);
    check(
        most <= u64::from(BUDGET),
        &format!("at most {BUDGET} upstream calls in any {WINDOW:?}: {most}"),
    )?;
    check(
        most >= u64::from(BUDGET) * 3 / 4,
        &format!("the cold views pressed the budget ({most} calls in a window)"),
    )?;
    println!(
        "  the two instances together: at most {most} upstream calls in any {}s (budget {BUDGET}); \
         {} of {} page views served",
        WINDOW.as_secs(),
        statuses.iter().filter(|s| **s == 200).count(),
        statuses.len()
    );

    // Warm again (a window later, as often as it takes), so that the pages below are all
    // served from kept answers.
    tokio::time::sleep(FOLIO_WINDOW).await;
    for cookie in cookies.iter() {
        for path in ["/documents", "/invoices", "/"] {
            let url = format!("{lb}{path}");
            let deadline = Instant::now() + Duration::from_secs(40);
            while http.get(&url, Some(cookie)).await?.status.as_u16() != 200 {
                check(Instant::now() < deadline, &format!("{path} warm again"))?;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    // SIGTERM under load: no request fails.
    let load = Load::start(&http, &lb, &cookies);
    tokio::time::sleep(Duration::from_secs(2)).await;
    a.terminate().await?;
    let terminated = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (served, failed) = load.stop().await;
    check(
        failed.is_empty(),
        &format!(
            "no request failed while a stopped ({} failed)",
            failed.len()
        ),
    )?;
    println!(
        "  a stopped with SIGTERM under load: {served} requests, none failed ({:?} to stop)",
        terminated.elapsed() - Duration::from_secs(2)
    );

    // A new a, then SIGKILL of b under load: at most the requests b held fail, and none
    // once the balancer has noticed.
    let a = Folio::start(&paths.folio, &paths.site, &instance(port_a)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let load = Load::start(&http, &lb, &cookies);
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.stop().await;
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (served, failed) = load.stop().await;
    let late = failed
        .iter()
        .filter(|at| **at > killed + Duration::from_millis(1500))
        .count();
    check(
        failed.len() <= CLIENTS && late == 0,
        &format!(
            "at most {CLIENTS} failures at the kill and none after ({} failed, {late} late)",
            failed.len()
        ),
    )?;
    println!(
        "  b killed with SIGKILL under load: {served} requests, {} failed at the kill, none after",
        failed.len()
    );

    a.stop().await;
    balancer.stop().await;
    drop(upstream);
    db.drop_it().await;
    println!("scale: every check passed in {:.0?}", started.elapsed());
    Ok(())
}

/// `folio answers purge` against the instances' database, as an operator runs it.
async fn purge(paths: &Paths, database_url: &str) -> Result<(), String> {
    let out = Command::new(&paths.folio)
        .args(["answers", "purge"])
        .env_clear()
        .env("DATABASE_URL", database_url)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    check(out.status.success(), "folio answers purge")
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("scale: failed: {what}"))
    }
}

async fn upstream_requests(http: &Http, base: &str) -> Result<u64, String> {
    let metrics = http.get(&format!("{base}/metrics"), None).await?;
    metric(&metrics.body, "folio_upstream_requests_total").ok_or("no upstream metric".into())
}

/// Clients looping over pages through the balancer, noting when each request failed.
struct Load {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: tokio::task::JoinSet<(usize, Vec<Instant>)>,
}

impl Load {
    fn start(http: &Http, base: &str, cookies: &Arc<Vec<String>>) -> Self {
        let (stop, watch) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        for client in 0..CLIENTS {
            let (http, watch, cookies) = (http.clone(), watch.clone(), cookies.clone());
            let base = base.to_owned();
            tasks.spawn(async move {
                let (mut served, mut failed) = (0, Vec::new());
                let mut n = client;
                while !*watch.borrow() {
                    let cookie = &cookies[n % cookies.len()];
                    let path = ["/", "/documents", "/invoices"][n % 3];
                    n += 1;
                    match http.get(&format!("{base}{path}"), Some(cookie)).await {
                        Ok(answer) if answer.status.as_u16() == 200 => served += 1,
                        _ => failed.push(Instant::now()),
                    }
                }
                (served, failed)
            });
        }
        Self { stop, tasks }
    }

    /// Requests served, and when each failed one failed.
    async fn stop(mut self) -> (usize, Vec<Instant>) {
        let _ = self.stop.send(true);
        let (mut served, mut failed) = (0, Vec::new());
        while let Some(Ok((s, f))) = self.tasks.join_next().await {
            served += s;
            failed.extend(f);
        }
        (served, failed)
    }
}

/// HAProxy from Debian in front of the instances, in the foreground of a child process.
struct Balancer {
    child: Child,
    dir: PathBuf,
}

impl Balancer {
    async fn start(port: u16, servers: [u16; 2]) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("folio-scale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, servers)).map_err(|e| e.to_string())?;
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!("cannot start haproxy (scripts/setup.sh test installs it): {e}")
            })?;
        let balancer = Self { child, dir };
        let http = Http::new();
        for _ in 0..100 {
            let ready = http
                .get(&format!("http://127.0.0.1:{port}/readyz"), None)
                .await;
            if ready.is_ok_and(|a| a.status.as_u16() == 200) {
                return Ok(balancer);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("HAProxy did not answer within 10 s".into())
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Round robin over both instances; `/readyz` checked every 500 ms (two failures take a server
/// out); a request whose connection fails, or that gets no answer, is sent to the other one.
fn haproxy_config(port: u16, [a, b]: [u16; 2]) -> String {
    format!(
        "global
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    retry-on all-retryable-errors
    option http-buffer-request

frontend portal
    bind 127.0.0.1:{port}
    default_backend folio

backend folio
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"
    )
}

/// A database of its own on the machine's PostgreSQL (127.0.0.1:5432, trust authentication).
struct Database {
    name: String,
    url: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl Database {
    async fn create() -> Result<Self, String> {
        let name = format!("folio_scale_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
        psql(&format!("CREATE DATABASE {name}")).await?;
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        Ok(Self { name, url })
    }

    async fn drop_it(self) {
        let _ = psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await;
    }
}

async fn psql(sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args([PG_ADMIN, "-q", "-c", sql])
        .output()
        .await
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
