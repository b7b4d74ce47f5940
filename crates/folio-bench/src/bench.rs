//! `folio-bench bench`: every figure of `bench/REPORT.md`, each beside its baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_sim::crowd_email;

use crate::folio::{Folio, Http, Settings};
use crate::front;
use crate::load::{self, Ceiling, Cookie, Target};
use crate::report::{kb, machine, mib, thousands, Report};
use crate::rig::{first_file_id, metric, percentile, settings, Rig};
use crate::smtp::Inbox;
use crate::upstream::{Upstream, CROWD};
use crate::Paths;

/// The business customer: 44 orders, 836 documents.
const BUSINESS: &str = "dana.fischer@example.com";
/// Seconds of load per wrk run.
const LOAD_SECONDS: u32 = 5;
const CLIENTS: [u32; 3] = [1, 16, 64];
/// Cold and warm samples of the added-latency figure.
const COLD_SAMPLES: usize = 150;
const WARM_SAMPLES: usize = 1000;
const SESSIONS: usize = 1000;
/// The upstream's own limit, and Folio's budget in the budget figure.
const BUDGET: u32 = 100;

pub async fn run(paths: &Paths) -> Result<(), String> {
    let mut report = Report::default();
    // Outside the budget figure, the budget is set high so that it does not shape the others.
    let Rig {
        upstream,
        inbox,
        smtp_url,
        folio,
    } = Rig::start(paths, 100_000, None, Vec::new()).await?;
    let http = Http::new();
    let base = folio.base.clone();
    println!("Folio {base}, stand-in FlexPortal {}", upstream.base_url);

    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, idle_peak) = folio.rss();

    // Upstream calls per view, counted at the stand-in.
    println!("\n## Upstream calls per page view");
    let business = http.sign_in(&base, &inbox, BUSINESS).await?;
    let calls = |path: &'static str, cookie: String| {
        let (http, upstream, base) = (http.clone(), &upstream, base.clone());
        async move {
            upstream.counters.reset();
            let answer = http.get(&format!("{base}{path}"), Some(&cookie)).await?;
            if !answer.status.is_success() {
                return Err(format!("GET {path} answered {}", answer.status));
            }
            Ok::<_, String>((upstream.counters.total(), answer))
        }
    };
    let (overview_cold, _) = calls("/", business.clone()).await?;
    let (documents_after, _) = calls("/documents", business.clone()).await?;
    let (documents_warm, documents_page) = calls("/documents", business.clone()).await?;
    let (overview_warm, _) = calls("/", business.clone()).await?;
    report.row(
        "Upstream calls, `/` cold (business customer, 44 orders)",
        overview_cold.to_string(),
        "",
    );
    report.row(
        "Upstream calls, `/documents` just after `/`",
        documents_after.to_string(),
        "",
    );
    let warm_ok = documents_warm == 0 && overview_warm == 0;
    report.goal(
        "Upstream calls, warm `/documents` and `/`",
        format!("{documents_warm} and {overview_warm}"),
        "",
        "0",
        warm_ok,
    );
    upstream.counters.reset();
    let newcomer = http.sign_in(&base, &inbox, &crowd_email(0)).await?;
    let sign_in_calls = upstream.counters.total();
    let (newcomer_cold, _) = calls("/", newcomer.clone()).await?;
    let (newcomer_documents, _) = calls("/documents", newcomer.clone()).await?;
    report.row(
        "Upstream calls, a new one-order customer: sign-in, then `/` cold, then `/documents`",
        format!("{sign_in_calls} + {newcomer_cold} + {newcomer_documents}"),
        "",
    );
    let file = first_file_id(&documents_page.body).ok_or("no file link on /documents")?;
    let download = format!("/files/{file}/download");
    upstream.counters.reset();
    let first = http
        .get(&format!("{base}{download}"), Some(&business))
        .await?;
    let signed = upstream.counters.total();
    upstream.counters.reset();
    http.get(&format!("{base}{download}"), Some(&business))
        .await?;
    report.row(
        "Upstream calls, a download, then the same again",
        format!("{signed} then {}", upstream.counters.total()),
        "",
    );
    if first.status.as_u16() != 303 {
        return Err(format!("GET {download} answered {}", first.status));
    }

    // Throughput against the ceiling.
    println!("\n## Throughput (wrk, {LOAD_SECONDS} s per run)");
    let overview_page = http.get(&format!("{base}/"), Some(&business)).await?;
    let ceiling = Ceiling::serve(vec![
        ("/documents".to_owned(), &documents_page),
        ("/".to_owned(), &overview_page),
        (download.clone(), &first),
    ])
    .await
    .map_err(|e| e.to_string())?;
    let mut documents_64 = (0.0, 0.0);
    for (path, name) in [
        ("/documents", "`/documents` warm, business customer"),
        ("/", "`/` warm"),
        (
            download.as_str(),
            "`/files/{id}/download` (303 to a signed URL)",
        ),
    ] {
        for clients in CLIENTS {
            let folio_url = format!("{base}{path}");
            let ceiling_url = format!("{}{path}", ceiling.base);
            let f = load::wrk(
                &Target {
                    url: &folio_url,
                    cookie: Cookie::One(&business),
                    paths: &[],
                },
                clients,
                LOAD_SECONDS,
            )
            .await?;
            let c = load::wrk(
                &Target {
                    url: &ceiling_url,
                    cookie: Cookie::None,
                    paths: &[],
                },
                clients,
                LOAD_SECONDS,
            )
            .await?;
            if f.bad > 0 || f.socket_errors > 0 {
                report.note(format!(
                    "{path} at {clients} clients: {} answers other than 2xx/3xx, {} socket errors",
                    f.bad, f.socket_errors
                ));
            }
            let value = format!(
                "{} req/s, p50 {:.2} ms, p99 {:.2} ms",
                thousands(f.rps),
                f.p50_ms,
                f.p99_ms
            );
            let baseline = format!(
                "{} req/s, p50 {:.2} ms, p99 {:.2} ms (static bytes from axum)",
                thousands(c.rps),
                c.p50_ms,
                c.p99_ms
            );
            let ratio = 100.0 * f.rps / c.rps;
            let figure = format!("{name}, {clients} clients ({ratio:.1} % of the ceiling)");
            if path == "/documents" && clients == 64 {
                documents_64 = (f.rps, c.rps);
                report.goal(
                    figure,
                    value,
                    baseline,
                    "≥ 25 % of the ceiling",
                    ratio >= 25.0,
                );
            } else {
                report.row(figure, value, baseline);
            }
        }
    }

    // What keeping rendered pages buys: the same run against a Folio that renders every view.
    let rendering = Folio::start(
        &paths.folio,
        &paths.site,
        &Settings {
            extra: vec![("FOLIO_PAGE_CACHE_MB", "0".to_owned())],
            ..settings(&upstream, &smtp_url, 100_000)
        },
    )
    .await?;
    let rendered = async {
        let cookie = http.sign_in(&rendering.base, &inbox, BUSINESS).await?;
        let url = format!("{}/documents", rendering.base);
        // Warms its upstream cache.
        http.get(&url, Some(&cookie)).await?;
        load::wrk(
            &Target {
                url: &url,
                cookie: Cookie::One(&cookie),
                paths: &[],
            },
            64,
            LOAD_SECONDS,
        )
        .await
    }
    .await;
    rendering.stop().await;
    let rendered = rendered?;
    report.row(
        "`/documents` warm, business customer, 64 clients, every view rendered (`FOLIO_PAGE_CACHE_MB=0`)",
        format!(
            "{} req/s, p50 {:.2} ms, p99 {:.2} ms",
            thousands(rendered.rps),
            rendered.p50_ms,
            rendered.p99_ms
        ),
        format!(
            "with kept pages {} req/s; ceiling {} req/s",
            thousands(documents_64.0),
            thousands(documents_64.1)
        ),
    );

    // Added latency with the stand-in answering in 50 ms.
    println!("\n## Added latency, stand-in at 50 ms");
    added_latency(&mut report, &http, &base, &inbox, &upstream, &ceiling).await?;
    drop(ceiling);

    // Memory with 1,000 live sessions under load.
    println!("\n## Memory");
    let cookies = sign_in_many(&http, &base, &inbox, SESSIONS).await?;
    let cookie_file =
        std::env::temp_dir().join(format!("folio-bench-cookies-{}", std::process::id()));
    std::fs::write(&cookie_file, cookies.join("\n") + "\n").map_err(|e| e.to_string())?;
    let mixed = load::wrk(
        &Target {
            url: &format!("{base}/"),
            cookie: Cookie::Rotate(&cookie_file),
            paths: &[
                "/",
                "/documents",
                "/invoices",
                "/access",
                "/documents?type=invoice",
            ],
        },
        64,
        10,
    )
    .await;
    let _ = std::fs::remove_file(&cookie_file);
    let mixed = mixed?;
    let (_, loaded_peak) = folio.rss();
    report.row("Peak RSS at idle (after start-up)", mib(idle_peak), "");
    report.goal(
        format!(
            "Peak RSS with {SESSIONS} live sessions under load (64 clients, 10 s, pages in turn)"
        ),
        mib(loaded_peak),
        format!(
            "{} at idle; load ran at {} req/s, {} bad answers",
            mib(idle_peak),
            thousands(mixed.rps),
            mixed.bad
        ),
        "≤ 150 MiB",
        loaded_peak <= 150 * 1_048_576,
    );

    // The front end, from the release site Folio serves.
    println!("\n## Front end");
    for asset in front::assets(&paths.site.join("pkg")).await? {
        let size = |s: Option<u64>| s.map_or_else(|| "?".into(), kb);
        let value = format!(
            "{} raw, {} gzip, {} brotli",
            kb(asset.raw),
            size(asset.gzip),
            size(asset.brotli)
        );
        if asset.name.ends_with(".wasm") {
            let met = asset.gzip.is_some_and(|g| g <= 300_000);
            report.goal(format!("`{}`", asset.name), value, "", "≤ 300 KB gzip", met);
        } else {
            report.row(format!("`{}`", asset.name), value, "");
        }
    }
    for (path, cookie) in [("/login", None), ("/documents", Some(business.as_str()))] {
        match front::lighthouse(&paths.tools, &format!("{base}{path}"), cookie).await {
            Ok(s) => {
                let met = s.performance >= 95 && s.accessibility == 100 && s.best_practices == 100;
                report.goal(
                    format!("Lighthouse `{path}` (mobile, simulated throttling)"),
                    format!(
                        "performance {}, accessibility {}, best practices {}",
                        s.performance, s.accessibility, s.best_practices
                    ),
                    "",
                    "≥ 95, 100, 100",
                    met,
                );
                if !s.missed.is_empty() {
                    report.note(format!(
                        "Lighthouse `{path}` audits below 0.9: {}",
                        s.missed.join("; ")
                    ));
                }
            }
            Err(e) => report.note(format!("Lighthouse `{path}`: not measured: {e}")),
        }
    }
    let metrics = http.get(&format!("{base}/metrics"), None).await?;
    let counter = |name: &str| metric(&metrics.body, name).unwrap_or(0);
    report.row(
        "Customer page views served from a kept page, over the whole run",
        format!(
            "{} of {}",
            thousands(counter("folio_page_cache_hits_total") as f64),
            thousands(
                (counter("folio_page_cache_hits_total") + counter("folio_page_cache_misses_total"))
                    as f64
            )
        ),
        format!(
            "{} pages kept at the end, {}",
            counter("folio_page_cache_pages"),
            mib(counter("folio_page_cache_bytes"))
        ),
    );
    let panics = folio.panics();
    if panics.other + panics.reactive_disposed > 0 {
        report.note(format!(
            "Folio panicked during the run: {} times in its own code, {} times in Leptos tasks \
             that outlived their render: see {}",
            panics.other,
            panics.reactive_disposed,
            folio.log.display()
        ));
    }
    folio.stop().await;
    drop(upstream);

    // The budget: distinct customers' first views a minute, with no 429 reaching anyone.
    println!("\n## The request budget ({BUDGET} a minute)");
    let per_customer = sign_in_calls + newcomer_cold;
    let sustainable = (u64::from(BUDGET) / per_customer.max(1)) as usize;
    let mut next = 1;
    for offered in [sustainable, sustainable * 2] {
        let run = budget_minute(paths, offered, next).await?;
        next += offered;
        report.goal(
            format!(
                "New customers a minute (sign-in and first `/`, {offered} arriving evenly over 60 s)"
            ),
            format!(
                "{} served; {} asked to try again in a minute, {} another failure; upstream 429s: {}",
                run.served, run.busy, run.failed, run.upstream_429
            ),
            format!(
                "{per_customer} calls each; most calls in any 60 s: {} (budget {BUDGET})",
                run.max_calls_per_minute
            ),
            "no 429 reaches a user; calls ≤ budget",
            run.upstream_429 == 0 && run.failed == 0 && run.max_calls_per_minute <= u64::from(BUDGET),
        );
    }

    crate::day::run(paths, &mut report).await?;
    crate::zip::run(paths, &mut report).await?;

    let mut markdown = report.markdown("Folio benchmark report", &machine());
    // What the profiles found and what is left: kept by hand beside the report.
    let findings = paths.out.with_file_name("FINDINGS.md");
    if let Ok(text) = std::fs::read_to_string(&findings) {
        markdown.push('\n');
        markdown.push_str(&text);
    }
    if let Some(dir) = paths.out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&paths.out, &markdown).map_err(|e| e.to_string())?;
    println!("\n{markdown}");
    println!("written to {}", paths.out.display());
    Ok(())
}

