//! The HTTP side: FlexPortal's documented routes, signed storage URLs and the admin switches.

mod api;
mod files;
mod records;
mod state;

use api::{api_guard, ApiError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use files::{file_url, get_file, list_files, storage};
use records::{
    get_customer, get_order, get_payment, get_subscription, list_customers, list_orders,
    list_payments, list_subscriptions,
};
use serde_json::json;

use crate::data::DemoAccount;
use crate::faults::FaultPatch;

pub use state::SimState;

/// The sim's routes. `/__sim/*` exists only when the sim was built with admin endpoints on.
pub fn router(state: SimState) -> Router {
    let api = Router::new()
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{customerId}", get(get_customer))
        .route("/v1/orders", get(list_orders))
        .route("/v1/orders/{orderId}", get(get_order))
        .route("/v1/subscriptions", get(list_subscriptions))
        .route("/v1/subscriptions/{subscriptionId}", get(get_subscription))
        .route("/v1/payments", get(list_payments))
        .route("/v1/payments/{paymentId}", get(get_payment))
        .route("/v1/files", get(list_files))
        .route("/v1/files/url", post(file_url))
        .route("/v1/files/{fileId}", get(get_file))
        .layer(middleware::from_fn_with_state(state.clone(), api_guard));
    let mut app = Router::new()
        .merge(api)
        .route("/storage/{fileId}", get(storage))
        .fallback(|| async { ApiError::not_found("Route") });
    if state.0.admin {
        app = app
            .route("/__sim/faults", get(admin_faults).post(admin_set_faults))
            .route("/__sim/reset", post(admin_reset))
            .route(
                "/__sim/counters",
                get(admin_counters).delete(admin_reset_counters),
            )
            .route("/__sim/accounts", get(admin_accounts));
    }
    app.with_state(state)
}

async fn admin_faults(State(s): State<SimState>) -> Response {
    Json(s.0.faults.settings()).into_response()
}

async fn admin_set_faults(State(s): State<SimState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultPatch>(&body) {
        Ok(patch) => {
            s.0.faults.apply(&patch);
            Json(s.0.faults.settings()).into_response()
        }
        Err(e) => ApiError::validation(e.to_string()).into_response(),
    }
}

async fn admin_reset(State(s): State<SimState>) -> Response {
    s.0.faults.reset();
    s.0.counters.reset();
    Json(s.0.faults.settings()).into_response()
}

async fn admin_counters(State(s): State<SimState>) -> Response {
    Json(json!({"total": s.0.counters.total(), "byEndpoint": s.0.counters.snapshot()}))
        .into_response()
}

async fn admin_reset_counters(State(s): State<SimState>) -> StatusCode {
    s.0.counters.reset();
    StatusCode::NO_CONTENT
}

async fn admin_accounts(State(s): State<SimState>) -> Json<Vec<DemoAccount>> {
    Json(s.tenant().demo_accounts())
}
