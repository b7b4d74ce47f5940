//! View types sent to the browser. They hold only what a page shows: nothing here may carry
//! secrets or merchant-internal data, and nothing here depends on server-only crates.

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
}

/// The signed-in person, as pages show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub email: String,
}

/// A demo account listed on the sign-in page in demo mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccountView {
    pub email: String,
    pub name: String,
    pub description: String,
}

/// A mail in the demo outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Unix seconds.
    pub sent_at: i64,
}
