//! A customer's documents: the overview, the document list, the orders, the invoices, and the
//! file routes that open and download them. Everything here is scoped: a customer sees their
//! own portal, a link session its link's part of it.

pub mod api;
pub mod archives;
pub mod invoices;
pub mod list;
pub mod model;
pub mod order;
pub mod orders;
pub mod overview;
pub mod pages;
pub mod table;
pub mod zip_button;

#[cfg(feature = "ssr")]
pub mod server;
