//! What the client costs per call, next to a plain reqwest call to the same stand-in in the same
//! run (machines are noisy, so only ratios within one run mean anything).
//!
//! `cargo run --release -p flexportal --example client_bench [calls]`

use std::time::{Duration, Instant};

use flexportal::model::Order;
use flexportal::{Allowance, Client, ClientConfig, Freshness};
use flexportal_sim::Sim;
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let sim = Sim::demo().spawn("127.0.0.1:0").await.expect("sim starts");
    let url = format!("{}/v1/orders/ord_10001", sim.base_url);

    // Uncached: every read waits for FlexPortal (and keeps its answer, as every read does).
    let config = |ttl| ClientConfig {
        allowance: Allowance::per_minute(u32::MAX),
        freshness: Freshness::flat(ttl),
        stale_while_revalidate: ttl > Duration::ZERO,
        ..ClientConfig::new(
            sim.base_url.clone(),
            sim.tenant_id.clone(),
            SecretString::from(sim.api_key.clone()),
        )
    };
    let uncached = Client::new(config(Duration::ZERO)).unwrap();
    let cached = Client::new(config(Duration::from_secs(3600))).unwrap();
    let plain = reqwest::Client::new();

    let plain_call = || async {
        let response = plain
            .get(&url)
            .bearer_auth(&sim.api_key)
            .header("Tenant-ID", &sim.tenant_id)
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let order: Order = serde_json::from_slice(&bytes).unwrap();
        order
    };

    // Warm up connections, the sim's lazy data and the cache.
    for _ in 0..100 {
        plain_call().await;
        uncached.order("ord_10001").await.unwrap();
        cached.order("ord_10001").await.unwrap();
    }

    let plain_times = measure(calls, || async {
        plain_call().await;
    })
    .await;
    let uncached_times = measure(calls, || async {
        uncached.order("ord_10001").await.unwrap();
    })
    .await;
    let cached_times = measure(calls, || async {
        cached.order("ord_10001").await.unwrap();
    })
    .await;

    let plain_mean = mean(&plain_times);
    println!("flexportal client benchmark: {calls} sequential calls each, GET /v1/orders/{{id}} on the stand-in");
    println!("| call | mean | p50 | p99 | mean vs plain reqwest |");
    println!("|---|---|---|---|---|");
    for (name, times) in [
        ("plain reqwest + serde (baseline)", &plain_times),
        (
            "client, uncached (budget, retries, typed errors)",
            &uncached_times,
        ),
        ("client, cached", &cached_times),
    ] {
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {:.1} µs | {:.3}× |",
            mean(times),
            pct(times, 0.50),
            pct(times, 0.99),
            mean(times) / plain_mean
        );
    }
    println!(
        "client overhead per uncached call: {:+.1} µs; a cached call costs {:.4}× a plain call",
        mean(&uncached_times) - plain_mean,
        mean(&cached_times) / plain_mean
    );
    sim.shutdown().await;
}

async fn measure<F, Fut>(calls: usize, mut call: F) -> Vec<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        call().await;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    times
}

fn mean(times: &[f64]) -> f64 {
    times.iter().sum::<f64>() / times.len() as f64
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}
