//! `flexportal-sim [ADDR]`: serves the demo tenant until interrupted.
//!
//! The address comes from the first argument, else `FLEXPORTAL_SIM_ADDR`, else 127.0.0.1:4010.
//! `FLEXPORTAL_SIM_ADMIN=1` enables the `/__sim/*` fault switches; `FLEXPORTAL_SIM_API_KEY`
//! replaces the demo key.

use flexportal_sim::Sim;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("FLEXPORTAL_SIM_ADDR").ok())
        .unwrap_or_else(|| "127.0.0.1:4010".to_owned());
    let admin = std::env::var("FLEXPORTAL_SIM_ADMIN")
        .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"));
    let mut sim = Sim::demo().with_admin(admin);
    if let Ok(key) = std::env::var("FLEXPORTAL_SIM_API_KEY") {
        sim = sim.with_api_key(key);
    }
    let accounts = sim.demo_accounts();
    let running = match sim.spawn(addr.as_str()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flexportal-sim: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("FlexPortal stand-in listening on {}", running.base_url);
    println!("FLEXPORTAL_BASE_URL={}", running.base_url);
    println!("FLEXPORTAL_API_KEY={}", running.api_key);
    println!("FLEXPORTAL_TENANT_ID={}", running.tenant_id);
    println!(
        "admin endpoints: {}",
        if admin {
            "/__sim/faults, /__sim/reset, /__sim/counters, /__sim/accounts"
        } else {
            "off (FLEXPORTAL_SIM_ADMIN=1 enables them)"
        }
    );
    println!("demo accounts:");
    for a in &accounts {
        println!("  {:<30} {} - {}", a.email, a.customer_id, a.description);
    }
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
}
