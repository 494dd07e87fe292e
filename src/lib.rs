//! peloton-exporter: a Prometheus/OpenMetrics exporter for a Peloton member's own training
//! data. See `docs/architecture.md` for how the pieces fit.

pub mod account;
pub mod app;
mod atomic_file;
pub mod config;
pub mod domain;
pub mod exposition;
pub mod logging;
pub mod metrics;
pub mod peloton;
pub mod poller;
pub mod secret;
pub mod server;
pub mod snapshot;
pub mod telemetry;
pub mod token_store;
