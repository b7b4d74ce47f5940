//! Loads the principal of every request from its session, checking a link session's link
//! again, and keeps the session alive.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use crate::base::server::answers::database_down;
use crate::base::server::locale::request_locale;
use crate::base::server::principal::Principal;
use crate::base::server::session::{PENDING_KEY, PRINCIPAL_KEY};
use crate::base::server::state::AppState;
use crate::signin::server::PendingSignIn;

/// Loads the principal (and a pending sign-in) from the session into the request's
/// extensions, where pages and server functions read it; ends sessions past their absolute
/// lifetime.
pub async fn load_principal(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let now = state.clock.now();
    match session.get::<Principal>(PRINCIPAL_KEY).await {
        Ok(Some(principal)) => {
            let max_age = i64::from(state.config.auth.max_hours) * 3600;
            if now - principal.signed_in_at() >= max_age {
                let _ = session.flush().await;
            } else {
                match crate::links::server::still_valid(&state, principal, now).await {
                    Ok(Some(principal)) => {
                        request.extensions_mut().insert(principal);
                    }
                    // The link could not be checked just now: anonymous for this request.
                    Ok(None) => {}
                    Err(ended) => {
                        // The link behind this session was revoked or has expired: the
                        // session ends here, and a page view (or, in the browser, the server
                        // function behind it) says why.
                        let _ = session.flush().await;
                        if let Some(response) = ended.page_answer(&request) {
                            return response;
                        }
                        request.extensions_mut().insert(ended);
                    }
                }
            }
        }
        Ok(None) => {}
        // The database is away: whoever this is, nothing can be shown or done for them now.
        // They are told so, not asked to sign in; their session is untouched.
        Err(tower_sessions::session::Error::Store(e)) => {
            tracing::error!(error = %e, "cannot read the session: the database is unavailable");
            return database_down(request_locale(request.headers()));
        }
        // A session this version cannot read (written by an older one): it is over.
        Err(e) => {
            tracing::warn!(error = %e, "an unreadable session ends");
            let _ = session.flush().await;
        }
    }
    if let Ok(Some(pending)) = session.get::<PendingSignIn>(PENDING_KEY).await {
        request.extensions_mut().insert(pending);
    }
    let response = next.run(request).await;
    crate::base::server::session::keep_alive(&session, &state.config.auth, now).await;
    response
}
