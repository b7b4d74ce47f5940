//! Portal links: account managers create them, recipients open them, and every request of a
//! session opened through one is checked against the link again.
//!
//! - **Tokens** carry 256 random bits and are stored only as SHA-256; the full URL exists once,
//!   in the page shown to its creator right after creation (and in the mail, if sent).
//! - **Opening** is a `POST` to `/s/{token}`: a `GET` only describes the link, so link
//!   previews and mail scanners open nothing and count nothing. The open is counted in the same
//!   statement that checks the link is active, so a limit of `n` opens admits exactly `n`,
//!   however many arrive at once.
//! - **Scope**: a link session is a [`Principal::Link`] whose customer, order and types come
//!   from the link and never from the browser. The document functions turn it into a
//!   [`Scope`](crate::base::server::principal::Scope) like any other principal.
//! - **Ending**: on every request [`still_valid`] re-reads the link, so a revoked or expired
//!   link ends its sessions at their next request, on every instance, and a page view says why.

use axum::extract::{Path, Request, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use store::{LinkFilter, PortalLink};
use tower_sessions::Session;

use crate::base::error::AppError;
use crate::base::server::answers::{busy, internal};
use crate::base::server::audit::{AuditEvent, AuditFilter};
use crate::base::server::client_ip::ClientIp;
use crate::base::server::clock::iso_time;
use crate::base::server::principal::{LinkEnded, Principal};
use crate::base::server::session::{PENDING_KEY, PRINCIPAL_KEY};
use crate::base::server::state::AppState;
use crate::base::server::tokens::token_hash;
use crate::base::who::{DocType, LinkGrantView, LinkState};
use crate::links::model::{AccessLog, AccessOpen, LinkView};

pub mod store;

/// The principal of a request, once its link (if any) is checked: `Ok(Some)` to go on,
/// `Ok(None)` to treat the request as anonymous for now (the database did not answer), `Err`
/// when the link has ended and so has the session.
pub async fn still_valid(
    state: &AppState,
    principal: Principal,
    now: i64,
) -> Result<Option<Principal>, LinkEnded> {
    let Principal::Link {
        subject,
        link_id,
        customer_id,
        order_id,
        types,
        label,
        shared_by,
        signed_in_at,
        ..
    } = principal
    else {
        return Ok(Some(principal));
    };
    match state.store.link_by_id(&link_id).await {
        Ok(Some(link)) if !link.sessions_may_continue(now) => Err(LinkEnded(link.state(now))),
        Ok(Some(link)) => Ok(Some(Principal::Link {
            subject,
            link_id,
            customer_id,
            order_id,
            types,
            label,
            shared_by,
            expires_at: link.expires_at,
            signed_in_at,
        })),
        Ok(None) => Err(LinkEnded(LinkState::Revoked)),
        Err(e) => {
            tracing::error!(error = %e, "cannot check a link session");
            Ok(None)
        }
    }
}

impl LinkEnded {
    /// A view of a page the link showed is sent to the page that says why it ended. Anything
    /// else (a new link, the sign-in pages, file routes, server functions) goes on as an
    /// anonymous request and gets what those get.
    pub fn page_answer(&self, request: &Request) -> Option<Response> {
        let path = request.uri().path();
        let link_page = crate::documents::pages::is_customer_page(path) || path == "/access";
        (request.method() == Method::GET && link_page).then(|| {
            Redirect::to(&format!("/shared/ended?why={}", self.0.as_str())).into_response()
        })
    }
}

/// `POST /s/{token}`: counts one open and starts a read-only session limited to the link's
/// scope. A link that does not open goes back to its landing page, which says why.
pub async fn open(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(token): Path<String>,
) -> Response {
    let now = state.clock.now();
    let landing = Redirect::to(&format!("/s/{}", urlencoding(&token))).into_response();
    if !plausible_token(&token) {
        return landing;
    }
    // A link to the documents of a customer FlexPortal no longer has as active opens
    // nothing: to its recipient, it was withdrawn. (FlexPortal unreachable: it opens.)
    if let Ok(Some(link)) = state.store.link_by_token_hash(&token_hash(&token)).await {
        if let Ok(customer) = state.upstream.client.customer(&link.customer_id).await {
            if customer.value.status != flexportal::model::CustomerStatus::Active {
                return Redirect::to("/shared/ended?why=revoked").into_response();
            }
        }
    }
    let link = match state.store.link_open(&token_hash(&token), now).await {
        Ok(Some(link)) => link,
        Ok(None) => return landing,
        Err(e) => {
            tracing::error!(error = %e, "cannot open a link");
            return busy();
        }
    };
    let principal = Principal::Link {
        subject: format!("link:{}", link.id),
        link_id: link.id.clone(),
        customer_id: link.customer_id.clone(),
        order_id: link.order_id.clone(),
        types: link_types(&link),
        label: link.label.clone(),
        shared_by: link.created_by_name.clone(),
        expires_at: link.expires_at,
        signed_in_at: now,
    };
    // Whoever was signed in in this browser before is not any more: a link session stands
    // alone, with a new id.
    let stored = async {
        session.cycle_id().await?;
        session.remove_value(PENDING_KEY).await?;
        session.insert(PRINCIPAL_KEY, &principal).await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "cannot store the link session");
        return busy();
    }
    audit(
        &state,
        "link_opened",
        &principal,
        &link,
        Some(link.opens.to_string()),
        &ip,
    )
    .await;
    Redirect::to("/documents").into_response()
}

