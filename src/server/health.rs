//! Liveness and readiness for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode, Json};
use serde::Serialize;

use crate::server::state::AppState;

/// `/healthz`: the process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
pub struct Readiness {
    ready: bool,
    checks: Vec<Check>,
}

#[derive(Serialize)]
pub struct Check {
    name: &'static str,
    ok: bool,
}

/// `/readyz`: Folio can serve pages: the built site is in place.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let pkg = std::path::Path::new(&*state.leptos_options.site_root).join("pkg");
    let checks = vec![Check {
        name: "site",
        ok: tokio::fs::metadata(&pkg).await.is_ok_and(|m| m.is_dir()),
    }];
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}
