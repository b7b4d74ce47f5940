//! Folio: a customer document portal for businesses that run their rentals on FlexPortal.
//!
//! The crate builds twice: with `ssr` it is the server (see [`server`]), with `hydrate` it is the
//! WebAssembly bundle that hydrates the server-rendered pages.
//!
//! One folder per feature, each of the same shape (view types, server functions, pages, and a
//! `server` part built only into the server), on a core that depends on none of them:
//!
//! - [`base`]: who is asking, the one error type, and the platform (configuration, state, the
//!   database, sessions, tokens, mail, audit, security headers, telemetry, health, rate
//!   limits, the page cache).
//! - [`ui`]: the components every page uses (header, errors, formats, pager).
//! - [`documents`], [`signin`], [`links`], [`staff`]: the features.
//! - [`app`] and [`server`]: the routes of the pages and of the server, where the features are
//!   assembled.

// The release server build keeps the views' full types (debug builds erase them), and the
// staff tables nest deeper than the compiler's default limit.
#![recursion_limit = "256"]

pub mod app;
pub mod base;
pub mod documents;
pub mod links;
pub mod signin;
pub mod staff;
pub mod ui;

#[allow(deprecated)]
mod translations {
    // The generated module is named `i18n`; it is re-exported below under that name.
    leptos_i18n::load_locales!();
}

pub use translations::i18n;

#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WebAssembly bundle: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
