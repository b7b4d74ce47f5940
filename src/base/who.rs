//! Who is asking, as the pages see it: the signed-in person and their role, the grant of a
//! portal link, and the portal's brand. Shared by the server and the browser.

use serde::{Deserialize, Serialize};

/// What every page needs to know about the portal itself: the tenant's brand and the mode.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    /// The tenant's name as shown in the header and in the page title.
    pub brand_name: String,
    /// The tenant's brand colour, validated at start-up as `#rgb` or `#rrggbb`.
    pub brand_color: String,
    /// Address of the tenant's logo, if one is configured.
    pub brand_logo: Option<String>,
    /// True when Folio runs against the built-in stand-in FlexPortal with invented data.
    pub demo: bool,
    /// Most documents a ZIP download fetches while the reader waits; a bigger one is made in
    /// the background.
    pub zip_stream_files: u32,
}

/// The signed-in person, as pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// What kind of session a page is shown in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Customer,
    /// An account manager.
    Staff,
    /// A read-only session opened through a portal link.
    Link(LinkGrantView),
}

/// What a portal link grants, as its banner and landing page say it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkGrantView {
    /// The account manager who created the link.
    pub shared_by: String,
    pub label: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// The one order the link covers; `None` for the whole portal.
    pub order_id: Option<String>,
    /// The document types the link covers; empty for every type.
    pub types: Vec<DocType>,
}

/// Where a portal link stands. Revocation is final and wins over everything; an expired link
/// is expired even if its opens were used up too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Active,
    Expired,
    Revoked,
    UsedUp,
}

impl LinkState {
    pub const ALL: [LinkState; 4] = [
        LinkState::Active,
        LinkState::Expired,
        LinkState::Revoked,
        LinkState::UsedUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Active => "active",
            LinkState::Expired => "expired",
            LinkState::Revoked => "revoked",
            LinkState::UsedUp => "used_up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        LinkState::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
    }
}

/// The kind of a document, as customers know them. FlexPortal's file `type` is a free string;
/// the four the documentation names get their own variant and everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocType {
    Contract,
    Invoice,
    Document,
    Attachment,
    Other,
}

impl DocType {
    /// Every type, in the order pages list them.
    pub const ALL: [DocType; 5] = [
        DocType::Contract,
        DocType::Invoice,
        DocType::Document,
        DocType::Attachment,
        DocType::Other,
    ];

    /// The value used in URLs (`?type=invoice`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Contract => "contract",
            DocType::Invoice => "invoice",
            DocType::Document => "document",
            DocType::Attachment => "attachment",
            DocType::Other => "other",
        }
    }

    /// Reads a URL value; case and surrounding blanks are forgiven, anything unknown is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        DocType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

/// The signed-in person, if any. Signing in and out are full page loads, so this is read once
/// per page load on the server and carried to the browser inside the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn(pub Option<UserView>);
