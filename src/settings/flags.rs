//! Command-line flags (each also an environment variable) and their validation. Secrets
//! may come from files; their values are never echoed, not even in `--help`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use url::Url;

use super::resolved::{
    AccountSettings, ConfigError, DEFAULT_POLL_INTERVAL, DEFAULT_REQUEST_RATE, DEMO_POLL_INTERVAL,
    DEMO_REQUEST_RATE, Settings, read_password_file,
};
use crate::logging::{LogFormat, LogLevel};
use crate::metrics::collectors::{Collector, Collectors, GROUPS};
use crate::peloton::auth0::Auth0Client;
use crate::peloton::transport::{self, CaBundle, ProxyUrl, Transport};
use crate::secret::Secret;

/// Prometheus exporter for a Peloton member's own training data.
// `Debug` is written by hand below: flags hold raw tokens and passwords. Every bool is an
// independent command-line switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Parser)]
#[command(name = "peloton-exporter", version, about, long_about = None, args_override_self = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on for /metrics, /healthz and /readyz.
    #[arg(global = true, long = "web.listen-address", env = "PELOTON_WEB_LISTEN_ADDRESS", default_value = "0.0.0.0:10058", value_name = "ADDR", value_parser = parse_listen_address, help_heading = "Web")]
    pub listen_address: SocketAddr,

    /// Path under which metrics are served.
    #[arg(global = true, long = "web.telemetry-path", env = "PELOTON_WEB_TELEMETRY_PATH", default_value = "/metrics", value_name = "PATH", value_parser = parse_telemetry_path, help_heading = "Web")]
    pub telemetry_path: String,

    /// exporter-toolkit web config (TLS, client certificates, basic auth); re-read when it
    /// changes. See docs/web-config.md.
    #[arg(
        global = true,
        long = "web.config.file",
        env = "PELOTON_WEB_CONFIG_FILE",
        value_name = "FILE",
        help_heading = "Web"
    )]
    pub web_config_file: Option<PathBuf>,

    /// Enable `POST /-/reload` (re-reads --config.file and the secret files, as SIGHUP
    /// does).
    #[arg(
        global = true,
        long = "web.enable-lifecycle",
        env = "PELOTON_WEB_ENABLE_LIFECYCLE",
        help_heading = "Web"
    )]
    pub enable_lifecycle: bool,

    /// Base URL of Peloton's API.
    #[arg(global = true, long = "peloton.api-url", env = "PELOTON_API_URL", default_value = "https://api.onepeloton.com", value_name = "URL", value_parser = parse_url, help_heading = "Peloton")]
    pub api_url: Url,

    /// Base URL of Peloton's Auth0 server (token refresh).
    #[arg(global = true, long = "peloton.auth-url", env = "PELOTON_AUTH_URL", default_value = "https://auth.onepeloton.com", value_name = "URL", value_parser = parse_url, help_heading = "Peloton")]
    pub auth_url: Url,

    /// Auth0 client id that the token refresh and the sign-in present (Peloton's web app's).
    #[arg(global = true, long = "peloton.auth0.client-id", env = "PELOTON_AUTH0_CLIENT_ID", default_value = crate::peloton::auth0::CLIENT_ID, value_name = "ID", value_parser = parse_nonempty, help_heading = "Advanced")]
    pub auth0_client_id: String,

    /// Auth0 audience that the sign-in asks tokens for.
    #[arg(global = true, long = "peloton.auth0.audience", env = "PELOTON_AUTH0_AUDIENCE", default_value = crate::peloton::auth0::AUDIENCE, value_name = "AUDIENCE", value_parser = parse_nonempty, help_heading = "Advanced")]
    pub auth0_audience: String,

    /// Auth0 scopes of the sign-in (offline_access brings the refresh token).
    #[arg(global = true, long = "peloton.auth0.scope", env = "PELOTON_AUTH0_SCOPE", default_value = crate::peloton::auth0::SCOPE, value_name = "SCOPES", value_parser = parse_nonempty, help_heading = "Advanced")]
    pub auth0_scope: String,

    /// Redirect URI registered for the client; the sign-in ends on it with the code.
    #[arg(global = true, long = "peloton.auth0.redirect-uri", env = "PELOTON_AUTH0_REDIRECT_URI", default_value = crate::peloton::auth0::REDIRECT_URI, value_name = "URL", value_parser = parse_redirect_uri, help_heading = "Advanced")]
    pub auth0_redirect_uri: String,

    /// Proxy for all Peloton traffic (API, token refresh, sign-in), e.g.
    /// http://user:password@proxy:3128. Replaces HTTPS_PROXY/HTTP_PROXY; NO_PROXY still
    /// applies. Not used for --remote-write.url.
    // A string, checked in `settings()`: clap's own errors would echo the password.
    #[arg(
        global = true,
        long = "peloton.proxy-url",
        env = "PELOTON_PROXY_URL",
        hide_env_values = true,
        value_name = "URL",
        help_heading = "Peloton"
    )]
    pub proxy_url: Option<String>,

    /// PEM file of CA certificates trusted for Peloton traffic in addition to the
    /// system's, e.g. a TLS-inspecting proxy's CA.
    #[arg(
        global = true,
        long = "peloton.ca-file",
        env = "PELOTON_CA_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    pub ca_file: Option<PathBuf>,

    /// Access token (JWT), used until it expires. Prefer a refresh token.
    #[arg(
        global = true,
        long = "peloton.access-token",
        env = "PELOTON_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "access_token_file",
        help_heading = "Peloton"
    )]
    pub access_token: Option<String>,

    /// File holding the access token.
    #[arg(
        global = true,
        long = "peloton.access-token-file",
        env = "PELOTON_ACCESS_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    pub access_token_file: Option<PathBuf>,

    /// Refresh token; exchanged for access tokens and rotated as Peloton requires.
    #[arg(
        global = true,
        long = "peloton.refresh-token",
        env = "PELOTON_REFRESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "refresh_token_file",
        help_heading = "Peloton"
    )]
    pub refresh_token: Option<String>,

    /// File holding the refresh token.
    #[arg(
        global = true,
        long = "peloton.refresh-token-file",
        env = "PELOTON_REFRESH_TOKEN_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    pub refresh_token_file: Option<PathBuf>,

    /// Email or username to sign in with when no working token is stored (headless
    /// Auth0 sign-in; afterwards only the refresh token is used).
    #[arg(
        global = true,
        long = "peloton.username",
        env = "PELOTON_USERNAME",
        hide_env_values = true,
        value_name = "EMAIL",
        help_heading = "Peloton"
    )]
    pub username: Option<String>,

    /// Password for --peloton.username. Prefer --peloton.password-file.
    #[arg(
        global = true,
        long = "peloton.password",
        env = "PELOTON_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD",
        conflicts_with = "password_file",
        help_heading = "Peloton"
    )]
    pub password: Option<String>,

    /// File holding the password (its first line).
    #[arg(
        global = true,
        long = "peloton.password-file",
        env = "PELOTON_PASSWORD_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    pub password_file: Option<PathBuf>,

    /// Timeout of one request to Peloton.
    #[arg(global = true, long = "peloton.timeout", env = "PELOTON_TIMEOUT", default_value = "30s", value_name = "DURATION", value_parser = parse_duration, help_heading = "Peloton")]
    pub timeout: Duration,

    /// Retries of a failed request (network error, timeout, 429, 5xx) within one poll.
    #[arg(global = true, long = "peloton.max-retries", env = "PELOTON_MAX_RETRIES", default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10), help_heading = "Peloton")]
    pub max_retries: u32,

    /// First retry delay; doubles with every retry (with jitter), at most 30s.
    #[arg(global = true, long = "peloton.retry-backoff", env = "PELOTON_RETRY_BACKOFF", default_value = "1s", value_name = "DURATION", value_parser = parse_duration, help_heading = "Peloton")]
    pub retry_backoff: Duration,

    /// Requests per second at most while fetching the history (list pages of the first
    /// sync, one performance graph per workout)
    /// [env: PELOTON_MAX_REQUEST_RATE=] [default: 1; 50 with --demo]
    // The default depends on --demo, so clap cannot print it; the env name is written
    // out too, to keep clap's order (env, then default) on every flag.
    #[arg(global = true, long = "peloton.max-request-rate", env = "PELOTON_MAX_REQUEST_RATE", hide_env = true, value_name = "PER_SECOND", value_parser = parse_rate, help_heading = "Polling")]
    pub max_request_rate: Option<f64>,

    /// YAML file listing several accounts (name and token sources); see docs/configuration.md.
    #[arg(
        global = true,
        long = "config.file",
        env = "PELOTON_CONFIG_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    pub config_file: Option<PathBuf>,

    /// Prometheus remote-write endpoint (e.g. http://prometheus:9090/api/v1/write) that
    /// receives each newly completed workout's samples with their true timestamps.
    #[arg(global = true, long = "remote-write.url", env = "PELOTON_REMOTE_WRITE_URL", value_name = "URL", value_parser = parse_url, help_heading = "History")]
    pub remote_write_url: Option<Url>,

    /// Extra label on every pushed series, e.g. job=peloton-exporter (the scrape job). Repeatable.
    #[arg(global = true, long = "remote-write.label", value_name = "NAME=VALUE", value_parser = parse_label, help_heading = "History")]
    pub remote_write_labels: Vec<(String, String)>,

    /// Also push each new workout's per-sample trace (power, cadence, resistance, speed,
    /// heart rate; about 13,500 samples for a 45-minute ride), as `backfill --traces` writes
    #[arg(
        global = true,
        long = "remote-write.traces",
        env = "PELOTON_REMOTE_WRITE_TRACES",
        help_heading = "History"
    )]
    pub remote_write_traces: bool,

    /// How often to ask Peloton for new workouts
    /// [env: PELOTON_POLL_INTERVAL=] [default: 5m; 10s with --demo]
    #[arg(global = true, long = "poll.interval", env = "PELOTON_POLL_INTERVAL", hide_env = true, value_name = "DURATION", value_parser = parse_duration, help_heading = "Polling")]
    pub poll_interval: Option<Duration>,

    /// How often the profile (/api/me) and the overview (streaks, records, counts) are
    /// refreshed when no new workout asks for it.
    #[arg(global = true, long = "poll.profile-interval", env = "PELOTON_POLL_PROFILE_INTERVAL", default_value = "30m", value_name = "DURATION", value_parser = parse_duration, help_heading = "Polling")]
    pub profile_interval: Duration,

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

    /// Log level.
    #[arg(
        global = true,
        long = "log.level",
        env = "PELOTON_LOG_LEVEL",
        default_value = "info",
        value_enum,
        help_heading = "Logging"
    )]
    pub log_level: LogLevel,

    /// Log format.
    #[arg(
        global = true,
        long = "log.format",
        env = "PELOTON_LOG_FORMAT",
        default_value = "text",
        value_enum,
        help_heading = "Logging"
    )]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub collectors: CollectorFlags,

    /// Count workouts imported from Apple Health, Strava, Fitbit or Garmin in the lifetime
    /// totals and as the latest workout, like workouts done on Peloton. By default they are
    /// counted apart (peloton_imported_workouts_total).
    #[arg(
        global = true,
        long = "peloton.include-imported",
        env = "PELOTON_INCLUDE_IMPORTED"
    )]
    pub include_imported: bool,

    /// Run against a built-in fake Peloton with a demo member; no account needed.
    #[arg(global = true, long = "demo", env = "PELOTON_DEMO")]
    pub demo: bool,
}

