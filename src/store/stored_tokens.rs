//! The tokens an account keeps across restarts, as the database stores them.

use crate::secret::Secret;

/// The file earlier versions kept tokens in.
pub const LEGACY_FILE_NAME: &str = "tokens.json";

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
