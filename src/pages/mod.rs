//! One route component per file.

pub mod documents;
pub mod home;
pub mod invoices;
pub mod login;
pub mod login_check;
pub mod login_verify;
pub mod not_found;
pub mod order;
pub mod outbox;
