//! peloton-exporter: a Prometheus/OpenMetrics exporter for a Peloton member's own training
//! data. Each folder is one stage of the data flow; `docs/architecture.md` draws it and
//! gives the one direction imports may run (checked by `tests/it/layers.rs`).

pub mod cmd;
pub mod domain;
pub mod exposition;
pub mod history;
pub mod http;
pub mod metrics;
pub mod peloton;
pub mod poll;
pub mod run;
pub mod settings;
pub mod state;
pub mod store;

pub mod clock;
pub mod logging;
pub mod process_stats;
pub mod secret;
