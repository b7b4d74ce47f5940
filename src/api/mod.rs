//! Server functions: public endpoints, thin. Each checks the caller first, then calls into
//! `server/`.

pub mod auth;
pub mod documents;
