//! Tracing setup: level and format from the flags, output on stderr.

use std::io::IsTerminal as _;

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
        // Colour codes only for a person at a terminal: journald, `kubectl logs` and
        // files get plain text that grep and log shippers can read.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
