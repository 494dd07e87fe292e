//! The command line: one flag group per consumer (each in its consumer's file), the flags
//! every command reads, and the one place that turns them into `Settings`. Every flag is
//! also an environment variable; secrets may come from files, and their values are never
//! echoed, not even in `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::collectors::CollectorFlags;
use super::credentials::{self, SignInFlags, TokenFlags};
use super::log::LogSettings;
use super::peloton::{PelotonFlags, RetrySettings};
use super::poll::{PollContext, PollFlags, RateFlags};
use super::remote_write::RemoteWriteSettings;
use super::resolved::{ConfigError, Settings};
use super::values::parse_duration;
use super::web::HttpSettings;

mod commands;
mod refused;

pub use commands::{
    BackfillArgs, Command, ExportArgs, ExportFormat, ExportUnits, LoginArgs, Split,
};

/// Prometheus exporter for a Peloton member's own training data.
// The groups are flattened in the order `--help` lists their flags. `Debug` is derived:
// the groups that hold a secret or a proxy password write theirs by hand.
#[derive(Debug, Clone, Parser)]
#[command(name = "peloton-exporter", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    http: HttpSettings,

    #[command(flatten)]
    peloton: PelotonFlags,

    #[command(flatten)]
    tokens: TokenFlags,

    #[command(flatten)]
    sign_in: SignInFlags,

    /// Timeout of one request to Peloton.
    // The remote writer's requests get it too.
    #[arg(global = true, long = "peloton.timeout", env = "PELOTON_TIMEOUT", default_value = "30s", value_name = "DURATION", value_parser = parse_duration, help_heading = "Peloton")]
    timeout: Duration,

    #[command(flatten)]
    retry: RetrySettings,

    #[command(flatten)]
    rate: RateFlags,

    /// YAML file listing several accounts (name and token sources); see docs/configuration.md.
    #[arg(
        global = true,
        long = "config.file",
        env = "PELOTON_CONFIG_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    config_file: Option<PathBuf>,

    #[command(flatten)]
    remote_write: RemoteWriteSettings,

    #[command(flatten)]
    poll: PollFlags,

    /// Directory for state kept across restarts (history, tokens)
    /// [env: PELOTON_STORAGE_PATH=] [default: ./data; a temporary directory with --demo]
    #[arg(
        global = true,
        long = "storage.path",
        env = "PELOTON_STORAGE_PATH",
        hide_env = true,
        value_name = "DIR",
        help_heading = "Storage"
    )]
    pub storage_path: Option<PathBuf>,

    #[command(flatten)]
    log: LogSettings,

    #[command(flatten)]
    collectors: CollectorFlags,

    /// Count workouts imported from Apple Health, Strava, Fitbit or Garmin in the lifetime
    /// totals and as the latest workout, like workouts done on Peloton. By default they are
    /// counted apart (peloton_imported_workouts_total).
    #[arg(
        global = true,
        long = "peloton.include-imported",
        env = "PELOTON_INCLUDE_IMPORTED"
    )]
    include_imported: bool,

    /// Run against a built-in fake Peloton with a demo member; no account needed.
    #[arg(global = true, long = "demo", env = "PELOTON_DEMO")]
    demo: bool,

    /// With --demo: a ride runs in real time (a 5-minute class, then the next after 30 s),
    /// and live mode is on (--poll.live-interval 5s unless given).
    #[arg(
        global = true,
        long = "demo.live",
        env = "PELOTON_DEMO_LIVE",
        requires = "demo"
    )]
    demo_live: bool,
}

impl Cli {
    /// The command line as clap sees it. Each subcommand shows and accepts only the flags
    /// it reads (see `commands.rs`).
    pub fn clap_command() -> clap::Command {
        <Self as clap::CommandFactory>::command()
    }

    /// Parses a command line (the program name first).
    pub fn parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }

    /// The settings of every consumer, built here and nowhere else: secret files read,
    /// defaults that depend on other flags applied, everything checked. Called again on a
    /// reload, which re-reads the files.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        // `login` asks for what is missing; the exporter cannot.
        let interactive = matches!(self.command, Some(Command::Login(_)));
        let credentials = credentials::from_flags(&self.tokens, &self.sign_in, interactive)?;
        let poll = self.poll.resolve(
            &self.rate,
            PollContext {
                demo: self.demo,
                pelotons_api: self.peloton.is_pelotons_api(),
                include_imported: self.include_imported,
                demo_live: self.demo_live,
            },
        )?;
        let storage_path = match &self.storage_path {
            Some(p) => p.clone(),
            None if self.demo => {
                std::env::temp_dir().join(format!("peloton-exporter-demo-{}", std::process::id()))
            }
            None => PathBuf::from("data"),
        };
        let accounts =
            credentials::accounts(credentials, self.config_file.as_ref(), &storage_path)?;
        Ok(Settings {
            accounts,
            peloton: self.peloton.resolve(self.timeout, self.retry)?,
            poll,
            http: self.http.clone(),
            remote_write: self.remote_write.clone(),
            collectors: self.collectors.collectors(),
            storage_path,
            log: self.log,
            demo: self.demo,
            demo_live: self.demo_live,
        })
    }
}

#[cfg(test)]
mod tests;
