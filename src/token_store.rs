//! The token file under `--storage.path`: the newest refresh token (Peloton rotates it on
//! every refresh, so the configured one goes stale) and the current access token, so a
//! restart needs no refresh at all.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file;
use crate::secret::Secret;

pub const FILE_NAME: &str = "tokens.json";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredTokens {
    pub refresh_token: Option<Secret>,
    pub access_token: Option<Secret>,
    /// Unix seconds.
    pub access_token_expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct OnDisk {
    version: u32,
    refresh_token: Option<String>,
    access_token: Option<String>,
    access_token_expires_at: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("cannot read token file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("token file {path} is not valid JSON (move it aside or delete it to start over)")]
    Corrupt { path: PathBuf },
    #[error("cannot write token file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn new(storage_dir: &Path) -> Self {
        Self {
            path: storage_dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<StoredTokens, TokenStoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(StoredTokens::default()),
            Err(source) => {
                return Err(TokenStoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let disk: OnDisk =
            serde_json::from_slice(&bytes).map_err(|_| TokenStoreError::Corrupt {
                path: self.path.clone(),
            })?;
        let non_empty = |s: Option<String>| s.filter(|v| !v.is_empty()).map(Secret::new);
        Ok(StoredTokens {
            refresh_token: non_empty(disk.refresh_token),
            access_token: non_empty(disk.access_token),
            access_token_expires_at: disk.access_token_expires_at,
        })
    }

    pub fn save(&self, tokens: &StoredTokens) -> Result<(), TokenStoreError> {
        let disk = OnDisk {
            version: 1,
            refresh_token: tokens.refresh_token.as_ref().map(|s| s.expose().to_owned()),
            access_token: tokens.access_token.as_ref().map(|s| s.expose().to_owned()),
            access_token_expires_at: tokens.access_token_expires_at,
        };
        let bytes = serde_json::to_vec_pretty(&disk).map_err(|e| TokenStoreError::Write {
            path: self.path.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        if let Some(dir) = self.path.parent() {
            create_private_dir(dir).map_err(|source| TokenStoreError::Write {
                path: self.path.clone(),
                source,
            })?;
        }
        atomic_file::write(&self.path, &bytes, 0o600).map_err(|source| TokenStoreError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Creates the storage directory readable by the owner only, as it holds tokens.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_absence() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(&dir.path().join("state"));
        assert_eq!(store.load().unwrap(), StoredTokens::default());
        let t = StoredTokens {
            refresh_token: Some(Secret::new("r1")),
            access_token: Some(Secret::new("a1")),
            access_token_expires_at: Some(42),
        };
        store.save(&t).unwrap();
        assert_eq!(store.load().unwrap(), t);
    }

    #[test]
    fn corrupt_file_is_a_clear_error_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path());
        std::fs::write(store.path(), "{not json secret-abc").unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
        assert!(!err.contains("secret-abc"));
    }
}
