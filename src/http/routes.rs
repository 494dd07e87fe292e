//! HTTP endpoints: the landing page, metrics, and the liveness and readiness probes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};
use tower_http::timeout::TimeoutLayer;

use crate::exposition;
use crate::http::render_cache::Registry;
use crate::http::web_config::{self, LiveWebConfig};
use crate::metrics::BuildInfo;
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

async fn metrics_handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = exposition::negotiate(accept);
    let gzip = exposition::accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let rendered = if gzip {
        state.registry.render_gzip(format)
    } else {
        state.registry.render(format)
    };
    match rendered {
        Ok((body, content_type)) if gzip => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "Accept-Encoding"),
            ],
            body,
        )
            .into_response(),
        Ok((body, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::VARY, "Accept-Encoding"),
            ],
            body,
        )
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode metrics\n").into_response(),
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
    let name = |a: &Arc<AccountState>| a.name.clone().unwrap_or_else(|| "default".to_owned());
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

async fn landing(State(state): State<AppState>) -> Html<String> {
    let path = html_escape(&state.telemetry_path);
    Html(format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Peloton Exporter</title></head>\
         <body><h1>Peloton Exporter</h1><p>Version {}</p><ul>\
         <li><a href=\"{path}\">Metrics</a></li>\
         <li><a href=\"/healthz\">Health</a></li>\
         <li><a href=\"/readyz\">Readiness</a></li></ul></body></html>\n",
        html_escape(BuildInfo::CURRENT.version)
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
