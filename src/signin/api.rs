//! What the sign-in pages need from the server.

use leptos::prelude::*;

use crate::base::error::AppError;
use crate::base::outbox::OutboxMessage;
use crate::signin::model::DemoAccountView;

/// In demo mode, the demo accounts the sign-in page offers (the demo account manager on the
/// staff sign-in page); elsewhere none.
#[server(endpoint = "get_demo_accounts")]
pub async fn get_demo_accounts(staff: bool) -> Result<Vec<DemoAccountView>, AppError> {
    let state = expect_context::<crate::base::server::state::AppState>();
    if staff {
        use crate::base::server::upstream::{DEMO_MANAGER_EMAIL, DEMO_MANAGER_NAME};
        let demo = state.upstream.demo.is_some();
        return Ok(demo
            .then(|| DemoAccountView {
                email: DEMO_MANAGER_EMAIL.to_owned(),
                name: DEMO_MANAGER_NAME.to_owned(),
                description: "Account manager".to_owned(),
            })
            .into_iter()
            .collect());
    }
    Ok(state
        .upstream
        .demo
        .as_ref()
        .map(|demo| {
            demo.accounts
                .iter()
                .map(|a| DemoAccountView {
                    email: a.email.clone(),
                    name: a.name.clone(),
                    description: a.description.clone(),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The address a sign-in was last asked for in this session, if any.
#[server(endpoint = "get_pending_sign_in")]
pub async fn get_pending_sign_in() -> Result<Option<String>, AppError> {
    Ok(
        crate::base::server::principal::request_extension::<crate::signin::server::PendingSignIn>()
            .map(|p| p.email),
    )
}

/// The address a sign-in link signs in, while the link can still be used; `None` for an
/// unknown, used or expired one. Only the holder of the link's token can ask, and the token
/// already signs them in: the address tells them whose account they are about to enter.
#[server(endpoint = "get_sign_in_link")]
pub async fn get_sign_in_link(token: String, staff: bool) -> Result<Option<String>, AppError> {
    let state = expect_context::<crate::base::server::state::AppState>();
    crate::signin::server::link_address(&state, &token, staff)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read the sign-in attempt");
            AppError::Unavailable
        })
}

/// The demo outbox, newest first. Outside demo mode there is no outbox: not found.
#[server(endpoint = "get_outbox")]
pub async fn get_outbox() -> Result<Vec<OutboxMessage>, AppError> {
    let state = expect_context::<crate::base::server::state::AppState>();
    state.mailer.outbox().ok_or(AppError::NotFound)
}
