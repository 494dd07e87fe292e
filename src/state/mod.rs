//! What the poller publishes and a scrape reads: per-account snapshot and readiness, the
//! exporter's own telemetry, and the bounded label values they use.

pub mod account;
pub mod labels;
pub mod progress;
pub mod snapshot;
pub mod telemetry;
