//! One route component per file.

pub mod access;
pub mod documents;
pub mod home;
pub mod invoices;
pub mod link_ended;
pub mod login;
pub mod login_check;
pub mod login_verify;
pub mod manage;
pub mod not_found;
pub mod order;
pub mod outbox;
pub mod share;
