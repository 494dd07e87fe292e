//! The log's settings: `--log.*`. Every command logs. Nothing here needs resolving.

use crate::logging::{LogFormat, LogLevel};

/// How much is logged, and in which format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct LogSettings {
    /// Log level.
    #[arg(
        global = true,
        id = "log_level",
        long = "log.level",
        env = "PELOTON_LOG_LEVEL",
        default_value = "info",
        value_name = "LOG_LEVEL",
        value_enum,
        help_heading = "Logging"
    )]
    pub level: LogLevel,

    /// Log format.
    #[arg(
        global = true,
        id = "log_format",
        long = "log.format",
        env = "PELOTON_LOG_FORMAT",
        default_value = "text",
        value_name = "LOG_FORMAT",
        value_enum,
        help_heading = "Logging"
    )]
    pub format: LogFormat,
}
