//! HTTP endpoints: the landing page, metrics, and the liveness and readiness probes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};
use tower_http::timeout::TimeoutLayer;

use crate::exposition;
use crate::http::render_cache::Registry;
use crate::http::web_config::{self, LiveWebConfig};
use crate::metrics::BuildInfo;
use crate::metrics::collectors::GROUPS;
use crate::state::account::AccountState;

/// A reload request (`POST /-/reload`); the answer says what went wrong, if anything.
pub type ReloadRequest = tokio::sync::oneshot::Sender<Result<(), String>>;

#[derive(Debug, Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub telemetry_path: Arc<str>,
    /// `--web.config.file`: basic auth and response headers for every route.
    pub web: Option<Arc<LiveWebConfig>>,
    /// `Some` with `--web.enable-lifecycle`: where `POST /-/reload` sends its request.
    pub reload: Option<mpsc::Sender<ReloadRequest>>,
}

/// A scrape renders an in-memory snapshot; anything slower than this is a bug or an
/// overloaded host, and the client should not hang on it. It covers the basic-auth check
/// too (bcrypt runs one at a time, so a flood of wrong passwords queues).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router(state: AppState) -> Router {
    let path = state.telemetry_path.to_string();
    let mut routes = Router::new()
        .route("/", get(landing))
        .route(&path, get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/-/reload", post(reload).put(reload));
    if let Some(web) = &state.web {
        routes = routes.layer(from_fn_with_state(web.clone(), web_config::guard));
    }
    routes
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// `/metrics` picks the format by `Accept` and the encoding by `Accept-Encoding`; a cache
/// in between must key on both.
const VARY: &str = "Accept, Accept-Encoding";

/// Takes the request whole: the `HeaderMap` extractor would copy every header of every
/// scrape only to read two of them.
async fn metrics_handler(State(state): State<AppState>, request: Request) -> Response {
    metrics_response(&state.registry, request.headers())
}

/// The answer to a scrape, from the registry's cached bodies. Also served by the listener
/// without the router when no web config is in force ([`Scrapes`]).
pub fn metrics_response(registry: &Registry, headers: &HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = exposition::negotiate(accept);
    let gzip = exposition::accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let Ok(scrape) = registry.scrape(format, gzip) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics\n").into_response();
    };
    // Content-Length from the cache: axum would otherwise format and allocate it per
    // scrape.
    let mut response = Response::new(Body::from(scrape.body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(scrape.content_type),
    );
    h.insert(header::CONTENT_LENGTH, scrape.content_length);
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static(VARY));
    response
}

/// `GET` on the telemetry path, answered by the listener itself when no web config is in
/// force: the same response as the router's, without its per-request work (route
/// lookup, boxed services and futures, the request timeout that a lookup in a cache
/// never needs), which was a third of a scrape's CPU. With a web config every request
/// goes through the router, whose layers check basic auth and add the configured headers.
#[derive(Debug, Clone)]
pub struct Scrapes {
    pub registry: Arc<Registry>,
    pub path: Arc<str>,
}

impl Scrapes {
    pub fn of(state: &AppState) -> Self {
        Self {
            registry: state.registry.clone(),
            path: state.telemetry_path.clone(),
        }
    }

    /// The response when `request` is a scrape, `None` for the router to answer.
    pub fn answer<B>(&self, request: &axum::http::Request<B>) -> Option<Response> {
        (request.method() == Method::GET && request.uri().path() == &*self.path)
            .then(|| metrics_response(&self.registry, request.headers()))
    }
}

/// As Prometheus: 403 unless the lifecycle API is enabled; 200 once the new
/// configuration is in force, 500 with the reason when it was refused.
async fn reload(State(state): State<AppState>) -> Response {
    let Some(tx) = state.reload else {
        return (
            StatusCode::FORBIDDEN,
            "Lifecycle API is not enabled (--web.enable-lifecycle).\n",
        )
            .into_response();
    };
    let (reply, answer) = oneshot::channel();
    if tx.send(reply).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match answer.await {
        Ok(Ok(())) => (StatusCode::OK, "configuration reloaded\n").into_response(),
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e}\n"),
        )
            .into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready once an account has completed a successful poll and every other account has
/// at least tried: one account with a dead token must not take the others' metrics out of
/// rotation, but a lone account is ready only with data.
async fn readyz(State(state): State<AppState>) -> Response {
    let name = |a: &Arc<AccountState>| account_name(a);
    let accounts = state.registry.accounts();
    let any_ready = accounts.iter().any(|a| a.is_ready());
    let all_polled = accounts.iter().all(|a| a.has_polled());
    // Once serving, an account added by a reload must not take the others out of
    // rotation while it makes its first poll.
    if any_ready && (all_polled || state.registry.has_been_ready()) {
        state.registry.mark_ready();
        let failing: Vec<String> = accounts
            .iter()
            .filter(|a| !a.is_ready())
            .map(name)
            .collect();
        if failing.is_empty() {
            return (StatusCode::OK, "ready\n").into_response();
        }
        return (
            StatusCode::OK,
            format!("ready; no data yet for: {}\n", failing.join(", ")),
        )
            .into_response();
    }
    let waiting: Vec<String> = accounts
        .iter()
        .filter(|a| !a.is_ready())
        .map(name)
        .collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "waiting for the first successful poll: {}\n",
            waiting.join(", ")
        ),
    )
        .into_response()
}

