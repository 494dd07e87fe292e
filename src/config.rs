//! Command-line flags (each also an environment variable) and their validation. Secrets
//! may come from files; their values are never echoed, not even in `--help`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use url::Url;

use crate::secret::Secret;

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
}

/// Prometheus exporter for a Peloton member's own training data.
#[derive(Debug, Clone, Parser)]
#[command(name = "peloton-exporter", version, about, long_about = None)]
pub struct Cli {
    /// Address to listen on for /metrics, /healthz and /readyz.
    #[arg(long = "web.listen-address", env = "PELOTON_WEB_LISTEN_ADDRESS", default_value = "0.0.0.0:10058", value_name = "ADDR", value_parser = parse_listen_address)]
    pub listen_address: SocketAddr,

    /// Path under which metrics are served.
    #[arg(long = "web.telemetry-path", env = "PELOTON_WEB_TELEMETRY_PATH", default_value = "/metrics", value_name = "PATH", value_parser = parse_telemetry_path)]
    pub telemetry_path: String,

    /// Base URL of Peloton's API.
    #[arg(long = "peloton.api-url", env = "PELOTON_API_URL", default_value = "https://api.onepeloton.com", value_name = "URL", value_parser = parse_url)]
    pub api_url: Url,

    /// Base URL of Peloton's Auth0 server (token refresh).
    #[arg(long = "peloton.auth-url", env = "PELOTON_AUTH_URL", default_value = "https://auth.onepeloton.com", value_name = "URL", value_parser = parse_url)]
    pub auth_url: Url,

    /// Access token (JWT), used until it expires. Prefer a refresh token.
    #[arg(
        long = "peloton.access-token",
        env = "PELOTON_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "access_token_file"
    )]
    pub access_token: Option<String>,

    /// File holding the access token.
    #[arg(
        long = "peloton.access-token-file",
        env = "PELOTON_ACCESS_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub access_token_file: Option<PathBuf>,

    /// Refresh token; exchanged for access tokens and rotated as Peloton requires.
    #[arg(
        long = "peloton.refresh-token",
        env = "PELOTON_REFRESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "refresh_token_file"
    )]
    pub refresh_token: Option<String>,

    /// File holding the refresh token.
    #[arg(
        long = "peloton.refresh-token-file",
        env = "PELOTON_REFRESH_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub refresh_token_file: Option<PathBuf>,

    /// Timeout of one request to Peloton.
    #[arg(long = "peloton.timeout", env = "PELOTON_TIMEOUT", default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Retries of a failed request (network error, timeout, 429, 5xx) within one poll.
    #[arg(long = "peloton.max-retries", env = "PELOTON_MAX_RETRIES", default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10))]
    pub max_retries: u32,

    /// First retry delay; doubles with every retry (with jitter), at most 30s.
    #[arg(long = "peloton.retry-backoff", env = "PELOTON_RETRY_BACKOFF", default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub retry_backoff: Duration,

    /// Requests per second at most while fetching the history (list pages of the first
    /// sync, one performance graph per workout) [default: 1; 50 with --demo].
    #[arg(long = "peloton.max-request-rate", env = "PELOTON_MAX_REQUEST_RATE", value_name = "PER_SECOND", value_parser = parse_rate)]
    pub max_request_rate: Option<f64>,

    /// YAML file listing several accounts (name and token sources); see docs/configuration.md.
    #[arg(long = "config.file", env = "PELOTON_CONFIG_FILE", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// How often to ask Peloton for new workouts [default: 5m; 10s with --demo].
    #[arg(long = "poll.interval", env = "PELOTON_POLL_INTERVAL", value_name = "DURATION", value_parser = parse_duration)]
    pub poll_interval: Option<Duration>,

    /// How often the profile (/api/me) and the overview (streaks, records, counts) are
    /// refreshed when no new workout asks for it.
    #[arg(long = "poll.profile-interval", env = "PELOTON_POLL_PROFILE_INTERVAL", default_value = "30m", value_name = "DURATION", value_parser = parse_duration)]
    pub profile_interval: Duration,

    /// Directory for state kept across restarts (rotated tokens) [default: ./data; a
    /// temporary directory with --demo].
    #[arg(
        long = "storage.path",
        env = "PELOTON_STORAGE_PATH",
        value_name = "DIR"
    )]
    pub storage_path: Option<PathBuf>,

    /// Log level.
    #[arg(
        long = "log.level",
        env = "PELOTON_LOG_LEVEL",
        default_value = "info",
        value_enum
    )]
    pub log_level: LogLevel,

    /// Log format.
    #[arg(
        long = "log.format",
        env = "PELOTON_LOG_FORMAT",
        default_value = "text",
        value_enum
    )]
    pub log_format: LogFormat,

    /// Run against a built-in fake Peloton with a demo member; no account needed.
    #[arg(long = "demo", env = "PELOTON_DEMO")]
    pub demo: bool,
}

