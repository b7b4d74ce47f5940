//! `POST /hooks/flexportal`: FlexPortal's webhooks, taken as hints and nothing more.
//!
//! FlexPortal documents no signature, so the endpoint takes a secret of Folio's
//! (`FOLIO_WEBHOOK_SECRET`), in the `X-Folio-Webhook-Secret` header or as the path's last
//! segment (`/hooks/flexportal/<secret>`, for a dashboard that can only set a URL; the request
//! log hides it). Without a configured secret the endpoint does not exist. A wrong secret
//! answers 404, like an unknown path, and nothing of the body is read or logged.
//!
//! The payload is never trusted: an event only marks the named customer's or order's kept
//! answers for refresh, and the refresh asks FlexPortal's API. Marking is idempotent and each
//! answer has at most one refresh in flight, so a flood of events costs at most one refresh
//! per answer.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use flexportal::Ask;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::base::server::answers::not_found;
use crate::base::server::state::AppState;
use crate::base::server::tokens::same_secret;
use crate::base::server::upstream::plausible_id;

/// The header that carries the secret.
pub const SECRET_HEADER: &str = "x-folio-webhook-secret";

/// `{ event, timestamp, data: { customerId?, orderId?, subscriptionId?, … } }`; older
/// payloads name the event `type`.
#[derive(Deserialize)]
struct Event {
    #[serde(alias = "type")]
    event: String,
    #[serde(default)]
    data: EventData,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventData {
    customer_id: Option<String>,
    order_id: Option<String>,
}

/// `POST /hooks/flexportal`, with the secret in its header.
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let given = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok());
    handle(&state, given, &body).await
}

/// `POST /hooks/flexportal/{secret}`.
pub async fn receive_in_path(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    body: Bytes,
) -> Response {
    handle(&state, Some(&secret), &body).await
}

async fn handle(state: &AppState, given: Option<&str>, body: &[u8]) -> Response {
    let Some(secret) = &state.config.answers.webhook_secret else {
        return not_found();
    };
    if !given.is_some_and(|given| same_secret(given, secret.expose_secret())) {
        tracing::warn!("webhook refused: wrong or missing secret");
        return not_found();
    }
    let Ok(event) = serde_json::from_slice::<Event>(body) else {
        return (
            StatusCode::BAD_REQUEST,
            "expected a FlexPortal webhook event",
        )
            .into_response();
    };
    let customer = event.data.customer_id.filter(|id| plausible_id(id));
    let order = event.data.order_id.filter(|id| plausible_id(id));
    let client = &state.upstream.client;
    let mut asks = Vec::new();
    let kind = event.event.split('.').next().unwrap_or("");
    match kind {
        "order" => {
            if let Some(order) = &order {
                asks.extend([Ask::Order(order.clone()), Ask::FilesOf(order.clone())]);
            }
            if let Some(customer) = &customer {
                asks.extend([
                    Ask::Customer(customer.clone()),
                    Ask::OrdersOf(customer.clone()),
                ]);
            }
        }
        "subscription" => {
            if let Some(customer) = &customer {
                asks.extend([
                    Ask::RentalsOf(customer.clone()),
                    Ask::PaymentsOf(customer.clone()),
                ]);
            }
            if let Some(order) = &order {
                asks.push(Ask::FilesOf(order.clone()));
            }
        }
        "payment" => {
            if let Some(customer) = &customer {
                asks.push(Ask::PaymentsOf(customer.clone()));
                // A payment usually comes with an invoice: the customer's file lists too.
                match client.kept_for(customer).await {
                    Ok(kept) => {
                        asks.extend(kept.into_iter().filter(|a| matches!(a, Ask::FilesOf(_))))
                    }
                    Err(e) => return unavailable(e),
                }
            }
            if let Some(order) = &order {
                asks.push(Ask::FilesOf(order.clone()));
            }
        }
        // Assets, and events this version does not know: accepted and ignored.
        _ => {}
    }
    asks.dedup();
    let marked = match client.expire(&asks).await {
        Ok(marked) => marked,
        Err(e) => return unavailable(e),
    };
    tracing::info!(event = %short(&event.event), marked, "webhook received");
    (StatusCode::ACCEPTED, "accepted").into_response()
}

fn unavailable(error: flexportal::Error) -> Response {
    tracing::error!(%error, "webhook: the answer store failed");
    (StatusCode::SERVICE_UNAVAILABLE, "try again later").into_response()
}

/// An event's name as it may be logged: short, and printable.
fn short(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}