/// What to call an account in `/readyz` and on the landing page: its `account` label with
/// several accounts; with one, the Peloton username it signed in as, once known.
fn account_name(a: &AccountState) -> String {
    if let Some(name) = &a.name {
        return name.clone();
    }
    a.snapshot()
        .profile
        .as_ref()
        .and_then(|p| p.username.clone())
        .unwrap_or_else(|| "the account (not signed in yet)".to_owned())
}

/// The docs in the source tree, for the landing page.
const DOCS: &[(&str, &str)] = &[
    ("README.md", "running it, flags, endpoints, the first sync"),
    ("docs/login.md", "signing in, the demo member"),
    (
        "docs/configuration.md",
        "several accounts, proxies, storage",
    ),
    ("docs/metrics.md", "every metric and its labels"),
    ("docs/dashboards.md", "the Grafana dashboards and alerts"),
    ("docs/web-config.md", "TLS and basic auth"),
];

/// A status page: per account whether it is up (and why not), its last successful poll,
/// the history sync, the token's expiry; the metric groups; where to read more. Built
/// from what the pollers publish; never waits on Peloton.
async fn landing(State(state): State<AppState>) -> Html<String> {
    use std::fmt::Write as _;
    let now = crate::clock::now_unix();
    let path = html_escape(&state.telemetry_path);
    let build = BuildInfo::CURRENT;
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Peloton Exporter</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}td,th{{padding:.2em .8em;text-align:left;vertical-align:top}}.up{{color:#080}}.down{{color:#b00}}</style></head>\
         <body><h1>Peloton Exporter</h1><p>Version {} (revision {})</p><ul>\
         <li><a href=\"{path}\">Metrics</a></li>\
         <li><a href=\"/healthz\">Health</a></li>\
         <li><a href=\"/readyz\">Readiness</a></li></ul>\
         <h2>Accounts</h2><table><tr><th>account</th><th>status</th><th>last successful poll</th>\
         <th>history</th><th>access token expires</th></tr>",
        html_escape(build.version),
        html_escape(build.revision),
    );
    for a in state.registry.accounts().iter() {
        let snapshot = a.snapshot();
        let status = if !a.has_polled() {
            "<span>starting: first poll in progress</span>".to_owned()
        } else if snapshot.up {
            "<span class=\"up\">up</span>".to_owned()
        } else {
            format!(
                "<span class=\"down\">down</span>: {}",
                html_escape(snapshot.last_error.as_deref().unwrap_or("unknown error"))
            )
        };
        let last = snapshot
            .last_success
            .map_or_else(|| "never".to_owned(), |t| when(t as i64, now));
        let history = match (snapshot.history_progress, snapshot.history_pending) {
            (Some(p), _) if p.is_complete() => format!("complete ({} workouts fetched)", p.total),
            (Some(p), _) => format!("syncing: {}", p.describe()),
            (None, Some(pending)) if pending > 0.0 => {
                format!("{pending} workouts' details to fetch")
            }
            (None, Some(_)) => "complete".to_owned(),
            (None, None) => "not listed yet".to_owned(),
        };
        let token = a
            .telemetry
            .values()
            .token_expiry
            .map_or_else(|| "unknown".to_owned(), |t| when(t, now));
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{status}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&account_name(a)),
            html_escape(&last),
            html_escape(&history),
            html_escape(&token)
        );
    }
    page.push_str("</table><h2>Metric groups</h2><ul>");
    for g in GROUPS {
        let on = state.registry.collectors().is_enabled(g.collector);
        let _ = write!(
            page,
            "<li>{}: {} <small>(--{}{})</small></li>",
            html_escape(g.name),
            if on { "on" } else { "off" },
            if on { "no-" } else { "" },
            html_escape(g.flag),
        );
    }
    page.push_str(
        "<li>health, totals, streaks and counts: always on</li></ul>\
         <h2>Documentation</h2><p>In the exporter's source tree:</p><ul>",
    );
    for (doc, what) in DOCS {
        let _ = write!(page, "<li><code>{doc}</code>: {what}</li>");
    }
    page.push_str(
        "</ul><p>Prometheus: <a href=\"https://prometheus.io/docs/instrumenting/writing_exporters/\">writing exporters</a>, \
         <a href=\"https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md\">web configuration</a>.</p>\
         </body></html>\n",
    );
    Html(page)
}

/// `2025-11-20T14:03:00Z (3h 05m ago)` or `(in 47h 12m)`.
fn when(unix: i64, now: i64) -> String {
    let Ok(secs) = u64::try_from(unix) else {
        return unix.to_string();
    };
    let at = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(secs));
    let gap = crate::state::progress::human(Duration::from_secs(now.abs_diff(unix)));
    if unix <= now {
        format!("{at} ({gap} ago)")
    } else {
        format!("{at} (in {gap})")
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
