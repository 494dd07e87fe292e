//! The whole file to a [`WebConfig`]: YAML, then TLS, headers and users, each checked
//! before anything is served with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::config::WebConfig;
use super::error::{WebConfigError, err};
use super::file::File;
use super::headers::headers;
use super::source::Loader;
use super::tls::{ClientAuth, server_config};
use crate::http::basic_auth::Users;
use crate::secret::Secret;

impl WebConfig {
    /// Reads and validates `path` and every file it names.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        load(&mut Loader::default(), path)
    }

    /// Parses `text` as if it were the file `path` (relative paths are resolved against
    /// the directory of `path`).
    pub fn parse(text: &str, path: &Path) -> Result<WebConfig, WebConfigError> {
        parse(&mut Loader::default(), text.as_bytes(), path)
    }
}

pub(super) fn load(loader: &mut Loader, path: &Path) -> Result<WebConfig, WebConfigError> {
    let text = loader.read(path, "")?;
    parse(loader, &text, path)
}

fn parse(loader: &mut Loader, text: &[u8], path: &Path) -> Result<WebConfig, WebConfigError> {
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
            let (config, leaf, mode) = server_config(loader, t, dir)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
