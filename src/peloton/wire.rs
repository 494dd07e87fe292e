//! The HTTP plumbing that the API client, the token exchange and the sign-in share: the
//! reqwest client with Peloton's headers, one bounded request with its status mapped to an
//! `ApiError`, JSON bodies that never leak their content, and `Retry-After`.

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::transport::Transport;
use crate::logging::error_chain;
use crate::state::labels::Endpoint;
use crate::state::telemetry::Telemetry;

/// Responses above this size are refused: Peloton's largest documented answers (outdoor
/// performance graphs with GPS) are a few hundred kB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Builds the reqwest client shared by the API and the auth calls, with the proxy and
/// extra roots of `transport` (`Transport::default()`: the environment's proxies only).
pub fn http_client(
    timeout: Duration,
    connect_timeout: Duration,
    transport: &Transport,
) -> Result<reqwest::Client, ApiError> {
    let mut headers = HeaderMap::new();
    // Needed for the overview and for GPS data; Peloton's own web app sends it everywhere.
    headers.insert("Peloton-Platform", HeaderValue::from_static("web"));
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none());
    let cannot = |detail: String| ApiError::Network {
        endpoint: Endpoint::Me,
        detail: format!("cannot build HTTP client: {detail}"),
    };
    transport
        .apply(builder)
        .map_err(cannot)?
        .build()
        .map_err(|e| cannot(error_chain(&e)))
}

pub fn user_agent() -> String {
    format!("peloton-exporter/{}", env!("CARGO_PKG_VERSION"))
}

/// Sends one request and returns the body of a 2xx answer; everything else becomes the
/// matching `ApiError`. Counts the request in the telemetry either way.
pub async fn send(
    request: reqwest::RequestBuilder,
    endpoint: Endpoint,
    telemetry: &Telemetry,
) -> Result<Vec<u8>, ApiError> {
    let started = Instant::now();
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            telemetry.api_request(endpoint, None, started.elapsed());
            return Err(transport_error(endpoint, &e));
        }
    };
    let status = response.status();
    let retry_after = retry_after(response.headers());
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = read_limited(response, endpoint).await;
    telemetry.api_request(endpoint, Some(status.as_u16()), started.elapsed());
    let body = body?;
    let code = status.as_u16();
    match code {
        200..=299 => {
            if content_type.contains("html") {
                return Err(ApiError::InvalidResponse {
                    endpoint,
                    detail: format!("got an HTML page instead of JSON (HTTP {code})"),
                });
            }
            Ok(body)
        }
        401 | 403 => Err(ApiError::Unauthorized {
            endpoint,
            status: code,
        }),
        429 => Err(ApiError::RateLimited {
            endpoint,
            retry_after,
        }),
        500..=599 => Err(ApiError::Server {
            endpoint,
            status: code,
        }),
        _ => Err(ApiError::Client {
            endpoint,
            status: code,
        }),
    }
}

async fn read_limited(
    mut response: reqwest::Response,
    endpoint: Endpoint,
) -> Result<Vec<u8>, ApiError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return Err(too_large(endpoint));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large(endpoint));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport_error(endpoint, &e)),
        }
    }
}

fn too_large(endpoint: Endpoint) -> ApiError {
    ApiError::InvalidResponse {
        endpoint,
        detail: format!("response larger than {MAX_BODY_BYTES} bytes refused"),
    }
}

/// A response body as `T`: empty bodies, HTML pages and malformed JSON are
/// `InvalidResponse` errors that name the position, never the content.
pub fn parse_json<T: DeserializeOwned>(endpoint: Endpoint, body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidResponse {
            endpoint,
            detail: "empty body".to_owned(),
        });
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'<') {
        return Err(ApiError::InvalidResponse {
            endpoint,
            detail: "got an HTML page instead of JSON".to_owned(),
        });
    }
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidResponse {
        endpoint,
        // serde's syntax errors carry a position, never the content.
        detail: format!(
            "malformed JSON ({}, line {} column {})",
            category(&e),
            e.line(),
            e.column()
        ),
    })
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "truncated",
    }
}

pub fn transport_error(endpoint: Endpoint, e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout { endpoint }
    } else {
        let mut detail = error_chain(e);
        if detail.contains("invalid peer certificate") {
            // Usually a TLS-inspecting proxy: say how to trust it, not how to stop checking.
            detail
                .push_str(" (behind a TLS-inspecting proxy? trust its CA with --peloton.ca-file)");
        }
        ApiError::Network { endpoint, detail }
    }
}

/// `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = humantime::parse_rfc3339_weak(value)
        .ok()
        .or_else(|| httpdate(value))?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send.
fn httpdate(value: &str) -> Option<std::time::SystemTime> {
    let mut it = value.split_whitespace();
    let (_dow, day, mon, year, time, _gmt) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    let month = match mon {
        "Jan" => "01",
        "Feb" => "02",
        "Mar" => "03",
        "Apr" => "04",
        "May" => "05",
        "Jun" => "06",
        "Jul" => "07",
        "Aug" => "08",
        "Sep" => "09",
        "Oct" => "10",
        "Nov" => "11",
        "Dec" => "12",
        _ => return None,
    };
    humantime::parse_rfc3339(&format!("{year}-{month}-{day:0>2}T{time}Z")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a past date means now"
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }
}
