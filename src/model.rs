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
