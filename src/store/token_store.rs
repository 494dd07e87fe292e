//! Tokens kept across restarts: the newest refresh token (Peloton rotates it on every
//! refresh, so the configured one goes stale) and the current access token, so a restart
//! needs no refresh at all. They live in the account's database (`database.rs`); a
//! `tokens.json` left by an earlier version is imported once and removed.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::database::{Store, StoreError};
use super::stored_tokens::{LEGACY_FILE_NAME, StoredTokens};
use crate::secret::Secret;

#[derive(Deserialize, Default)]
struct LegacyFile {
    refresh_token: Option<String>,
    access_token: Option<String>,
    access_token_expires_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read token file {path}: {source}")]
    Legacy { path: PathBuf, source: io::Error },
    #[error("token file {path} is not valid JSON (move it aside or delete it to start over)")]
    Corrupt { path: PathBuf },
}

#[derive(Debug, Clone)]
pub struct TokenStore {
    store: Arc<Store>,
    legacy: PathBuf,
}

impl TokenStore {
    pub fn new(store: Arc<Store>, storage_dir: &Path) -> Self {
        Self {
            store,
            legacy: storage_dir.join(LEGACY_FILE_NAME),
        }
    }

    pub fn load(&self) -> Result<StoredTokens, TokenStoreError> {
        let tokens = self.store.tokens()?;
        if tokens != StoredTokens::default() || !self.legacy.exists() {
            return Ok(tokens);
        }
        let bytes = std::fs::read(&self.legacy).map_err(|source| TokenStoreError::Legacy {
            path: self.legacy.clone(),
            source,
        })?;
        let file: LegacyFile =
            serde_json::from_slice(&bytes).map_err(|_| TokenStoreError::Corrupt {
                path: self.legacy.clone(),
            })?;
        let non_empty = |s: Option<String>| s.filter(|v| !v.is_empty()).map(Secret::new);
        let tokens = StoredTokens {
            refresh_token: non_empty(file.refresh_token),
            access_token: non_empty(file.access_token),
            access_token_expires_at: file.access_token_expires_at,
        };
        self.store.save_tokens(&tokens)?;
        let _ = std::fs::remove_file(&self.legacy);
        Ok(tokens)
    }

    pub fn save(&self, tokens: &StoredTokens) -> Result<(), TokenStoreError> {
        Ok(self.store.save_tokens(tokens)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_imports_the_legacy_file_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LEGACY_FILE_NAME),
            r#"{"version":1,"refresh_token":"r0","access_token":"a0","access_token_expires_at":7}"#,
        )
        .unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        let tokens = TokenStore::new(Arc::new(store), dir.path());
        let loaded = tokens.load().unwrap();
        assert_eq!(loaded.refresh_token.unwrap().expose(), "r0");
        assert_eq!(loaded.access_token_expires_at, Some(7));
        assert!(!dir.path().join(LEGACY_FILE_NAME).exists());
        let t = StoredTokens {
            refresh_token: Some(Secret::new("r1")),
            access_token: None,
            access_token_expires_at: None,
        };
        tokens.save(&t).unwrap();
        assert_eq!(tokens.load().unwrap(), t);
    }

    #[test]
    fn corrupt_legacy_file_is_a_clear_error_without_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LEGACY_FILE_NAME), "{not json secret-abc").unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        let err = TokenStore::new(Arc::new(store), dir.path())
            .load()
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(!err.contains("secret-abc"));
    }
}
