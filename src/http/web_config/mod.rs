//! `--web.config.file`: TLS (server certificate, client certificates) and basic auth for
//! the exporter's own endpoints, in the exporter-toolkit format that Prometheus and its
//! exporters read (docs/web-config.md).
//!
//! The file is validated at start-up: every certificate, key and CA is loaded and every
//! password hash parsed, so a mistake stops the exporter with one line naming it. While
//! running, the file and the files it names are re-read every [`RELOAD_INTERVAL`]; a
//! changed valid version replaces the running one for new connections and requests, an
//! invalid one is logged and the running one kept. A version that would drop basic auth,
//! the client-certificate requirement or TLS is refused the same way: an empty or
//! truncated file must not open the endpoints, so only a restart removes them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig, SupportedProtocolVersion};

use crate::http::basic_auth::{ClientAddr, FailureLimiter, Users, Verdict};
use crate::http::certificate_check;
use crate::secret::Secret;

/// How often the file (and the certificates it names) is checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// Why a web config cannot be used. The message names the field and never quotes a key,
/// a password hash or any other value of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WebConfigError(String);

fn err(msg: impl Into<String>) -> WebConfigError {
    WebConfigError(msg.into())
}

// ---- the file ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    tls_server_config: Option<TlsFile>,
    #[serde(default)]
    http_server_config: Option<HttpFile>,
    #[serde(default)]
    basic_auth_users: Option<BTreeMap<String, String>>,
    #[serde(default)]
    rate_limit: Option<serde_norway::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    client_allowed_sans: Option<Vec<String>>,
    min_version: Option<String>,
    max_version: Option<String>,
    cipher_suites: Option<Vec<String>>,
    curve_preferences: Option<Vec<String>>,
    prefer_server_cipher_suites: Option<bool>,
}

