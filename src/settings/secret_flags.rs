//! A secret given as a flag or, better, in a file that a second flag names. One `SecretFlag`
//! declares both flags, their variables and their help; `SecretFlags<S>` adds them to the
//! command line and reads the secret. Values are never echoed, not even in `--help`.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction};

use super::error::{ConfigError, io_reason};
use crate::secret::Secret;

/// One flag's id, its name as typed and its environment variable.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    pub id: &'static str,
    /// With the leading `--`, as errors name it.
    pub flag: &'static str,
    pub env: &'static str,
}

/// A secret's two flags: `--x` (its value) and `--x-file` (a file holding it).
#[derive(Debug, Clone, Copy)]
pub struct SecretFlag {
    pub value: Names,
    pub file: Names,
    pub value_name: &'static str,
    pub help: &'static str,
    pub file_help: &'static str,
    /// A password is kept as written (a file's first line); a token is trimmed.
    pub password: bool,
}

/// Which secret a `SecretFlags` holds.
pub trait SecretSpec {
    const FLAG: SecretFlag;
}

/// A secret's flags as given (both may not be: they conflict).
pub struct SecretFlags<S> {
    value: Option<String>,
    file: Option<PathBuf>,
    spec: PhantomData<fn() -> S>,
}

impl<S: SecretSpec> SecretFlags<S> {
    /// The secret from its flag or its file; errors name the flag and never quote the value.
    pub fn read(&self) -> Result<Option<Secret>, ConfigError> {
        let f = S::FLAG;
        if let Some(v) = &self.value {
            let v = if f.password { v.as_str() } else { v.trim() };
            if v.is_empty() {
                return Err(ConfigError::EmptySecret { flag: f.value.flag });
            }
            return Ok(Some(Secret::new(v)));
        }
        let Some(path) = &self.file else {
            return Ok(None);
        };
        let read = if f.password {
            read_password_file(path)
        } else {
            read_token_file(path)
        };
        match read {
            Ok(Some(secret)) => Ok(Some(secret)),
            Ok(None) => Err(ConfigError::EmptySecretFile {
                flag: f.file.flag,
                path: path.clone(),
            }),
            Err(e) => Err(ConfigError::SecretFile {
                flag: f.file.flag,
                path: path.clone(),
                reason: io_reason(&e),
            }),
        }
    }
}

/// The first line of a password file, `None` when it is empty.
pub fn read_password_file(path: &Path) -> std::io::Result<Option<Secret>> {
    let text = std::fs::read_to_string(path)?;
    let line = text.lines().next().unwrap_or_default();
    Ok((!line.is_empty()).then(|| Secret::new(line)))
}

/// A token file, trimmed; `None` when nothing is left.
fn read_token_file(path: &Path) -> std::io::Result<Option<Secret>> {
    let text = std::fs::read_to_string(path)?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| Secret::new(text)))
}

// Written by hand (not derived) so that a flag's value never reaches a log line.
impl<S: SecretSpec> std::fmt::Debug for SecretFlags<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretFlags")
            .field("flag", &S::FLAG.value.flag)
            .field("value", &self.value.as_ref().map(|_| "***"))
            .field("file", &self.file)
            .finish()
    }
}

impl<S> Clone for SecretFlags<S> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            file: self.file.clone(),
            spec: PhantomData,
        }
    }
}

impl<S: SecretSpec> clap::Args for SecretFlags<S> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let f = S::FLAG;
        let arg = |names: Names, help: &'static str| {
            Arg::new(names.id)
                .long(names.flag.trim_start_matches('-'))
                .env(names.env)
                .global(true)
                .action(ArgAction::Set)
                .help(help)
                .help_heading("Peloton")
        };
        cmd.arg(
            arg(f.value, f.help)
                .hide_env_values(true)
                .value_name(f.value_name)
                .conflicts_with(f.file.id)
                .value_parser(clap::value_parser!(String)),
        )
        .arg(
            arg(f.file, f.file_help)
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf)),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<S: SecretSpec> clap::FromArgMatches for SecretFlags<S> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let f = S::FLAG;
        Ok(Self {
            value: matches.get_one::<String>(f.value.id).cloned(),
            file: matches.get_one::<PathBuf>(f.file.id).cloned(),
            spec: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
