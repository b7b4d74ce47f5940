//! One route component per file.

pub mod documents;
pub mod home;
pub mod invoices;
pub mod login;
pub mod not_found;
