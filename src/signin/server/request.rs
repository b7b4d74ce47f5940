//! Asking for a sign-in: the answer comes at once; the lookup and the mail follow behind it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use flexportal::Priority;
use tower_sessions::Session;

use super::attempts::{Attempt, Audience};
use super::flow::{audit, base, to, too_many_requests, EmailForm, PendingSignIn, SIGN_IN_TTL_SECS};
use super::mail::sign_in_mail;
use crate::base::server::answers::database_down;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::locale::request_locale;
use crate::base::server::rate_limit::address_group;
use crate::base::server::session::PENDING_KEY;
use crate::base::server::state::AppState;
use crate::base::server::tokens::{normalize_email, random_token, token_hash};
use crate::i18n::Locale;

/// How long after answering a sign-in request its lookup and mail start.
const SIGN_IN_WORK_DELAY: std::time::Duration = std::time::Duration::from_millis(100);

/// A customer's sign-in needs one FlexPortal lookup. When the request budget has no room for
/// longer than this, the sign-in is turned away at once, the same for every address, instead
/// of promising a mail that could not be sent; within it, the lookup waits for its turn.
const SIGN_IN_BUDGET_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// How long a lookup already promised ("check your email") keeps waiting for its turn. Longer
/// than the check above: page views started meanwhile take their share of the same minute, and
/// a mail that comes late is better than none.
const SIGN_IN_LOOKUP_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// `POST /login` and `POST /manage/login`.
pub async fn request_sign_in(
    audience: Audience,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<EmailForm>,
) -> Response {
    let Some(email) = normalize_email(&form.email) else {
        return to(audience, "/login?error=email");
    };
    let now = state.clock.now();
    let locale = request_locale(&headers);
    let per_ip = state.config.auth.per_ip_per_15_min;
    let Some(ip_count) = state
        .limits
        .ip
        .hit(&format!("login:{}", address_group(&ip)), now)
        .await
    else {
        return database_down(locale);
    };
    if ip_count > per_ip.saturating_mul(3) {
        return too_many_requests(locale);
    }

    if matches!(audience, Audience::Customer)
        && state
            .upstream
            .client
            .with_priority(Priority::SignIn)
            .budget_wait()
            .await
            > SIGN_IN_BUDGET_WAIT
    {
        tracing::warn!("sign-in turned away: the FlexPortal request budget is spent for now");
        return to(audience, "/login?error=later");
    }

    let attempt_id = random_token(16);
    let pending = PendingSignIn {
        audience,
        attempt_id: attempt_id.clone(),
        email: email.clone(),
        requested_at: now,
        wrong_codes: 0,
    };
    if let Err(e) = session.insert(PENDING_KEY, &pending).await {
        tracing::error!(error = %e, "cannot store the sign-in in the session");
        return to(audience, "/login?error=busy");
    }

    // A client over its own limit sends no mail, and counts against no address either.
    let over_ip = ip_count > per_ip;
    let over_email = || async {
        let count = state.limits.email.hit(&email.to_lowercase(), now).await;
        count.is_none_or(|count| count > state.config.auth.per_email_per_15_min)
    };
    if over_ip || over_email().await {
        tracing::info!("sign-in not sent: rate limit reached");
    } else {
        // The answer must not wait for (or depend on) the lookup and the mail. The work
        // starts a moment later, once this answer and its session are written: for a known
        // address it writes to the database too, and if that overlapped the answer's own
        // write, the answer would take measurably longer than for an unknown address.
        let state = state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(SIGN_IN_WORK_DELAY).await;
            match audience {
                Audience::Customer => send_sign_in(&state, &email, &attempt_id, locale, &ip).await,
                Audience::Staff => {
                    send_staff_sign_in(&state, &email, &attempt_id, locale, &ip).await
                }
            }
        });
    }
    to(audience, "/login/check")
}

