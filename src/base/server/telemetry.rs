//! Logging with tracing: human-readable text by default, JSON lines when configured.

use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, EnvFilter};

use crate::base::server::config::LogConfig;

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

/// Panics of this process, by kind, for `/metrics`.
pub static PANICS: Panics = Panics {
    reactive_disposed: std::sync::atomic::AtomicU64::new(0),
    other: std::sync::atomic::AtomicU64::new(0),
};

pub struct Panics {
    /// Leptos' "reactive value that has already been disposed", in a task that outlived the
    /// render it belonged to (see [`install_panic_hook`]).
    pub reactive_disposed: std::sync::atomic::AtomicU64,
    /// Every other panic: a bug of Folio's, always worth a look.
    pub other: std::sync::atomic::AtomicU64,
}

/// The panics counted so far, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PanicCounts {
    pub reactive_disposed: u64,
    pub other: u64,
}

impl Panics {
    pub fn counts(&self) -> PanicCounts {
        PanicCounts {
            reactive_disposed: self
                .reactive_disposed
                .load(std::sync::atomic::Ordering::Relaxed),
            other: self.other.load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

/// Whether a panic is Leptos' use of a reactive value after its owner was disposed: its
/// message says so, in release builds ("Tried to access a reactive value that has already been
/// disposed.") and in debug builds ("At …, you tried to access a reactive value …, but it has
/// already been disposed.").
pub fn is_reactive_disposed(message: &str) -> bool {
    message.contains("already been disposed")
}

/// Counts every panic by kind, then reports it.
///
/// Leptos' reactive tasks can run once more after the render they belong to has been torn
/// down (an effect or resource task woken on another worker thread at that moment) and then
/// panic on a value already disposed. The panic ends only that detached task: the response was
/// complete, or had been given up, before. Those are logged as one warning line each and
/// counted on `/metrics`; every other panic goes to the standard report ("panicked at …",
/// with its backtrace when asked for) and is logged as an error.
/// Installed once per process, however often this is called.
pub fn install_panic_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(install_hook);
}

fn install_hook() {
    use std::sync::atomic::Ordering;
    let standard = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        let (file, line) = info.location().map_or(("", 0), |l| (l.file(), l.line()));
        if is_reactive_disposed(message) {
            PANICS.reactive_disposed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                kind = "reactive_disposed",
                at = %format!("{file}:{line}"),
                "a Leptos task outlived its render and touched a disposed value; no answer was affected"
            );
        } else {
            PANICS.other.fetch_add(1, Ordering::Relaxed);
            tracing::error!(at = %format!("{file}:{line}"), message, "panic");
            standard(info);
        }
    }));
}

/// The path as logs may show it: a link token or a webhook secret is replaced by `…`.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with("/s/") {
        "/s/…"
    } else if path.starts_with("/hooks/flexportal/") {
        // The webhook secret, when it travels in the path.
        "/hooks/flexportal/…"
    } else {
        path
    }
}