impl TlsFile {
    /// Like exporter-toolkit: any certificate, key or client-auth field turns TLS on.
    fn enabled(&self) -> bool {
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
struct HttpFile {
    /// Accepted for compatibility; the server speaks HTTP/1.1 either way.
    #[serde(default)]
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
}

/// Headers the file may set, with their allowed values (empty: any value), as in
/// exporter-toolkit.
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

// ---- the compiled configuration -----------------------------------------------------

/// One validated version of the file, ready to serve with.
pub struct WebConfig {
    tls: Option<Arc<ServerConfig>>,
    /// The served certificate, checked for expiry and name at start and at each reload.
    leaf: Option<CertificateDer<'static>>,
    client_auth: ClientAuth,
    users: Users,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("users", &self.users.names().collect::<Vec<_>>())
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl WebConfig {
    /// Reads and validates `path` and every file it names.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        Loader::default().load(path)
    }

    /// Parses `text` as if it were the file `path` (relative paths are resolved against
    /// the directory of `path`).
    pub fn parse(text: &str, path: &Path) -> Result<WebConfig, WebConfigError> {
        Loader::default().parse(text.as_bytes(), path)
    }

    pub fn tls(&self) -> Option<&Arc<ServerConfig>> {
        self.tls.as_ref()
    }

    pub fn requires_auth(&self) -> bool {
        !self.users.is_empty()
    }

    /// Whether `user` with `password` may pass, with no per-address budget (see
    /// `basic_auth`: bcrypt on a bounded pool, verified pairs remembered).
    pub async fn check(&self, user: &str, password: &str) -> bool {
        let unlimited = FailureLimiter::default();
        self.users.check(user, password, None, &unlimited).await == Verdict::Allowed
    }

    /// Verified username/password pairs currently remembered.
    pub fn cached_credentials(&self) -> usize {
        self.users.verified_len()
    }

    /// Whether this pair is remembered as verified: its next request costs no bcrypt.
    pub fn is_cached(&self, user: &str, password: &str) -> bool {
        self.users.is_verified(user, password)
    }

    /// Whether a TLS client must show a certificate signed by the configured CA.
    pub fn requires_client_certificate(&self) -> bool {
        self.client_auth == ClientAuth::Required
    }

    /// What is wrong with the served certificate for a server listening on `listen`:
    /// expired, expiring within two weeks, or not naming the listen host.
    pub fn certificate_warnings(&self, listen: SocketAddr) -> Vec<String> {
        self.leaf.as_ref().map_or_else(Vec::new, |leaf| {
            certificate_check::warnings(leaf, listen, crate::clock::now_unix())
        })
    }

    /// Why `self` may not replace `running` without a restart, if it may not: a reload
    /// never removes a protection (an empty or truncated file would remove them all).
    fn weakens(&self, running: &WebConfig) -> Option<&'static str> {
        if self.tls.is_some() != running.tls.is_some() {
            return Some(
                "tls_server_config: turning TLS on or off needs a restart; keeping the running configuration",
            );
        }
        if running.requires_auth() && !self.requires_auth() {
            return Some(
                "basic_auth_users: the new file has no users; removing basic auth needs a restart; keeping the running configuration",
            );
        }
        if running.requires_client_certificate() && !self.requires_client_certificate() {
            return Some(
                "tls_server_config: client_auth_type: dropping RequireAndVerifyClientCert needs a restart; keeping the running configuration",
            );
        }
        None
    }
}

// ---- loading -----------------------------------------------------------------------

/// Reads the file and the files it names, hashing everything it read so that a reload
/// can tell whether anything changed.
#[derive(Default)]
struct Loader {
    fingerprint: Sha256,
}

impl Loader {
    fn read(&mut self, path: &Path, field: &str) -> Result<Vec<u8>, WebConfigError> {
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

    fn load(&mut self, path: &Path) -> Result<WebConfig, WebConfigError> {
        let text = self.read(path, "")?;
        self.parse(&text, path)
    }

    fn finish(self) -> [u8; 32] {
        self.fingerprint.finalize().into()
    }

    fn parse(&mut self, text: &[u8], path: &Path) -> Result<WebConfig, WebConfigError> {
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let file: File = if text.iter().all(u8::is_ascii_whitespace) {
            File::default()
        } else {
            serde_norway::from_slice(text).map_err(|e| err(yaml_error(&e)))?
        };
        if file.rate_limit.is_some() {
            return Err(err(
                "rate_limit: not supported by peloton-exporter (scrapes are cheap; put a proxy in front to limit them)",
            ));
        }
        let (tls, leaf, client_auth) = match &file.tls_server_config {
            Some(t) if t.enabled() => {
                let (config, leaf, mode) = self.tls(t, dir)?;
                (Some(Arc::new(config)), Some(leaf), mode)
            }
            _ => (None, None, ClientAuth::None),
        };
        let http = file.http_server_config.unwrap_or_default();
        let headers = headers(http.headers.unwrap_or_default())?;
        let mut users = BTreeMap::new();
        for (user, hash) in file.basic_auth_users.unwrap_or_default() {
            if user.is_empty() || user.contains(':') {
                return Err(err(format!(
                    "basic_auth_users: username {user:?} must be non-empty and without ':'"
                )));
            }
            if hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(err(format!(
                    "basic_auth_users: the password of {user:?} is not a bcrypt hash (make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`)"
                )));
            }
            users.insert(user, Secret::new(hash));
        }
        Ok(WebConfig {
            tls,
            leaf,
            client_auth,
            users: Users::new(users),
            headers,
        })
    }

