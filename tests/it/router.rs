//! The router without a socket: `Router` + `tower::ServiceExt::oneshot`, as in axum's
//! `examples/testing`. Content negotiation, gzip, 404/405, the landing page, readiness and
//! the reload route. The end-to-end tests (exporter.rs, binary.rs) still cover the same
//! over real connections.

use std::io::Read as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use peloton_exporter::domain::Profile;
use peloton_exporter::http::render_cache::Registry;
use peloton_exporter::http::routes::{AppState, ReloadRequest, Scrapes, router};
use peloton_exporter::metrics::collectors::{Collector, Collectors};
use peloton_exporter::state::account::AccountState;
use peloton_exporter::state::progress::Progress;
use peloton_exporter::state::snapshot::Snapshot;
use peloton_exporter::state::telemetry::Telemetry;
use tokio::sync::mpsc;
use tower::ServiceExt as _;

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

fn account(polled: bool) -> Arc<AccountState> {
    let account = Arc::new(AccountState::new(None, Arc::new(Telemetry::default())));
    if polled {
        account.publish(Snapshot {
            up: true,
            ..Snapshot::default()
        });
    }
    account
}

fn app(accounts: Vec<Arc<AccountState>>, reload: Option<mpsc::Sender<ReloadRequest>>) -> Router {
    router(AppState {
        registry: Arc::new(Registry::new(Arc::from(accounts), Collectors::default())),
        telemetry_path: Arc::from("/metrics"),
        web: None,
        reload,
    })
}

