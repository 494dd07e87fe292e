//! Tracing setup: level and format from the flags, output on stderr.

use std::io::IsTerminal as _;

use clap::ValueEnum;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    fn filter(self) -> LevelFilter {
        match self {
            LogLevel::Error => LevelFilter::ERROR,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Trace => LevelFilter::TRACE,
        }
    }
}

/// Installs the global subscriber. Dependencies log at warn at most, except at trace,
/// so that one flag does not flood the log with HTTP internals. A fixed `Targets` filter
/// rather than an `EnvFilter`: the same two directives without a regex engine in the
/// binary (docs/benchmarks.md, "The static build against nginx").
pub fn init(level: LogLevel, format: LogFormat) {
    let filter = match level {
        LogLevel::Trace => Targets::new().with_default(LevelFilter::TRACE),
        other => Targets::new()
            .with_default(LevelFilter::WARN)
            .with_target("peloton_exporter", other.filter()),
    };
    let builder = tracing_subscriber::fmt()
        // Everything reaches the filter above, which decides.
        .with_max_level(LevelFilter::TRACE)
        .with_writer(|| QuietStderr)
        // Colour codes only for a person at a terminal: journald, `kubectl logs` and
        // files get plain text that grep and log shippers can read.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().finish().with(filter).try_init(),
        LogFormat::Text => builder.finish().with(filter).try_init(),
    };
}

/// Standard error that never reports a failed write. tracing-subscriber answers a failed
/// write with `eprintln!`, which panics on a closed stderr (`2>&1 | head -c 10`): a log
/// line nobody can read any more is lost, and the work goes on.
#[derive(Debug, Clone, Copy)]
pub struct QuietStderr;

impl std::io::Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// The error and its causes on one line. reqwest's messages name the URL, which carries
/// no secret (tokens travel in headers and bodies only).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
