//! Spending a sign-in: the code typed on the check-your-email page, or the link from the mail.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use flexportal::Priority;
use tower_sessions::Session;

use super::attempts::{Attempt, Audience, SpendBy, MAX_CODE_TRIES};
use super::flow::{
    audit, to, too_many_requests, CodeForm, PendingSignIn, TokenForm, SIGN_IN_TTL_SECS,
};
use crate::base::server::answers::database_down;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::locale::request_locale;
use crate::base::server::principal::{may_sign_in, Principal};
use crate::base::server::rate_limit::address_group;
use crate::base::server::session::{PENDING_KEY, PRINCIPAL_KEY};
use crate::base::server::state::AppState;
use crate::base::server::tokens::token_hash;

/// `POST /login/code` and `POST /manage/login/code`.
pub async fn verify_code(
    audience: Audience,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let now = state.clock.now();
    let Some(ip_count) = state
        .limits
        .ip
        .hit(&format!("code:{}", address_group(&ip)), now)
        .await
    else {
        return database_down(request_locale(&headers));
    };
    if ip_count > state.config.auth.per_ip_per_15_min.saturating_mul(3) {
        return too_many_requests(request_locale(&headers));
    }
    let Ok(Some(mut pending)) = session.get::<PendingSignIn>(PENDING_KEY).await else {
        return to(audience, "/login?error=expired");
    };
    if pending.audience != audience {
        return to(audience, "/login?error=expired");
    }
    if now - pending.requested_at >= SIGN_IN_TTL_SECS {
        return to(audience, "/login/check?error=expired");
    }
    if pending.wrong_codes >= MAX_CODE_TRIES {
        return to(audience, "/login/check?error=tries");
    }
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    // Known and unknown addresses take the same path from here: the same statement takes a
    // try (an unknown address has no attempt, so it gets none), the same comparison runs (on
    // an empty hash, which nothing matches, when no try was granted), and a wrong code is
    // answered from the session's own count. Only a granted try can sign in, and the database
    // grants at most five, however many requests arrive at once.
    let granted = match state
        .store
        .attempt_take_code_try(&pending.attempt_id, audience, now)
        .await
    {
        Ok(granted) => granted,
        Err(e) => {
            tracing::error!(error = %e, "cannot take a sign-in code try");
            return to(audience, "/login/check?error=busy");
        }
    };
    let stored_hash = granted.as_ref().map_or("", |a| a.code_hash.as_str());
    let right = well_formed_code(&code)
        & state
            .secrets
            .code_matches(&pending.attempt_id, &code, stored_hash);
    state.metrics.code_try(granted.is_some());
    if let (true, Some(attempt)) = (right, &granted) {
        return complete_sign_in(&state, &session, attempt, SpendBy::Code, &ip).await;
    }

    pending.wrong_codes += 1;
    let _ = session.insert(PENDING_KEY, &pending).await;
    // A try refused for spent tries is audited under its account too: that is the guessing
    // the log most needs to show. (The same lookup runs for an unknown address, and finds
    // nothing.)
    let attempt = match granted {
        Some(granted) => Some(granted),
        None => state
            .store
            .attempt_by_id(&pending.attempt_id)
            .await
            .ok()
            .flatten()
            .filter(|a| a.audience == audience),
    };
    audit_failure(&state, attempt.as_ref(), "code", &ip).await;
    let error = if pending.wrong_codes >= MAX_CODE_TRIES {
        "tries"
    } else {
        "code"
    };
    to(audience, &format!("/login/check?error={error}"))
}

/// Six digits, as mailed.
fn well_formed_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// `POST /login/verify` and `POST /manage/login/verify`: spends the link's token.
pub async fn verify_link(
    audience: Audience,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Form(form): Form<TokenForm>,
) -> Response {
    let now = state.clock.now();
    let attempt = match state
        .store
        .attempt_by_token_hash(&token_hash(form.token.trim()))
        .await
    {
        Ok(attempt) => attempt.filter(|a| a.audience == audience),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the sign-in attempt");
            return to(audience, "/login?error=busy");
        }
    };
    match attempt {
        Some(attempt) if attempt.usable(audience, now) => {
            complete_sign_in(&state, &session, &attempt, SpendBy::Link, &ip).await
        }
        other => {
            audit_failure(&state, other.as_ref(), "link", &ip).await;
            to(audience, "/login?error=link")
        }
    }
}

