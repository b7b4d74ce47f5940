//! Folio's integration tests, in one binary: each test file of its own would link the whole
//! server again, and linking is most of what `make test` waits for on two cores.
//!
//! A module per feature, beside the attacks (`security`), the command line (`cli`, which runs
//! the binary) and the shared helpers (`common`: a Folio in demo mode on a fresh database,
//! driven through its router without a port).
#![cfg(feature = "ssr")]

mod common;

mod answers;
mod cli;
mod concurrency;
mod documents;
mod exports;
mod links;
mod outage;
mod page_cache;
mod pages;
mod panics;
mod router;
mod security;
mod signin;
mod staff_exports;
