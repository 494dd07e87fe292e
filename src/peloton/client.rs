//! HTTP client for Peloton's API: bearer auth, the headers Peloton expects, timeouts,
//! retries with exponential backoff and jitter, Retry-After, size-limited bodies, and a
//! request counter per endpoint and status code.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::TokenManager;
use super::error::ApiError;
use super::model::{Me, Overview, PerformanceGraph, Workout, WorkoutPage};
use super::transport::Transport;
use crate::telemetry::Telemetry;

/// The `endpoint` label of the request metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Me,
    Overview,
    Workouts,
    Workout,
    PerformanceGraph,
    Token,
    Login,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Me => "me",
            Endpoint::Overview => "overview",
            Endpoint::Workouts => "workouts",
            Endpoint::Workout => "workout",
            Endpoint::PerformanceGraph => "performance_graph",
            Endpoint::Token => "token",
            Endpoint::Login => "login",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How hard one poll tries before it gives up and leaves the rest to the next poll.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A Retry-After longer than this is not waited out inside the poll: the poll fails
    /// as rate limited and the poller does not call again before that time.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff: uniformly in [d/2, d] with d = initial·2^attempt,
    /// capped, so that many exporters restarted together do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Responses above this size are refused: Peloton's largest documented answers (outdoor
/// performance graphs with GPS) are a few hundred kB.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub api_url: Url,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Requests of the workouts list used by the steady-state poll.
    pub page_limit: u32,
}

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

#[derive(Debug, Clone)]
pub struct PelotonClient {
    http: reqwest::Client,
    settings: ClientSettings,
    tokens: Arc<TokenManager>,
    telemetry: Arc<Telemetry>,
}

impl PelotonClient {
    pub fn new(
        http: reqwest::Client,
        settings: ClientSettings,
        tokens: Arc<TokenManager>,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        Self {
            http,
            settings,
            tokens,
            telemetry,
        }
    }

    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.tokens
    }

    pub async fn me(&self) -> Result<Me, ApiError> {
        self.get(Endpoint::Me, "/api/me", &[]).await
    }

    pub async fn overview(&self, user_id: &str) -> Result<Overview, ApiError> {
        let path = format!("/api/user/{}/overview", segment(user_id));
        self.get(Endpoint::Overview, &path, &[("version", "1")])
            .await
    }

    pub async fn workouts(
        &self,
        user_id: &str,
        page: u32,
        limit: u32,
    ) -> Result<WorkoutPage, ApiError> {
        let path = format!("/api/user/{}/workouts", segment(user_id));
        let (page, limit) = (page.to_string(), limit.to_string());
        self.get(
            Endpoint::Workouts,
            &path,
            &[
                ("joins", "ride,ride.instructor"),
                ("limit", &limit),
                ("page", &page),
                ("sort_by", "-created"),
            ],
        )
        .await
    }

    pub fn page_limit(&self) -> u32 {
        self.settings.page_limit
    }

    pub async fn workout(&self, workout_id: &str) -> Result<Workout, ApiError> {
        let path = format!("/api/workout/{}", segment(workout_id));
        self.get(
            Endpoint::Workout,
            &path,
            &[("joins", "ride,ride.instructor")],
        )
        .await
    }

    pub async fn performance_graph(&self, workout_id: &str) -> Result<PerformanceGraph, ApiError> {
        let path = format!("/api/workout/{}/performance_graph", segment(workout_id));
        self.get(Endpoint::PerformanceGraph, &path, &[("every_n", "5")])
            .await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let mut url = self
            .settings
            .api_url
            .join(path)
            .map_err(|e| ApiError::InvalidResponse {
                endpoint,
                detail: format!("cannot build URL: {e}"),
            })?;
        url.query_pairs_mut().extend_pairs(query);
        let retry = self.settings.retry;
        let mut attempt = 0;
        let mut refreshed_after_401 = false;
        loop {
            let token = self.tokens.bearer().await?;
            let request = self.http.get(url.clone()).bearer_auth(token.expose());
            let result = send(request, endpoint, &self.telemetry).await;
            match result {
                Ok(body) => return parse_json(endpoint, &body),
                Err(ApiError::Unauthorized { status: 401, .. })
                    if !refreshed_after_401 && self.tokens.can_refresh().await =>
                {
                    // The token may have been revoked or expired early; one refresh and
                    // one more try, never a loop.
                    tracing::info!(%endpoint, "access token rejected, refreshing");
                    self.tokens.invalidate(&token).await;
                    refreshed_after_401 = true;
                }
                Err(e) if e.is_retryable() && attempt < retry.max_retries => {
                    let wait = match e.retry_after() {
                        Some(after) if after > retry.max_retry_after => return Err(e),
                        Some(after) => after,
                        None => retry.backoff(attempt),
                    };
                    tracing::warn!(%endpoint, error = %e, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Escapes an id for use as one URL path segment.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// Sends one request and returns the body of a 2xx answer; everything else becomes the
/// matching `ApiError`. Counts the request in the telemetry either way.
pub(crate) async fn send(
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

pub(crate) fn transport_error(endpoint: Endpoint, e: &reqwest::Error) -> ApiError {
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

/// The error and its causes on one line. reqwest's messages name the URL, which carries
/// no secret (tokens travel in headers and bodies only).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
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

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let b0 = p.backoff(0);
            assert!(b0 >= Duration::from_millis(50) && b0 <= Duration::from_millis(100));
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(250) && b3 <= Duration::from_millis(500));
        }
    }

    #[test]
    fn html_and_truncated_bodies_are_errors() {
        let e = parse_json::<Me>(Endpoint::Me, b"<html>cloudflare</html>").unwrap_err();
        assert!(e.to_string().contains("HTML"));
        let e = parse_json::<Me>(Endpoint::Me, br#"{"id": "abc", "user"#).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse_json::<Me>(Endpoint::Me, b"").unwrap_err();
        assert!(e.to_string().contains("empty"));
    }
}
