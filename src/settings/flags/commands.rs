//! The subcommands and their own flags. Each names, by type, the flag groups it does not
//! read: they are refused there (`Refused`). `check-config` checks every flag, so it
//! refuses none.

use std::path::PathBuf;

use clap::ValueEnum;

use super::refused::Refused;
use crate::settings::collectors::CollectorFlags;
use crate::settings::credentials::TokenFlags;
use crate::settings::peloton::RetrySettings;
use crate::settings::poll::{PollFlags, RateFlags};
use crate::settings::remote_write::{RemoteWriteSettings, parse_label};
use crate::settings::web::HttpSettings;

/// What to do; without a subcommand the exporter serves metrics.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Write the stored history (synced first) as timestamped OpenMetrics for
    /// `promtool tsdb create-blocks-from openmetrics`.
    Backfill(BackfillArgs),
    /// Write one row per completed workout, with converted values, as CSV or JSON.
    Export(ExportArgs),
    /// Sign in with email and password (asked for when not set) and store the tokens
    /// under --storage.path, so the exporter needs no password afterwards.
    Login(LoginArgs),
    /// Validate flags, the config file, the web config and every secret file without
    /// contacting Peloton; print what would run (secrets as ***). Exits 1 on an error.
    CheckConfig,
}

#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// Finish a browser sign-in (see --browser): the whole address the browser landed
    /// on, https://members.onepeloton.com/callback?code=…; "-" reads it from stdin.
    #[arg(long = "callback-url", value_name = "URL", conflicts_with = "browser")]
    pub callback_url: Option<String>,
    /// Skip the headless sign-in: print an address to sign in at with a browser, for
    /// accounts that need an extra verification step.
    #[arg(long = "browser")]
    pub browser: bool,
    // What `login` does not read: besides the server's flags, the tokens and the pacing
    // (it signs in with a password and makes requests one at a time, without retries).
    #[command(flatten)]
    _web: Refused<HttpSettings>,
    #[command(flatten)]
    _remote_write: Refused<RemoteWriteSettings>,
    #[command(flatten)]
    _poll: Refused<PollFlags>,
    #[command(flatten)]
    _collectors: Refused<CollectorFlags>,
    #[command(flatten)]
    _tokens: Refused<TokenFlags>,
    #[command(flatten)]
    _retry: Refused<RetrySettings>,
    #[command(flatten)]
    _rate: Refused<RateFlags>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BackfillArgs {
    /// File to write ("-" for standard output).
    #[arg(long = "out", value_name = "FILE")]
    pub out: PathBuf,
    /// First day to include (YYYY-MM-DD, UTC).
    #[arg(long = "from", value_name = "DATE", value_parser = parse_date)]
    pub from: Option<i64>,
    /// Last day to include (YYYY-MM-DD, UTC); never later than 3 hours ago.
    #[arg(long = "to", value_name = "DATE", value_parser = parse_date)]
    pub to: Option<i64>,
    /// Extra label on every series, e.g. --label job=peloton-exporter, so the history joins the
    /// series Prometheus scrapes (which carry job and instance). Repeatable.
    #[arg(long = "label", value_name = "NAME=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// Also write every workout's per-sample output, cadence, resistance, speed and heart
    /// rate (peloton_trace_*), from the store: about 10 samples per second of training.
    #[arg(long = "traces")]
    pub traces: bool,
    /// Write one file per UTC calendar month instead, named after --out with the month
    /// added (peloton.om: peloton-2024-01.om, …). promtool reads its whole input once per
    /// block it writes, so years of history (traces above all) import many times faster
    /// in monthly files.
    #[arg(long = "split", value_name = "PERIOD", value_enum)]
    pub split: Option<Split>,
    // What `backfill` does not read: the server's flags.
    #[command(flatten)]
    _web: Refused<HttpSettings>,
    #[command(flatten)]
    _remote_write: Refused<RemoteWriteSettings>,
    #[command(flatten)]
    _poll: Refused<PollFlags>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Split {
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long = "format", value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// File to write ("-" for standard output).
    #[arg(long = "out", value_name = "FILE", default_value = "-")]
    pub out: PathBuf,
    /// Units of the numbers, named in every column: base (joules, meters, seconds,
    /// ratios) for machines; metric or imperial (kcal, kJ, km or mi, minutes, watts,
    /// percent) for people.
    #[arg(long = "units", value_enum, default_value = "base")]
    pub units: ExportUnits,
    // What `export` does not read: the server's flags, and the collectors (it writes rows,
    // not metrics).
    #[command(flatten)]
    _web: Refused<HttpSettings>,
    #[command(flatten)]
    _remote_write: Refused<RemoteWriteSettings>,
    #[command(flatten)]
    _poll: Refused<PollFlags>,
    #[command(flatten)]
    _collectors: Refused<CollectorFlags>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportUnits {
    Base,
    Metric,
    Imperial,
}

/// A UTC day as the Unix time of its midnight.
fn parse_date(s: &str) -> Result<i64, String> {
    let t = humantime::parse_rfc3339(&format!("{}T00:00:00Z", s.trim()))
        .map_err(|_| "not a date like 2024-01-31".to_owned())?;
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .map_err(|_| "dates before 1970 are not supported".to_owned())
}
