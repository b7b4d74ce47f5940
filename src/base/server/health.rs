//! Liveness and readiness for load balancers and orchestrators.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;

use crate::base::server::counters::Counters;
use crate::base::server::state::AppState;
use crate::base::server::telemetry::PANICS;

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

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
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
    let m = state.upstream.client.metrics();
    let pages = state.pages.stats();
    let mut out = String::new();
    for (name, help, value) in [
        (
            "folio_upstream_requests_total",
            "Requests sent to FlexPortal, retries included.",
            m.upstream_requests,
        ),
        (
            "folio_upstream_cache_hits_total",
            "Upstream reads answered from the cache.",
            m.cache_hits,
        ),
        (
            "folio_upstream_cache_misses_total",
            "Upstream reads that went to FlexPortal.",
            m.cache_misses,
        ),
        (
            "folio_upstream_coalesced_total",
            "Upstream reads that shared an identical read in flight.",
            m.coalesced,
        ),
        (
            "folio_upstream_stale_served_total",
            "Reads answered with stale data because FlexPortal failed.",
            m.stale_served,
        ),
        (
            "folio_upstream_rate_limited_total",
            "429 answers from FlexPortal.",
            m.rate_limited,
        ),
        (
            "folio_upstream_retries_total",
            "Requests to FlexPortal sent again after a failure.",
            m.retries,
        ),
        (
            "folio_upstream_failures_total",
            "Requests to FlexPortal that failed for good.",
            m.failures,
        ),
        (
            "folio_page_cache_hits_total",
            "Customer page views answered with a kept page.",
            pages.hits,
        ),
        (
            "folio_page_cache_misses_total",
            "Customer page views rendered.",
            pages.misses,
        ),
        (
            "folio_sign_in_codes_compared_total",
            "Sign-in codes compared with a stored attempt's code.",
            Counters::get(&state.counters.codes_compared),
        ),
        (
            "folio_sign_in_codes_refused_total",
            "Sign-in codes refused uncompared: no usable attempt, or its five tries spent.",
            Counters::get(&state.counters.codes_refused),
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        ));
    }
    out.push_str(
        "# HELP folio_panics_total Panics of this process: reactive_disposed are Leptos tasks \
         that outlived their render (no answer affected); other are bugs.\n\
         # TYPE folio_panics_total counter\n",
    );
    for (kind, counter) in [
        ("reactive_disposed", &PANICS.reactive_disposed),
        ("other", &PANICS.other),
    ] {
        out.push_str(&format!(
            "folio_panics_total{{kind=\"{kind}\"}} {}\n",
            Counters::get(counter)
        ));
    }
    for (name, help, value) in [
        (
            "folio_page_cache_pages",
            "Rendered pages kept.",
            pages.pages,
        ),
        (
            "folio_page_cache_bytes",
            "Bytes of rendered pages kept.",
            pages.bytes,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
        .into_response()
}
