//! The Peloton client's settings (API, Auth0, proxy and CA, timeout, retries) and the flags
//! they come from. Every command talks to Peloton; `login` makes one request at a time
//! without retries, so it refuses `RetrySettings`.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::error::ConfigError;
use super::values::{parse_duration, parse_nonempty, parse_url};
use crate::peloton::auth0::{self, Auth0Client};
use crate::peloton::transport::{self, CaBundle, ProxyUrl, Transport};

/// How the exporter reaches Peloton, validated: the proxy URL parsed, the CA bundle read.
#[derive(Debug, Clone)]
pub struct PelotonSettings {
    pub api_url: Url,
    pub auth_url: Url,
    /// `--peloton.auth0.*`: the Auth0 client presented at `auth_url`.
    pub auth0: Auth0Client,
    /// Proxy and extra CA roots of the Peloton clients (not of remote write).
    pub transport: Transport,
    /// `--peloton.timeout`: one request's.
    pub timeout: Duration,
    pub retry: RetrySettings,
}

/// Where Peloton is and how to get there, as given.
#[derive(Clone, clap::Args)]
pub struct PelotonFlags {
    /// Base URL of Peloton's API.
    #[arg(global = true, long = "peloton.api-url", env = "PELOTON_API_URL", default_value = DEFAULT_API_URL, value_name = "URL", value_parser = parse_url, help_heading = "Peloton")]
    api_url: Url,

    /// Base URL of Peloton's Auth0 server (token refresh).
    #[arg(global = true, long = "peloton.auth-url", env = "PELOTON_AUTH_URL", default_value = "https://auth.onepeloton.com", value_name = "URL", value_parser = parse_url, help_heading = "Peloton")]
    auth_url: Url,

    /// Auth0 client id that the token refresh and the sign-in present (Peloton's web app's).
    #[arg(global = true, long = "peloton.auth0.client-id", env = "PELOTON_AUTH0_CLIENT_ID", default_value = auth0::CLIENT_ID, value_name = "ID", value_parser = parse_nonempty, help_heading = "Advanced")]
    auth0_client_id: String,

    /// Auth0 audience that the sign-in asks tokens for.
    #[arg(global = true, long = "peloton.auth0.audience", env = "PELOTON_AUTH0_AUDIENCE", default_value = auth0::AUDIENCE, value_name = "AUDIENCE", value_parser = parse_nonempty, help_heading = "Advanced")]
    auth0_audience: String,

    /// Auth0 scopes of the sign-in (offline_access brings the refresh token).
    #[arg(global = true, long = "peloton.auth0.scope", env = "PELOTON_AUTH0_SCOPE", default_value = auth0::SCOPE, value_name = "SCOPES", value_parser = parse_nonempty, help_heading = "Advanced")]
    auth0_scope: String,

    /// Redirect URI registered for the client; the sign-in ends on it with the code.
    #[arg(global = true, long = "peloton.auth0.redirect-uri", env = "PELOTON_AUTH0_REDIRECT_URI", default_value = auth0::REDIRECT_URI, value_name = "URL", value_parser = parse_redirect_uri, help_heading = "Advanced")]
    auth0_redirect_uri: String,

    /// Proxy for all Peloton traffic (API, token refresh, sign-in), e.g.
    /// http://user:password@proxy:3128. Replaces HTTPS_PROXY/HTTP_PROXY; NO_PROXY still
    /// applies. Not used for --remote-write.url.
    // A string, checked in `resolve`: clap's own errors would echo the password.
    #[arg(
        global = true,
        long = "peloton.proxy-url",
        env = "PELOTON_PROXY_URL",
        hide_env_values = true,
        value_name = "URL",
        help_heading = "Peloton"
    )]
    proxy_url: Option<String>,

    /// PEM file of CA certificates trusted for Peloton traffic in addition to the
    /// system's, e.g. a TLS-inspecting proxy's CA.
    #[arg(
        global = true,
        long = "peloton.ca-file",
        env = "PELOTON_CA_FILE",
        value_name = "FILE",
        help_heading = "Peloton"
    )]
    ca_file: Option<PathBuf>,
}

/// The proxy URL may hold a password. A field added later is left out until someone
/// decides it is safe to show.
impl std::fmt::Debug for PelotonFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PelotonFlags")
            .field("api_url", &self.api_url.as_str())
            .field("auth_url", &self.auth_url.as_str())
            .field("auth0_client_id", &self.auth0_client_id)
            .field(
                "proxy_url",
                &self.proxy_url.as_deref().map(transport::redact_raw),
            )
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// Retries of a failed request to Peloton, as parsed: the group is the setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct RetrySettings {
    /// Retries of a failed request (network error, timeout, 429, 5xx) within one poll.
    #[arg(global = true, long = "peloton.max-retries", env = "PELOTON_MAX_RETRIES", default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10), help_heading = "Peloton")]
    pub max_retries: u32,

    /// First retry delay; doubles with every retry (with jitter), at most 30s.
    #[arg(global = true, long = "peloton.retry-backoff", env = "PELOTON_RETRY_BACKOFF", default_value = "1s", value_name = "DURATION", value_parser = parse_duration, help_heading = "Peloton")]
    pub retry_backoff: Duration,
}

impl PelotonFlags {
    /// Parses the proxy URL and reads the CA bundle. `timeout` is a flag of `Cli`'s (the
    /// remote writer's requests get it too) and `retry` a group of its own (`login`
    /// refuses it).
    pub fn resolve(
        &self,
        timeout: Duration,
        retry: RetrySettings,
    ) -> Result<PelotonSettings, ConfigError> {
        Ok(PelotonSettings {
            api_url: self.api_url.clone(),
            auth_url: self.auth_url.clone(),
            auth0: Auth0Client {
                client_id: self.auth0_client_id.clone(),
                audience: self.auth0_audience.clone(),
                scope: self.auth0_scope.clone(),
                redirect_uri: self.auth0_redirect_uri.clone(),
            },
            transport: self.transport()?,
            timeout,
            retry,
        })
    }

    /// Whether the API is Peloton's own (the default), which asks for gentle polling; a
    /// test double or a recording proxy does not.
    pub fn is_pelotons_api(&self) -> bool {
        Url::parse(DEFAULT_API_URL).is_ok_and(|default| default == self.api_url)
    }

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

/// `--peloton.api-url`'s default.
const DEFAULT_API_URL: &str = "https://api.onepeloton.com";

/// An absolute http(s) URL, kept as written: Auth0 compares it with the registered one
/// character for character.
fn parse_redirect_uri(s: &str) -> Result<String, String> {
    let s = parse_nonempty(s)?;
    match Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(s),
        _ => Err(format!("{s:?} is not an absolute http(s) URL")),
    }
}
