//! The staff's side on the server: the views of the staff screens, the actions on portal
//! links, the staff list in Folio's database, and the `folio staff` command.

pub mod actions;
pub mod command;
mod customers;
pub mod exports;
pub mod store;
mod views;

pub use customers::{customer_hit, find_customers};
pub use views::{audit_log, customer_view, link_detail, new_link_form, register, PER_PAGE};
