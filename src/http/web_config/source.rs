//! Reading the file and the certificate and key files it names, fingerprinting every byte
//! read so that a reload can tell whether anything changed without comparing configs.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{WebConfigError, err};

/// Reads the file and the files it names, hashing everything it read so that a reload
/// can tell whether anything changed.
#[derive(Default)]
pub(super) struct Loader {
    fingerprint: Sha256,
}

impl Loader {
    pub(super) fn read(&mut self, path: &Path, field: &str) -> Result<Vec<u8>, WebConfigError> {
        self.fingerprint.update(path.as_os_str().as_encoded_bytes());
        match std::fs::read(path) {
            Ok(bytes) => {
                self.fingerprint.update((bytes.len() as u64).to_be_bytes());
                self.fingerprint.update(&bytes);
                Ok(bytes)
            }
            Err(e) => {
                self.fingerprint.update(e.kind().to_string().as_bytes());
                Err(err(if field.is_empty() {
                    format!("cannot read: {}", e.kind())
                } else {
                    format!("{field}: cannot read {}: {}", path.display(), e.kind())
                }))
            }
        }
    }

    pub(super) fn finish(self) -> [u8; 32] {
        self.fingerprint.finalize().into()
    }

    pub(super) fn pem(
        &mut self,
        inline: Option<&String>,
        file: Option<&PathBuf>,
        dir: &Path,
        names: (&str, &str),
    ) -> Result<Option<Vec<u8>>, WebConfigError> {
        let inline = inline.filter(|s| !s.is_empty());
        let file = file.filter(|p| !p.as_os_str().is_empty());
        match (inline, file) {
            (Some(_), Some(_)) => Err(err(format!(
                "tls_server_config: set {} or {}, not both",
                names.0, names.1
            ))),
            (Some(text), None) => Ok(Some(text.as_bytes().to_vec())),
            (None, Some(f)) => {
                let field = format!("tls_server_config: {}", names.1);
                self.read(&dir.join(f), &field).map(Some)
            }
            (None, None) => Ok(None),
        }
    }
}