/// Names no secret: tokens and passwords given as flags are plain strings until
/// `settings()` wraps them, and a `{cli:?}` in a log line or a panic must not show them.
impl std::fmt::Debug for Cli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cli")
            .field("listen_address", &self.listen_address)
            .field("telemetry_path", &self.telemetry_path)
            .field("web_config_file", &self.web_config_file)
            .field("api_url", &self.api_url.as_str())
            .field("auth_url", &self.auth_url.as_str())
            .field("auth0_client_id", &self.auth0_client_id)
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(transport::redact_raw),
            )
            .field("ca_file", &self.ca_file)
            .field("config_file", &self.config_file)
            .field("storage_path", &self.storage_path)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

/// The optional metric groups, each on by default. `--collector.X=false` (or the
/// environment variable) and `--no-collector.X` switch one off; the last flag wins.
// Each switch is a flag pair as in node_exporter, hence the bools.
#[allow(clippy::struct_excessive_bools)]
/// `--collector.<name>[=BOOL]` and `--no-collector.<name>` for every optional group in
/// `metrics::collectors::GROUPS`, written out from that list (clap's derive cannot loop).
/// Of the two flags of a group the last one given wins, as in node_exporter.
#[derive(Debug, Clone, Default)]
pub struct CollectorFlags {
    /// Per group: `Some(on)` when a flag or its variable said so.
    chosen: Vec<(Collector, bool)>,
}

