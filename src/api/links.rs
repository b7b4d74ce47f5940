//! What a link's landing page and the customer's access page read.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AccessLog, ShareLanding};

#[cfg(feature = "ssr")]
use super::ssr;

/// `/s/{token}`: who shared what, until when. Unknown tokens are not found; links that no
/// longer open are gone (410), with the reason.
#[server(endpoint = "get_share")]
pub async fn get_share(token: String) -> Result<ShareLanding, AppError> {
    let state = expect_context::<crate::server::AppState>();
    ssr::fill(crate::server::links::landing(&state, &token).await)
}

/// `/access`: the links to the signed-in customer's documents and who opened them. Only the
/// customer themselves may read it; a link session may not.
#[server(endpoint = "get_access")]
pub async fn get_access() -> Result<AccessLog, AppError> {
    use crate::server::auth::Principal;
    let state = expect_context::<crate::server::AppState>();
    let Some(Principal::Customer { customer_id, .. }) = crate::server::auth::current_principal()
    else {
        return ssr::fill(Err(AppError::Unauthorized));
    };
    ssr::fill(crate::server::manage::access_log(&state, &customer_id).await)
}
