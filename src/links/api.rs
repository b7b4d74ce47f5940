//! What a link's landing page and the customer's access page read.

use leptos::prelude::*;

use crate::base::error::AppError;
use crate::links::model::{AccessLog, LinkLanding};

#[cfg(feature = "ssr")]
use crate::base::server::calls as ssr;

/// `/s/{token}`: who shared what, until when. Unknown tokens are not found; links that no
/// longer open are gone (410), with the reason.
#[server(endpoint = "get_share")]
pub async fn get_link_landing(token: String) -> Result<LinkLanding, AppError> {
    let state = expect_context::<crate::base::server::state::AppState>();
    ssr::fill(crate::links::server::landing(&state, &token).await)
}

/// `/access`: the links to the signed-in customer's documents and who opened them. Only the
/// customer themselves may read it; a link session may not.
#[server(endpoint = "get_access")]
pub async fn get_access() -> Result<AccessLog, AppError> {
    use crate::base::server::principal::Principal;
    let state = expect_context::<crate::base::server::state::AppState>();
    let Some(Principal::Customer { customer_id, .. }) =
        crate::base::server::principal::current_principal()
    else {
        return ssr::fill(Err(AppError::Unauthorized));
    };
    ssr::fill(crate::links::server::access_log(&state, &customer_id).await)
}