/// The address that the sign-in link with `token` signs in, while it is still usable.
pub async fn link_address(
    state: &AppState,
    token: &str,
    staff: bool,
) -> Result<Option<String>, sqlx::Error> {
    let audience = if staff {
        Audience::Staff
    } else {
        Audience::Customer
    };
    let now = state.clock.now();
    let attempt = state
        .store
        .attempt_by_token_hash(&token_hash(token.trim()))
        .await?;
    Ok(attempt.filter(|a| a.usable(audience, now)).map(|a| a.email))
}

async fn audit_failure(state: &AppState, attempt: Option<&Attempt>, how: &str, ip: &str) {
    let Some(attempt) = attempt else {
        return audit(state, "sign_in_failed", "unknown", None, Some(how), ip).await;
    };
    let actor = format!("{}:{}", attempt.audience.as_str(), attempt.account_id);
    let customer = (attempt.audience == Audience::Customer).then_some(attempt.account_id.as_str());
    audit(state, "sign_in_failed", &actor, customer, Some(how), ip).await;
}

async fn complete_sign_in(
    state: &AppState,
    session: &Session,
    attempt: &Attempt,
    by: SpendBy,
    ip: &str,
) -> Response {
    let audience = attempt.audience;
    let now = state.clock.now();
    match state.store.attempt_spend(&attempt.id, now, by).await {
        Ok(true) => {}
        Ok(false) => return to(audience, "/login?error=link"),
        Err(e) => {
            tracing::error!(error = %e, "cannot spend the sign-in attempt");
            return to(audience, "/login?error=busy");
        }
    }
    let principal = match audience {
        Audience::Customer => match customer_principal(state, attempt, now).await {
            Some(principal) => principal,
            None => return to(audience, "/login?error=link"),
        },
        // Staff removed since the mail went out do not get in.
        Audience::Staff => match state.store.staff_by_email(&attempt.account_id).await {
            Ok(Some(member)) => Principal::staff(&member.email, &member.name, now),
            Ok(None) => return to(audience, "/login?error=link"),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the staff member");
                return to(audience, "/login?error=busy");
            }
        },
    };
    // A new id at sign-in: an id planted before sign-in is worth nothing after it.
    let stored = async {
        session.cycle_id().await?;
        session.remove_value(PENDING_KEY).await?;
        session.insert(PRINCIPAL_KEY, &principal).await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "cannot store the session");
        return to(audience, "/login?error=busy");
    }
    audit(
        state,
        "sign_in_succeeded",
        principal.subject(),
        principal.customer_id(),
        None,
        ip,
    )
    .await;
    match audience {
        Audience::Customer => Redirect::to("/").into_response(),
        Audience::Staff => Redirect::to("/manage").into_response(),
    }
}

/// The customer's principal, named as FlexPortal knows them; by their address alone if
/// FlexPortal is unavailable right now. `None` when the record says the customer may no longer
/// sign in: made inactive, or their address changed, since the mail went out.
async fn customer_principal(state: &AppState, attempt: &Attempt, now: i64) -> Option<Principal> {
    let client = state.upstream.client.with_priority(Priority::SignIn);
    // The newest record, whatever is kept: it decides whether the customer may sign in.
    client.forget(&[flexportal::Ask::Customer(attempt.account_id.clone())]);
    let name = match client.customer(&attempt.account_id).await {
        Ok(customer) => {
            let customer = &customer.value;
            if !may_sign_in(customer, &attempt.email) {
                return None;
            }
            format!("{} {}", customer.first_name, customer.last_name)
                .trim()
                .to_owned()
        }
        Err(_) => String::new(),
    };
    let name = if name.is_empty() {
        attempt.email.clone()
    } else {
        name
    };
    Some(Principal::customer(
        &attempt.account_id,
        &attempt.email,
        &name,
        now,
    ))
}
