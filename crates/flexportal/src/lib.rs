//! A typed client for the FlexPortal REST API, built for a portal that serves many people from
//! one tenant's small request budget.
//!
//! - **Tolerant decoding.** The API's documentation contradicts itself (field names, envelopes,
//!   timestamp and money formats). Models accept every documented spelling, ignore unknown
//!   fields, keep unknown enum values as `Other`, and only model what a portal may show:
//!   merchant-internal fields (costs, margins, storage paths) are never even decoded.
//! - **Typed errors** by status, with the path of an undecodable field.
//! - **The budget is a hard limit**: a sliding one-minute window shared by every caller of one
//!   [`Client`], paused when the upstream answers 429.
//! - **Cache, coalescing, stale answers**: reads are cached per endpoint and parameters; identical
//!   concurrent reads make one upstream call; when the upstream fails, the last good answer is
//!   served and marked stale.
//! - **Bounded retries with jitter** for reads on 429, 5xx and connection errors.

mod budget;
mod cache;
mod client;
mod error;
mod metrics;
pub mod model;

pub use cache::{AnswerLog, Fetched};
pub use client::{Client, ClientConfig, CustomerWatch, FileAction};
pub use error::Error;
pub use metrics::MetricsSnapshot;
