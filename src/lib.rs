//! peloton-exporter: a Prometheus/OpenMetrics exporter for a Peloton member's own training
//! data. See `docs/architecture.md` for how the pieces fit.

// The fake builds its big JSON answers with `serde_json::json!`.
#![recursion_limit = "256"]

pub mod account;
pub mod app;
mod atomic_file;
pub mod backfill;
pub mod check_config;
pub mod config;
pub mod config_file;
pub mod demo;
pub mod domain;
pub mod export;
pub mod exposition;
pub mod fake;
pub mod history_cmd;
pub mod logging;
pub mod login_cmd;
pub mod metrics;
pub mod peloton;
pub mod poller;
pub mod progress;
pub mod registry;
pub mod remote_write;
pub mod secret;
pub mod serve;
pub mod server;
pub mod snapshot;
pub mod store;
pub mod supervisor;
pub mod telemetry;
pub mod token_store;
pub mod web_config;
