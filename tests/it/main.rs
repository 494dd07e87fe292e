//! The integration tests as one binary (`cargo test --test it`): each module here was a
//! test crate of its own, and each of those linked the whole exporter. Run one module with
//! a filter: `cargo test --test it -- faults::`.
//!
//! The tests share one process: none may set an environment variable, change the working
//! directory or install a global tracing subscriber. Give such things to a child process
//! (the real binary, `common::BIN`) instead.
// Tests unwrap and panic. Most index too: `value["key"]` on a serde_json::Value never
// panics (a missing key reads as Null).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod support;

mod auth_edge;
mod backfill;
mod binary;
mod challenges_strength;
// These two did not allow indexing as files of their own.
#[warn(clippy::indexing_slicing)]
mod dashboards;
mod deploy;
mod exporter;
mod faults;
mod first_run;
mod fuzz;
mod history;
mod home_assistant;
mod job_name;
mod layers;
mod live;
mod login;
mod metric_reference;
mod operator;
mod proxy_tls;
mod remote_write;
mod router;
#[warn(clippy::indexing_slicing)]
mod rules;
// It prints its figures for bench/soak.sh.
#[allow(clippy::print_stdout)]
mod soak;
mod training;
mod upstream;
mod validators;
mod web_config;
