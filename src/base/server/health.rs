//! Liveness and readiness for load balancers and orchestrators.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::base::server::state::AppState;
use crate::base::server::tokens::same_secret;

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

/// `/readyz`: Folio can serve pages: the built site is in place, the database answers and
/// FlexPortal's host accepted connections within the last few seconds.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let pkg = std::path::Path::new(&*state.leptos_options.site_root).join("pkg");
    let checks = vec![
        Check {
            name: "site",
            ok: tokio::fs::metadata(&pkg).await.is_ok_and(|m| m.is_dir()),
        },
        Check {
            name: "database",
            ok: state.store.ping().await,
        },
        Check {
            name: "upstream",
            ok: state.upstream_probe.reachable(&state.upstream.client).await,
        },
    ];
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}

/// Whether this request may read `/metrics`: with `FOLIO_METRICS_TOKEN` set, it must carry
/// `Authorization: Bearer <token>`; without, it must come from this machine and not through a
/// proxy (a proxy on this machine would make every visitor look local).
fn may_read_metrics(state: &AppState, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
    use secrecy::ExposeSecret;
    match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| same_secret(given.trim(), token.expose_secret())),
        None => {
            peer.is_some_and(|p| p.ip().is_loopback())
                && !headers.contains_key("x-forwarded-for")
                && !headers.contains_key(header::FORWARDED)
        }
    }
}

/// `/metrics`: Prometheus text format, for the operator only (see [`may_read_metrics`]).
pub async fn metrics(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| *peer);
    if !may_read_metrics(&state, peer, request.headers()) {
        let mut refused = (
            StatusCode::UNAUTHORIZED,
            "metrics need the operator's token\n",
        )
            .into_response();
        refused.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        return refused;
    }
    let text = state.metrics_text();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
