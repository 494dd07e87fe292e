//! What the flags, the config file and the secret files resolve to: one settings struct per
//! consumer, validated, secrets read. `Cli::settings()` (flags.rs) builds them.

use std::path::PathBuf;

pub use super::error::ConfigError;
pub use super::log::LogSettings;
pub use super::peloton::{PelotonSettings, RetrySettings};
pub use super::poll::PollSettings;
pub use super::remote_write::RemoteWriteSettings;
pub use super::web::HttpSettings;
use crate::metrics::collectors::Collectors;
use crate::secret::Secret;

/// Validated settings, secrets read: one field per consumer.
#[derive(Debug, Clone)]
pub struct Settings {
    pub accounts: Vec<AccountSettings>,
    /// The Peloton clients (API, token refresh, sign-in).
    pub peloton: PelotonSettings,
    /// The poller (`poll::poller::Schedule`).
    pub poll: PollSettings,
    /// The HTTP server.
    pub http: HttpSettings,
    pub remote_write: RemoteWriteSettings,
    /// The optional metric groups of `/metrics`, `backfill` and remote write.
    pub collectors: Collectors,
    /// `--storage.path`; with `--config.file` each account's is below it.
    pub storage_path: PathBuf,
    pub log: LogSettings,
    pub demo: bool,
    /// `--demo.live`: the demo's fake runs a ride in real time.
    pub demo_live: bool,
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
