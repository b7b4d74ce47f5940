//! A compressed day: a portal's day of visits in a few minutes, run twice in one process, once
//! with the design that kept answers in one process's memory for a fixed time (answer store,
//! stale-while-revalidate and adaptive freshness off) and once with the answers kept in the
//! database, refreshed behind readers, fresh as long as their data suggests.
//!
//! A few hundred customers of the stand-in (the crowd, every twentieth a small business with a
//! dozen orders, and the demo's business with 44) visit at times spread over the day, chosen
//! by a Zipf distribution: a few customers come back often, most rarely. Each visit signs in
//! the first time and then views two to eight pages, with the pause a person takes between
//! two (reading a document) of 20 s to 2 minutes. The stand-in answers every call after
//! [`UPSTREAM_LATENCY`], so a view that waited for FlexPortal is told apart by its time. The
//! budget is 100 a minute; its window, every freshness and the pauses between refreshes of
//! one answer are divided by the compression.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flexportal_sim::crowd_email;

use crate::folio::{Folio, Http, Settings};
use crate::report::Report;
use crate::rig::{percentile, settings};
use crate::smtp::Inbox;
use crate::upstream::{Upstream, CROWD};
use crate::Paths;

/// A day in this many seconds.
const DAY_SECONDS: u64 = 150;
/// How much faster than real time the day runs.
const COMPRESSION: u64 = 86_400 / DAY_SECONDS;
const VISITS: usize = 1500;
/// The customers who may visit: the demo's business and the first of the crowd.
const CUSTOMERS: usize = 300;
const BUDGET: u32 = 100;
/// Each FlexPortal call takes at least this long, as a real tenant's API does.
const UPSTREAM_LATENCY: Duration = Duration::from_millis(80);
/// A view that took longer than this waited for FlexPortal.
const WAITED: Duration = Duration::from_millis(70);
const PAGES: [&str; 4] = ["/", "/documents", "/invoices", "/documents?type=invoice"];
/// Views per visit, and the time a person takes between two of them (reading a document,
/// downloading it), in real seconds.
const VIEWS_PER_VISIT: (usize, usize) = (2, 8);
const THINK_SECONDS: (f64, f64) = (20.0, 120.0);

