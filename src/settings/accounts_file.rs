//! The `--config.file` YAML: several accounts in one exporter.
//!
//! ```yaml
//! accounts:
//!   - name: alice
//!     refresh_token_file: /run/secrets/alice
//!   - name: bob
//!     refresh_token_file: /run/secrets/bob
//!   - name: carol                # signs in by herself when no token works
//!     username: carol@example.com
//!     password_file: /run/secrets/carol-password
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::resolved::{AccountSettings, ConfigError};
use crate::secret::Secret;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    accounts: Vec<Account>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Account {
    name: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_file: Option<PathBuf>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    access_token_file: Option<PathBuf>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Reads the file and every secret file it names. Each account keeps its state in
/// `<storage>/<name>`.
pub fn load(path: &Path, storage: &Path) -> Result<Vec<AccountSettings>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::File(format!("cannot read {}: {}", path.display(), e.kind())))?;
    parse(&text, storage).map_err(|e| ConfigError::File(format!("{}: {e}", path.display())))
}

pub fn parse(text: &str, storage: &Path) -> Result<Vec<AccountSettings>, String> {
    let file: File = serde_norway::from_str(text).map_err(|e| {
        // The YAML error's position and kind; it never quotes a scalar it accepted.
        format!("invalid YAML: {e}")
    })?;
    if file.accounts.is_empty() {
        return Err("accounts: at least one account is needed".to_owned());
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for a in file.accounts {
        let name = a.name.trim().to_owned();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            || name.starts_with('.')
        {
            return Err(format!(
                "accounts: name {name:?} must be 1-64 letters, digits, '_', '-' or '.' (it names a directory and a label value)"
            ));
        }
        if !names.insert(name.clone()) {
            return Err(format!("accounts: name {name:?} is used twice"));
        }
        let refresh = secret(
            &name,
            "refresh_token",
            a.refresh_token,
            a.refresh_token_file,
        )?;
        let access = secret(&name, "access_token", a.access_token, a.access_token_file)?;
        let username = a
            .username
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .map(Secret::new);
        let password = password(&name, a.password, a.password_file)?;
        if username.is_some() != password.is_some() {
            return Err(format!(
                "account {name}: set username and password (or password_file) together"
            ));
        }
        if refresh.is_none() && access.is_none() && password.is_none() {
            return Err(format!(
                "account {name}: needs refresh_token_file (or refresh_token, access_token_file, access_token), or username and password_file"
            ));
        }
        out.push(AccountSettings {
            storage_path: storage.join(&name),
            name: Some(name),
            access_token: access,
            refresh_token: refresh,
            username,
            password,
        });
    }
    Ok(out)
}

/// Like `secret`, but a password is kept as written (a file's first line).
fn password(
    account: &str,
    value: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<Secret>, String> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!(
            "account {account}: set password or password_file, not both"
        )),
        (Some(v), None) if v.is_empty() => Err(format!("account {account}: password is empty")),
        (Some(v), None) => Ok(Some(Secret::new(v))),
        (None, Some(path)) => match super::secret_flags::read_password_file(&path) {
            Ok(Some(p)) => Ok(Some(p)),
            Ok(None) => Err(format!(
                "account {account}: password_file: {} is empty",
                path.display()
            )),
            Err(e) => Err(format!(
                "account {account}: password_file: cannot read {}: {}",
                path.display(),
                e.kind()
            )),
        },
        (None, None) => Ok(None),
    }
}

fn secret(
    account: &str,
    field: &str,
    value: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<Secret>, String> {
    match (value, file) {
        (Some(_), Some(_)) => Err(format!(
            "account {account}: set {field} or {field}_file, not both"
        )),
        (Some(v), None) if v.trim().is_empty() => {
            Err(format!("account {account}: {field} is empty"))
        }
        (Some(v), None) => Ok(Some(Secret::new(v.trim()))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                format!(
                    "account {account}: {field}_file: cannot read {}: {}",
                    path.display(),
                    e.kind()
                )
            })?;
            let text = text.trim();
            if text.is_empty() {
                return Err(format!(
                    "account {account}: {field}_file: {} is empty",
                    path.display()
                ));
            }
            Ok(Some(Secret::new(text)))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_accounts_with_their_own_state() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bob");
        std::fs::write(&f, "v1.bob\n").unwrap();
        let yaml = format!(
            "accounts:\n  - name: alice\n    refresh_token: v1.alice\n  - name: bob\n    refresh_token_file: {}\n",
            f.display()
        );
        let accounts = parse(&yaml, Path::new("/state")).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].name.as_deref(), Some("alice"));
        assert_eq!(accounts[0].storage_path, Path::new("/state/alice"));
        assert_eq!(
            accounts[1].refresh_token.as_ref().unwrap().expose(),
            "v1.bob"
        );
    }

    #[test]
    fn an_account_may_sign_in_with_a_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, " spaced pass \n").unwrap();
        let yaml = format!(
            "accounts:\n  - name: carol\n    username: carol@example.com\n    password_file: {}\n",
            f.display()
        );
        let accounts = parse(&yaml, Path::new("/state")).unwrap();
        assert_eq!(
            accounts[0].password.as_ref().unwrap().expose(),
            " spaced pass "
        );
        assert!(accounts[0].refresh_token.is_none());
    }

    #[test]
    fn mistakes_are_named_and_secrets_not_echoed() {
        let cases = [
            ("accounts: []\n", "at least one"),
            ("accounts:\n  - name: a\n", "needs refresh_token_file"),
            (
                "accounts:\n  - name: a\n    refresh_token: v1.secret-x\n  - name: a\n    refresh_token: v1.secret-x\n",
                "used twice",
            ),
            (
                "accounts:\n  - name: ../etc\n    refresh_token: v1.secret-x\n",
                "must be 1-64",
            ),
            (
                "accounts:\n  - name: a\n    refresh_tokn: v1.secret-x\n",
                "unknown field",
            ),
            (
                "accounts:\n  - name: a\n    refresh_token_file: /nonexistent/x\n",
                "refresh_token_file: cannot read",
            ),
            ("accounts: [\n", "invalid YAML"),
            (
                "accounts:\n  - name: a\n    password: secret-x\n",
                "username and password",
            ),
            (
                "accounts:\n  - name: a\n    username: u\n    password: secret-x\n    password_file: /x\n",
                "not both",
            ),
        ];
        for (yaml, expected) in cases {
            let err = parse(yaml, Path::new("/s")).unwrap_err();
            assert!(err.contains(expected), "{yaml:?}: {err}");
            assert!(!err.contains("secret-x"), "{err}");
        }
    }
}