impl CollectorFlags {
    pub fn collectors(&self) -> Collectors {
        Collectors::new(GROUPS.iter().map(|g| {
            let chosen = self.chosen.iter().find(|(c, _)| *c == g.collector);
            (g.collector, chosen.map_or(g.default, |(_, on)| *on))
        }))
    }
}

impl clap::Args for CollectorFlags {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for g in GROUPS {
            let default = if g.default { "on" } else { "off" };
            cmd = cmd
                .arg(
                    clap::Arg::new(g.flag)
                        .long(g.flag)
                        .env(g.env)
                        .global(true)
                        .value_name("BOOL")
                        .num_args(0..=1)
                        .require_equals(true)
                        .default_missing_value("true")
                        .value_parser(clap::value_parser!(bool))
                        .overrides_with(g.no_flag)
                        .hide_env(true)
                        .help(format!("{} [env: {}=] [default: {default}]", g.help, g.env))
                        .help_heading("Collectors"),
                )
                .arg(
                    clap::Arg::new(g.no_flag)
                        .long(g.no_flag)
                        .global(true)
                        .action(clap::ArgAction::SetTrue)
                        .overrides_with(g.flag)
                        .help(format!("Switch off --{}", g.flag))
                        .help_heading("Collectors"),
                );
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for CollectorFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut chosen = Vec::new();
        for g in GROUPS {
            if matches.get_flag(g.no_flag) {
                chosen.push((g.collector, false));
            } else if let Some(on) = matches.get_one::<bool>(g.flag) {
                chosen.push((g.collector, *on));
            }
        }
        Ok(Self { chosen })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportUnits {
    Base,
    Metric,
    Imperial,
}

/// Flags that only the server reads: `--web.*`, `--remote-write.*` and `--poll.*`.
const SERVER_FLAGS: &[&str] = &[
    "listen_address",
    "telemetry_path",
    "web_config_file",
    "enable_lifecycle",
    "remote_write_url",
    "remote_write_labels",
    "remote_write_traces",
    "poll_interval",
    "profile_interval",
];

/// Flags that `login` has no use for besides the server's: it signs in with a password
/// and makes requests one at a time, without retries.
const TOKEN_AND_PACING_FLAGS: &[&str] = &[
    "access_token",
    "access_token_file",
    "refresh_token",
    "refresh_token_file",
    "max_request_rate",
    "max_retries",
    "retry_backoff",
];

/// Whether the subcommand `name` reads the flag `id`. `check-config` checks every flag.
fn uses(subcommand: &str, id: &str) -> bool {
    let collector = GROUPS.iter().any(|g| g.flag == id || g.no_flag == id);
    match subcommand {
        "export" => !SERVER_FLAGS.contains(&id) && !collector,
        "backfill" => !SERVER_FLAGS.contains(&id),
        "login" => {
            !SERVER_FLAGS.contains(&id) && !TOKEN_AND_PACING_FLAGS.contains(&id) && !collector
        }
        _ => true,
    }
}

impl Cli {
    /// The command line as clap sees it: the derived flags, with each subcommand showing
    /// and accepting only the flags it reads. A flag it does not read is an error there,
    /// not silently ignored; its environment variable is ignored, as the server's
    /// variables are often set for every command of a host.
    pub fn clap_command() -> clap::Command {
        let root = <Self as clap::CommandFactory>::command();
        let global: Vec<clap::Arg> = root
            .get_arguments()
            .filter(|a| a.is_global_set())
            .cloned()
            .collect();
        let names: Vec<String> = root
            .get_subcommands()
            .map(|c| c.get_name().to_owned())
            .collect();
        names.iter().fold(root, |root, name| {
            root.mut_subcommand(name, |mut sub| {
                // An argument of the subcommand with the same id stops clap from
                // propagating the global one into it; this one only refuses.
                for arg in global.iter().filter(|a| !uses(name, a.get_id().as_str())) {
                    let refusal = format!("`{name}` does not use it (see `{name} --help`)");
                    sub = sub.arg(
                        arg.clone()
                            .global(false)
                            .hide(true)
                            .help_heading(None)
                            .env(None)
                            .default_value(None)
                            .action(clap::ArgAction::Set)
                            .num_args(0..=1)
                            .require_equals(false)
                            .default_missing_value("")
                            .value_parser(move |_: &str| Err::<String, _>(refusal.clone())),
                    );
                }
                sub
            })
        })
    }

