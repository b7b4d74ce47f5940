//! Who is asking, on the server: the principal stored in the session, the scope of what it
//! may see, the staff check, and the request helpers that pages and server functions read it
//! with.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::base::server::answers::not_found;
use crate::base::server::clock::iso_time;
use crate::base::who::{DocType, LinkGrantView, LinkState, Role, UserView};

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

/// What a principal may see. A customer session sees the whole portal; a portal link may be
/// narrowed to one order and/or some document types. Built on the server from the session,
/// never from anything the browser sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub customer_id: String,
    pub order_id: Option<String>,
    pub types: Option<BTreeSet<DocType>>,
}

/// The scope of a signed-in principal: a customer's whole portal, a link's narrower grant,
/// nothing for staff (who see customers only through the staff screens).
pub fn scope_of(principal: &Principal) -> Option<Scope> {
    match principal {
        Principal::Customer { customer_id, .. } => Some(Scope::customer(customer_id.clone())),
        Principal::Link {
            customer_id,
            order_id,
            types,
            ..
        } => Some(Scope {
            customer_id: customer_id.clone(),
            order_id: order_id.clone(),
            types: types.as_ref().map(|t| t.iter().copied().collect()),
        }),
        Principal::Staff { .. } => None,
    }
}

impl Scope {
    /// Everything of one customer.
    pub fn customer(customer_id: impl Into<String>) -> Self {
        Self {
            customer_id: customer_id.into(),
            order_id: None,
            types: None,
        }
    }

    /// Whether documents of this type are in scope.
    pub fn allows(&self, doc_type: DocType) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&doc_type))
    }
}

/// A signed-in staff member, for the staff routes. Anyone else gets a plain 404: the staff
/// routes do not exist for them.
#[derive(Clone, Debug)]
pub struct Staff {
    pub email: String,
    pub name: String,
}

impl Staff {
    pub fn of(principal: Option<&Principal>) -> Option<Self> {
        match principal {
            Some(Principal::Staff { email, name, .. }) => Some(Staff {
                email: email.clone(),
                name: name.clone(),
            }),
            _ => None,
        }
    }

    pub fn actor(&self) -> String {
        format!("staff:{}", self.email)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Staff::of(parts.extensions.get::<Principal>()).ok_or_else(not_found)
    }
}

/// The link behind a session was revoked or has expired (the state says which).
#[derive(Clone, Copy, Debug)]
pub struct LinkEnded(pub LinkState);

/// Whether a customer record lets someone sign in, or stay signed in, with `email`: the
/// customer is active and the record carries that address (in any case).
pub fn may_sign_in(customer: &flexportal::model::Customer, email: &str) -> bool {
    customer.status == flexportal::model::CustomerStatus::Active
        && customer.email.eq_ignore_ascii_case(email)
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
