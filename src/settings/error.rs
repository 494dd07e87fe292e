//! Why settings were refused: each error names the flag (or the config file) at fault and
//! never quotes a secret.

use std::path::PathBuf;

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

/// What the OS said, as people know it ("No such file or directory"), without Rust's
/// " (os error 2)".
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text.get(..i).unwrap_or(&text).to_owned(),
        _ => text,
    }
}
