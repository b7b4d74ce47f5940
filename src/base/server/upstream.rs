//! Connecting to FlexPortal: the configured tenant, or in demo mode the stand-in, started
//! in-process on a loopback port and spoken to over real HTTP like the real thing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flexportal::{Client, ClientConfig};
use flexportal_sim::{DemoAccount, RunningSim, Sim};
use secrecy::SecretString;

use crate::base::server::answer_store::SqlAnswers;
use crate::base::server::config::{Config, Upstream};
use crate::base::server::store::Store;

/// The upstream Folio talks to.
#[derive(Clone)]
pub struct UpstreamHandle {
    pub client: Client,
    /// The answers kept in Folio's database, unless `FOLIO_ANSWER_STORE=memory`.
    pub answers: Option<SqlAnswers>,
    /// Present in demo mode: the running stand-in (kept alive here) and its accounts.
    pub demo: Option<Arc<Demo>>,
}

pub struct Demo {
    pub sim: RunningSim,
    pub accounts: Vec<DemoAccount>,
}

impl std::fmt::Debug for UpstreamHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamHandle")
            .field("tenant", &self.client.tenant_id())
            .field("demo", &self.demo.is_some())
            .finish()
    }
}

/// Builds the client for the configured tenant, starting the stand-in first in demo mode. Its
/// answers and budget live in `store`'s database unless the configuration keeps them in memory.
pub async fn connect(config: &Config, store: &Store) -> std::io::Result<UpstreamHandle> {
    let (client_config, demo) = match &config.upstream {
        Upstream::Tenant {
            base_url,
            tenant_id,
            api_key,
        } => (
            ClientConfig::new(base_url.clone(), tenant_id.clone(), api_key.clone()),
            None,
        ),
        Upstream::Demo => {
            let sim = Sim::demo().spawn("127.0.0.1:0").await?;
            tracing::info!(base_url = %sim.base_url, "demo mode: the stand-in FlexPortal is running");
            let client_config = ClientConfig::new(
                sim.base_url.clone(),
                sim.tenant_id.clone(),
                SecretString::from(sim.api_key.clone()),
            );
            let accounts = sim.accounts.clone();
            (client_config, Some(Arc::new(Demo { sim, accounts })))
        }
    };
    let answers = &config.answers;
    let client_config = ClientConfig {
        allowance: answers.allowance,
        freshness: answers.freshness,
        stale_while_revalidate: answers.stale_while_revalidate,
        time_scale: answers.time_scale,
        request_timeout: Duration::from_millis(u64::from(config.upstream_timeout_ms)),
        ..client_config
    };
    let (client, answers) = if answers.shared_store {
        let kept = SqlAnswers::new(store.clone(), answers.allowance)
            .await
            .map_err(std::io::Error::other)?;
        let client = Client::with_store(client_config, Arc::new(kept.clone()));
        (client, Some(kept))
    } else {
        (Client::new(client_config), None)
    };
    let client = client.map_err(std::io::Error::other)?;
    Ok(UpstreamHandle {
        client,
        answers,
        demo,
    })
}

/// Ids longer than this are not ids.
const MAX_ID_LEN: usize = 200;

/// Ids are opaque, but some strings cannot be one: empty, huge, with control characters, or
/// made of dots only (which a URL would resolve as a path step, reaching another endpoint).
pub fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.chars().any(char::is_control)
        && !id.chars().all(|c| c == '.')
}

/// The account manager every demo-mode Folio has, listed on `/manage/login`. Part of the demo
/// tenant's description, like its customers: the staff feature puts them on the staff and the
/// sign-in page lists them.
pub const DEMO_MANAGER_EMAIL: &str = "alex.morgan@example.net";
pub const DEMO_MANAGER_NAME: &str = "Alex Morgan";

/// How long one look at FlexPortal's host answers `/readyz`: load balancers ask every few
/// seconds, each instance, and the host is FlexPortal's, not ours to poll.
const UPSTREAM_PROBE_FOR: Duration = Duration::from_secs(5);

/// The last look at whether FlexPortal's host accepts connections.
#[derive(Debug, Default)]
pub struct UpstreamProbe {
    last: Mutex<Option<(Instant, bool)>>,
}

impl UpstreamProbe {
    /// The answer of a look taken within [`UPSTREAM_PROBE_FOR`], or of a new look.
    pub async fn reachable(&self, client: &flexportal::Client) -> bool {
        let recent = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, ok)) = recent.filter(|(at, _)| at.elapsed() < UPSTREAM_PROBE_FOR) {
            return ok;
        }
        let ok = client.reachable().await;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), ok));
        ok
    }
}
