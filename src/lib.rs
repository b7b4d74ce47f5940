//! Folio: a customer document portal for businesses that run their rentals on FlexPortal.
//!
//! The crate builds twice: with `ssr` it is the server (see [`server`]), with `hydrate` it is the
//! WebAssembly bundle that hydrates the server-rendered pages.

// The release server build keeps the views' full types (debug builds erase them), and the
// staff tables nest deeper than the compiler's default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

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