/// What the landing page of `/s/{token}` shows. An unknown token is not found; a link that
/// no longer opens is gone, with the reason.
pub async fn landing(
    state: &AppState,
    token: &str,
) -> Result<crate::links::model::LinkLanding, crate::base::error::AppError> {
    use crate::base::error::AppError;
    if !plausible_token(token) {
        return Err(AppError::NotFound);
    }
    let link = state
        .store
        .link_by_token_hash(&token_hash(token))
        .await
        .map_err(|e| internal(e, "cannot read a link"))?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    match link.state(now) {
        LinkState::Active => Ok(crate::links::model::LinkLanding {
            grant: grant_view(&link),
            customer_name: link.customer_name.clone(),
            opens_left: link.max_opens.map(|max| (max - link.opens).max(0)),
        }),
        ended => Err(AppError::Gone(ended)),
    }
}

fn grant_view(link: &PortalLink) -> LinkGrantView {
    LinkGrantView {
        shared_by: link.created_by_name.clone(),
        label: link.label.clone(),
        expires_at: iso_time(link.expires_at),
        order_id: link.order_id.clone(),
        types: link_types(link).unwrap_or_default(),
    }
}

/// The link's document types; `None` for every type. Names Folio no longer knows are
/// dropped, never widened to "every type".
fn link_types(link: &PortalLink) -> Option<Vec<DocType>> {
    link.doc_types
        .as_ref()
        .map(|types| types.iter().filter_map(|t| DocType::parse(t)).collect())
}

/// Tokens are 43 characters of URL-safe base64; anything else is not worth a query.
pub(crate) fn plausible_token(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub(crate) fn urlencoding(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A link as the staff screens and the customer's access page show it.
pub fn view(link: &PortalLink, now: i64) -> LinkView {
    LinkView {
        id: link.id.clone(),
        customer_id: link.customer_id.clone(),
        customer_name: link.customer_name.clone(),
        order_id: link.order_id.clone(),
        types: link_types(link).unwrap_or_default(),
        label: link.label.clone(),
        recipient: link.recipient.clone(),
        created_by: link.created_by_name.clone(),
        created_at: iso_time(link.created_at),
        expires_at: iso_time(link.expires_at),
        max_opens: link.max_opens,
        opens: link.opens,
        last_opened_at: link.last_opened_at.map(iso_time),
        revoked_at: link.revoked_at.map(iso_time),
        state: link.state(now),
    }
}

/// Writes one event about a link.
pub(crate) async fn audit(
    state: &AppState,
    kind: &str,
    actor: &Principal,
    link: &PortalLink,
    subject: Option<String>,
    ip: &str,
) {
    let event = AuditEvent {
        at: state.clock.now(),
        kind: kind.to_owned(),
        actor: Some(actor.subject().to_owned()),
        customer_id: Some(link.customer_id.clone()),
        subject,
        ip: Some(ip.to_owned()),
        link_id: Some(link.id.clone()),
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, kind, "cannot write an audit event");
    }
}

/// "Access to your documents": every link to the customer's documents, and each open.
pub async fn access_log(state: &AppState, customer_id: &str) -> Result<AccessLog, AppError> {
    let now = state.clock.now();
    let filter = LinkFilter {
        customer_id: Some(customer_id.to_owned()),
        ..LinkFilter::default()
    };
    let (links, _) = state
        .store
        .links(&filter, now, 200, 0)
        .await
        .map_err(|e| internal(e, "database error"))?;
    let opened = AuditFilter {
        customer_id: Some(customer_id.to_owned()),
        kinds: vec!["link_opened".to_owned()],
        ..AuditFilter::default()
    };
    let events = state
        .store
        .audit_events(&opened, 200, 0)
        .await
        .map_err(|e| internal(e, "database error"))?;
    let opens = events
        .iter()
        .map(|event| {
            let link = links.iter().find(|l| Some(&l.id) == event.link_id.as_ref());
            AccessOpen {
                at: iso_time(event.at),
                link_label: link.map(|l| l.label.clone()).unwrap_or_default(),
                shared_by: link.map(|l| l.created_by_name.clone()).unwrap_or_default(),
                ip: event.ip.clone(),
            }
        })
        .collect();
    Ok(AccessLog {
        links: links.iter().map(|l| view(l, now)).collect(),
        opens,
    })
}
