//! Customer sign-in by email link and code, sessions, and sign-out.
//!
//! The flow, and why each step is the way it is:
//! 1. `POST /login` with an email answers the same redirect to "check your email" whatever the
//!    email, at once: the lookup and the mail happen in a background task, so neither the
//!    answer nor its timing tells whether the address belongs to a customer.
//! 2. A known, unique, active customer gets a mail with a link (a 256-bit token) and a 6-digit
//!    code. Both are stored only as hashes (the code's keyed with the session secret, since six
//!    digits are easy to guess from a plain hash), expire after 15 minutes and are single use.
//! 3. `GET /login/verify?token=` only shows a "Continue" button; the `POST` spends the token,
//!    so mail scanners that fetch links neither sign anyone in nor burn the link.
//! 4. The code is typed on the check-your-email page; five wrong codes end the attempt.
//! 5. Signing in rotates the session id and stores the principal in the session.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Form,
};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use leptos_i18n::Locale as _;

use crate::i18n::Locale;
use crate::model::{DocType, LinkGrantView, Role, UserView};
use crate::server::mail::{Composed, Mail};
use crate::server::rate_limit::address_group;
use crate::server::session::PRINCIPAL_KEY;
use crate::server::state::AppState;
use crate::server::store::{Attempt, Audience, AuditEvent, SpendBy};

/// Session key of a sign-in in progress.
pub const PENDING_KEY: &str = "sign_in";
/// How long a link and a code stay valid.
pub const SIGN_IN_TTL_SECS: i64 = 15 * 60;
/// Wrong codes before an attempt ends.
pub const MAX_CODE_TRIES: i64 = 5;
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
/// The window of the per-email and per-address limits.
pub const LIMIT_WINDOW_SECS: i64 = 15 * 60;

/// Who a session belongs to. Stored in the session; nothing a browser sends can change it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Principal {
    Customer {
        /// `customer:<id>`: the key under which all of this person's sessions can be ended.
        subject: String,
        customer_id: String,
        email: String,
        name: String,
        /// Unix seconds; the session ends `FOLIO_SESSION_MAX_HOURS` later.
        signed_in_at: i64,
    },
    /// An account manager. Sees customers only through the staff screens.
    Staff {
        /// `staff:<email>`.
        subject: String,
        email: String,
        name: String,
        signed_in_at: i64,
    },
    /// A read-only session opened through a portal link, limited to the link's scope. The
    /// scope is copied from the link when it is opened and never changes; whether the link
    /// still holds (not revoked, not expired) is checked on every request.
    Link {
        /// `link:<id>`: revoking the link ends every session it opened.
        subject: String,
        link_id: String,
        customer_id: String,
        order_id: Option<String>,
        /// `None`: every type.
        types: Option<Vec<DocType>>,
        label: String,
        shared_by: String,
        /// Unix seconds; refreshed from the link on every request.
        expires_at: i64,
        signed_in_at: i64,
    },
}

impl Principal {
    pub fn customer(customer_id: &str, email: &str, name: &str, now: i64) -> Self {
        Principal::Customer {
            subject: format!("customer:{customer_id}"),
            customer_id: customer_id.to_owned(),
            email: email.to_owned(),
            name: name.to_owned(),
            signed_in_at: now,
        }
    }

    pub fn staff(email: &str, name: &str, now: i64) -> Self {
        Principal::Staff {
            subject: format!("staff:{}", email.to_lowercase()),
            email: email.to_lowercase(),
            name: name.to_owned(),
            signed_in_at: now,
        }
    }

    /// The bytes its texts hold beside the value itself, for memory accounting.
    pub fn text_len(&self) -> usize {
        match self {
            Principal::Customer {
                subject,
                customer_id,
                email,
                name,
                ..
            } => subject.len() + customer_id.len() + email.len() + name.len(),
            Principal::Staff {
                subject,
                email,
                name,
                ..
            } => subject.len() + email.len() + name.len(),
            Principal::Link {
                subject,
                link_id,
                customer_id,
                order_id,
                types,
                label,
                shared_by,
                ..
            } => {
                subject.len()
                    + link_id.len()
                    + customer_id.len()
                    + order_id.as_ref().map_or(0, String::len)
                    + types
                        .as_ref()
                        .map_or(0, |t| t.len() * std::mem::size_of::<DocType>())
                    + label.len()
                    + shared_by.len()
            }
        }
    }

    pub fn subject(&self) -> &str {
        match self {
            Principal::Customer { subject, .. }
            | Principal::Staff { subject, .. }
            | Principal::Link { subject, .. } => subject,
        }
    }

