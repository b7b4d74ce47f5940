//! Which documents a scope may see, and the views of them that pages show.
//!
//! FlexPortal cannot filter files by customer, and `GET /v1/orders/{id}` or `/v1/files/{id}`
//! answer whoever asks. So ownership is derived here, on every request ([`ownership`]): the
//! customer's orders are those whose `customer.customerId` is the customer, a file is visible
//! only if its `orderId` is one of them, its tenant is ours and its type is in scope. Anything
//! outside the scope answers [`AppError::NotFound`](crate::base::error::AppError::NotFound),
//! exactly like a missing id.

mod archive;
pub mod archive_store;
pub mod background;
mod csv;
pub mod delivery;
mod derived;
pub mod exports;
mod fetch;
pub mod files;
mod index;
pub mod lists;
mod months;
mod orders;
pub mod ownership;
mod rows;
mod upstream;
mod views;
mod zip;

#[cfg(test)]
mod tests;

pub use orders::orders;
pub use ownership::{owned_orders, OwnedOrders};
pub(crate) use rows::order_summary;
pub use upstream::doc_type;
pub(crate) use upstream::{plausible_id, upstream_error};
pub use views::{documents, invoice_year, invoices, order_detail, overview, warm_up};
