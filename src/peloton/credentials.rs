//! Where an account's credentials come from, and the advice for renewing them that fits
//! where they are configured.

use std::path::PathBuf;

use crate::secret::Secret;

/// Where the token manager gets its credentials.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// Email (or username) and password for a headless sign-in when no token works.
    pub login: Option<PasswordLogin>,
    /// Where they are configured, for the advice when they stop working.
    pub origin: Origin,
}

/// Where an account's credentials are configured and its tokens stored, so that an error
/// says how to renew them for this account.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The account's name in `--config.file`; `None` for the account of the flags.
    pub account: Option<String>,
    /// The account's storage directory (`login --storage.path`).
    pub storage: Option<PathBuf>,
}

impl Origin {
    /// What the member does when no refresh token works.
    pub fn renew_advice(&self) -> String {
        let login = match &self.storage {
            Some(dir) => format!(
                "run `peloton-exporter login --storage.path {}`",
                dir.display()
            ),
            None => "run `peloton-exporter login`".to_owned(),
        };
        match &self.account {
            Some(name) => format!(
                "{login} (account {name}'s storage; the running exporter picks the new token up), or give account {name} a new refresh_token or refresh_token_file in --config.file and reload"
            ),
            None => format!(
                "{login} (the running exporter picks the new token up), or set a new --peloton.refresh-token (or --peloton.refresh-token-file) and restart"
            ),
        }
    }
}

impl Credentials {
    /// Whether these alone can authenticate: a token, or an email with a password.
    pub fn is_usable(&self) -> bool {
        let given = |s: &Option<Secret>| s.as_ref().is_some_and(|s| !s.is_empty());
        given(&self.access_token)
            || given(&self.refresh_token)
            || self.login.as_ref().is_some_and(|l| !l.password.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    pub username: Secret,
    pub password: Secret,
}