    /// Parses a command line (the program name first) with `clap_command()`.
    pub fn parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut matches = Self::clap_command().try_get_matches_from(args)?;
        <Self as clap::FromArgMatches>::from_arg_matches_mut(&mut matches)
    }
}

impl Cli {
    /// Reads secret files and applies defaults that depend on other flags.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let access_token = secret(
            self.access_token.as_deref(),
            self.access_token_file.as_deref(),
            "--peloton.access-token",
            "--peloton.access-token-file",
        )?;
        let refresh_token = secret(
            self.refresh_token.as_deref(),
            self.refresh_token_file.as_deref(),
            "--peloton.refresh-token",
            "--peloton.refresh-token-file",
        )?;
        let username = self
            .username
            .as_deref()
            .map(str::trim)
            .map(|u| {
                if u.is_empty() {
                    Err(ConfigError::EmptySecret {
                        flag: "--peloton.username",
                    })
                } else {
                    Ok(Secret::new(u))
                }
            })
            .transpose()?;
        let password = password(self.password.as_deref(), self.password_file.as_deref())?;
        // `login` asks for what is missing; the exporter cannot.
        let interactive = matches!(self.command, Some(Command::Login(_)));
        if password.is_some() && username.is_none() {
            return Err(ConfigError::Conflict {
                flag: "--peloton.password",
                other: "a missing --peloton.username (set both)",
            });
        }
        if username.is_some() && password.is_none() && !interactive {
            return Err(ConfigError::Missing {
                flag: "--peloton.username",
                what: "--peloton.password or --peloton.password-file",
            });
        }
        let poll_interval = self.poll_interval.unwrap_or(if self.demo {
            DEMO_POLL_INTERVAL
        } else {
            DEFAULT_POLL_INTERVAL
        });
        if poll_interval < Duration::from_secs(1) {
            return Err(ConfigError::TooShort {
                flag: "--poll.interval",
            });
        }
        // Be gentle with Peloton: its real API gets one look a minute at most. The fake
        // (--demo) and any other API URL (a test double, a recording proxy) may go faster.
        let real_api = !self.demo && self.api_url.as_str() == DEFAULT_API_URL_NORMALIZED;
        if real_api && poll_interval < MIN_REAL_POLL_INTERVAL {
            return Err(ConfigError::Invalid {
                flag: "--poll.interval",
                reason: format!(
                    "{} is too short for Peloton's API: use at least {} (shorter intervals are for --demo or another --peloton.api-url)",
                    humantime::format_duration(poll_interval),
                    humantime::format_duration(MIN_REAL_POLL_INTERVAL)
                ),
            });
        }
        if self.profile_interval < Duration::from_secs(1) {
            return Err(ConfigError::TooShort {
                flag: "--poll.profile-interval",
            });
        }
        let storage_path = match &self.storage_path {
            Some(p) => p.clone(),
            None if self.demo => {
                std::env::temp_dir().join(format!("peloton-exporter-demo-{}", std::process::id()))
            }
            None => PathBuf::from("data"),
        };
        let accounts = match &self.config_file {
            Some(file) => {
                if access_token.is_some() || refresh_token.is_some() {
                    return Err(ConfigError::Conflict {
                        flag: "--config.file",
                        other: "the --peloton.*-token flags (put tokens in the file's accounts)",
                    });
                }
                if username.is_some() || password.is_some() {
                    return Err(ConfigError::Conflict {
                        flag: "--config.file",
                        other: "--peloton.username and --peloton.password (put them in the file's accounts)",
                    });
                }
                crate::settings::accounts_file::load(file, &storage_path)?
            }
            None => vec![AccountSettings {
                name: None,
                access_token,
                refresh_token,
                username,
                password,
                storage_path: storage_path.clone(),
            }],
        };
        Ok(Settings {
            remote_write_url: self.remote_write_url.clone(),
            remote_write_labels: self.remote_write_labels.clone(),
            remote_write_traces: self.remote_write_traces,
            listen_address: self.listen_address,
            telemetry_path: self.telemetry_path.clone(),
            web_config_file: self.web_config_file.clone(),
            enable_lifecycle: self.enable_lifecycle,
            collectors: self.collectors.collectors(),
            api_url: self.api_url.clone(),
            auth_url: self.auth_url.clone(),
            auth0: Auth0Client {
                client_id: self.auth0_client_id.clone(),
                audience: self.auth0_audience.clone(),
                scope: self.auth0_scope.clone(),
                redirect_uri: self.auth0_redirect_uri.clone(),
            },
            transport: self.transport()?,
            accounts,
            max_request_rate: self.max_request_rate.unwrap_or(if self.demo {
                DEMO_REQUEST_RATE
            } else {
                DEFAULT_REQUEST_RATE
            }),
            timeout: self.timeout,
            max_retries: self.max_retries,
            retry_backoff: self.retry_backoff,
            poll_interval,
            include_imported: self.include_imported,
            profile_interval: self.profile_interval,
            storage_path,
            log_level: self.log_level,
            log_format: self.log_format,
            demo: self.demo,
        })
    }
}