/// Validated settings, secrets read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub accounts: Vec<AccountSettings>,
    pub max_request_rate: f64,
    pub listen_address: SocketAddr,
    pub telemetry_path: String,
    pub api_url: Url,
    pub auth_url: Url,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub poll_interval: Duration,
    pub profile_interval: Duration,
    pub storage_path: PathBuf,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    pub demo: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{flag}: cannot read {path}: {reason}")]
    SecretFile {
        flag: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("{flag}: {path} is empty")]
    EmptySecretFile { flag: &'static str, path: PathBuf },
    #[error("{flag}: must not be empty")]
    EmptySecret { flag: &'static str },
    #[error("{flag}: must be at least 1s")]
    TooShort { flag: &'static str },
    #[error("{flag}: cannot be combined with {other}")]
    Conflict {
        flag: &'static str,
        other: &'static str,
    },
    #[error("--config.file: {0}")]
    File(String),
}

/// One account's credentials and state directory.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// The `account` label; `None` for the single account configured by flags.
    pub name: Option<String>,
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub storage_path: PathBuf,
}

pub const DEFAULT_REQUEST_RATE: f64 = 1.0;
pub const DEMO_REQUEST_RATE: f64 = 50.0;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);
pub const DEMO_POLL_INTERVAL: Duration = Duration::from_secs(10);

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
                crate::config_file::load(file, &storage_path)?
            }
            None => vec![AccountSettings {
                name: None,
                access_token,
                refresh_token,
                storage_path: storage_path.clone(),
            }],
        };
        Ok(Settings {
            listen_address: self.listen_address,
            telemetry_path: self.telemetry_path.clone(),
            api_url: self.api_url.clone(),
            auth_url: self.auth_url.clone(),
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
            profile_interval: self.profile_interval,
            storage_path,
            log_level: self.log_level,
            log_format: self.log_format,
            demo: self.demo,
        })
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
        reason: e.kind().to_string(),
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("not a duration like 30s, 5m or 1h ({e})"))
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1000.0 => Ok(r),
        _ => Err("must be a number of requests per second, above 0 and at most 1000".to_owned()),
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
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("peloton-exporter").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let s = parse(&["--peloton.refresh-token", "r"])
            .unwrap()
            .settings()
            .unwrap();
        assert_eq!(s.listen_address.to_string(), "0.0.0.0:10058");
        assert_eq!(s.telemetry_path, "/metrics");
        assert_eq!(s.api_url.as_str(), "https://api.onepeloton.com/");
        assert_eq!(s.auth_url.as_str(), "https://auth.onepeloton.com/");
        assert_eq!(s.poll_interval, Duration::from_secs(300));
        assert_eq!(s.storage_path, PathBuf::from("data"));
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, flag) in [
            (&["--poll.interval", "soon"][..], "--poll.interval"),
            (&["--peloton.api-url", "not a url"][..], "--peloton.api-url"),
            (&["--peloton.auth-url", "ftp://x"][..], "--peloton.auth-url"),
            (
                &["--web.listen-address", "nowhere"][..],
                "--web.listen-address",
            ),
            (
                &["--web.telemetry-path", "metrics"][..],
                "--web.telemetry-path",
            ),
            (&["--log.format", "xml"][..], "--log.format"),
        ] {
            let err = parse(args).unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn secret_files_are_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("rt");
        std::fs::write(&f, "token-value\n").unwrap();
        let s = parse(&["--peloton.refresh-token-file", f.to_str().unwrap()])
            .unwrap()
            .settings()
            .unwrap();
        assert_eq!(
            s.accounts[0].refresh_token.as_ref().unwrap().expose(),
            "token-value"
        );
    }

    #[test]
    fn unreadable_or_empty_secret_file_names_the_flag_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let err = parse(&["--peloton.access-token-file", missing.to_str().unwrap()])
            .unwrap()
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--peloton.access-token-file:"), "{err}");
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let err = parse(&["--peloton.refresh-token-file", empty.to_str().unwrap()])
            .unwrap()
            .settings()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--peloton.refresh-token-file") && err.contains("empty"),
            "{err}"
        );
    }

    #[test]
    fn token_and_token_file_conflict() {
        let err = parse(&[
            "--peloton.access-token",
            "a",
            "--peloton.access-token-file",
            "/x",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn help_never_shows_secret_env_values() {
        // SAFETY of the test: env is process-global; this test only reads the rendered help.
        let help = {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            cmd.render_long_help().to_string()
        };
        assert!(help.contains("PELOTON_REFRESH_TOKEN"));
        let arg = <Cli as clap::CommandFactory>::command()
            .get_arguments()
            .filter(|a| matches!(a.get_id().as_str(), "access_token" | "refresh_token"))
            .all(clap::Arg::is_hide_env_values_set);
        assert!(arg);
    }

    #[test]
    fn demo_defaults() {
        let s = parse(&["--demo"]).unwrap().settings().unwrap();
        assert_eq!(s.poll_interval, DEMO_POLL_INTERVAL);
        assert!(s.storage_path.starts_with(std::env::temp_dir()));
    }
}
