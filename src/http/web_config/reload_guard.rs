//! What a reload may not change: it never removes a protection, because an empty or
//! truncated file would otherwise open the endpoints. Only a restart removes one.

use super::config::WebConfig;

/// Why `new` may not replace `running` without a restart, if it may not: a reload
/// never removes a protection (an empty or truncated file would remove them all).
pub(super) fn weakens(new: &WebConfig, running: &WebConfig) -> Option<&'static str> {
    if new.tls.is_some() != running.tls.is_some() {
        return Some(
            "tls_server_config: turning TLS on or off needs a restart; keeping the running configuration",
        );
    }
    if running.requires_auth() && !new.requires_auth() {
        return Some(
            "basic_auth_users: the new file has no users; removing basic auth needs a restart; keeping the running configuration",
        );
    }
    if running.requires_client_certificate() && !new.requires_client_certificate() {
        return Some(
            "tls_server_config: client_auth_type: dropping RequireAndVerifyClientCert needs a restart; keeping the running configuration",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::http::web_config::LiveWebConfig;

    fn hash(password: &str) -> String {
        bcrypt::hash(password, 4).unwrap()
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
}
