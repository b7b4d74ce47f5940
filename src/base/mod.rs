//! The core every feature builds on, and which depends on none of them: who is asking, the one
//! error type, and (on the server) the platform.

pub mod error;
pub mod http_status;
pub mod outbox;
pub mod who;

#[cfg(feature = "ssr")]
pub mod server;
