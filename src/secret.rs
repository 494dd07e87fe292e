//! A string that must never be printed: tokens and passwords, and the tokens an account
//! keeps across restarts.

use std::fmt;

/// Holds a credential. `Debug` and `Display` print `***` so that a secret cannot leak
/// through a log line, an error message or a panic that formats the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header or form).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "hunter2");
    }
}

/// The tokens an account keeps across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTokens {
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    /// Unix seconds.
    pub access_token_expires_at: Option<i64>,
}

impl StoredTokens {
    /// Whether an earlier run or `login` left a token to start from.
    pub fn has_token(&self) -> bool {
        let given = |s: &Option<Secret>| s.as_ref().is_some_and(|s| !s.is_empty());
        given(&self.refresh_token) || given(&self.access_token)
    }
}
