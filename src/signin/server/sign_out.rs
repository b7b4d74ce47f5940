//! Signing out, here or everywhere.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::flow::audit;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::principal::Principal;
use crate::base::server::session::PRINCIPAL_KEY;
use crate::base::server::state::AppState;

/// `POST /logout`.
pub async fn sign_out(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
) -> Response {
    if let Ok(Some(principal)) = session.get::<Principal>(PRINCIPAL_KEY).await {
        audit(
            &state,
            "signed_out",
            principal.subject(),
            principal.customer_id(),
            None,
            &ip,
        )
        .await;
    }
    let _ = session.flush().await;
    signed_out()
}

/// Where sign-out leads: the start page, with the browser told to drop what it may have kept
/// of the pages seen in this session (its cache, and so the Back button's copies).
fn signed_out() -> Response {
    ([("clear-site-data", "\"cache\"")], Redirect::to("/")).into_response()
}

/// `POST /logout/everywhere`: ends every session of the signed-in person.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
) -> Response {
    // A link's sessions are its recipients', one each: leaving ends only this one.
    let principal = session
        .get::<Principal>(PRINCIPAL_KEY)
        .await
        .ok()
        .flatten()
        .filter(|p| p.link_id().is_none());
    if let Some(principal) = principal {
        match state
            .store
            .sessions_delete_subject(principal.subject())
            .await
        {
            Ok(ended) => tracing::info!(ended, "signed out everywhere"),
            Err(e) => tracing::error!(error = %e, "cannot end the other sessions"),
        }
        audit(
            &state,
            "signed_out_everywhere",
            principal.subject(),
            principal.customer_id(),
            None,
            &ip,
        )
        .await;
    }
    let _ = session.flush().await;
    signed_out()
}
