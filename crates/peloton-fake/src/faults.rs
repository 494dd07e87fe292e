//! Fault injection: per-endpoint FIFO queues of failures, schema drift and login switches.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::endpoint::{Endpoint, ServerKind};
use super::util::lock;

/// One injected failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// That status with an error body in the server's style: Peloton JSON on the API (`401`
    /// is the real "Not logged in" body; `500` JSON; other 5xx plain text), Auth0 JSON on the
    /// auth server.
    Status(u16),
    /// 429, with or without a `Retry-After` header (seconds). The API answers like
    /// Cloudflare (`error code: 1015`, text/plain), the auth server like Auth0 (JSON).
    RateLimited { retry_after: Option<u64> },
    /// Sleeps, then answers normally.
    Delay(Duration),
    /// A Cloudflare-style HTML error page with that status (`text/html`).
    Html(u16),
    /// 200 with the first half of the real body (an unterminated JSON document).
    TruncatedJson,
    /// The connection is closed without any response.
    Reset,
    /// 200 with an empty body.
    EmptyBody,
    /// 200 with a valid JSON body of `bytes` bytes (`{"padding":"xx…"}`), for testing a
    /// client's size limit. `chunked` sends it without a `Content-Length`, so only a reader
    /// that counts what arrives can refuse it in time.
    Oversized { bytes: usize, chunked: bool },
    /// 429 with exactly this `Retry-After` value: an HTTP date, or a number of seconds no
    /// clock can add. The body is the server's, as for `RateLimited` (Cloudflare's 1015 on
    /// the API, Auth0's JSON on the auth server).
    RateLimitedUntil(String),
    /// 200 with exactly this body (`application/json`) instead of the real answer.
    Json(String),
}

/// How the hosted login pages behave (auth server, PKCE flow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoginBehavior {
    #[default]
    Normal,
    /// After the credentials POST and the callback, the redirect chain ends on an HTML
    /// "Verify your identity" page instead of a `code`.
    VerificationRequired,
    /// The login page is an unexpected HTML page: no form, no injected config, no `_csrf`
    /// cookie.
    PagesChanged,
    /// The login page sets no `_csrf` cookie (P2G #820's intermittent "Missing CSRF
    /// token"); the token is only in the page's injected config, which is written as
    /// `window.injectedConfig = window.injectedConfig || "<base64>"` (HB SPEC §4.1).
    NoCsrfCookie,
    /// The credentials POST asks for a captcha: `invalid_captcha` (Auth0 Lock's code; the
    /// live status is unknown, 401 as for a wrong password).
    Captcha,
    /// The credentials POST answers Auth0's brute-force block: 429 `AnomalyDetected`
    /// `too_many_attempts` (as captured on another Auth0 tenant, evcc #10500).
    TooManyAttempts,
    /// The credentials POST answers 401 `blocked_user` (an administrator blocked the user).
    BlockedUser,
    /// The credentials POST answers 403 `AnomalyDetected` "Invalid state" although state
    /// and `_csrf` are right (bot detection).
    AnomalyDetected,
}

#[derive(Debug, Default)]
struct FaultState {
    queues: HashMap<Endpoint, VecDeque<Fault>>,
    schema_drift: bool,
    endless_list: bool,
    login: LoginBehavior,
    reuse_detection: bool,
}

/// Cheap, cloneable handle on the fault switches of one fake.
#[derive(Clone, Debug, Default)]
pub struct FaultControl {
    inner: Arc<Mutex<FaultState>>,
}

impl FaultControl {
    /// The next `times` requests to `endpoint` get `fault`, after any faults already queued.
    pub fn push(&self, endpoint: Endpoint, fault: Fault, times: usize) {
        let mut s = lock(&self.inner);
        let q = s.queues.entry(endpoint).or_default();
        q.extend(std::iter::repeat_n(fault, times));
    }

    /// Responses gain unknown fields; some optional fields become null or disappear.
    pub fn set_schema_drift(&self, on: bool) {
        lock(&self.inner).schema_drift = on;
    }

