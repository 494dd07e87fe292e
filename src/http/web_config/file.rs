//! The file as written: its fields in the exporter-toolkit format, before validation.
//! Unknown fields are refused so that a typo is named instead of ignored.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    #[serde(default)]
    pub(super) tls_server_config: Option<TlsFile>,
    #[serde(default)]
    pub(super) http_server_config: Option<HttpFile>,
    #[serde(default)]
    pub(super) basic_auth_users: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(super) rate_limit: Option<serde_norway::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsFile {
    pub(super) cert: Option<String>,
    pub(super) key: Option<String>,
    pub(super) client_ca: Option<String>,
    pub(super) cert_file: Option<PathBuf>,
    pub(super) key_file: Option<PathBuf>,
    pub(super) client_auth_type: Option<String>,
    pub(super) client_ca_file: Option<PathBuf>,
    pub(super) client_allowed_sans: Option<Vec<String>>,
    pub(super) min_version: Option<String>,
    pub(super) max_version: Option<String>,
    pub(super) cipher_suites: Option<Vec<String>>,
    pub(super) curve_preferences: Option<Vec<String>>,
    pub(super) prefer_server_cipher_suites: Option<bool>,
}

impl TlsFile {
    /// Like exporter-toolkit: any certificate, key or client-auth field turns TLS on.
    pub(super) fn enabled(&self) -> bool {
        let set = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.is_empty());
        let set_path = |p: &Option<PathBuf>| p.as_ref().is_some_and(|v| !v.as_os_str().is_empty());
        set(&self.cert)
            || set(&self.key)
            || set(&self.client_ca)
            || set(&self.client_auth_type)
            || set_path(&self.cert_file)
            || set_path(&self.key_file)
            || set_path(&self.client_ca_file)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct HttpFile {
    /// Accepted for compatibility; the server speaks HTTP/1.1 either way.
    #[serde(default)]
    #[allow(dead_code)]
    pub(super) http2: Option<bool>,
    #[serde(default)]
    pub(super) headers: Option<BTreeMap<String, String>>,
}
