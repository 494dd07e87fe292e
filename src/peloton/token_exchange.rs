//! One refresh-token exchange at `<auth-url>/oauth/token`, and what its answer means: a
//! new access token, a refresh token Peloton retired, or a refusal that keeps the token
//! (a block page, a rate limit, an outage).

use url::Url;

use super::auth_backoff::capped_retry_after;
use super::error::ApiError;
use super::jwt;
use super::model::{OAuthError, TokenResponse};
use super::wire::parse_json;
use crate::clock::now_unix;
use crate::secret::Secret;
use crate::state::labels::Endpoint;
use crate::state::telemetry::Telemetry;

/// Refresh this long before expiry at most (API.md: 1–6 h before `exp`).
const MAX_REFRESH_MARGIN: i64 = 3600;

#[derive(Debug, Clone)]
pub(super) struct AccessToken {
    pub(super) token: Secret,
    /// Unix seconds; `None` for an opaque token of unknown lifetime.
    pub(super) expires_at: Option<i64>,
    pub(super) issued_at: Option<i64>,
}

impl AccessToken {
    pub(super) fn new(token: Secret, expires_in: Option<i64>) -> Self {
        let claims = jwt::claims(token.expose()).unwrap_or_default();
        let now = now_unix();
        Self {
            expires_at: claims.exp.or_else(|| expires_in.map(|s| now + s)),
            issued_at: claims.iat.or(expires_in.map(|_| now)),
            token,
        }
    }

    /// Due for renewal: expired, or within a tenth of its lifetime (at most an hour) of
    /// expiring, so short-lived tokens are renewed too.
    pub(super) fn needs_refresh(&self, now: i64) -> bool {
        let Some(exp) = self.expires_at else {
            return false;
        };
        let lifetime = self
            .issued_at
            .map_or(MAX_REFRESH_MARGIN * 10, |iat| exp - iat);
        let margin = (lifetime / 10).clamp(0, MAX_REFRESH_MARGIN);
        now >= exp - margin
    }
}

pub(super) async fn exchange(
    http: &reqwest::Client,
    token_url: Url,
    client_id: &str,
    refresh: &Secret,
    telemetry: &Telemetry,
    advice: &str,
) -> Result<TokenResponse, Refusal> {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", refresh.expose()),
    ];
    let request = http.post(token_url).form(&form);
    match send_token_request(request, telemetry).await {
        Ok(body) => parse_json(Endpoint::Token, &body).map_err(Refusal::Transient),
        Err((status, body, e)) => Err(classify_refusal(status, &body, e, client_id, advice)),
    }
}

/// Whether a refused refresh retired the token. Only an OAuth error saying so does; an
/// HTML or other non-OAuth 400/401/403 is Peloton's edge (a WAF or Cloudflare block page,
/// a bot check) and keeps it, as do a 429 and a 5xx.
pub(super) fn classify_refusal(
    status: Option<u16>,
    body: &[u8],
    error: ApiError,
    client_id: &str,
    advice: &str,
) -> Refusal {
    let Some(status @ (400 | 401 | 403)) = status else {
        return Refusal::Transient(error);
    };
    let oauth: OAuthError = serde_json::from_slice(body).unwrap_or_default();
    let Some(code) = oauth.error.filter(|c| !c.is_empty()) else {
        return Refusal::Transient(ApiError::Blocked {
            endpoint: Endpoint::Token,
            status,
        });
    };
    let description = oauth
        .error_description
        .unwrap_or_default()
        .to_ascii_lowercase();
    let code = safe_code(&code);
    // "Unknown or invalid refresh token.", "… is revoked"; not "Grant type
    // 'refresh_token' not allowed for the client", which refuses the client.
    let about_the_token = description.contains("refresh token") || description.contains("revoked");
    match code.as_str() {
        // `invalid_grant` is Auth0's word for a dead refresh token; the other two say the
        // same only when they name the token, otherwise they refuse the client.
        "invalid_grant" => {}
        "unauthorized_client" | "access_denied" if about_the_token => {}
        "unauthorized_client" | "access_denied" | "invalid_client" => {
            return Refusal::Transient(ApiError::Auth {
                detail: format!(
                    "the auth server refused the client (HTTP {status}, {code}); the refresh token is kept. Check --peloton.auth0.client-id (now {client_id}) against Peloton's web app"
                ),
            });
        }
        _ => {
            return Refusal::Transient(ApiError::Auth {
                detail: format!(
                    "the auth server refused the refresh (HTTP {status}, {code}); the refresh token is kept"
                ),
            });
        }
    }
    Refusal::Dead(ApiError::Auth {
        detail: format!(
            "refresh token rejected by the auth server (HTTP {status}, {code}); {advice}"
        ),
    })
}

/// An OAuth error code as it may be logged: an identifier, never free text.
fn safe_code(code: &str) -> String {
    if code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        code.to_owned()
    } else {
        "unrecognised error".to_owned()
    }
}

#[derive(Debug)]
pub(super) enum Refusal {
    /// The refresh token itself is no good (revoked, rotated away, expired).
    Dead(ApiError),
    /// The auth server could not answer now.
    Transient(ApiError),
}

/// Token answers are a few hundred bytes; a bigger body is cut (the caller then finds no
/// JSON in it), never buffered whole.
const MAX_TOKEN_BODY: usize = 64 * 1024;

async fn read_bounded(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_TOKEN_BODY.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= MAX_TOKEN_BODY {
            break;
        }
    }
    body
}

/// Like `send`, but keeps the status and body of a refusal: an OAuth error code decides
/// whether the refresh token is dead.
async fn send_token_request(
    request: reqwest::RequestBuilder,
    telemetry: &Telemetry,
) -> Result<Vec<u8>, (Option<u16>, Vec<u8>, ApiError)> {
    let started = std::time::Instant::now();
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            telemetry.api_request(Endpoint::Token, None, started.elapsed());
            let err = super::wire::transport_error(Endpoint::Token, &e);
            return Err((None, Vec::new(), err));
        }
    };
    let status = response.status().as_u16();
    let retry_after = capped_retry_after(response.headers(), Endpoint::Token);
    let body = read_bounded(response).await;
    telemetry.api_request(Endpoint::Token, Some(status), started.elapsed());
    match status {
        200..=299 => Ok(body),
        429 => Err((
            Some(status),
            body,
            ApiError::RateLimited {
                endpoint: Endpoint::Token,
                retry_after,
            },
        )),
        500..=599 => Err((
            Some(status),
            body,
            ApiError::Server {
                endpoint: Endpoint::Token,
                status,
            },
        )),
        _ => Err((
            Some(status),
            body,
            ApiError::Client {
                endpoint: Endpoint::Token,
                status,
            },
        )),
    }
}