    /// The workout list ignores `page` (always the first page) and always says
    /// `show_next: true`: a cursor that never ends.
    pub fn set_endless_list(&self, on: bool) {
        lock(&self.inner).endless_list = on;
    }

    pub(crate) fn endless_list(&self) -> bool {
        lock(&self.inner).endless_list
    }

    pub fn set_login_behavior(&self, behavior: LoginBehavior) {
        lock(&self.inner).login = behavior;
    }

    /// Auth0's automatic reuse detection: presenting a refresh token that was already
    /// rotated away revokes its whole family. Off by default (whether Peloton's tenant has
    /// it on, and with what overlap period, is unknown).
    pub fn set_refresh_reuse_detection(&self, on: bool) {
        lock(&self.inner).reuse_detection = on;
    }

    /// Faults still queued for `endpoint`.
    pub fn pending(&self, endpoint: Endpoint) -> usize {
        lock(&self.inner)
            .queues
            .get(&endpoint)
            .map_or(0, VecDeque::len)
    }

    /// Empties every queue and turns schema drift and login switches off.
    pub fn clear(&self) {
        let mut s = lock(&self.inner);
        s.queues.clear();
        s.schema_drift = false;
        s.endless_list = false;
        s.login = LoginBehavior::Normal;
        s.reuse_detection = false;
    }

    pub(crate) fn next(&self, endpoint: Endpoint) -> Option<Fault> {
        lock(&self.inner)
            .queues
            .get_mut(&endpoint)
            .and_then(VecDeque::pop_front)
    }

    pub(crate) fn schema_drift(&self) -> bool {
        lock(&self.inner).schema_drift
    }

    pub(crate) fn login_behavior(&self) -> LoginBehavior {
        lock(&self.inner).login
    }

    pub(crate) fn reuse_detection(&self) -> bool {
        lock(&self.inner).reuse_detection
    }
}

pub(crate) fn respond(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub(crate) fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    respond(status, "application/json", v.to_string())
}

/// Peloton's error body (`fixtures/errors.json`).
pub(crate) fn peloton_error(
    status: StatusCode,
    error_code: Option<u32>,
    message: &str,
) -> Response {
    json(
        status,
        &serde_json::json!({
            "status": status.as_u16(),
            "error_code": error_code,
            "subcode": null,
            "message": message,
            "details": null,
        }),
    )
}

pub(crate) fn not_logged_in() -> Response {
    peloton_error(StatusCode::UNAUTHORIZED, Some(3020), "Not logged in")
}

fn reason(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

fn snake(s: &str) -> String {
    s.to_lowercase().replace([' ', '-'], "_")
}

fn cloudflare(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::SERVER, HeaderValue::from_static("cloudflare"));
    h.insert("cf-ray", HeaderValue::from_static("8f00fa4e0c0f0000-EWR"));
}

/// The response for faults that replace the real answer (`Delay`, `Reset` and `TruncatedJson`
/// need the real handler and are handled by the request layer).
pub(crate) fn replacement(server: ServerKind, fault: &Fault) -> Option<Response> {
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(status_body(server, status))
        }
        Fault::RateLimited { retry_after } => {
            let mut r = rate_limited(server);
            if let Some(secs) = retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        }
        Fault::RateLimitedUntil(value) => {
            let mut r = rate_limited(server);
            if let Ok(v) = HeaderValue::from_str(value) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Some(r)
        }
        Fault::Html(code) => {
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY);
            let mut r = respond(status, "text/html; charset=UTF-8", cloudflare_page(status));
            cloudflare(&mut r);
            Some(r)
        }
        Fault::EmptyBody => Some(respond(StatusCode::OK, "application/json", Body::empty())),
        Fault::Json(body) => Some(respond(StatusCode::OK, "application/json", body.clone())),
        Fault::Delay(_) | Fault::TruncatedJson | Fault::Reset | Fault::Oversized { .. } => None,
    }
}