impl Cli {
    fn transport(&self) -> Result<Transport, ConfigError> {
        let proxy = self
            .proxy_url
            .as_deref()
            .map(ProxyUrl::parse)
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                flag: transport::PROXY_FLAG,
                reason,
            })?;
        let ca = self
            .ca_file
            .as_deref()
            .map(CaBundle::load)
            .transpose()
            .map_err(|reason| ConfigError::Invalid {
                flag: transport::CA_FLAG,
                reason,
            })?;
        Ok(Transport { proxy, ca })
    }
}

pub(crate) fn secret(
    value: Option<&str>,
    file: Option<&Path>,
    flag: &'static str,
    file_flag: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = value {
        let v = v.trim();
        if v.is_empty() {
            return Err(ConfigError::EmptySecret { flag });
        }
        return Ok(Some(Secret::new(v)));
    }
    let Some(path) = file else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::SecretFile {
        flag: file_flag,
        path: path.to_owned(),
        reason: io_reason(&e),
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ConfigError::EmptySecretFile {
            flag: file_flag,
            path: path.to_owned(),
        });
    }
    Ok(Some(Secret::new(text)))
}

/// A password from its flag (as given) or file (its first line, without the line end;
/// spaces are kept: they may be part of it).
pub(crate) fn password(
    value: Option<&str>,
    file: Option<&Path>,
) -> Result<Option<Secret>, ConfigError> {
    const FLAG: &str = "--peloton.password";
    const FILE_FLAG: &str = "--peloton.password-file";
    if let Some(v) = value {
        if v.is_empty() {
            return Err(ConfigError::EmptySecret { flag: FLAG });
        }
        return Ok(Some(Secret::new(v)));
    }
    let Some(path) = file else { return Ok(None) };
    match read_password_file(path) {
        Ok(Some(p)) => Ok(Some(p)),
        Ok(None) => Err(ConfigError::EmptySecretFile {
            flag: FILE_FLAG,
            path: path.to_owned(),
        }),
        Err(e) => Err(ConfigError::SecretFile {
            flag: FILE_FLAG,
            path: path.to_owned(),
            reason: io_reason(&e),
        }),
    }
}

