//! The platform, on the server only: configuration, the shared state, Folio's database and
//! sessions, who is asking, tokens and hashing, mail, audit, security headers, telemetry,
//! health, rate limits and the page cache. Features use these; none of these uses a feature.

pub mod answer_store;
pub mod answers;
pub mod audit;
pub mod calls;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod health;
pub mod hooks;
pub mod locale;
pub mod mail;
pub mod metrics;
pub mod page_cache;
pub mod principal;
pub mod rate_limit;
pub mod security;
pub mod session;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tokens;
pub mod upstream;