async fn added_latency(
    report: &mut Report,
    http: &Http,
    base: &str,
    inbox: &Inbox,
    upstream: &Upstream,
    ceiling: &Ceiling,
) -> Result<(), String> {
    // Sign the cold samples' customers in first (their sign-in warms only their own record).
    let emails: Vec<String> = (1..=COLD_SAMPLES).map(crowd_email).collect();
    let mut sessions = Vec::new();
    for email in &emails {
        sessions.push(http.sign_in(base, inbox, email).await?);
    }
    upstream.faults.set_latency(Duration::from_millis(50));
    upstream.forget_spans();
    let (mut cold_added, mut cold_total, mut cold_wait) = (Vec::new(), Vec::new(), Vec::new());
    for cookie in &sessions {
        let start = Instant::now();
        let answer = http.get(&format!("{base}/documents"), Some(cookie)).await?;
        let end = Instant::now();
        if !answer.status.is_success() {
            return Err(format!("cold /documents answered {}", answer.status));
        }
        let total = (end - start).as_secs_f64() * 1000.0;
        let wait = upstream.busy_between(start, end) * 1000.0;
        cold_total.push(total);
        cold_wait.push(wait);
        cold_added.push(total - wait);
    }
    let (mut warm, mut statics) = (Vec::new(), Vec::new());
    let ceiling_url = format!("{}/documents", ceiling.base);
    for i in 0..WARM_SAMPLES {
        let cookie = &sessions[i % sessions.len()];
        let start = Instant::now();
        http.get(&format!("{base}/documents"), Some(cookie)).await?;
        warm.push(start.elapsed().as_secs_f64() * 1000.0);
        let start = Instant::now();
        http.get(&ceiling_url, None).await?;
        statics.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    upstream.faults.set_latency(Duration::ZERO);
    report.row(
        format!("Added latency, cold `/documents` of a one-order customer ({COLD_SAMPLES} customers): time minus upstream wait"),
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            percentile(&mut cold_added, 0.5),
            percentile(&mut cold_added, 0.99)
        ),
        format!(
            "total p50 {:.1} ms, of which waiting on the 50 ms stand-in p50 {:.1} ms",
            percentile(&mut cold_total, 0.5),
            percentile(&mut cold_wait, 0.5)
        ),
    );
    let p99 = percentile(&mut warm, 0.99);
    report.goal(
        format!(
            "Added latency, warm `/documents` (sequential, {WARM_SAMPLES} views; no upstream call)"
        ),
        format!("p50 {:.2} ms, p99 {p99:.2} ms", percentile(&mut warm, 0.5)),
        format!(
            "the same bytes from axum: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&mut statics, 0.5),
            percentile(&mut statics, 0.99)
        ),
        "p99 ≤ 5 ms",
        p99 <= 5.0,
    );
    Ok(())
}

