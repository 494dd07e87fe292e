//! Shared test harness: the fake Peloton, an exporter started in-process or as the real
//! binary, scraping, and external tools that CI must have.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser as _;
use peloton_exporter::run::{self, Running};
use peloton_exporter::settings::flags::Cli;
use peloton_fake::{FakeOptions, FakePeloton};

use crate::support;
pub use crate::support::{BIN, free_port, python_with, tool};

pub mod truth;

/// A scrape's samples: `name{labels}` → value (see [`samples`]).
pub type Samples = BTreeMap<String, f64>;

pub const OPENMETRICS: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

pub async fn fake(options: FakeOptions) -> FakePeloton {
    FakePeloton::start(options)
        .await
        .expect("fake Peloton starts")
}

/// The fake's default sign-in name.
pub fn user() -> String {
    FakeOptions::default().username
}

/// The fake's default password.
pub fn password() -> String {
    FakeOptions::default().password
}

/// A fake with five workouts whose access tokens live `ttl`.
pub async fn small_fake(ttl: Duration) -> FakePeloton {
    fake(FakeOptions {
        workouts: 5,
        access_token_ttl: ttl,
        ..FakeOptions::default()
    })
    .await
}

/// A child's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Flags for an exporter talking to `fake` with its refresh token, on a free port, with
/// quick polls and retries so tests do not wait on production timings.
/// Peloton's own answer to `path` (e.g. `/api/workout/{id}/performance_graph?every_n=1`),
/// asked of the fake as the exporter asks it: what a test compares the exporter with.
pub async fn peloton_json(fake: &FakePeloton, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}{path}", fake.api_url()))
        .bearer_auth(fake.mint_access_token(Duration::from_secs(600)))
        .header("Peloton-Platform", "web")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn args(fake: &FakePeloton, storage: &Path) -> Vec<String> {
    vec![
        "--web.listen-address=127.0.0.1:0".into(),
        format!("--peloton.api-url={}", fake.api_url()),
        format!("--peloton.auth-url={}", fake.auth_url()),
        format!("--storage.path={}", storage.display()),
        "--poll.interval=1s".into(),
        "--peloton.retry-backoff=50ms".into(),
        "--peloton.timeout=5s".into(),
        "--peloton.max-request-rate=1000".into(),
    ]
}

/// `args` plus the fake's current refresh token: the usual way a test signs in.
pub fn args_with_token(fake: &FakePeloton, storage: &Path) -> Vec<String> {
    let mut a = args(fake, storage);
    a.push(format!("--peloton.refresh-token={}", fake.refresh_token()));
    a
}

/// Starts the exporter in-process; a reload (`POST /-/reload`) re-reads the files the
/// flags name, as the binary does.
pub async fn start(args: &[String]) -> Running {
    let cli = Cli::try_parse_from(
        std::iter::once("peloton-exporter".to_owned()).chain(args.iter().cloned()),
    )
    .expect("flags parse");
    let settings = cli.settings().expect("settings");
    run::start_reloadable(&settings, Some(Box::new(move || cli.settings())))
        .await
        .expect("exporter starts")
}

pub async fn scrape(addr: SocketAddr, accept: Option<&str>) -> (String, String) {
    let client = reqwest::Client::new();
    let mut req = client.get(format!("http://{addr}/metrics"));
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let resp = req.send().await.expect("scrape");
    assert_eq!(resp.status(), 200);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (ct, resp.text().await.unwrap())
}

/// Samples of a classic-format exposition: `name{labels}` → value.
pub fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Series of one metric name with their labels rendered as in the exposition.
pub fn series<'a>(samples: &'a BTreeMap<String, f64>, name: &str) -> Vec<(&'a str, f64)> {
    samples
        .iter()
        .filter(|(k, _)| k.as_str() == name || k.starts_with(&format!("{name}{{")))
        .map(|(k, v)| (k.as_str(), *v))
        .collect()
}

pub fn value(samples: &BTreeMap<String, f64>, series: &str) -> Option<f64> {
    samples.get(series).copied()
}

/// Polls `check` every 100 ms until it returns `Some`, or panics after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scrapes (classic format) until `cond` holds for the samples; an exporter that is not
/// listening yet counts as "not yet".
pub async fn wait_for_samples(
    addr: SocketAddr,
    what: &str,
    cond: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    wait_for_samples_within(addr, Duration::from_secs(60), what, cond).await
}

pub async fn wait_for_samples_within(
    addr: SocketAddr,
    limit: Duration,
    what: &str,
    cond: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    eventually(limit, what, || async {
        let body = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        let s = samples(&body);
        cond(&s).then_some(s)
    })
    .await
}

/// Waits until the exporter is up and has fetched the details of every workout.
pub async fn wait_synced(addr: SocketAddr) -> BTreeMap<String, f64> {
    wait_for_samples_within(addr, Duration::from_secs(180), "history synced", |s| {
        value(s, "peloton_up") == Some(1.0)
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
            && value(s, "peloton_latest_workout_end_timestamp_seconds").is_some()
    })
    .await
}

/// The real binary, run with a cleared environment and `envs`, its output in `log`;
/// killed when dropped, so a failed assertion leaves nothing running.
#[derive(Debug)]
pub struct ExporterProcess {
    process: support::Process,
    pub addr: SocketAddr,
}

impl ExporterProcess {
    /// `args` must hold `--web.listen-address=127.0.0.1:<port>`.
    pub fn spawn(args: &[String], envs: &[(&str, &str)], log: PathBuf) -> ExporterProcess {
        let port: u16 = args
            .iter()
            .find_map(|a| a.strip_prefix("--web.listen-address=127.0.0.1:"))
            .expect("--web.listen-address=127.0.0.1:<port>")
            .parse()
            .unwrap();
        let mut cmd = std::process::Command::new(BIN);
        cmd.args(args).env_clear().envs(envs.iter().copied());
        ExporterProcess {
            process: support::Process::start("peloton-exporter", cmd, log),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// Everything it wrote so far.
    pub fn logs(&self) -> String {
        self.process.log()
    }

    /// SIGHUP: reload.
    pub fn hangup(&self) {
        let status = std::process::Command::new("kill")
            .args(["-HUP", &self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Stops the process and returns everything it wrote.
    pub fn stop(self) -> String {
        self.process.stop()
    }
}
