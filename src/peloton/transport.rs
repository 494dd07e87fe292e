//! How Peloton traffic leaves the machine: an optional proxy that takes the place of the
//! proxy environment variables, and extra CA certificates trusted next to the system's
//! (for TLS-inspecting proxies). Certificate verification is never switched off.
//!
//! A proxy URL may carry `user:password`, so it is a secret: [`ProxyUrl`] prints it with
//! the user information replaced by `***`, and no error here quotes it.

use std::fmt;
use std::path::{Path, PathBuf};

use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use url::Url;

pub const PROXY_FLAG: &str = "--peloton.proxy-url";
pub const CA_FLAG: &str = "--peloton.ca-file";

/// A validated http:// or https:// proxy URL whose `Debug` and `Display` hide any
/// user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(Url);

impl ProxyUrl {
    /// Messages never quote `s`: it may hold a password.
    pub fn parse(s: &str) -> Result<Self, String> {
        let url = Url::parse(s.trim()).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".to_owned());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("URL has no host".to_owned());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            // reqwest would silently drop them; a typo should not go unnoticed.
            return Err("must be scheme://[user:password@]host[:port] without a path".to_owned());
        }
        Ok(Self(url))
    }

    /// The URL with its credentials, for the one place that hands it to reqwest.
    fn expose(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

/// A URL with its user and password replaced by `***`.
pub fn redact(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    // Only fails for URLs that cannot carry credentials, which then have none to hide.
    let _ = shown.set_password(None);
    let _ = shown.set_username("***");
    shown.to_string()
}

/// A proxy URL as typed, for `Debug` of the raw flags: redacted when it is valid, and not
/// shown at all when it is not (`user:pw@host` parses as a URL whose "path" is the
/// password, so a malformed value cannot be redacted reliably).
pub fn redact_raw(s: &str) -> String {
    ProxyUrl::parse(s).map_or_else(|_| "<invalid>".to_owned(), |p| p.to_string())
}

/// The certificates of `--peloton.ca-file`, checked to be usable as trust anchors.
#[derive(Clone, PartialEq, Eq)]
pub struct CaBundle {
    path: PathBuf,
    certs: Vec<CertificateDer<'static>>,
}

impl CaBundle {
    /// Reads a PEM bundle. Errors say what is wrong with the file, without its content.
    pub fn load(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {}", e.kind()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{shown} is not valid PEM ({e})"))?;
        if certs.is_empty() {
            return Err(format!(
                "{shown} holds no certificate (expected one or more -----BEGIN CERTIFICATE----- blocks)"
            ));
        }
        // The same check the TLS stack makes when the client is built, done here so that a
        // bad certificate stops start-up with a message naming the flag.
        let mut roots = RootCertStore::empty();
        for (i, cert) in certs.iter().enumerate() {
            roots
                .add(cert.clone())
                .map_err(|e| format!("{shown}: certificate {} is not usable ({e})", i + 1))?;
        }
        Ok(Self {
            path: path.to_owned(),
            certs,
        })
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("certificates", &self.certs.len())
            .finish()
    }
}

/// Proxy and trust settings of the clients that talk to Peloton (API, token refresh,
/// sign-in). The default is reqwest's own behaviour: proxies from the environment,
/// system roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// Replaces HTTPS_PROXY/HTTP_PROXY/ALL_PROXY; NO_PROXY still applies.
    pub proxy: Option<ProxyUrl>,
    /// Trusted in addition to the system's roots.
    pub ca: Option<CaBundle>,
}

impl Transport {
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, String> {
        let mut builder = builder;
        if let Some(proxy) = &self.proxy {
            // reqwest's error would quote the URL, credentials included.
            let p = reqwest::Proxy::all(proxy.expose().clone())
                .map_err(|_| format!("{PROXY_FLAG}: cannot use {proxy}"))?
                // NO_PROXY is about destinations, not about which proxy: keeping it lets a
                // host list that bypasses the environment's proxy bypass this one too.
                .no_proxy(reqwest::NoProxy::from_env());
            builder = builder.proxy(p);
            tracing::debug!(%proxy, "Peloton traffic goes through --peloton.proxy-url");
        }
        if let Some(ca) = &self.ca {
            let certs = ca
                .certs
                .iter()
                .map(|c| reqwest::Certificate::from_der(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{CA_FLAG}: {e}"))?;
            // Merge, not replace: the custom CA is added to the platform verifier's roots.
            builder = builder.tls_certs_merge(certs);
            tracing::debug!(path = %ca.path.display(), certificates = ca.certs.len(), "trusting the CA certificates of --peloton.ca-file too");
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_url_loses_its_credentials_and_keeps_its_path() {
        let url = Url::parse("http://user:hunter2@example.com/api/v1/write").unwrap();
        assert_eq!(redact(&url), "http://***@example.com/api/v1/write");
        let plain = Url::parse("http://example.com/api/v1/write").unwrap();
        assert_eq!(redact(&plain), plain.as_str());
    }

    #[test]
    fn proxy_credentials_never_print() {
        let p = ProxyUrl::parse("http://alice:s3cr3t-pw@proxy.example:3128").unwrap();
        for shown in [format!("{p}"), format!("{p:?}"), format!("{:?}", Some(&p))] {
            assert!(
                !shown.contains("s3cr3t-pw") && !shown.contains("alice"),
                "{shown}"
            );
            assert!(shown.contains("***@proxy.example:3128"), "{shown}");
        }
        let t = Transport {
            proxy: Some(p),
            ca: None,
        };
        assert!(!format!("{t:?}").contains("s3cr3t-pw"));
        let client = t
            .apply(reqwest::Client::builder())
            .unwrap()
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t-pw"));
        assert_eq!(
            redact_raw("https://bob:pw-123@p:8443/"),
            "https://***@p:8443/"
        );
        assert_eq!(redact_raw("http://bob:pw 123@"), "<invalid>");
        assert_eq!(redact_raw("bob:pw-123@p:3128"), "<invalid>");
        assert_eq!(
            ProxyUrl::parse("http://proxy:3128").unwrap().to_string(),
            "http://proxy:3128/"
        );
    }

    #[test]
    fn proxy_url_validation_never_quotes_the_value() {
        for bad in [
            "socks5://u:pw-xyz@proxy:1080",
            "ftp://u:pw-xyz@proxy",
            "u:pw-xyz@proxy:3128",
            "http://u:pw-xyz@proxy:3128/path",
            "not a url pw-xyz",
        ] {
            let err = ProxyUrl::parse(bad).unwrap_err();
            assert!(!err.contains("pw-xyz"), "{err}");
        }
    }
}