/// Only the sign-ins of the memory figure: `n` sessions through the real flow, timed.
pub async fn sign_ins(paths: &Paths, n: usize) -> Result<(), String> {
    let Rig { inbox, folio, .. } = Rig::start(paths, 100_000, None, Vec::new()).await?;
    let started = Instant::now();
    let signed = sign_in_many(&Http::new(), &folio.base, &inbox, n).await;
    println!(
        "{} sessions in {:.1} s",
        signed.as_ref().map_or(0, Vec::len),
        started.elapsed().as_secs_f64()
    );
    folio.stop().await;
    signed.map(|_| ())
}

/// `n` sessions of the crowd's second half (five each), signed in 16 at a time.
async fn sign_in_many(
    http: &Http,
    base: &str,
    inbox: &Inbox,
    n: usize,
) -> Result<Vec<String>, String> {
    let customers: Vec<String> = (CROWD / 2..CROWD).map(crowd_email).collect();
    let queue = Arc::new(std::sync::Mutex::new((0..n).collect::<Vec<_>>()));
    // One sign-in per address at a time: the inbox tells codes apart by address and order.
    let one_at_a_time: Arc<Vec<tokio::sync::Mutex<()>>> = Arc::new(
        customers
            .iter()
            .map(|_| tokio::sync::Mutex::new(()))
            .collect(),
    );
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (http, base, inbox, queue, customers, one_at_a_time) = (
            http.clone(),
            base.to_owned(),
            inbox.clone(),
            queue.clone(),
            customers.clone(),
            one_at_a_time.clone(),
        );
        workers.spawn(async move {
            let mut cookies = Vec::new();
            loop {
                let Some(i) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
                    return Ok::<_, String>(cookies);
                };
                let email = &customers[i % customers.len()];
                let _turn = one_at_a_time[i % customers.len()].lock().await;
                cookies.push(http.sign_in(&base, &inbox, email).await?);
            }
        });
    }
    let mut all = Vec::new();
    while let Some(done) = workers.join_next().await {
        all.extend(done.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

struct BudgetRun {
    served: usize,
    busy: usize,
    failed: usize,
    upstream_429: u64,
    max_calls_per_minute: u64,
}

/// `offered` crowd customers (from the `first`th) arrive evenly over a minute; each signs in
/// and opens `/`. A fresh stand-in limits Folio to the budget, as FlexPortal does.
async fn budget_minute(paths: &Paths, offered: usize, first: usize) -> Result<BudgetRun, String> {
    let Rig {
        upstream,
        inbox,
        folio,
        ..
    } = Rig::start(paths, BUDGET, Some(BUDGET), Vec::new()).await?;
    let http = Http::new();
    let start = Instant::now();
    let mut arrivals = tokio::task::JoinSet::new();
    for i in 0..offered {
        let (http, base, inbox) = (http.clone(), folio.base.clone(), inbox.clone());
        let at = start + Duration::from_secs_f64(60.0 * i as f64 / offered as f64);
        arrivals.spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let cookie = match http.sign_in(&base, &inbox, &crowd_email(first + i)).await {
                Ok(c) => c,
                // Turned away at once with "try again in a minute": Folio's busy answer.
                Err(e) if e.contains("/login?error=later") => return Ok(503),
                Err(e) => return Err(e),
            };
            let page = http.get(&format!("{base}/"), Some(&cookie)).await?;
            Ok(page.status.as_u16())
        });
    }
    let (mut served, mut busy, mut failed) = (0, 0, 0);
    while let Some(done) = arrivals.join_next().await {
        match done.map_err(|e| e.to_string())? {
            Ok(200) => served += 1,
            Ok(503) => busy += 1,
            Ok(status) => {
                eprintln!("  a first view answered {status}");
                failed += 1;
            }
            Err(e) => {
                eprintln!("  {e}");
                failed += 1;
            }
        }
    }
    let metrics = http.get(&format!("{}/metrics", folio.base), None).await?;
    let upstream_429 = metric(&metrics.body, "folio_upstream_rate_limited_total").unwrap_or(0);
    let max_calls_per_minute = upstream.max_calls_in(Duration::from_secs(60));
    folio.stop().await;
    Ok(BudgetRun {
        served,
        busy,
        failed,
        upstream_429,
        max_calls_per_minute,
    })
}