/// Looks the email up and, for exactly one active customer, stores an attempt and mails the
/// link and code.
pub async fn send_sign_in(
    state: &AppState,
    email: &str,
    attempt_id: &str,
    locale: Locale,
    ip: &str,
) {
    let deadline = tokio::time::Instant::now() + SIGN_IN_LOOKUP_WAIT;
    let found = loop {
        match state
            .upstream
            .client
            .with_priority(Priority::SignIn)
            .customers_by_email(email)
            .await
        {
            Ok(found) => break found,
            // The customer waits for a mail: a lookup may wait longer for its turn than a page.
            Err(flexportal::Error::BudgetExhausted { retry_after })
                if tokio::time::Instant::now() + retry_after <= deadline =>
            {
                tokio::time::sleep(retry_after).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "sign-in: customer lookup failed");
                return;
            }
        }
    };
    // The upstream's match is documented as exact; its case handling is not. Compare here.
    let matches: Vec<_> = found
        .value
        .iter()
        .filter(|c| c.email.trim().eq_ignore_ascii_case(email))
        .collect();
    let customer = match matches.as_slice() {
        [] => {
            tracing::info!("sign-in requested for an address that belongs to no customer");
            return;
        }
        [one] => *one,
        several => {
            tracing::warn!(
                customers = ?several.iter().map(|c| &c.customer_id).collect::<Vec<_>>(),
                "sign-in refused: several customers share this address; merge them in FlexPortal"
            );
            return;
        }
    };
    if customer.status != flexportal::model::CustomerStatus::Active {
        tracing::warn!(customer = %customer.customer_id, "sign-in refused: the customer is inactive");
        return;
    }
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    let account = Account {
        audience: Audience::Customer,
        id: &customer.customer_id,
        email: &customer.email,
        name: &name,
    };
    start_attempt(state, account, attempt_id, locale, ip).await;
    // While the mail travels: the first page after it is then usually warm.
    crate::documents::server::warm_up(&state.upstream.client, &customer.customer_id).await;
}

/// Looks the address up among the staff and, for a staff member, stores an attempt and mails
/// the link and code.
pub async fn send_staff_sign_in(
    state: &AppState,
    email: &str,
    attempt_id: &str,
    locale: Locale,
    ip: &str,
) {
    let member = match state.store.staff_by_email(email).await {
        Ok(Some(member)) => member,
        Ok(None) => {
            tracing::info!("staff sign-in requested for an address that is not on the staff");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "staff sign-in: lookup failed");
            return;
        }
    };
    let account = Account {
        audience: Audience::Staff,
        id: &member.email,
        email: &member.email,
        name: &member.name,
    };
    start_attempt(state, account, attempt_id, locale, ip).await;
}

/// Whom a sign-in attempt is for.
#[derive(Clone, Copy)]
struct Account<'a> {
    audience: Audience,
    /// The customer's id or the staff member's address.
    id: &'a str,
    email: &'a str,
    name: &'a str,
}

impl Account<'_> {
    fn actor(&self) -> String {
        format!("{}:{}", self.audience.as_str(), self.id)
    }

    fn customer_id(&self) -> Option<&str> {
        (self.audience == Audience::Customer).then_some(self.id)
    }
}

/// Stores an attempt for a known account and mails its link and code.
async fn start_attempt(
    state: &AppState,
    account: Account<'_>,
    attempt_id: &str,
    locale: Locale,
    ip: &str,
) {
    let now = state.clock.now();
    let token = random_token(32);
    let code = random_code();
    let attempt = Attempt {
        id: attempt_id.to_owned(),
        audience: account.audience,
        account_id: account.id.to_owned(),
        email: account.email.to_owned(),
        code_hash: state.secrets.code_hash(attempt_id, &code),
        code_attempts: 0,
        expires_at: now + SIGN_IN_TTL_SECS,
        used_at: None,
    };
    if let Err(e) = state
        .store
        .attempt_insert(&attempt, &token_hash(&token), now)
        .await
    {
        tracing::error!(error = %e, "sign-in: cannot store the attempt");
        return;
    }
    audit(
        state,
        "sign_in_requested",
        &account.actor(),
        account.customer_id(),
        None,
        ip,
    )
    .await;

    let link = format!(
        "{}{}/login/verify?token={token}",
        state.config.public_url.origin,
        base(account.audience)
    );
    state
        .mailer
        .send(sign_in_mail(
            &state.config.brand,
            account.email,
            account.name,
            &link,
            &code,
            locale,
        ))
        .await;
}

/// Six uniformly random digits.
fn random_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_codes_have_the_promised_entropy() {
        let token = random_token(32);
        assert_eq!(token.len(), 43, "256 bits in URL-safe base64");
        assert_ne!(token, random_token(32));
        let code = random_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
    }
}
