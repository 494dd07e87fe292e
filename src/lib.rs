//! peloton-exporter: a Prometheus/OpenMetrics exporter for a Peloton member's own training
//! data. See `docs/architecture.md` for how the pieces fit.

// The fake builds its big JSON answers with `serde_json::json!`.
#![recursion_limit = "256"]

pub mod account;
pub mod app;
mod atomic_file;
pub mod config;
pub mod config_file;
pub mod demo;
pub mod domain;
pub mod exposition;
pub mod fake;
pub mod logging;
pub mod metrics;
pub mod peloton;
pub mod poller;
pub mod secret;
pub mod server;
pub mod snapshot;
pub mod store;
pub mod telemetry;
pub mod token_store;