/// A 429 in the server's style: Cloudflare's `error code: 1015` on the API, Auth0's JSON on
/// the auth server.
fn rate_limited(server: ServerKind) -> Response {
    match server {
        ServerKind::Api => {
            let mut r = respond(
                StatusCode::TOO_MANY_REQUESTS,
                "text/plain; charset=UTF-8",
                "error code: 1015",
            );
            cloudflare(&mut r);
            r
        }
        ServerKind::Auth => json(
            StatusCode::TOO_MANY_REQUESTS,
            &serde_json::json!({
                "statusCode": 429,
                "error": "too_many_requests",
                "error_description": "Too Many Requests",
                "message": "Global limit has been reached",
            }),
        ),
    }
}

/// The body of [`Fault::Oversized`]; sent as is by the request layer (not buffered again).
pub(crate) fn oversized(bytes: usize, chunked: bool) -> Response {
    const OPEN: &str = "{\"padding\":\"";
    const CLOSE: &str = "\"}";
    let mut text = String::with_capacity(bytes.max(OPEN.len() + CLOSE.len()));
    text.push_str(OPEN);
    text.extend(std::iter::repeat_n(
        'x',
        bytes.saturating_sub(OPEN.len() + CLOSE.len()),
    ));
    text.push_str(CLOSE);
    let body = if chunked {
        // A stream has no known length: hyper sends it chunked.
        Body::from_stream(Body::from(text).into_data_stream())
    } else {
        Body::from(text)
    };
    respond(StatusCode::OK, "application/json", body)
}

fn status_body(server: ServerKind, status: StatusCode) -> Response {
    match server {
        ServerKind::Auth => json(
            status,
            &serde_json::json!({
                "error": snake(reason(status)),
                "error_description": reason(status),
            }),
        ),
        ServerKind::Api if status == StatusCode::UNAUTHORIZED => not_logged_in(),
        ServerKind::Api if status == StatusCode::INTERNAL_SERVER_ERROR => {
            peloton_error(status, None, "Internal Server Error")
        }
        ServerKind::Api if status.is_server_error() => {
            respond(status, "text/plain; charset=UTF-8", reason(status))
        }
        ServerKind::Api => peloton_error(status, None, reason(status)),
    }
}

fn cloudflare_page(status: StatusCode) -> String {
    let code = status.as_u16();
    let what = reason(status);
    format!(
        "<!DOCTYPE html>\n<!--[if lt IE 7]> <html class=\"no-js ie6 oldie\" lang=\"en-US\"> <![endif]-->\n\
<html lang=\"en-US\">\n<head>\n<title>api.onepeloton.com | {code}: {what}</title>\n\
<meta charset=\"UTF-8\" />\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n\
<meta name=\"robots\" content=\"noindex, nofollow\" />\n</head>\n<body>\n\
<div id=\"cf-wrapper\">\n<div id=\"cf-error-details\" class=\"p-0\">\n\
<header class=\"mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8\">\n\
<h1 class=\"inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2\">\n\
<span class=\"inline-block\">{what}</span>\n<span class=\"code-label\">Error code {code}</span>\n</h1>\n</header>\n\
<div class=\"cf-error-footer\">\n<p>Cloudflare Ray ID: <strong class=\"font-semibold\">8f00fa4e0c0f0000</strong></p>\n\
</div>\n</div>\n</div>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_are_fifo_per_endpoint() {
        let f = FaultControl::default();
        f.push(Endpoint::Me, Fault::Status(500), 2);
        f.push(Endpoint::Me, Fault::EmptyBody, 1);
        f.push(Endpoint::Workouts, Fault::Reset, 1);
        assert_eq!(f.pending(Endpoint::Me), 3);
        assert_eq!(f.next(Endpoint::Me), Some(Fault::Status(500)));
        assert_eq!(f.next(Endpoint::Me), Some(Fault::Status(500)));
        assert_eq!(f.next(Endpoint::Me), Some(Fault::EmptyBody));
        assert_eq!(f.next(Endpoint::Me), None);
        assert_eq!(f.next(Endpoint::Workouts), Some(Fault::Reset));
        f.push(Endpoint::Token, Fault::Reset, 1);
        f.set_schema_drift(true);
        f.clear();
        assert_eq!(f.next(Endpoint::Token), None);
        assert!(!f.schema_drift());
    }
}