/// One visit: when it starts (seconds into the compressed day), who comes (an index into
/// [`customer`]), and its views: each a page and the compressed pause before it.
type Visit = (f64, usize, Vec<(f64, &'static str)>);

/// One run's figures.
struct Day {
    views: usize,
    failed: usize,
    calls: u64,
    /// Of the calls, sign-in lookups by email.
    lookups: u64,
    waited: usize,
    /// Views that waited although the same page of the same customer had been viewed before.
    waited_with_answer: usize,
    p50_ms: f64,
    p99_ms: f64,
    /// The most calls in any (compressed) minute.
    most_per_minute: u64,
    /// Calls of a known customer's first view after a restart.
    after_restart: u64,
}

impl Day {
    fn per_1000(&self) -> f64 {
        self.calls as f64 * 1000.0 / self.views.max(1) as f64
    }
}

pub async fn run(paths: &Paths, report: &mut Report) -> Result<(), String> {
    println!("\n## A compressed day: {VISITS} visits in {DAY_SECONDS} s ({COMPRESSION}x)");
    let plan = visits();
    let today = day(paths, &plan, false).await?;
    println!(
        "  today's design: {:.0} calls per 1000 views",
        today.per_1000()
    );
    let new = day(paths, &plan, true).await?;
    println!(
        "  answers kept and refreshed: {:.0} calls per 1000 views",
        new.per_1000()
    );

    let ratio = today.per_1000() / new.per_1000().max(0.001);
    report.goal(
        "Compressed day: upstream calls per 1,000 page views (kept answers vs today's design)",
        format!("{:.0}", new.per_1000()),
        format!("{:.0} ({ratio:.1}x more)", today.per_1000()),
        "at least 5x fewer",
        ratio >= 5.0,
    );
    report.row(
        "Compressed day: upstream calls in all, of which sign-in lookups",
        format!("{} ({})", new.calls, new.lookups),
        format!("{} ({})", today.calls, today.lookups),
    );
    report.row(
        "Compressed day: page views that waited on FlexPortal",
        format!("{:.1} % of {}", share(new.waited, new.views), new.views),
        format!(
            "{:.1} % of {}",
            share(today.waited, today.views),
            today.views
        ),
    );
    report.goal(
        "Compressed day: views that waited although their page had been viewed before",
        new.waited_with_answer.to_string(),
        today.waited_with_answer.to_string(),
        "0",
        new.waited_with_answer == 0,
    );
    report.row(
        "Compressed day: page view p50 / p99",
        format!("{:.1} / {:.1} ms", new.p50_ms, new.p99_ms),
        format!("{:.1} / {:.1} ms", today.p50_ms, today.p99_ms),
    );
    report.goal(
        "Compressed day: most upstream calls in any (compressed) minute",
        new.most_per_minute.to_string(),
        today.most_per_minute.to_string(),
        format!("at most {BUDGET}"),
        new.most_per_minute <= u64::from(BUDGET) && today.most_per_minute <= u64::from(BUDGET),
    );
    report.goal(
        "Compressed day: upstream calls of a known customer's first view after a restart",
        new.after_restart.to_string(),
        today.after_restart.to_string(),
        "0",
        new.after_restart == 0,
    );
    report.row(
        "Compressed day: failed page views",
        new.failed.to_string(),
        today.failed.to_string(),
    );
    report.note(format!(
        "The compressed day: {VISITS} visits of {CUSTOMERS} customers in {DAY_SECONDS} s, \
         Zipf-distributed (s = 1.1); every FlexPortal call takes {} ms; a view over {} ms waited \
         on FlexPortal. A restart's cost is measured apart, in real time. \
         Today's design is FOLIO_ANSWER_STORE=memory, FOLIO_STALE_WHILE_REVALIDATE=false and \
         FOLIO_ADAPTIVE_FRESHNESS=false (60 s for every answer). Freshness, the budget's \
         window and the pauses between refreshes are divided by {COMPRESSION} \
         (FOLIO_COMPRESS_TIME).",
        UPSTREAM_LATENCY.as_millis(),
        WAITED.as_millis()
    ));
    Ok(())
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 * 100.0 / whole.max(1) as f64
}

/// When each visit comes (seconds into the day), who comes (an index into [`customer`]) and
/// which pages they view. The same plan for both runs.
fn visits() -> Vec<Visit> {
    let mut rng = fastrand_like(0x00D4_7DA7);
    let customers = CUSTOMERS.min(CROWD + 1);
    // Zipf weights by rank; the ranks are shuffled over the customers.
    let weights: Vec<f64> = (1..=customers)
        .map(|r| 1.0 / (r as f64).powf(1.1))
        .collect();
    let total: f64 = weights.iter().sum();
    let mut order: Vec<usize> = (0..customers).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (rng() * (i + 1) as f64) as usize % (i + 1));
    }
    let mut plan: Vec<Visit> = (0..VISITS)
        .map(|_| {
            let mut pick = rng() * total;
            let rank = weights
                .iter()
                .position(|w| {
                    pick -= w;
                    pick <= 0.0
                })
                .unwrap_or(customers - 1);
            let at = rng() * DAY_SECONDS as f64;
            let (fewest, most) = VIEWS_PER_VISIT;
            let views = fewest + (rng() * (most - fewest + 1) as f64) as usize;
            let pages = (0..views)
                .map(|v| {
                    let think = THINK_SECONDS.0 + rng() * (THINK_SECONDS.1 - THINK_SECONDS.0);
                    let pause = if v == 0 {
                        0.0
                    } else {
                        think / COMPRESSION as f64
                    };
                    (
                        pause,
                        PAGES[(rng() * PAGES.len() as f64) as usize % PAGES.len()],
                    )
                })
                .collect();
            (at, order[rank], pages)
        })
        .collect();
    plan.sort_by(|a, b| a.0.total_cmp(&b.0));
    plan
}

/// The customer of an index: the demo's business, then the crowd.
fn customer(index: usize) -> String {
    match index {
        0 => "dana.fischer@example.com".to_owned(),
        n => crowd_email(n - 1),
    }
}

