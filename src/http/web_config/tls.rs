//! `tls_server_config` to a rustls server config: certificate and key, client-certificate
//! verification, protocol versions, cipher suites and curves, each refusal naming its field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::crypto::{CryptoProvider, aws_lc_rs};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig, SupportedProtocolVersion};

use super::error::{WebConfigError, err};
use super::file::TlsFile;
use super::source::Loader;

/// The server config, the leaf certificate and the client-certificate mode.
pub(super) fn server_config(
    loader: &mut Loader,
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
    let cert_pem = loader
        .pem(
            t.cert.as_ref(),
            t.cert_file.as_ref(),
            dir,
            ("cert", "cert_file"),
        )?
        .ok_or_else(|| err("tls_server_config: missing one of cert or cert_file"))?;
    let key_pem = loader
        .pem(
            t.key.as_ref(),
            t.key_file.as_ref(),
            dir,
            ("key", "key_file"),
        )?
        .ok_or_else(|| err("tls_server_config: missing one of key or key_file"))?;
    let ca_pem = loader.pem(
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
                let cert = cert
                    .map_err(|_| err("tls_server_config: client_ca_file: not PEM certificates"))?;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientAuth {
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
