//! The tokens an account keeps across restarts, as the database stores them.

pub use crate::secret::StoredTokens;

/// The file earlier versions kept tokens in.
pub const LEGACY_FILE_NAME: &str = "tokens.json";