/// A small deterministic generator of numbers in `[0, 1)` (xorshift).
fn fastrand_like(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The settings of the new design (`kept`) or today's.
fn design(kept: bool) -> Vec<(&'static str, String)> {
    if kept {
        return Vec::new();
    }
    vec![
        ("FOLIO_ANSWER_STORE", "memory".to_owned()),
        ("FOLIO_STALE_WHILE_REVALIDATE", "false".to_owned()),
        ("FOLIO_ADAPTIVE_FRESHNESS", "false".to_owned()),
        ("FLEXPORTAL_CACHE_TTL_SECS", "60".to_owned()),
    ]
}

/// Calls of a known customer's first view after a restart, in real time: the customer views
/// `/documents`, Folio restarts on the same database, the customer views it again.
async fn restart_calls(paths: &Paths, kept: bool) -> Result<u64, String> {
    let upstream = Upstream::start().await.map_err(|e| e.to_string())?;
    let (inbox, smtp_url) = Inbox::start().await.map_err(|e| e.to_string())?;
    let data = std::env::temp_dir().join(format!("folio-restart-{}-{kept}", std::process::id()));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let mut extra = design(kept);
    extra.push((
        "DATABASE_URL",
        format!("sqlite://{}/folio.db", data.display()),
    ));
    let config = Settings {
        extra,
        ..settings(&upstream, &smtp_url, BUDGET)
    };
    let http = Http::new();
    let first = Folio::start(&paths.folio, &paths.site, &config).await?;
    let cookie = http.sign_in(&first.base, &inbox, &customer(20)).await?;
    let page = http
        .get(&format!("{}/documents", first.base), Some(&cookie))
        .await?;
    if page.status.as_u16() != 200 {
        return Err(format!("/documents answered {}", page.status));
    }
    first.stop().await;
    let again = Folio::start(&paths.folio, &paths.site, &config).await?;
    upstream.counters.reset();
    let page = http
        .get(&format!("{}/documents", again.base), Some(&cookie))
        .await?;
    if page.status.as_u16() != 200 {
        return Err(format!(
            "after the restart /documents answered {}",
            page.status
        ));
    }
    let calls = upstream.counters.total();
    again.stop().await;
    let _ = std::fs::remove_dir_all(&data);
    Ok(calls)
}

/// One day with the new design (`kept`) or today's.
async fn day(paths: &Paths, plan: &[Visit], kept: bool) -> Result<Day, String> {
    let upstream = Upstream::start().await.map_err(|e| e.to_string())?;
    upstream.faults.set_latency(UPSTREAM_LATENCY);
    let (inbox, smtp_url) = Inbox::start().await.map_err(|e| e.to_string())?;
    let data = std::env::temp_dir().join(format!("folio-day-{}-{kept}", std::process::id()));
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let mut extra = vec![
        (
            "DATABASE_URL",
            format!("sqlite://{}/folio.db", data.display()),
        ),
        ("FOLIO_COMPRESS_TIME", COMPRESSION.to_string()),
    ];
    if !kept {
        extra.extend([
            ("FOLIO_ANSWER_STORE", "memory".to_owned()),
            ("FOLIO_STALE_WHILE_REVALIDATE", "false".to_owned()),
            ("FOLIO_ADAPTIVE_FRESHNESS", "false".to_owned()),
            ("FLEXPORTAL_CACHE_TTL_SECS", "60".to_owned()),
        ]);
    }
    let config = Settings {
        extra,
        ..settings(&upstream, &smtp_url, BUDGET)
    };
    let folio = Folio::start(&paths.folio, &paths.site, &config).await?;
    let http = Http::new();
    upstream.counters.reset();
    upstream.forget_spans();

    let sessions: Arc<Mutex<HashMap<usize, Arc<tokio::sync::OnceCell<String>>>>> = Arc::default();
    let seen: Arc<Mutex<HashSet<(usize, &'static str)>>> = Arc::default();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (at, who, pages) in plan.iter().cloned() {
        let (http, inbox, base) = (http.clone(), inbox.clone(), folio.base.clone());
        let (sessions, seen) = (sessions.clone(), seen.clone());
        let when = start + Duration::from_secs_f64(at);
        tasks.spawn(async move {
            tokio::time::sleep_until(when.into()).await;
            let cell = sessions.lock().unwrap().entry(who).or_default().clone();
            let email = customer(who);
            let cookie = cell
                .get_or_try_init(|| http.sign_in(&base, &inbox, &email))
                .await?
                .clone();
            let mut views = Vec::new();
            for (pause, page) in pages {
                tokio::time::sleep(Duration::from_secs_f64(pause)).await;
                let known = seen.lock().unwrap().contains(&(who, page));
                let began = Instant::now();
                let answer = http.get(&format!("{base}{page}"), Some(&cookie)).await?;
                let took = began.elapsed();
                let ok = answer.status.as_u16() == 200;
                if ok {
                    seen.lock().unwrap().insert((who, page));
                }
                views.push((took, ok, known));
            }
            Ok::<_, String>(views)
        });
    }
    let mut times = Vec::new();
    let (mut failed, mut waited, mut waited_with_answer) = (0, 0, 0);
    while let Some(done) = tasks.join_next().await {
        for (took, ok, known) in done.map_err(|e| e.to_string())?? {
            times.push(took.as_secs_f64() * 1000.0);
            failed += usize::from(!ok);
            if took > WAITED {
                waited += 1;
                waited_with_answer += usize::from(known);
            }
        }
    }
    let calls = upstream.counters.total();
    let lookups = upstream.counters.get("GET /v1/customers");
    println!(
        "  {}: calls by endpoint {:?}",
        if kept {
            "kept answers"
        } else {
            "today's design"
        },
        upstream.counters.snapshot()
    );
    let minute = Duration::from_secs(60).div_f64(COMPRESSION as f64);
    let most_per_minute = upstream.max_calls_in(minute);

    folio.stop().await;
    let after_restart = restart_calls(paths, kept).await?;
    let _ = std::fs::remove_dir_all(&data);

    let views = times.len();
    Ok(Day {
        views,
        failed,
        calls,
        lookups,
        waited,
        waited_with_answer,
        p50_ms: percentile(&mut times, 0.5),
        p99_ms: percentile(&mut times, 0.99),
        most_per_minute,
        after_restart,
    })
}
