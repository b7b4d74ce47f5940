//! What the sign-in pages show.
//!
//! View types sent to the browser. They hold only what a page shows: nothing here may carry
//! secrets or merchant-internal data, and nothing here depends on server-only crates.

use serde::{Deserialize, Serialize};

/// A demo account listed on the sign-in page in demo mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccountView {
    pub email: String,
    pub name: String,
    pub description: String,
}
