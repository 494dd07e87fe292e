//! One validated version of the file, ready to serve with, and what it requires of a
//! connection or a request.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{HeaderName, HeaderValue};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::CertificateDer;

use super::tls::ClientAuth;
use crate::http::basic_auth::{FailureLimiter, Users, Verdict};
use crate::http::certificate_check;

/// One validated version of the file, ready to serve with.
pub struct WebConfig {
    pub(super) tls: Option<Arc<ServerConfig>>,
    /// The served certificate, checked for expiry and name at start and at each reload.
    pub(super) leaf: Option<CertificateDer<'static>>,
    pub(super) client_auth: ClientAuth,
    pub(super) users: Users,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
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
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::http::web_config::WebConfigError;

    fn hash(password: &str) -> String {
        bcrypt::hash(password, 4).unwrap()
    }

    fn parse(text: &str) -> Result<WebConfig, WebConfigError> {
        WebConfig::parse(text, Path::new("/nonexistent/web.yml"))
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
}
