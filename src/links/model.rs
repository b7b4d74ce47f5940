//! What a link's landing page, the staff's link tables and the customer's access page show.
//!
//! View types sent to the browser. They hold only what a page shows: nothing here may carry
//! secrets or merchant-internal data, and nothing here depends on server-only crates.

use serde::{Deserialize, Serialize};

use crate::base::who::{DocType, LinkGrantView, LinkState};

/// A portal link as staff screens show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    pub id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub order_id: Option<String>,
    /// Empty for every type.
    pub types: Vec<DocType>,
    pub label: String,
    pub recipient: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    pub max_opens: Option<i64>,
    pub opens: i64,
    pub last_opened_at: Option<String>,
    pub revoked_at: Option<String>,
    pub state: LinkState,
}

/// The landing page of a portal link: who shared what, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLanding {
    pub grant: LinkGrantView,
    pub customer_name: String,
    /// Opens left when the link has a limit.
    pub opens_left: Option<i64>,
}

/// "Access to your documents": the links to a customer's documents and who opened them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLog {
    pub links: Vec<LinkView>,
    pub opens: Vec<AccessOpen>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessOpen {
    pub at: String,
    pub link_label: String,
    pub shared_by: String,
    pub ip: Option<String>,
}
