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

/// `/readyz`: Folio can serve pages: the built site is in place, the database answers and
/// FlexPortal's host accepts connections.
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
            ok: state.upstream.client.reachable().await,
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

/// `/metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
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
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
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
}
