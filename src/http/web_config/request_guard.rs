//! The axum middleware in front of every route: basic auth against the config in force,
//! per-address password budgets, and the configured response headers.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::config::WebConfig;
use super::reload::LiveWebConfig;
use crate::http::basic_auth::{ClientAddr, FailureLimiter, Verdict};
use crate::secret::Secret;

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
    use axum::http::HeaderValue;

    use super::*;

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