async fn call(app: Router, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn metrics_negotiates_classic_text_and_openmetrics() {
    let app = app(vec![account(true)], None);
    let classic = call(app.clone(), Method::GET, "/metrics", &[]).await;
    assert_eq!(classic.status, StatusCode::OK);
    assert!(
        classic
            .header(header::CONTENT_TYPE)
            .starts_with("text/plain; version=0.0.4"),
        "{}",
        classic.header(header::CONTENT_TYPE)
    );
    assert!(
        classic.text().contains("\npeloton_up 1\n"),
        "{}",
        classic.text()
    );
    assert!(!classic.text().contains("# EOF"));

    let om = call(
        app,
        Method::GET,
        "/metrics",
        &[(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )],
    )
    .await;
    assert_eq!(om.status, StatusCode::OK);
    assert!(
        om.header(header::CONTENT_TYPE)
            .starts_with("application/openmetrics-text"),
        "{}",
        om.header(header::CONTENT_TYPE)
    );
    assert!(
        om.text().lines().any(|l| l == "peloton_up{} 1.0"),
        "{}",
        om.text()
    );
    assert!(om.text().ends_with("# EOF\n"));
}

#[tokio::test]
async fn metrics_is_gzipped_when_asked_and_says_so() {
    let app = app(vec![account(true)], None);
    let plain = call(app.clone(), Method::GET, "/metrics", &[]).await;
    let gz = call(app, Method::GET, "/metrics", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    // The body depends on both headers; a cache in between must key on both.
    assert_eq!(gz.header(header::VARY), "Accept, Accept-Encoding");
    assert_eq!(plain.header(header::VARY), "Accept, Accept-Encoding");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(gz.body.as_slice())
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.text());
    assert_eq!(plain.header(header::CONTENT_ENCODING), "");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let app = app(vec![account(true)], None);
    assert_eq!(
        call(app.clone(), Method::GET, "/nope", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(app.clone(), Method::POST, "/metrics", &[])
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        call(app, Method::GET, "/-/reload", &[]).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn landing_page_links_the_metrics_and_probes() {
    let page = call(app(vec![account(true)], None), Method::GET, "/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    let text = page.text();
    for link in ["href=\"/metrics\"", "href=\"/healthz\"", "href=\"/readyz\""] {
        assert!(text.contains(link), "{link} missing: {text}");
    }
}

fn signed_in(username: &str) -> Arc<AccountState> {
    let account = Arc::new(AccountState::new(None, Arc::new(Telemetry::default())));
    account.publish(Snapshot {
        profile: Some(Profile {
            username: Some(username.to_owned()),
            ..Profile::default()
        }),
        ..Snapshot::default()
    });
    account
}

#[tokio::test]
async fn landing_page_is_a_status_page_per_account() {
    let now = peloton_exporter::clock::now_unix();
    let up = signed_in("RapidStrider50");
    up.telemetry.set_token_expiry(Some(now + 47 * 3600 + 30));
    up.publish(Snapshot {
        profile: up.snapshot().profile.clone(),
        up: true,
        last_success: Some((now - 120) as f64),
        history_progress: Some(Progress {
            done: 1200,
            total: 3000,
            rate: Some(1.0),
        }),
        ..Snapshot::default()
    });
    let down = Arc::new(AccountState::new(
        Some("bob".to_owned()),
        Arc::new(Telemetry::default()),
    ));
    down.publish(Snapshot {
        last_error: Some("auth: refresh token <rejected> by Peloton".to_owned()),
        ..Snapshot::default()
    });
    let collectors = Collectors::new([(Collector::Monthly, false)]);
    let app = router(AppState {
        registry: Arc::new(Registry::new(Arc::from(vec![up, down]), collectors)),
        telemetry_path: Arc::from("/metrics"),
        web: None,
        reload: None,
    });
    let text = call(app, Method::GET, "/", &[]).await.text();
    for says in [
        "<td>RapidStrider50</td><td><span class=\"up\">up</span></td>",
        "(2m 0",
        "syncing: 1200/3000 (40%), 1.0/s, ETA 30m 00s",
        "(in 1d 23h)",
        "<td>bob</td><td><span class=\"down\">down</span>: auth: refresh token &lt;rejected&gt; by Peloton",
        "<td>never</td>",
        "monthly: off",
        "instructor: on",
        "docs/metrics.md",
    ] {
        assert!(text.contains(says), "{says} missing: {text}");
    }
}

#[tokio::test]
async fn readiness_names_the_account_it_waits_for() {
    let waiting = call(
        app(vec![signed_in("RapidStrider50")], None),
        Method::GET,
        "/readyz",
        &[],
    )
    .await;
    assert_eq!(waiting.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        waiting.text().contains("RapidStrider50"),
        "{}",
        waiting.text()
    );
    let unknown = call(app(vec![account(false)], None), Method::GET, "/readyz", &[]).await;
    assert!(!unknown.text().contains("default"), "{}", unknown.text());
    assert!(unknown.text().contains("the account"), "{}", unknown.text());
}

#[tokio::test]
async fn readiness_waits_for_a_successful_poll() {
    let waiting = call(app(vec![account(false)], None), Method::GET, "/readyz", &[]).await;
    assert_eq!(waiting.status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = call(app(vec![account(true)], None), Method::GET, "/readyz", &[]).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    let healthz = call(
        app(vec![account(false)], None),
        Method::GET,
        "/healthz",
        &[],
    )
    .await;
    assert_eq!(healthz.status, StatusCode::OK);
}

#[tokio::test]
async fn reload_is_403_without_the_lifecycle_api_and_answers_what_the_supervisor_says() {
    let refused = call(
        app(vec![account(true)], None),
        Method::POST,
        "/-/reload",
        &[],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text().contains("--web.enable-lifecycle"));

    let (tx, mut rx) = mpsc::channel::<ReloadRequest>(1);
    let supervisor = tokio::spawn(async move {
        let first = rx.recv().await.unwrap();
        first.send(Ok(())).unwrap();
        let second = rx.recv().await.unwrap();
        second.send(Err("--config.file: bad".to_owned())).unwrap();
    });
    let app = app(vec![account(true)], Some(tx));
    let ok = call(app.clone(), Method::POST, "/-/reload", &[]).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let failed = call(app, Method::PUT, "/-/reload", &[]).await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        failed.text().contains("--config.file: bad"),
        "{}",
        failed.text()
    );
    supervisor.await.unwrap();
}

/// Without a web config the listener answers scrapes itself (`Scrapes`, skipping the
/// router): the same status, headers and bytes as the router's, and nothing but a `GET`
/// on the telemetry path.
#[tokio::test]
async fn the_listeners_scrape_answer_is_the_routers() {
    let state = AppState {
        registry: Arc::new(Registry::new(
            Arc::from(vec![account(true)]),
            Collectors::default(),
        )),
        telemetry_path: Arc::from("/probe/metrics"),
        web: None,
        reload: None,
    };
    let scrapes = Scrapes::of(&state);
    let app = router(state);
    let om = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    for headers in [
        vec![],
        vec![("accept", om)],
        vec![("accept", om), ("accept-encoding", "gzip")],
        vec![("accept-encoding", "br;q=1, GZIP;q=0.5")],
        vec![("accept", "application/openmetrics-text;q=0")],
    ] {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/probe/metrics?x=1");
        for (k, v) in &headers {
            request = request.header(*k, *v);
        }
        let request = request.body(Body::empty()).unwrap();
        let direct = scrapes.answer(&request).expect("a scrape");
        let direct = Answer {
            status: direct.status(),
            headers: direct.headers().clone(),
            body: axum::body::to_bytes(direct.into_body(), 64 << 20)
                .await
                .unwrap()
                .to_vec(),
        };
        let pairs: Vec<(&str, &str)> = headers.clone();
        let routed = call(app.clone(), Method::GET, "/probe/metrics?x=1", &pairs).await;
        assert_eq!(direct.status, routed.status, "{headers:?}");
        assert_eq!(direct.headers, routed.headers, "{headers:?}");
        assert_eq!(direct.body, routed.body, "{headers:?}");
    }
    for (method, uri) in [
        (Method::HEAD, "/probe/metrics"),
        (Method::POST, "/probe/metrics"),
        (Method::GET, "/metrics"),
        (Method::GET, "/probe/metrics/"),
        (Method::GET, "/"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        assert!(scrapes.answer(&request).is_none(), "{method} {uri}");
    }
}
