//! The one error type of the web config: names the field at fault, never a value.

/// Why a web config cannot be used. The message names the field and never quotes a key,
/// a password hash or any other value of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebConfigError(String);

pub(super) fn err(msg: impl Into<String>) -> WebConfigError {
    WebConfigError(msg.into())
}