    pub fn signed_in_at(&self) -> i64 {
        match self {
            Principal::Customer { signed_in_at, .. }
            | Principal::Staff { signed_in_at, .. }
            | Principal::Link { signed_in_at, .. } => *signed_in_at,
        }
    }

    /// The customer whose documents this principal sees; staff see none through the customer
    /// pages.
    pub fn customer_id(&self) -> Option<&str> {
        match self {
            Principal::Customer { customer_id, .. } | Principal::Link { customer_id, .. } => {
                Some(customer_id)
            }
            Principal::Staff { .. } => None,
        }
    }

    /// The staff member's address, for staff only.
    pub fn staff_email(&self) -> Option<&str> {
        match self {
            Principal::Staff { email, .. } => Some(email),
            _ => None,
        }
    }

    pub fn link_id(&self) -> Option<&str> {
        match self {
            Principal::Link { link_id, .. } => Some(link_id),
            _ => None,
        }
    }

    pub fn view(&self) -> UserView {
        match self {
            Principal::Customer { email, name, .. } => UserView {
                name: name.clone(),
                email: email.clone(),
                role: Role::Customer,
            },
            Principal::Staff { email, name, .. } => UserView {
                name: name.clone(),
                email: email.clone(),
                role: Role::Staff,
            },
            Principal::Link {
                order_id,
                types,
                label,
                shared_by,
                expires_at,
                ..
            } => UserView {
                name: label.clone(),
                email: String::new(),
                role: Role::Link(LinkGrantView {
                    shared_by: shared_by.clone(),
                    label: label.clone(),
                    expires_at: iso_time(*expires_at),
                    order_id: order_id.clone(),
                    types: types.clone().unwrap_or_default(),
                }),
            },
        }
    }
}

/// Unix seconds as an RFC 3339 UTC time, the form view types carry times in.
pub fn iso_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// A sign-in in progress, kept in the (anonymous) session that asked for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// Customer or staff: a sign-in started on one side's page completes only there.
    #[serde(default)]
    pub audience: Audience,
    /// The attempt's id. For an unknown email no attempt exists under it, and every code is
    /// simply wrong.
    pub attempt_id: String,
    pub email: String,
    pub requested_at: i64,
    /// Wrong codes typed in this session, so that the answer after five is the same whether
    /// or not an attempt exists.
    #[serde(default)]
    pub wrong_codes: i64,
}

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
                match crate::server::links::still_valid(&state, principal, now).await {
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
        Err(e) => tracing::warn!(error = %e, "cannot read the session"),
    }
    if let Ok(Some(pending)) = session.get::<PendingSignIn>(PENDING_KEY).await {
        request.extensions_mut().insert(pending);
    }
    let response = next.run(request).await;
    crate::server::session::keep_alive(&session, &state.config.auth, now).await;
    response
}

/// The client's address: the connection's peer, or behind trusted proxies the entry
/// `FOLIO_TRUSTED_PROXY_HOPS` from the right of `X-Forwarded-For` (see [`forwarded_client`]).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let hops = state.config.auth.trusted_proxy_hops;
        let client = forwarded_client(&parts.headers, hops).or(peer);
        Ok(ClientIp(
            client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        ))
    }
}

/// The client address that `hops` trusted proxies report in `X-Forwarded-For`.
///
/// Each proxy appends the address it was connected from, so the entries on the right are the
/// ones trusted proxies wrote, and everything further left is whatever the client sent. All
/// the header's lines are read in order as one list (a proxy may add a line of its own rather
/// than extend the last one), and the entry `hops` from the right is the client. With fewer
/// entries than that, or an entry that is not an address, nothing is trusted: `None`, and the
/// caller takes the connection's peer.
pub fn forwarded_client(headers: &HeaderMap, hops: u32) -> Option<std::net::IpAddr> {
    let hops = usize::try_from(hops).ok().filter(|&h| h > 0)?;
    // As bytes: whatever the client put on the left must not keep the right from being read.
    let mut entries: Vec<&[u8]> = Vec::new();
    for line in headers.get_all("x-forwarded-for") {
        entries.extend(
            line.as_bytes()
                .split(|&b| b == b',')
                .map(<[u8]>::trim_ascii),
        );
    }
    let entry = entries.len().checked_sub(hops).map(|i| entries[i])?;
    let entry = std::str::from_utf8(entry).ok()?;
    entry
        .parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// The language of the person asking: the language switch's cookie, else `Accept-Language`.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    let from_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == crate::server::locale::LOCALE_COOKIE)
        .and_then(|(_, value)| Locale::from_str(value).ok());
    if let Some(locale) = from_cookie {
        return locale;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    for language in accepted.split(',') {
        let tag = language
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        if let Ok(locale) = Locale::from_str(primary) {
            return locale;
        }
    }
    Locale::default()
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

/// The audience of a sign-in request is the address it was posted to: the staff's pages live
/// under `/manage`, the customers' everywhere else.
impl<S: Send + Sync> FromRequestParts<S> for Audience {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(if parts.uri.path().starts_with("/manage/") {
            Audience::Staff
        } else {
            Audience::Customer
        })
    }
}

/// Where each audience's sign-in pages live: `/login…` for customers, `/manage/login…` for
/// staff.
fn base(audience: Audience) -> &'static str {
    match audience {
        Audience::Customer => "",
        Audience::Staff => "/manage",
    }
}

