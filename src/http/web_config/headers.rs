//! `http_server_config.headers`: which response headers the file may set, and to what.

use std::collections::BTreeMap;

use axum::http::{HeaderName, HeaderValue};

use super::error::{WebConfigError, err};

/// Headers the file may set, with their allowed values (empty: any value), as in
/// exporter-toolkit.
const ALLOWED_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

pub(super) fn headers(
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
