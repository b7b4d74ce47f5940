//! What the staff screens show, and the queries of their lists.
//!
//! View types sent to the browser. They hold only what a page shows: nothing here may carry
//! secrets or merchant-internal data, and nothing here depends on server-only crates.

use serde::{Deserialize, Serialize};

use crate::base::who::LinkState;
use crate::documents::model::{DocumentList, OrderSummary, Overview, QueryNotice, MAX_QUERY_TEXT};
use crate::links::model::LinkView;

/// A customer found by the staff lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerHit {
    pub id: String,
    pub name: String,
    pub email: String,
    pub company: Option<String>,
    pub active: bool,
}

/// The staff lookup's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSearch {
    pub query: String,
    pub hits: Vec<CustomerHit>,
    /// True when the query matched an order id; its customer is then the one hit.
    pub by_order: bool,
}

/// The staff screen of one customer: what the customer sees, and the links to their
/// documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffCustomerView {
    pub customer: CustomerHit,
    pub overview: Overview,
    pub documents: DocumentList,
    pub links: Vec<LinkView>,
}

/// What the "new portal link" form offers for one customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLinkView {
    pub customer: CustomerHit,
    pub orders: Vec<OrderSummary>,
    pub default_days: u32,
    pub max_days: u32,
}

/// One portal link with its history; `url` only on the one view right after creation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkDetail {
    pub link: LinkView,
    pub url: Option<String>,
    pub sent_to: Option<String>,
    pub events: Vec<AuditRow>,
    pub max_days: u32,
}

/// Filters of the link register, as read from its URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkQuery {
    pub customer: Option<String>,
    pub state: Option<LinkState>,
    pub page: u32,
}

impl LinkQuery {
    /// Reads the register's URL; unknown or unusable values are ignored.
    pub fn from_query_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut query = LinkQuery {
            page: 1,
            ..LinkQuery::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "customer" => query.customer = short_text(&value),
                "state" => query.state = LinkState::parse(&value),
                "page" => query.page = page_number(&value),
                _ => {}
            }
        }
        query
    }

    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(customer) = &self.customer {
            pairs.push(("customer", customer.clone()));
        }
        if let Some(state) = self.state {
            pairs.push(("state", state.as_str().to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }
}

/// A filter value from a URL: trimmed, cut to a sane length, `None` when empty.
fn short_text(value: &str) -> Option<String> {
    let value: String = value.trim().chars().take(MAX_QUERY_TEXT).collect();
    (!value.is_empty()).then_some(value)
}

/// A page number from a URL; anything unusable is the first page.
fn page_number(value: &str) -> u32 {
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRegister {
    pub links: Vec<LinkView>,
    pub total: i64,
    pub page: u32,
    pub page_count: u32,
    pub query: LinkQuery,
}

/// One audit event as the audit log shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub kind: String,
    /// `customer:<id>`, `staff:<email>`, `link:<id>`.
    pub actor: Option<String>,
    pub customer_id: Option<String>,
    pub link_id: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
}

/// Filters of the audit log, as read from its URL. Dates are `YYYY-MM-DD`, both inclusive.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub customer: Option<String>,
    pub link: Option<String>,
    pub staff: Option<String>,
    pub kind: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: u32,
}

impl AuditQuery {
    /// The kinds of event the audit log knows, in the order its filter lists them.
    pub const KINDS: [&'static str; 12] = [
        "sign_in_requested",
        "sign_in_succeeded",
        "sign_in_failed",
        "signed_out",
        "signed_out_everywhere",
        "link_created",
        "link_sent",
        "link_opened",
        "link_revoked",
        "link_extended",
        "file_viewed",
        "file_downloaded",
    ];

    /// Reads the audit log's URL; unknown or unusable values are ignored (dates are checked
    /// on the server, which reports the ones it could not read).
    pub fn from_query_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut query = AuditQuery {
            page: 1,
            ..AuditQuery::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "customer" => query.customer = short_text(&value),
                "link" => query.link = short_text(&value),
                "staff" => query.staff = short_text(&value),
                "kind" => {
                    query.kind = AuditQuery::KINDS
                        .iter()
                        .find(|k| **k == value.trim())
                        .map(|k| (*k).to_owned())
                }
                "from" => query.from = short_text(&value),
                "to" => query.to = short_text(&value),
                "page" => query.page = page_number(&value),
                _ => {}
            }
        }
        query
    }

    pub fn to_query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("customer", &self.customer),
            ("link", &self.link),
            ("staff", &self.staff),
            ("kind", &self.kind),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(value) = value {
                pairs.push((key, value.clone()));
            }
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub page: u32,
    pub has_more: bool,
    pub query: AuditQuery,
    /// What the query's values could not be read as (a bad date), shown to the reader.
    pub notices: Vec<QueryNotice>,
}
