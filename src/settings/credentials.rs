//! The accounts' credentials: tokens and the sign-in given as flags (each also a file
//! flag), or the `--config.file` accounts. `login` signs in with a password, so it
//! refuses `TokenFlags`.

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::resolved::AccountSettings;
use super::secret_flags::{Names, SecretFlag, SecretFlags, SecretSpec};
use crate::secret::Secret;

/// `--peloton.access-token[-file]` and `--peloton.refresh-token[-file]`.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenFlags {
    #[command(flatten)]
    access: SecretFlags<AccessToken>,
    #[command(flatten)]
    refresh: SecretFlags<RefreshToken>,
}

/// `--peloton.username` and `--peloton.password[-file]`.
#[derive(Clone, clap::Args)]
pub struct SignInFlags {
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
    username: Option<String>,

    #[command(flatten)]
    password: SecretFlags<Password>,
}

/// The username is as private as the password. A field added later is left out until
/// someone decides it is safe to show.
impl std::fmt::Debug for SignInFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInFlags")
            .field("username", &self.username.as_ref().map(|_| "***"))
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub enum AccessToken {}

impl SecretSpec for AccessToken {
    const FLAG: SecretFlag = SecretFlag {
        value: names(
            "access_token",
            "--peloton.access-token",
            "PELOTON_ACCESS_TOKEN",
        ),
        file: names(
            "access_token_file",
            "--peloton.access-token-file",
            "PELOTON_ACCESS_TOKEN_FILE",
        ),
        value_name: "TOKEN",
        help: "Access token (JWT), used until it expires. Prefer a refresh token",
        file_help: "File holding the access token",
        password: false,
    };
}

#[derive(Debug)]
pub enum RefreshToken {}

impl SecretSpec for RefreshToken {
    const FLAG: SecretFlag = SecretFlag {
        value: names(
            "refresh_token",
            "--peloton.refresh-token",
            "PELOTON_REFRESH_TOKEN",
        ),
        file: names(
            "refresh_token_file",
            "--peloton.refresh-token-file",
            "PELOTON_REFRESH_TOKEN_FILE",
        ),
        value_name: "TOKEN",
        help: "Refresh token; exchanged for access tokens and rotated as Peloton requires",
        file_help: "File holding the refresh token",
        password: false,
    };
}

#[derive(Debug)]
pub enum Password {}

impl SecretSpec for Password {
    const FLAG: SecretFlag = SecretFlag {
        value: names("password", "--peloton.password", "PELOTON_PASSWORD"),
        file: names(
            "password_file",
            "--peloton.password-file",
            "PELOTON_PASSWORD_FILE",
        ),
        value_name: "PASSWORD",
        help: "Password for --peloton.username. Prefer --peloton.password-file",
        file_help: "File holding the password (its first line)",
        password: true,
    };
}

const fn names(id: &'static str, flag: &'static str, env: &'static str) -> Names {
    Names { id, flag, env }
}

/// The credentials the flags give, secret files read.
#[derive(Debug, Clone, Default)]
pub struct FlagCredentials {
    access_token: Option<Secret>,
    refresh_token: Option<Secret>,
    username: Option<Secret>,
    password: Option<Secret>,
}

/// Reads the secrets the flags name. `interactive` (`login`) may ask for a missing
/// password; the exporter cannot.
pub fn from_flags(
    tokens: &TokenFlags,
    sign_in: &SignInFlags,
    interactive: bool,
) -> Result<FlagCredentials, ConfigError> {
    let access_token = tokens.access.read()?;
    let refresh_token = tokens.refresh.read()?;
    let username = sign_in
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
    let password = sign_in.password.read()?;
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
    Ok(FlagCredentials {
        access_token,
        refresh_token,
        username,
        password,
    })
}

/// The accounts: those of `--config.file` (each under `<storage>/<name>`), or the one the
/// flags configure.
pub fn accounts(
    flags: FlagCredentials,
    config_file: Option<&PathBuf>,
    storage_path: &Path,
) -> Result<Vec<AccountSettings>, ConfigError> {
    let Some(file) = config_file else {
        return Ok(vec![AccountSettings {
            name: None,
            access_token: flags.access_token,
            refresh_token: flags.refresh_token,
            username: flags.username,
            password: flags.password,
            storage_path: storage_path.to_owned(),
        }]);
    };
    if flags.access_token.is_some() || flags.refresh_token.is_some() {
        return Err(ConfigError::Conflict {
            flag: "--config.file",
            other: "the --peloton.*-token flags (put tokens in the file's accounts)",
        });
    }
    if flags.username.is_some() || flags.password.is_some() {
        return Err(ConfigError::Conflict {
            flag: "--config.file",
            other: "--peloton.username and --peloton.password (put them in the file's accounts)",
        });
    }
    super::accounts_file::load(file, storage_path)
}
