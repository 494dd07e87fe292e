//! What the flags, the config file and the secret files resolve to: validated settings with
//! secrets read, and the errors that name the flag at fault.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::logging::{LogFormat, LogLevel};
use crate::metrics::collectors::Collectors;
use crate::peloton::auth0::Auth0Client;
use crate::peloton::transport::Transport;
use crate::secret::Secret;

/// Validated settings, secrets read.
// Every bool is an independent command-line switch.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct Settings {
    pub accounts: Vec<AccountSettings>,
    pub remote_write_url: Option<Url>,
    pub remote_write_labels: Vec<(String, String)>,
    pub remote_write_traces: bool,
    pub max_request_rate: f64,
    pub listen_address: SocketAddr,
    pub telemetry_path: String,
    pub web_config_file: Option<PathBuf>,
    pub enable_lifecycle: bool,
    pub collectors: Collectors,
    pub api_url: Url,
    pub auth_url: Url,
    /// `--peloton.auth0.*`: the Auth0 client presented at `auth_url`.
    pub auth0: Auth0Client,
    /// Proxy and extra CA roots of the Peloton clients (not of remote write).
    pub transport: Transport,
    pub timeout: Duration,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub poll_interval: Duration,
    /// `--peloton.include-imported`.
    pub include_imported: bool,
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
    /// `reason` never quotes a secret value.
    #[error("{flag}: {reason}")]
    Invalid { flag: &'static str, reason: String },
    #[error("{flag}: needs {what}")]
    Missing {
        flag: &'static str,
        what: &'static str,
    },
}

/// One account's credentials and state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    /// The `account` label; `None` for the single account configured by flags.
    pub name: Option<String>,
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// Email (or username) and password for the headless sign-in.
    pub username: Option<Secret>,
    pub password: Option<Secret>,
    pub storage_path: PathBuf,
}

pub const DEFAULT_REQUEST_RATE: f64 = 1.0;
pub const DEMO_REQUEST_RATE: f64 = 50.0;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);
pub const DEMO_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// The first line of a password file, `None` when it is empty.
pub fn read_password_file(path: &Path) -> std::io::Result<Option<Secret>> {
    let text = std::fs::read_to_string(path)?;
    let line = text.lines().next().unwrap_or_default();
    Ok((!line.is_empty()).then(|| Secret::new(line)))
}
