//! Tracing setup: level and format from the flags, output on stderr.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogLevel};

/// Installs the global subscriber. Dependencies log at warn at most, except at trace,
/// so that one flag does not flood the log with HTTP internals.
pub fn init(level: LogLevel, format: LogFormat) {
    let filter = match level {
        LogLevel::Trace => EnvFilter::new("trace"),
        other => EnvFilter::new(format!("warn,peloton_exporter={}", other.as_str())),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
