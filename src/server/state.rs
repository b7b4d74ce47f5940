//! The state every handler, page and server function shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::model::SiteInfo;
use crate::server::config::Config;
use crate::server::upstream::{self, UpstreamHandle};

/// Cheap to clone: everything inside is shared.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub upstream: UpstreamHandle,
}

impl AppState {
    /// Builds the state, connecting to FlexPortal (in demo mode: starting the stand-in).
    pub async fn new(config: Config) -> std::io::Result<Self> {
        let upstream = upstream::connect(&config).await?;
        Ok(Self {
            leptos_options: leptos_options(&config.site_root),
            config: Arc::new(config),
            upstream,
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
        }
    }
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