/// What the OS said, as people know it ("No such file or directory"), without Rust's
/// " (os error 2)".
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text.get(..i).unwrap_or(&text).to_owned(),
        _ => text,
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("not a duration like 30s, 5m or 1h ({e})"))
}

/// A UTC day as the Unix time of its midnight.
fn parse_date(s: &str) -> Result<i64, String> {
    let t = humantime::parse_rfc3339(&format!("{}T00:00:00Z", s.trim()))
        .map_err(|_| "not a date like 2024-01-31".to_owned())?;
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .map_err(|_| "dates before 1970 are not supported".to_owned())
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or("must be NAME=VALUE")?;
    let valid = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if name.is_empty() || !valid || name.starts_with("__") {
        return Err(format!("{name:?} is not a valid label name"));
    }
    if crate::metrics::catalogue::writes_label(name) {
        return Err(format!("{name:?} is a label the exporter sets itself"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1000.0 => Ok(r),
        _ => Err("must be a number of requests per second, above 0 and at most 1000".to_owned()),
    }
}

/// `--peloton.api-url`'s default as `Url` prints it.
const DEFAULT_API_URL_NORMALIZED: &str = "https://api.onepeloton.com/";
/// The shortest `--poll.interval` against Peloton's own API.
pub const MIN_REAL_POLL_INTERVAL: Duration = Duration::from_secs(60);

fn parse_nonempty(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(s.to_owned())
}

/// An absolute http(s) URL, kept as written: Auth0 compares it with the registered one
/// character for character.
fn parse_redirect_uri(s: &str) -> Result<String, String> {
    let s = parse_nonempty(s)?;
    match Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(s),
        _ => Err(format!("{s:?} is not an absolute http(s) URL")),
    }
}

fn parse_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".to_owned());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL has no host".to_owned());
    }
    Ok(url)
}

fn parse_listen_address(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    // Go exporters accept ":10058" for "every interface".
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    if let Ok(a) = full.parse() {
        return Ok(a);
    }
    if let Some(port) = full.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| "port is not a number".to_owned());
    }
    Err("not a host:port address like 0.0.0.0:10058".to_owned())
}

fn parse_telemetry_path(s: &str) -> Result<String, String> {
    if !s.starts_with('/') || s.len() < 2 {
        return Err("must start with / and name a path, like /metrics".to_owned());
    }
    if matches!(s, "/healthz" | "/readyz") {
        return Err(format!("{s} is reserved for probes"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests;
