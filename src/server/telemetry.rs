//! Logging with tracing: human-readable text by default, JSON lines when configured.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

use crate::server::config::LogConfig;

/// Installs the global subscriber. Call once, at start-up.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let installed = if config.json {
        registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    if installed.is_err() {
        eprintln!("folio: a logger was already installed");
    }
}
