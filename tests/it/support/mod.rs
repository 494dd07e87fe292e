//! Shared test harness: external tools (python3, promtool, prometheus), child processes
//! killed on drop, the demo exporter and a real Prometheus, and the Prometheus HTTP API.
//! dashboards.rs, home_assistant.rs, rules.rs and deploy.rs use it directly; common
//! re-exports the tool helpers.
//!
//! A missing tool skips the test with `SKIPPED: …`, except under `CI=true`, where it fails.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root (as [`repo`]).
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The exporter binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_peloton-exporter");

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(ROOT)
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Says that a test skipped, on the real stderr: libtest swallows `eprintln!` of a test
/// that passes, and a skip must be visible.
fn missing(what: &str) {
    use std::io::Write as _;
    assert!(!ci(), "{what}, which CI=true requires");
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

/// An executable on PATH, or `None` (skipped; a failure under `CI=true`).
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        missing(&format!("{name} is not on PATH"));
    }
    found
}

/// A python3 that imports every module in `modules` (skipped or failed like [`tool`]).
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let python = tool("python3")?;
    for module in modules {
        let ok = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            missing(&format!("python3 cannot import {module}"));
            return None;
        }
    }
    Some(python)
}

/// Runs a command in the repository root and returns its output.
pub fn run(program: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// stdout and stderr of a command, for messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `dir`'s files ending in `suffix`, sorted, as paths relative to the repository root.
pub fn files(dir: &str, suffix: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    out
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process that is killed (and reaped) when dropped, also when the test panics.
#[derive(Debug)]
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    pub fn spawn(name: &'static str, program: &Path, args: &[String], log: PathBuf) -> Self {
        let mut cmd = Command::new(program);
        cmd.args(args);
        Self::start(name, cmd, log)
    }

    /// Runs `cmd` with stdout and stderr both in `log`.
    pub fn start(name: &'static str, mut cmd: Command, log: PathBuf) -> Self {
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {name} ({}): {e}", cmd.get_program().display())
            });
        Self { name, child, log }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Everything it wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it (after checking that it still ran) and returns everything it wrote.
    pub fn stop(mut self) -> String {
        self.assert_running();
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log()
    }

    /// The end of the process's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Panics (with the log) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 250 ms until it returns `Some`, for at most `limit`; then panics
/// with `what` and the last reason `check` gave.
pub async fn wait_for<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(reason) => assert!(
                start.elapsed() < limit,
                "gave up after {limit:?} waiting for {what}: {reason}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The demo exporter binary (`--demo`) on a free loopback port, polling every second.
pub async fn start_demo_exporter(dir: &Path) -> (Process, String) {
    start_demo_exporter_with(dir, "1s", &[]).await
}

/// [`start_demo_exporter`] polling every `poll_interval`, with more flags (`--demo.live`).
pub async fn start_demo_exporter_with(
    dir: &Path,
    poll_interval: &str,
    extra: &[&str],
) -> (Process, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec![
        "--demo".to_owned(),
        format!("--web.listen-address={addr}"),
        format!("--poll.interval={poll_interval}"),
        format!("--storage.path={}", dir.join("exporter-state").display()),
        "--log.level=warn".to_owned(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut exporter = Process::spawn(
        "peloton-exporter --demo",
        Path::new(BIN),
        &args,
        dir.join("exporter.log"),
    );
    let url = format!("http://{addr}/metrics");
    let client = reqwest::Client::new();
    wait_for(
        Duration::from_secs(60),
        "the demo exporter to report peloton_up 1",
        || {
            exporter.assert_running();
            let req = client.get(&url).send();
            async move {
                let body = req
                    .await
                    .map_err(|e| e.to_string())?
                    .text()
                    .await
                    .map_err(|e| e.to_string())?;
                if body
                    .lines()
                    .any(|l| l.starts_with("peloton_up ") && l.ends_with(" 1"))
                {
                    Ok(())
                } else {
                    Err("no `peloton_up 1` in /metrics yet".to_owned())
                }
            }
        },
    )
    .await;
    (exporter, addr)
}

/// The live families (`--poll.live-interval`): present while a ride is in progress.
pub const LIVE_METRICS: [&str; 14] = [
    "peloton_live_workout_info",
    "peloton_live_workout_start_timestamp_seconds",
    "peloton_live_workout_class_length_seconds",
    "peloton_live_workout_output_joules",
    "peloton_live_workout_distance_meters",
    "peloton_live_sample_timestamp_seconds",
    "peloton_live_elapsed_seconds",
    "peloton_live_output_watts",
    "peloton_live_cadence_rpm",
    "peloton_live_resistance_ratio",
    "peloton_live_speed_meters_per_second",
    "peloton_live_heart_rate_bpm",
    "peloton_live_heart_rate_zone",
    "peloton_live_power_zone",
];

/// The stack the dashboards and docs/home-assistant.md are checked against: the demo
/// exporter with `--demo.live` (the demo member's history and workouts, plus a 5-minute
/// ride in real time from its start, live mode at 5 s) and a real Prometheus scraping it
/// every second with deploy/prometheus/rules loaded. Returns once Prometheus holds 15
/// scrapes, has evaluated every rule and has a series of every [`LIVE_METRICS`] family.
///
/// The exporter polls at the demo's default 10 s: a live read happens in a round where
/// the regular poll is not due, so a poll interval under the live interval (1 s, as
/// [`start_demo_exporter`]) would leave the ride without samples after the first.
pub async fn start_live_demo(prometheus: &Path, dir: &Path) -> (Process, Process, Api) {
    let (exporter, target) = start_demo_exporter_with(dir, "10s", &["--demo.live"]).await;
    let rule_files: Vec<_> = files("deploy/prometheus/rules", ".yml")
        .iter()
        .map(|f| repo().join(f))
        .collect();
    let (prom, api) = start_prometheus(prometheus, dir, &target, &rule_files).await;
    api.wait_for_history(15).await;
    // The ride runs 5 minutes from the exporter's start, then pauses 30 s: bounded so that
    // a start in the pause still finds the next ride.
    wait_for(
        Duration::from_secs(90),
        "a series of every live metric (the demo's ride in progress)",
        || async {
            for m in LIVE_METRICS {
                if !api.metric_exists(m).await? {
                    return Err(format!("no {m} yet"));
                }
            }
            Ok(())
        },
    )
    .await;
    (exporter, prom, api)
}

/// A real Prometheus with its own TSDB in `dir`, scraping `target` every second and
/// evaluating `rule_files` every second.
pub async fn start_prometheus(
    prometheus: &Path,
    dir: &Path,
    target: &str,
    rule_files: &[PathBuf],
) -> (Process, Api) {
    let mut config = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n",
    );
    for f in rule_files {
        writeln!(config, "  - {:?}", f.display().to_string()).unwrap();
    }
    writeln!(
        config,
        "scrape_configs:\n  - job_name: peloton-exporter\n    static_configs:\n      - targets: [{target:?}]"
    )
    .unwrap();
    let config_path = dir.join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let port = free_port();
    let args = vec![
        format!("--config.file={}", config_path.display()),
        format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ];
    let mut process = Process::spawn("prometheus", prometheus, &args, dir.join("prometheus.log"));
    let api = Api {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
    };
    wait_for(Duration::from_secs(60), "Prometheus to be ready", || {
        process.assert_running();
        let req = api.client.get(format!("{}/-/ready", api.base)).send();
        async move {
            match req.await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("/-/ready answered {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        }
    })
    .await;
    (process, api)
}

/// The HTTP API of the test's Prometheus.
#[derive(Debug)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .query(params)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!("{}: {}", body["errorType"], body["error"]))
        }
    }

    /// An instant query at the current time: the result as returned (`resultType` and
    /// `result`), or Prometheus's error.
    pub async fn query(&self, query: &str) -> Result<Value, String> {
        self.get("/api/v1/query", &[("query", query)]).await
    }

    /// An instant query at Unix time `time`.
    pub async fn query_at(&self, query: &str, time: f64) -> Result<Value, String> {
        self.get(
            "/api/v1/query",
            &[("query", query), ("time", &time.to_string())],
        )
        .await
    }

    /// Whether an instant query returns at least one sample (a scalar counts).
    pub async fn has_data(&self, query: &str) -> Result<bool, String> {
        let data = self.query(query).await?;
        Ok(match data["resultType"].as_str() {
            Some("vector" | "matrix") => data["result"].as_array().is_some_and(|r| !r.is_empty()),
            Some("scalar" | "string") => true,
            other => return Err(format!("unexpected resultType {other:?}")),
        })
    }

    /// Whether Prometheus has a current series of this metric name.
    pub async fn metric_exists(&self, name: &str) -> Result<bool, String> {
        self.has_data(&format!("count({{__name__={name:?}}})"))
            .await
    }

    /// Every rule of every loaded group: (name, health, last error).
    pub async fn rules(&self) -> Result<Vec<(String, String, String)>, String> {
        let data = self.get("/api/v1/rules", &[]).await?;
        let mut out = Vec::new();
        for group in data["groups"].as_array().cloned().unwrap_or_default() {
            for rule in group["rules"].as_array().cloned().unwrap_or_default() {
                out.push((
                    rule["name"].as_str().unwrap_or_default().to_owned(),
                    rule["health"].as_str().unwrap_or_default().to_owned(),
                    rule["lastError"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        Ok(out)
    }

    /// Waits (bounded) until Prometheus holds `scrapes` samples of `peloton_up` and has
    /// evaluated every loaded rule at least once.
    pub async fn wait_for_history(&self, scrapes: u32) {
        let query = format!("count_over_time(peloton_up[5m]) >= {scrapes}");
        wait_for(
            Duration::from_secs(90),
            &format!("{scrapes} scrapes of the exporter"),
            || async {
                if self.has_data(&query).await? {
                    Ok(())
                } else {
                    Err("not yet".to_owned())
                }
            },
        )
        .await;
        wait_for(
            Duration::from_secs(60),
            "every rule to be evaluated once",
            || async {
                let rules = self.rules().await?;
                match rules.iter().find(|(_, health, _)| health == "unknown") {
                    Some((name, _, _)) => Err(format!("{name} not evaluated yet")),
                    None => Ok(()),
                }
            },
        )
        .await;
    }
}

/// One query of the dashboards or rules, as tests/it/support/promql_queries.py lists it.
#[derive(Debug, Clone)]
pub struct Query {
    pub source: String,
    pub promql: String,
    pub metrics: Vec<String>,
    pub history: bool,
    pub error: Option<String>,
    pub record: Option<String>,
    /// docs/home-assistant.md: the Home Assistant domain (`sensor`, `binary_sensor`).
    pub kind: Option<String>,
}

/// Runs tests/it/support/promql_queries.py and parses its JSON.
pub fn list_queries(python: &Path, args: &[&str]) -> Vec<Query> {
    let mut all = vec!["tests/it/support/promql_queries.py"];
    all.extend_from_slice(args);
    let out = run(python, &all);
    assert!(
        out.status.success(),
        "promql_queries.py {args:?} failed:\n{}",
        text(&out)
    );
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.iter()
        .map(|q| Query {
            source: q["source"].as_str().unwrap().to_owned(),
            promql: q["query"].as_str().unwrap().to_owned(),
            metrics: q["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect(),
            history: q["history"].as_bool().unwrap(),
            error: q["error"].as_str().map(str::to_owned),
            record: q["record"].as_str().map(str::to_owned),
            kind: q["kind"].as_str().map(str::to_owned),
        })
        .collect()
}

/// Metric names documented in docs/metrics.md (the exporter's reference, which
/// tests/it/metric_reference.rs keeps equal to the code): the first cell of each table row.
pub fn documented_metrics() -> Vec<String> {
    let doc = std::fs::read_to_string(repo().join("docs/metrics.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}