fn to(audience: Audience, path: &str) -> Response {
    Redirect::to(&format!("{}{path}", base(audience))).into_response()
}

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
    let ip_count = state
        .limits
        .ip
        .hit(&format!("login:{}", address_group(&ip)), now);
    if ip_count > per_ip.saturating_mul(3) {
        return too_many_requests(locale);
    }

    if matches!(audience, Audience::Customer)
        && state.upstream.client.budget_wait() > SIGN_IN_BUDGET_WAIT
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
    if over_ip
        || state.limits.email.hit(&email.to_lowercase(), now)
            > state.config.auth.per_email_per_15_min
    {
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
        match state.upstream.client.customers_by_email(email).await {
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

/// The sign-in mail, in the customer's language, as text and HTML.
///
/// The mail texts mark their blanks as `%name%`: they are filled here, on the server, where
/// the translation macros offer no interpolation into plain strings.
pub fn sign_in_mail(
    brand: &crate::server::config::Brand,
    to: &str,
    name: &str,
    link: &str,
    code: &str,
    locale: Locale,
) -> Mail {
    use leptos_i18n::td_string;
    let fill = |text: &str| {
        text.replace("%brand%", &brand.name)
            .replace("%name%", name)
            .replace("%code%", code)
    };
    Composed {
        brand,
        lang: locale.as_str(),
        to,
        subject: fill(td_string!(locale, mail_subject)),
        before: vec![
            fill(td_string!(locale, mail_greeting)),
            fill(td_string!(locale, mail_intro)),
        ],
        link,
        button: td_string!(locale, mail_button).to_string(),
        after: vec![
            fill(td_string!(locale, mail_code)),
            format!(
                "{}\n{}",
                td_string!(locale, mail_expiry),
                td_string!(locale, mail_ignore)
            ),
        ],
    }
    .into_mail()
}

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
    let ip_count = state
        .limits
        .ip
        .hit(&format!("code:{}", address_group(&ip)), now);
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
    state.counters.code_try(granted.is_some());
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
    let name = match state.upstream.client.customer(&attempt.account_id).await {
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

/// Whether a customer record lets someone sign in, or stay signed in, with `email`: the
/// customer is active and the record carries that address (in any case).
pub fn may_sign_in(customer: &flexportal::model::Customer, email: &str) -> bool {
    customer.status == flexportal::model::CustomerStatus::Active
        && customer.email.eq_ignore_ascii_case(email)
}

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

fn too_many_requests(locale: Locale) -> Response {
    use leptos_i18n::td_string;
    let text = td_string!(locale, too_many_requests).to_string();
    let mut response = (StatusCode::TOO_MANY_REQUESTS, text).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
    response
}

async fn audit(
    state: &AppState,
    kind: &str,
    actor: &str,
    customer_id: Option<&str>,
    subject: Option<&str>,
    ip: &str,
) {
    let event = AuditEvent {
        at: state.clock.now(),
        kind: kind.to_owned(),
        actor: Some(actor.to_owned()),
        customer_id: customer_id.map(str::to_owned),
        subject: subject.map(str::to_owned),
        ip: Some(ip.to_owned()),
        link_id: None,
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, kind, "cannot write an audit event");
    }
}

/// Trims and checks the shape of an email address: something `@` something, no spaces, at
/// most 254 characters. FlexPortal decides whether it exists.
pub fn normalize_email(input: &str) -> Option<String> {
    let email = input.trim();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !domain.contains('@');
    plausible.then(|| email.to_owned())
}

/// `bytes` random bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Six uniformly random digits.
fn random_code() -> String {
    use rand::Rng;
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// Link tokens carry 256 random bits, so a plain hash is enough to make a stolen table useless.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Keyed hashing of codes. Six digits are a million guesses: only a key the database does not
/// hold keeps a stolen table from giving them away.
#[derive(Clone)]
pub struct Secrets {
    /// Shared: the state, and with it this, is cloned several times per request.
    key: Arc<secrecy::SecretSlice<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    pub fn new(secret: &str) -> Self {
        Self {
            key: Arc::new(secret.as_bytes().to_vec().into()),
        }
    }

    fn mac(&self, attempt_id: &str, code: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes any key length");
        mac.update(attempt_id.as_bytes());
        mac.update(b":");
        mac.update(code.as_bytes());
        mac
    }

    pub fn code_hash(&self, attempt_id: &str, code: &str) -> String {
        hex(&self.mac(attempt_id, code).finalize().into_bytes())
    }

    /// Constant-time comparison with the stored hash.
    pub fn code_matches(&self, attempt_id: &str, code: &str, stored_hex: &str) -> bool {
        let Some(stored) = unhex(stored_hex) else {
            return false;
        };
        self.mac(attempt_id, code).verify_slice(&stored).is_ok()
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A value the request's middleware put into its extensions (the principal, a pending
/// sign-in), read from inside a page or server function.
pub fn request_extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
    leptos::prelude::use_context::<Parts>().and_then(|parts| parts.extensions.get::<T>().cloned())
}

/// The signed-in principal of the request being handled.
pub fn current_principal() -> Option<Principal> {
    request_extension::<Principal>()
}

/// The id of the request being handled, as the request-id layer set it: the reference under
/// which its errors are logged.
pub fn current_request_id() -> Option<String> {
    leptos::prelude::use_context::<Parts>()
        .and_then(|parts| parts.headers.get("x-request-id").cloned())
        .and_then(|value| value.to_str().ok().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_entry_as_many_hops_from_the_right_over_all_lines() {
        let mut headers = HeaderMap::new();
        // The client's own line first, then the line HAProxy adds with `option forwardfor`.
        headers.append("x-forwarded-for", "6.6.6.6, 7.7.7.7".parse().unwrap());
        headers.append("x-forwarded-for", "198.51.100.4".parse().unwrap());
        let ip = |hops| forwarded_client(&headers, hops).map(|ip| ip.to_string());
        assert_eq!(ip(1).as_deref(), Some("198.51.100.4"));
        assert_eq!(ip(2).as_deref(), Some("7.7.7.7"));
        assert_eq!(ip(0), None, "no trusted proxy: the header is not read");
        assert_eq!(
            ip(4),
            None,
            "fewer entries than proxies: nothing is trusted"
        );

        let mut one = HeaderMap::new();
        one.insert(
            "x-forwarded-for",
            "2001:db8::1, not-an-address".parse().unwrap(),
        );
        assert_eq!(forwarded_client(&one, 1), None);
        assert_eq!(
            forwarded_client(&one, 2)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("2001:db8::1")
        );
        let mut foreign = HeaderMap::new();
        foreign.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe, 6.6.6.6").unwrap(),
        );
        foreign.append("x-forwarded-for", "198.51.100.4".parse().unwrap());
        assert_eq!(
            forwarded_client(&foreign, 1)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("198.51.100.4"),
            "bytes the client sent do not hide the proxy's entry"
        );
        one.insert("x-forwarded-for", "203.0.113.7:4711".parse().unwrap());
        assert_eq!(
            forwarded_client(&one, 1)
                .map(|ip| ip.to_string())
                .as_deref(),
            Some("203.0.113.7")
        );
    }

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.com "),
            Some("Ann@Example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "a b@x.com",
            "ann@x.com@y.com",
            "<a@x.com>",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tokens_and_codes_have_the_promised_entropy() {
        let token = random_token(32);
        assert_eq!(token.len(), 43, "256 bits in URL-safe base64");
        assert_ne!(token, random_token(32));
        let code = random_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn codes_are_keyed_and_checked_in_constant_time() {
        let secrets = Secrets::new("0123456789abcdef0123456789abcdef");
        let hash = secrets.code_hash("attempt", "123456");
        assert!(secrets.code_matches("attempt", "123456", &hash));
        assert!(!secrets.code_matches("attempt", "123457", &hash));
        assert!(
            !secrets.code_matches("other", "123456", &hash),
            "bound to its attempt"
        );
        let other_key = Secrets::new("another secret of at least 32 chars!");
        assert!(!other_key.code_matches("attempt", "123456", &hash));
    }

    #[test]
    fn locale_from_cookie_then_accept_language() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-AT,de;q=0.9"),
        );
        assert_eq!(request_locale(&headers), Locale::de);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; i18n_pref_locale=en"),
        );
        assert_eq!(request_locale(&headers), Locale::en);
    }
}
