//! A typed client for the FlexPortal REST API, built for a portal that serves many people from
//! one tenant's small request budget.
//!
//! - **Tolerant decoding.** The API's documentation contradicts itself (field names, envelopes,
//!   timestamp and money formats). Models accept every documented spelling, ignore unknown
//!   fields, keep unknown enum values as `Other`, and only model what a portal may show:
//!   merchant-internal fields (costs, margins, storage paths) are never even decoded.
//! - **Typed errors** by status, with the path of an undecodable field.
//! - **Answers kept in two tiers**: decoded in memory for the hot path, and in an
//!   [`AnswerStore`] behind it (Folio's database, shared by every instance). Identical
//!   concurrent reads make one upstream call. A read with a kept answer does not wait for
//!   FlexPortal: past its [`Freshness`], the answer is served at once and one refresh runs
//!   behind it, across all instances (a lease in the store). Sign-in lookups, and keys a caller
//!   asked to [`Client::forget`], wait for the newest.
//! - **The budget is a hard limit**, kept in the store so that every instance shares it, with
//!   shares for background work and sign-in lookups ([`Priority`]); paused for everyone when
//!   the upstream answers 429.
//! - **Bounded retries with jitter** for reads on 429, 5xx and connection errors.

mod answers;
mod budget;
mod cache;
mod client;
pub mod clock;
mod download;
mod error;
mod metrics;
pub mod model;
mod reads;
mod store;

pub use answers::{Ask, FilesHint, Freshness};
pub use budget::{Allowance, Priority, Shares};
pub use cache::{AnswerLog, Fetched};
pub use client::{Client, ClientConfig, CustomerWatch, FileAction};
pub use download::Download;
pub use error::Error;
pub use metrics::MetricsSnapshot;
pub use store::{AnswerStore, Change, MemoryStore, StoreError, StoredAnswer};
