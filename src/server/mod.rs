//! The assembled server: the features on the platform, behind one router. Reads the
//! configuration, builds the state and serves until SIGINT or SIGTERM.

mod answers;
pub mod cli;
mod principal;
pub mod router;

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::serve::ListenerExt;

use crate::base::server::telemetry;

pub use crate::base::server::config::Config;
pub use crate::base::server::state::{AppState, StartError};
pub use router::router;

/// The state with every feature's part in it: the platform's state, and in demo mode the demo
/// account manager on the staff.
pub async fn assemble(config: Config) -> Result<AppState, StartError> {
    let state = AppState::new(config).await?;
    if state.config.upstream.is_demo() {
        crate::staff::server::command::seed_demo(&state.store).await?;
    }
    Ok(state)
}

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
    let state = match assemble(config).await {
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

/// Removes expired sessions, sign-in attempts and archives every ten minutes.
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
            match state.store.archives_sweep(state.clock.now_ms()).await {
                Ok((0, 0)) => {}
                Ok((expired, interrupted)) => {
                    tracing::info!(expired, interrupted, "background archives swept")
                }
                Err(e) => tracing::warn!(error = %e, "archive cleanup failed"),
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
