//! A stand-in FlexPortal API server.
//!
//! It speaks the documented shapes of the endpoints Folio uses, enforces `Authorization` and
//! `Tenant-ID`, serves file bytes behind its own HMAC-signed expiring URLs, seeds a
//! deterministic demo tenant, and can misbehave on request (see [`Faults`]).
//!
//! Admin endpoints (only with [`Sim::with_admin`]; no API headers needed):
//!
//! | Route | Effect |
//! |---|---|
//! | `GET /__sim/faults` | current [`FaultSettings`] |
//! | `POST /__sim/faults` | apply a partial [`FaultPatch`] (camelCase JSON), returns the settings |
//! | `POST /__sim/reset` | switch every fault off and zero the counters |
//! | `GET /__sim/counters` | `{total, byEndpoint: {"GET /v1/orders": n, ...}}` |
//! | `DELETE /__sim/counters` | zero the counters |
//! | `GET /__sim/accounts` | the demo accounts ([`DemoAccount`]) |
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = flexportal_sim::Sim::demo().spawn("127.0.0.1:0").await?;
//! sim.faults.fail_next_with_500(1);
//! println!("{} {} {}", sim.base_url, sim.api_key, sim.tenant_id);
//! # Ok(()) }
//! ```

mod content;
mod data;
mod faults;
mod server;
mod util;

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use data::{
    crowd_email, Address, Customer, DemoAccount, File, Item, LineItem, Order, OrderCustomer,
    Payment, Rental, RentalProgress, Tenant, Totals, DEMO_API_KEY, DEMO_TENANT_ID, DEMO_TODAY,
};
pub use faults::{Counters, CustomerChange, FaultPatch, FaultSettings, Faults};
pub use server::{router, SimState};

/// A configured but not yet running sim.
pub struct Sim {
    tenant: Tenant,
    api_key: String,
    admin: bool,
    public_base_url: Option<String>,
    faults: Faults,
    counters: Counters,
}

impl Sim {
    /// The seeded demo tenant, accepting [`DEMO_API_KEY`] for tenant [`DEMO_TENANT_ID`].
    /// Admin endpoints are off.
    pub fn demo() -> Self {
        Self {
            tenant: Tenant::demo(),
            api_key: DEMO_API_KEY.to_owned(),
            admin: false,
            public_base_url: None,
            faults: Faults::new(),
            counters: Counters::default(),
        }
    }

    /// Serve `tenant` instead of the demo tenant (e.g. [`Tenant::demo_with_crowd`]).
    #[must_use]
    pub fn with_tenant(mut self, tenant: Tenant) -> Self {
        self.tenant = tenant;
        self
    }

    /// Accept a different API key.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Serve the `/__sim/*` admin endpoints (fault switches, counters, demo accounts).
    #[must_use]
    pub fn with_admin(mut self, on: bool) -> Self {
        self.admin = on;
        self
    }

    /// The origin put into signed URLs, for when the address clients reach the sim by differs
    /// from the `Host` they send (e.g. behind a proxy). By default the request's `Host` is used.
    #[must_use]
    pub fn with_public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant.tenant_id
    }

    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn demo_accounts(&self) -> Vec<DemoAccount> {
        self.tenant.demo_accounts()
    }

    /// The fault switches; the handle stays valid after the sim starts.
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Per-endpoint call counts; the handle stays valid after the sim starts.
    pub fn counters(&self) -> Counters {
        self.counters.clone()
    }

    /// The shared state for [`router`], to drive the sim without a socket.
    pub fn into_state(self) -> SimState {
        SimState::new(
            self.tenant,
            self.api_key,
            self.faults,
            self.counters,
            self.admin,
            self.public_base_url,
        )
    }

    /// Binds `addr` (use port 0 for any free port) and serves in a background task until the
    /// returned handle is shut down or dropped.
    pub async fn spawn(self, addr: impl ToSocketAddrs) -> io::Result<RunningSim> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let api_key = self.api_key.clone();
        let tenant_id = self.tenant.tenant_id.clone();
        let accounts = self.tenant.demo_accounts();
        let faults = self.faults.clone();
        let counters = self.counters.clone();
        let app = router(self.into_state());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                eprintln!("flexportal-sim stopped: {e}");
            }
        });
        Ok(RunningSim {
            base_url,
            addr: local,
            api_key,
            tenant_id,
            accounts,
            faults,
            counters,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A sim serving on a loopback port. Dropping it stops the server, so keep it alive as long
/// as clients need it.
pub struct RunningSim {
    /// `http://127.0.0.1:PORT`, without a trailing slash or `/v1`.
    pub base_url: String,
    pub addr: SocketAddr,
    pub api_key: String,
    pub tenant_id: String,
    pub accounts: Vec<DemoAccount>,
    pub faults: Faults,
    pub counters: Counters,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// Stops accepting connections and waits for open requests to finish. Hanging requests
    /// (see [`Faults::hang_next`]) are cut off instead of awaited.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