    fn pem(
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

    /// The server config, the leaf certificate and the client-certificate mode.
    fn tls(
        &mut self,
        t: &TlsFile,
        dir: &Path,
    ) -> Result<(ServerConfig, CertificateDer<'static>, ClientAuth), WebConfigError> {
        if t.client_allowed_sans.is_some() {
            return Err(err(
                "tls_server_config: client_allowed_sans is not supported by peloton-exporter; issue client certificates from a CA of their own and name it in client_ca_file",
            ));
        }
        // Both halves named before any file is read: the clearer message comes first.
        let given = |text: Option<&String>, file: Option<&PathBuf>| {
            text.is_some_and(|s| !s.is_empty()) || file.is_some_and(|p| !p.as_os_str().is_empty())
        };
        if !given(t.cert.as_ref(), t.cert_file.as_ref()) {
            return Err(err("tls_server_config: missing one of cert or cert_file"));
        }
        if !given(t.key.as_ref(), t.key_file.as_ref()) {
            return Err(err("tls_server_config: missing one of key or key_file"));
        }
        // Then the settings that need no file.
        let mode = client_auth(t.client_auth_type.as_deref().unwrap_or(""))?;
        let versions = versions(t)?;
        let provider = Arc::new(provider(t)?);
        let cert_pem = self
            .pem(
                t.cert.as_ref(),
                t.cert_file.as_ref(),
                dir,
                ("cert", "cert_file"),
            )?
            .ok_or_else(|| err("tls_server_config: missing one of cert or cert_file"))?;
        let key_pem = self
            .pem(
                t.key.as_ref(),
                t.key_file.as_ref(),
                dir,
                ("key", "key_file"),
            )?
            .ok_or_else(|| err("tls_server_config: missing one of key or key_file"))?;
        let ca_pem = self.pem(
            t.client_ca.as_ref(),
            t.client_ca_file.as_ref(),
            dir,
            ("client_ca", "client_ca_file"),
        )?;
        let certs = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| err("tls_server_config: cert_file: not a PEM certificate chain"))?;
        if certs.is_empty() {
            return Err(err(
                "tls_server_config: cert_file: no certificate found (expected PEM \"BEGIN CERTIFICATE\")",
            ));
        }
        // The PEM parser's errors can quote a line of the input: never show them for a key.
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
            err("tls_server_config: key_file: no PEM private key found (PKCS#8, PKCS#1 or SEC1)")
        })?;

        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| err(format!("tls_server_config: {e}")))?;
        let builder = match mode {
            ClientAuth::None => {
                if ca_pem.is_some() {
                    return Err(err(
                        "tls_server_config: a client CA is set but client_auth_type is not (use RequireAndVerifyClientCert)",
                    ));
                }
                builder.with_no_client_auth()
            }
            mode @ (ClientAuth::IfGiven | ClientAuth::Required) => {
                let pem = ca_pem.ok_or_else(|| {
                    err("tls_server_config: client_auth_type verifies client certificates and needs client_ca_file or client_ca")
                })?;
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|_| {
                        err("tls_server_config: client_ca_file: not PEM certificates")
                    })?;
                    roots
                        .add(cert)
                        .map_err(|e| err(format!("tls_server_config: client_ca_file: {e}")))?;
                }
                if roots.is_empty() {
                    return Err(err(
                        "tls_server_config: client_ca_file: no certificate found",
                    ));
                }
                let mut verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                if mode == ClientAuth::IfGiven {
                    verifier = verifier.allow_unauthenticated();
                }
                let verifier = verifier
                    .build()
                    .map_err(|e| err(format!("tls_server_config: client_ca_file: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let leaf = certs
            .first()
            .cloned()
            .ok_or_else(|| err("tls_server_config: cert_file: no certificate found"))?;
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| err(format!("tls_server_config: certificate and key: {e}")))?;
        config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(true);
        // The server speaks HTTP/1.1 (Prometheus scrapes with it).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok((config, leaf, mode))
    }
}

