//! Signing in by email, for customers and for staff: the sign-in pages, the mail with its link
//! and code, and signing out.

pub mod api;
pub mod check;
pub mod login;
pub mod model;
pub mod outbox;
pub mod verify;

#[cfg(feature = "ssr")]
pub mod server;
