//! A year of the business customer's invoices as one ZIP: its throughput and Folio's memory
//! while it streams, beside the same files fetched one by one through `/files/{id}/download`
//! (what a customer did before), with the budget set high so that it measures Folio.

use std::time::Instant;

use crate::folio::Http;
use crate::report::{mib, Report};
use crate::rig::Rig;
use crate::Paths;

const BUSINESS: &str = "dana.fischer@example.com";
const YEAR: &str = "2025";
/// Upstream requests a minute: far more than the year's 216 files and their lists, so that
/// the budget never holds the archive up. Not higher: the budget keeps a database row per
/// request a window allows, and a grant picks among them, so an absurd budget would measure
/// that table rather than the archive.
const BUDGET: u32 = 2_000;

/// Bytes and seconds of one streamed GET, read chunk by chunk as a browser would.
async fn streamed(url: &str, cookie: &str) -> Result<(u64, f64), String> {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut response = client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{url}: {}", response.status()));
    }
    let mut bytes = 0_u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        bytes += chunk.len() as u64;
    }
    Ok((bytes, start.elapsed().as_secs_f64()))
}

fn mb_per_s(bytes: u64, seconds: f64) -> String {
    format!("{:.1} MB/s", bytes as f64 / 1e6 / seconds.max(1e-9))
}

pub async fn run(paths: &Paths, report: &mut Report) -> Result<(), String> {
    println!("== a year of invoices as one ZIP");
    let rig = Rig::start(
        paths,
        BUDGET,
        None,
        vec![
            ("FOLIO_ARCHIVE_STREAM_FILES", "100000".to_owned()),
            ("FOLIO_ARCHIVE_MAX_FILES", "10000".to_owned()),
        ],
    )
    .await?;
    let http = Http::new();
    let base = rig.folio.base.clone();
    let cookie = http.sign_in(&base, &rig.inbox, BUSINESS).await?;
    let filters = format!("type=invoice&year={YEAR}");

    // The files, from the list export: their download addresses.
    let csv = http
        .get(&format!("{base}/documents.csv?{filters}"), Some(&cookie))
        .await?;
    let text = String::from_utf8_lossy(&csv.body).into_owned();
    let urls: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .map(str::to_owned)
        .collect();
    if urls.is_empty() {
        return Err("the list export named no invoices".into());
    }

    let (rss_before, _) = rig.folio.rss();
    let url = format!("{base}/documents.zip?{filters}");
    let (cold_bytes, cold_s) = streamed(&url, &cookie).await?;
    let (_, peak_cold) = rig.folio.rss();

    // Baseline: one by one, each through Folio's redirect to the storage host (after the
    // first ZIP, so with its signed URLs at hand: the ratio errs in the baseline's favour).
    let client = reqwest::Client::new();
    let start = Instant::now();
    let mut one_by_one = 0_u64;
    for url in &urls {
        let body = client
            .get(url)
            .header("cookie", &cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        one_by_one += body.len() as u64;
    }
    let baseline_s = start.elapsed().as_secs_f64();

    // The ZIP again: the signed URLs are at hand, so this is Folio and the storage host alone.
    let (warm_bytes, warm_s) = streamed(&url, &cookie).await?;
    let (_, peak) = rig.folio.rss();

    let files = urls.len();
    report.row(
        format!(
            "ZIP of the business's {YEAR} invoices ({files} files, {}), first",
            mib(cold_bytes)
        ),
        format!(
            "{} in {cold_s:.2} s; {:.0} files/s",
            mb_per_s(cold_bytes, cold_s),
            files as f64 / cold_s
        ),
        format!(
            "one by one: {} in {baseline_s:.2} s; {:.0} files/s; ZIP/one-by-one = {:.2}",
            mb_per_s(one_by_one, baseline_s),
            files as f64 / baseline_s,
            baseline_s / cold_s
        ),
    );
    report.row(
        "ZIP again, signed URLs at hand",
        format!("{} in {warm_s:.2} s", mb_per_s(warm_bytes, warm_s)),
        format!("ZIP/one-by-one = {:.2}", baseline_s / warm_s),
    );
    report.row(
        "Peak RSS while the ZIPs streamed",
        format!("{} (first: {})", mib(peak), mib(peak_cold)),
        format!("before: {} RSS", mib(rss_before)),
    );
    rig.folio.stop().await;
    Ok(())
}