/// serde's messages quote a scalar of the wrong type (`invalid type: string "…"`), which
/// may be a key or a hash put in the wrong place: keep the position and the kind only.
fn yaml_error(e: &serde_norway::Error) -> String {
    let text = e.to_string();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find('"') {
        let (before, after) = rest.split_at(i);
        out.push_str(before);
        let after = after.get(1..).unwrap_or("");
        match after.find('"') {
            Some(j) => {
                out.push_str("\"…\"");
                rest = after.get(j + 1..).unwrap_or("");
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    format!("invalid YAML: {out}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    None,
    IfGiven,
    Required,
}

fn client_auth(value: &str) -> Result<ClientAuth, WebConfigError> {
    match value {
        "" | "NoClientCert" => Ok(ClientAuth::None),
        "VerifyClientCertIfGiven" => Ok(ClientAuth::IfGiven),
        "RequireAndVerifyClientCert" => Ok(ClientAuth::Required),
        "RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert" => Err(err(format!(
            "tls_server_config: client_auth_type {value} accepts certificates nobody verified and is not supported; use RequireAndVerifyClientCert"
        ))),
        other => Err(err(format!(
            "tls_server_config: client_auth_type {other:?} is not one of NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"
        ))),
    }
}

fn version(value: Option<&str>, field: &str, default: u8) -> Result<u8, WebConfigError> {
    match value.unwrap_or("") {
        "" => Ok(default),
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        "TLS10" | "TLS11" => Err(err(format!(
            "tls_server_config: {field}: TLS 1.0 and 1.1 are not supported; use TLS12 or TLS13"
        ))),
        other => Err(err(format!(
            "tls_server_config: {field}: {other:?} is not one of TLS12, TLS13"
        ))),
    }
}

fn versions(t: &TlsFile) -> Result<Vec<&'static SupportedProtocolVersion>, WebConfigError> {
    let min = version(t.min_version.as_deref(), "min_version", 12)?;
    let max = version(t.max_version.as_deref(), "max_version", 13)?;
    if min > max {
        return Err(err("tls_server_config: min_version is above max_version"));
    }
    let mut out = Vec::new();
    if max >= 13 {
        out.push(&rustls::version::TLS13);
    }
    if min <= 12 {
        out.push(&rustls::version::TLS12);
    }
    Ok(out)
}

/// The crypto provider with the file's cipher suites (TLS 1.2; TLS 1.3 suites are not
/// configurable, as in Go) and curve preferences applied.
fn provider(t: &TlsFile) -> Result<CryptoProvider, WebConfigError> {
    let mut provider = aws_lc_rs::default_provider();
    if let Some(names) = t.cipher_suites.as_ref().filter(|n| !n.is_empty()) {
        let all = aws_lc_rs::ALL_CIPHER_SUITES;
        let mut suites: Vec<_> = all
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
            .copied()
            .collect();
        for name in names {
            let suite = all
                .iter()
                .find(|s| s.suite().as_str() == Some(name.as_str()))
                .ok_or_else(|| {
                    err(format!(
                        "tls_server_config: cipher_suites: unknown or unsupported cipher {name:?}"
                    ))
                })?;
            if !suites.contains(suite) {
                suites.push(*suite);
            }
        }
        provider.cipher_suites = suites;
    }
    if let Some(names) = t.curve_preferences.as_ref().filter(|n| !n.is_empty()) {
        let mut groups = Vec::new();
        for name in names {
            let group = match name.as_str() {
                "X25519" => aws_lc_rs::kx_group::X25519,
                "CurveP256" => aws_lc_rs::kx_group::SECP256R1,
                "CurveP384" => aws_lc_rs::kx_group::SECP384R1,
                other => {
                    return Err(err(format!(
                        "tls_server_config: curve_preferences: {other:?} is not one of X25519, CurveP256, CurveP384"
                    )));
                }
            };
            groups.push(group);
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

fn headers(
    wanted: BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, WebConfigError> {
    let mut out = Vec::new();
    for (name, value) in wanted {
        let Some((_, allowed)) = ALLOWED_HEADERS.iter().find(|(n, _)| *n == name) else {
            return Err(err(format!(
                "http_server_config: headers: {name:?} can not be configured"
            )));
        };
        if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
            return Err(err(format!(
                "http_server_config: headers: {name} must be one of {allowed:?}"
            )));
        }
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| err(format!("http_server_config: headers: {name:?}")))?;
        let header_value = HeaderValue::from_str(&value).map_err(|_| {
            err(format!(
                "http_server_config: headers: the value of {name} is not a valid header value"
            ))
        })?;
        out.push((header_name, header_value));
    }
    Ok(out)
}

// ---- the running configuration and its reloads ---------------------------------------

/// The web config in force, replaced when the file changes.
pub struct LiveWebConfig {
    path: PathBuf,
    current: RwLock<(Arc<WebConfig>, [u8; 32])>,
    /// Fingerprint of the last version refused, so a broken file is logged once.
    refused: Mutex<Option<[u8; 32]>>,
    /// Per client address budget of password checks; it outlives versions of the file.
    limiter: FailureLimiter,
    /// Where the server listens, once it does: the certificate should name it.
    listen: Mutex<Option<SocketAddr>>,
}

impl std::fmt::Debug for LiveWebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveWebConfig")
            .field("path", &self.path)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl LiveWebConfig {
    /// Loads and validates the file; errors name the field at fault.
    pub fn load(path: &Path) -> Result<LiveWebConfig, WebConfigError> {
        let mut loader = Loader::default();
        let config = loader.load(path)?;
        Ok(LiveWebConfig {
            path: path.to_owned(),
            current: RwLock::new((Arc::new(config), loader.finish())),
            refused: Mutex::new(None),
            limiter: FailureLimiter::default(),
            listen: Mutex::new(None),
        })
    }

    /// Records the listen address and warns about the served certificate (expired,
    /// expiring, or not naming it); the same check runs after each reload. It only
    /// warns: a certificate about to expire still serves better than none.
    pub fn listening_on(&self, addr: SocketAddr) {
        *self.listen.lock().unwrap_or_else(PoisonError::into_inner) = Some(addr);
        self.warn_about_certificate();
    }

    /// The warnings about the served certificate, each also logged.
    pub fn warn_about_certificate(&self) -> Vec<String> {
        let Some(addr) = *self.listen.lock().unwrap_or_else(PoisonError::into_inner) else {
            return Vec::new();
        };
        let warnings = self.current().certificate_warnings(addr);
        for w in &warnings {
            tracing::warn!(path = %self.path.display(), "web config certificate: {w}");
        }
        warnings
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn current(&self) -> Arc<WebConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// Re-reads the file. `Ok(true)` when a changed version is now in force, `Ok(false)`
    /// when nothing changed; an error leaves the running version in force.
    pub fn reload(&self) -> Result<bool, WebConfigError> {
        self.reload_fingerprinted().0
    }

    fn reload_fingerprinted(&self) -> (Result<bool, WebConfigError>, [u8; 32]) {
        let mut loader = Loader::default();
        let result = loader.load(&self.path);
        let fingerprint = loader.finish();
        if self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            == fingerprint
        {
            return (Ok(false), fingerprint);
        }
        let config = match result {
            Ok(c) => c,
            Err(e) => return (Err(e), fingerprint),
        };
        if let Some(why) = config.weakens(&self.current()) {
            return (Err(err(why)), fingerprint);
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) =
            (Arc::new(config), fingerprint);
        self.warn_about_certificate();
        (Ok(true), fingerprint)
    }

    /// Reloads every `every` until `shutdown` turns true, logging what changed or why a
    /// new version was refused (once per version). `report` hears after each look whether
    /// the file on disk is the version in force (`false`: it was refused).
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
        report: impl Fn(bool) + Send + Sync + 'static,
    ) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            let this = Arc::clone(&self);
            let result = tokio::task::spawn_blocking(move || this.reload_fingerprinted()).await;
            let Ok((result, fingerprint)) = result else {
                continue;
            };
            report(result.is_ok());
            let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
            match result {
                Ok(true) => {
                    *refused = None;
                    let c = self.current();
                    tracing::info!(
                        path = %self.path.display(),
                        tls = c.tls.is_some(),
                        basic_auth = c.requires_auth(),
                        "web config reloaded"
                    );
                }
                Ok(false) => {}
                Err(e) => {
                    if *refused != Some(fingerprint) {
                        *refused = Some(fingerprint);
                        tracing::error!(
                            path = %self.path.display(),
                            error = %e,
                            "invalid web config; keeping the running one"
                        );
                    }
                }
            }
        }
    }
}

// ---- the request guard -------------------------------------------------------------

/// Axum middleware: basic auth when the config has users, and the configured response
/// headers on every answer (401s included).
pub async fn guard(
    State(live): State<Arc<LiveWebConfig>>,
    request: Request,
    next: Next,
) -> Response {
    let config = live.current();
    let verdict = if config.requires_auth() {
        let client = request.extensions().get::<ClientAddr>().map(|c| c.0.ip());
        authorize(&config, request.headers(), client, &live.limiter).await
    } else {
        Verdict::Allowed
    };
    let mut response = match verdict {
        Verdict::Allowed => next.run(request).await,
        Verdict::Denied => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"peloton-exporter\", charset=\"UTF-8\"",
            )],
            "Unauthorized\n",
        )
            .into_response(),
        Verdict::Throttled(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, (wait.as_secs() + 1).to_string())],
            "Too many password checks from this address; retry later\n",
        )
            .into_response(),
    };
    for (name, value) in &config.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

