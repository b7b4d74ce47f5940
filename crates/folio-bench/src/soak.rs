//! `folio-bench soak`: steady load for a few minutes while the stand-in answers 429 in bursts,
//! fails with 500 and hangs. Folio must never answer a 5xx other than its 503 page, never
//! call the upstream more often than its budget, and keep its memory flat.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal_sim::{crowd_email, Tenant};

use crate::folio::Http;
use crate::report::{mib, thousands};
use crate::rig::{first_file_id, Rig};
use crate::Paths;

const BUDGET: u32 = 100;
const WORKERS: usize = 8;
const PATHS: [&str; 6] = [
    "/",
    "/documents",
    "/documents?type=invoice",
    "/invoices",
    "/documents?q=contract&year=2025",
    "/access",
];

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    busy: AtomicU64,
    wrong: AtomicU64,
    /// 503 answers by path.
    busy_paths: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

pub async fn run(paths: &Paths, seconds: u64) -> Result<(), String> {
    let Rig {
        upstream,
        inbox,
        mut folio,
        ..
    } = Rig::start(
        paths,
        BUDGET,
        Some(BUDGET),
        // A short freshness, so that the upstream keeps being asked during the soak.
        vec![("FLEXPORTAL_CACHE_TTL_SECS", "10".into())],
    )
    .await?;
    let http = Http::new();
    let base = folio.base.clone();

    let mut emails: Vec<String> = Tenant::demo()
        .demo_accounts()
        .into_iter()
        .map(|a| a.email)
        .collect();
    emails.extend((1..=20).map(crowd_email));
    let mut sessions = Vec::new();
    for email in &emails {
        // Customers without access (inactive ones) get no mail: that is not the soak's concern.
        if let Ok(cookie) = http.sign_in(&base, &inbox, email).await {
            let page = http
                .get(&format!("{base}/documents"), Some(&cookie))
                .await?;
            let mut paths: Vec<String> = PATHS.iter().map(|p| (*p).to_owned()).collect();
            if let Some(file) = first_file_id(&page.body) {
                paths.push(format!("/files/{file}/view"));
            }
            sessions.push((cookie, paths));
        }
    }
    println!(
        "soak: {} sessions, {WORKERS} clients, {seconds} s, faults every 15 s; Folio at {base}",
        sessions.len()
    );
    upstream.forget_spans();

    let tally = Arc::new(Tally::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let sessions = Arc::new(sessions);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (http, base, tally, sessions) =
            (http.clone(), base.clone(), tally.clone(), sessions.clone());
        workers.spawn(async move {
            let mut i = w * 7;
            while Instant::now() < deadline {
                i += 1;
                let (cookie, paths) = &sessions[i % sessions.len()];
                let path = &paths[(i / sessions.len()) % paths.len()];
                match http.get(&format!("{base}{path}"), Some(cookie)).await {
                    Ok(a) if a.status.is_success() || a.status.is_redirection() => {
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(a) if a.status.as_u16() == 503 => {
                        tally.busy.fetch_add(1, Ordering::Relaxed);
                        let kind = if path.starts_with("/files/") {
                            "/files/{id}/view"
                        } else {
                            path
                        };
                        *tally
                            .busy_paths
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(kind.to_owned())
                            .or_default() += 1;
                    }
                    Ok(a) => {
                        eprintln!("soak: GET {path} answered {}", a.status);
                        tally.wrong.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("soak: GET {path} failed: {e}");
                        tally.wrong.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }

    // Faults in turn, and memory sampled every second.
    let start = Instant::now();
    let mut rss = Vec::new();
    let mut round = 0u64;
    while Instant::now() < deadline {
        let elapsed = start.elapsed().as_secs();
        if elapsed >= round * 15 {
            match round % 3 {
                0 => upstream.faults.fail_next_with_429(30, 5),
                1 => upstream.faults.fail_next_with_500(20),
                _ => {
                    upstream.faults.set_hang_duration(Duration::from_secs(20));
                    upstream.faults.hang_next(4);
                }
            }
            round += 1;
        }
        rss.push(folio.rss().0);
        if rss.len() % 10 == 0 {
            println!(
                "  {:>4} s: RSS {}, {} answered, {} busy",
                rss.len(),
                mib(*rss.last().unwrap_or(&0)),
                tally.ok.load(Ordering::Relaxed),
                tally.busy.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    while workers.join_next().await.is_some() {}
    let alive = folio.alive();
    let (_, peak) = folio.rss();
    let max_calls = upstream.max_calls_in(Duration::from_secs(60));
    let panics = folio.panics();
    let log = folio.log.clone();
    folio.stop().await;

    let (ok, busy, wrong) = (
        tally.ok.load(Ordering::Relaxed),
        tally.busy.load(Ordering::Relaxed),
        tally.wrong.load(Ordering::Relaxed),
    );
    let fifth = (rss.len() / 5).max(1);
    let early = median(&rss[fifth..(2 * fifth).min(rss.len())]);
    let late = median(&rss[rss.len() - fifth..]);
    let growth = late.saturating_sub(early);
    let flat = growth <= (16 * 1_048_576).max(early / 5);
    println!("\n| Figure | Value |\n|---|---|");
    println!(
        "| Requests | {} ({:.0} a second) |",
        thousands((ok + busy + wrong) as f64),
        (ok + busy + wrong) as f64 / seconds as f64
    );
    println!("| Answered 2xx/3xx | {} |", thousands(ok as f64));
    println!(
        "| Folio's 503 page (upstream unavailable, nothing cached) | {} |",
        thousands(busy as f64)
    );
    for (path, n) in tally
        .busy_paths
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        println!("| … of which `{path}` | {n} |");
    }
    println!("| Any other answer (429, other 5xx, 4xx, no answer) | {wrong} |");
    println!(
        "| Panics in Folio's log: its own, Leptos tasks that outlived their render | {}, {} |",
        panics.other, panics.reactive_disposed
    );
    println!("| Fault rounds (429 burst, 500s, hangs in turn) | {round} |");
    println!("| Upstream calls in any 60 s, at most | {max_calls} (budget {BUDGET}) |");
    println!(
        "| RSS early / late / peak | {} / {} / {} |",
        mib(early),
        mib(late),
        mib(peak)
    );
    let mut failures = Vec::new();
    if wrong > 0 {
        failures.push(format!(
            "{wrong} answers were neither 2xx/3xx nor the 503 page"
        ));
    }
    if max_calls > u64::from(BUDGET) {
        failures.push(format!(
            "{max_calls} upstream calls within 60 s, over the budget of {BUDGET}"
        ));
    }
    if !flat {
        failures.push(format!("memory grew by {} during the soak", mib(growth)));
    }
    if panics.other > 0 {
        failures.push(format!(
            "{} panics in Folio's log (see {})",
            panics.other,
            log.display()
        ));
    }
    if panics.reactive_disposed > 0 {
        // Not an answer gone wrong: Leptos' tasks that outlived their render touched a value
        // already disposed (README, "Panics"). Shown, never hidden.
        println!(
            "soak: warning: {} Leptos disposed-value panics in detached tasks, none in an answer",
            panics.reactive_disposed
        );
    }
    if !alive {
        failures.push("Folio exited during the soak".into());
    }
    if ok == 0 {
        failures.push("no request succeeded".into());
    }
    if failures.is_empty() {
        println!("\nsoak: passed");
        Ok(())
    } else {
        Err(format!("soak failed: {}", failures.join("; ")))
    }
}

fn median(xs: &[u64]) -> u64 {
    let mut xs = xs.to_vec();
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or(0)
}
