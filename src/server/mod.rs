//! Everything that runs only on the server: configuration, state, the HTTP router, security
//! middleware and telemetry.

pub mod auth;
pub mod clock;
pub mod config;
pub mod counters;
pub mod documents;
pub mod files;
pub mod health;
pub mod links;
pub mod locale;
pub mod mail;
pub mod manage;
pub mod page_cache;
pub mod rate_limit;
pub mod router;
pub mod security;
pub mod session;
pub mod staff;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod upstream;

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::serve::ListenerExt;

pub use config::Config;
pub use router::router;
pub use state::AppState;

/// Reads the configuration, builds the state and serves until SIGINT or SIGTERM.
pub async fn run() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("folio: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    telemetry::install_panic_hook();

    let addr = config.addr;
    let state = match AppState::new(config).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    spawn_cleanup(state.clone());
    let app = router(state);

    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(%addr, error = %err, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    // Leptos streams a page in several writes; without TCP_NODELAY, Nagle's algorithm and
    // delayed ACKs hold each response back by about 40 ms.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tracing::info!(%addr, "folio is listening");

    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    match served {
        Ok(()) => {
            tracing::info!("folio stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// Removes expired sessions and sign-in attempts every ten minutes.
fn spawn_cleanup(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match state.store.delete_expired(state.clock.now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired sessions and sign-ins removed"),
                Err(e) => tracing::warn!(error = %e, "cleanup failed"),
            }
        }
    });
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM; in-flight requests then finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