async fn authorize(
    config: &WebConfig,
    headers: &HeaderMap,
    client: Option<std::net::IpAddr>,
    limiter: &FailureLimiter,
) -> Verdict {
    let Some((user, password)) = basic_credentials(headers) else {
        return Verdict::Denied;
    };
    config
        .users
        .check(&user, password.expose(), client, limiter)
        .await
}

/// `Authorization: Basic base64(user:password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, Secret)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), Secret::new(password)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(password: &str) -> String {
        bcrypt::hash(password, 4).unwrap()
    }

    fn parse(text: &str) -> Result<WebConfig, WebConfigError> {
        WebConfig::parse(text, Path::new("/nonexistent/web.yml"))
    }

    #[test]
    fn empty_file_means_plain_http_without_auth() {
        let c = parse("").unwrap();
        assert!(c.tls().is_none());
        assert!(!c.requires_auth());
        let c = parse("tls_server_config: {}\n").unwrap();
        assert!(
            c.tls().is_none(),
            "an empty tls_server_config is off, as in Go"
        );
    }

    #[test]
    fn errors_name_the_field() {
        for (text, want) in [
            ("nonsense_key: 1\n", "unknown field"),
            ("tls_server_config:\n  cert_fil: x\n", "unknown field"),
            (
                "tls_server_config:\n  cert_file: /nope/c.pem\n",
                "missing one of key or key_file",
            ),
            (
                "tls_server_config:\n  key_file: /nope/k.pem\n",
                "missing one of cert or cert_file",
            ),
            (
                "tls_server_config:\n  cert_file: /nope/c.pem\n  key_file: /nope/k.pem\n",
                "cert_file: cannot read /nope/c.pem",
            ),
            (
                "tls_server_config:\n  cert: x\n  key: y\n  client_auth_type: Sometimes\n",
                "client_auth_type \"Sometimes\"",
            ),
            (
                "tls_server_config:\n  cert: x\n  key: y\n  min_version: TLS11\n",
                "min_version",
            ),
            (
                "basic_auth_users:\n  alice: plaintext\n",
                "not a bcrypt hash",
            ),
            (
                "http_server_config:\n  headers:\n    X-Powered-By: me\n",
                "can not be configured",
            ),
            (
                "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                "X-Frame-Options must be one of",
            ),
            ("rate_limit:\n  interval: 1s\n  burst: 5\n", "rate_limit"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn yaml_errors_never_quote_values() {
        let secret = "$2y$10$averysecrethashvaluethatmustnotleak";
        let e = parse(&format!("basic_auth_users: \"{secret}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("averysecret"), "{e}");
        assert!(e.contains("invalid YAML"), "{e}");
        let e = parse("tls_server_config:\n  key: [\"-----BEGIN PRIVATE KEY----- abc\"]\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("BEGIN"), "{e}");
    }

    #[tokio::test]
    async fn passwords_are_checked_against_the_hash_and_cached() {
        let text = format!(
            "basic_auth_users:\n  alice: {}\n  bob: {}\n",
            hash("wonderland"),
            hash("builder")
        );
        let c = parse(&text).unwrap();
        assert!(c.requires_auth());
        assert!(c.check("alice", "wonderland").await);
        assert!(!c.check("alice", "builder").await);
        assert!(!c.check("carol", "wonderland").await, "unknown user");
        assert!(!c.check("carol", "builder").await);
        assert!(c.check("bob", "builder").await);
        assert_eq!(
            c.cached_credentials(),
            2,
            "only verified pairs are remembered"
        );
        assert!(c.is_cached("alice", "wonderland"));
        assert!(!c.is_cached("alice", "builder"));
        // Cached answers are the same answers.
        assert!(c.check("alice", "wonderland").await);
        assert!(!c.check("alice", "builder").await);
        assert_eq!(c.cached_credentials(), 2);
        let debug = format!("{c:?}");
        assert!(!debug.contains("$2"), "{debug}");
    }

    #[test]
    fn a_reload_never_removes_basic_auth_client_certificates_or_tls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.yml");
        let users = format!("basic_auth_users:\n  alice: {}\n", hash("wonderland"));
        std::fs::write(&path, &users).unwrap();
        let live = LiveWebConfig::load(&path).unwrap();
        // Empty, truncated to its first line, or with every user gone.
        for text in ["", "basic_auth_users:\n", "basic_auth_users: {}\n", "\n\n"] {
            std::fs::write(&path, text).unwrap();
            let e = live.reload().unwrap_err().to_string();
            assert!(
                e.contains("removing basic auth needs a restart"),
                "{text:?}: {e}"
            );
            assert!(live.current().requires_auth(), "{text:?}");
        }
        // Another user list is a change, not a removal.
        std::fs::write(
            &path,
            format!("basic_auth_users:\n  bob: {}\n", hash("builder")),
        )
        .unwrap();
        assert_eq!(live.reload(), Ok(true));

        // Client certificates: required stays required.
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (cert, key) = (cert.pem(), key.serialize_pem());
        std::fs::write(dir.path().join("c.pem"), &cert).unwrap();
        std::fs::write(dir.path().join("k.pem"), &key).unwrap();
        let tls = "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n";
        let mtls = format!(
            "{tls}  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: c.pem\n"
        );
        std::fs::write(&path, &mtls).unwrap();
        let live = LiveWebConfig::load(&path).unwrap();
        assert!(live.current().requires_client_certificate());
        std::fs::write(&path, tls).unwrap();
        let e = live.reload().unwrap_err().to_string();
        assert!(
            e.contains("RequireAndVerifyClientCert needs a restart"),
            "{e}"
        );
        std::fs::write(&path, "").unwrap();
        let e = live.reload().unwrap_err().to_string();
        assert!(e.contains("TLS on or off needs a restart"), "{e}");
        assert!(live.current().requires_client_certificate());
    }

    #[test]
    fn basic_credentials_are_decoded() {
        let mut h = HeaderMap::new();
        let enc = base64::engine::general_purpose::STANDARD.encode("alice:pa:ss");
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {enc}")).unwrap(),
        );
        let (u, p) = basic_credentials(&h).unwrap();
        assert_eq!((u.as_str(), p.expose()), ("alice", "pa:ss"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(basic_credentials(&h).is_none());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(basic_credentials(&h).is_none());
    }
}
