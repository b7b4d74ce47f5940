//! The state every handler, page and server function shares.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use secrecy::ExposeSecret;

use crate::base::server::answer_store::SqlAnswers;
use crate::base::server::clock::Clock;
use crate::base::server::config::Config;
use crate::base::server::mail::Mailer;
use crate::base::server::metrics::{Metrics, Sources};
use crate::base::server::page_cache::PageCache;
use crate::base::server::rate_limit::{FileLookups, SharedLimiter, LIMIT_WINDOW_SECS};
use crate::base::server::store::Store;
use crate::base::server::telemetry::PANICS;
use crate::base::server::tokens::{random_token, Secrets};
use crate::base::server::upstream::{self, UpstreamHandle, UpstreamProbe};
use crate::base::who::SiteInfo;

/// Cheap to clone: everything inside is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub upstream: UpstreamHandle,
    pub store: Store,
    pub mailer: Arc<Mailer>,
    pub clock: Clock,
    pub limits: Arc<Limits>,
    pub secrets: Secrets,
    pub pages: Arc<PageCache>,
    /// This app's series for `/metrics`: its own, not the process's.
    pub metrics: Arc<Metrics>,
    pub upstream_probe: Arc<UpstreamProbe>,
}

/// The rate limits.
#[derive(Debug)]
pub struct Limits {
    /// Sign-in requests and code tries per client address, for every instance.
    pub ip: SharedLimiter,
    /// Sign-in mails per address, for every instance.
    pub email: SharedLimiter,
    /// File ids the file routes may ask FlexPortal about, per principal.
    pub files: FileLookups,
}

/// Why Folio could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot reach FlexPortal or start the demo: {0}")]
    Upstream(#[from] std::io::Error),
    #[error("cannot open the database (DATABASE_URL): {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Mail(String),
}

impl AppState {
    /// Builds the platform's state: opens (and migrates) the database, connects to FlexPortal
    /// (in demo mode: starts the stand-in), prepares mail. The features' parts are added where
    /// the app is assembled: use `crate::server::assemble`, which also puts the demo account
    /// manager on the staff in demo mode.
    pub async fn new(config: Config) -> Result<Self, StartError> {
        let store = Store::connect(&config.database_url).await?;
        let upstream = upstream::connect(&config, &store).await?;
        if let Some(answers) = &upstream.answers {
            keep_answers_bounded(
                answers.clone(),
                store.clone(),
                Duration::from_secs(u64::from(config.answers.retention_days) * 86_400),
                i64::from(config.answers.store_mb) * 1024 * 1024,
            );
        }
        let demo = config.upstream.is_demo();
        let mailer = Mailer::new(&config.mail, demo).map_err(StartError::Mail)?;
        let secrets = match &config.session_secret {
            Some(secret) => Secrets::new(secret.expose_secret()),
            // Demo mode may run without one: generate it once and keep it, so that codes in
            // flight survive a restart.
            None => Secrets::new(
                &store
                    .setting_or_insert("session_secret", &random_token(32))
                    .await?,
            ),
        };
        // A customer record fetched anew may end sessions it no longer allows.
        let watched = store.clone();
        upstream.client.watch_customers(Arc::new(move |customer| {
            let store = watched.clone();
            Box::pin(
                async move { crate::base::server::session::end_outlived(&store, &customer).await },
            )
        }));
        let pages = PageCache::new(config.page_cache_mb as usize * 1024 * 1024);
        let limits = Limits {
            ip: SharedLimiter::new(store.clone(), "ip", LIMIT_WINDOW_SECS),
            email: SharedLimiter::new(store.clone(), "email", LIMIT_WINDOW_SECS),
            files: FileLookups::default(),
        };
        Ok(Self {
            leptos_options: leptos_options(&config.site_root),
            config: Arc::new(config),
            upstream,
            store,
            mailer: Arc::new(mailer),
            clock: Clock::default(),
            limits: Arc::new(limits),
            secrets,
            pages: Arc::new(pages),
            metrics: Arc::default(),
            upstream_probe: Arc::default(),
        })
    }

    /// This app's series in Prometheus' text format, as `/metrics` shows them.
    pub fn metrics_text(&self) -> String {
        self.metrics.render(Sources {
            upstream: self.upstream.client.metrics(),
            pages: self.pages.stats(),
            panics: PANICS.counts(),
        })
    }

    /// The part of the configuration that pages show.
    pub fn site_info(&self) -> SiteInfo {
        let brand = &self.config.brand;
        SiteInfo {
            brand_name: brand.name.clone(),
            brand_color: brand.color.clone(),
            brand_logo: brand.logo.clone(),
            demo: self.config.upstream.is_demo(),
            zip_stream_files: self.config.archives.stream_files,
        }
    }
}

/// How often the kept answers are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Prunes the kept answers and the sign-in counts of past windows every minute, for as long
/// as the process runs.
fn keep_answers_bounded(answers: SqlAnswers, store: Store, retention: Duration, max_bytes: i64) {
    tokio::spawn(async move {
        loop {
            let window = flexportal::clock::now_ms() / 1000 / LIMIT_WINDOW_SECS;
            if let Err(e) = store.rate_prune(window - 1).await {
                tracing::warn!(error = %e, "cannot prune the sign-in counts");
            }
            match answers.prune(retention, max_bytes).await {
                Ok(0) => {}
                Ok(gone) => tracing::info!(gone, "kept answers pruned"),
                Err(e) => tracing::warn!(error = %e, "cannot prune the kept answers"),
            }
            tokio::time::sleep(PRUNE_EVERY).await;
        }
    });
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Leptos' own options. The site layout is fixed by `Cargo.toml`; only its root may move.
/// cargo-leptos writes `hash.txt` beside the binary when it builds hashed file names, and the
/// pages then link the hashed files.
fn leptos_options(site_root: &str) -> LeptosOptions {
    let hash_file = "hash.txt";
    let hash_files = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file).exists()))
        .unwrap_or(false);
    LeptosOptions::builder()
        .output_name("folio")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .hash_file(std::sync::Arc::from(hash_file))
        .hash_files(hash_files)
        .build()
}
