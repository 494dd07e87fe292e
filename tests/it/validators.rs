//! Real tools judge the output: promtool, Python's prometheus_client parsers, and a real
//! Prometheus server scraping the demo exporter.

use crate::common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_fake::FakeOptions;

async fn running_exposition() -> (String, String) {
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = args_with_token(&fake, dir.path());
    let exporter = start(&a).await;
    wait_synced(exporter.addr).await;
    let (_, classic) = scrape(exporter.addr, None).await;
    let (_, om) = scrape(exporter.addr, Some(OPENMETRICS)).await;
    exporter.stop().await.unwrap();
    (classic, om)
}

fn pipe(program: &std::path::Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_finds_nothing_to_complain_about_in_the_classic_format() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let (classic, _) = running_exposition().await;
    let out = pipe(&promtool, &["check", "metrics"], &classic);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics:\n{report}"
    );

    // The check is real: a counter without its suffix is flagged.
    let broken = classic.replace("peloton_polls_total", "peloton_polls");
    let out = pipe(&promtool, &["check", "metrics"], &broken);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !report.trim().is_empty(),
        "promtool accepted a broken exposition"
    );
}

const PY_OPENMETRICS: &str = r"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
print(len(fams), sum(len(f.samples) for f in fams))
";

const PY_CLASSIC: &str = r"
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
print(len(fams), sum(len(f.samples) for f in fams))
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_parsers_accept_both_formats() {
    let Some(python) = python_with(&["prometheus_client"]) else {
        return;
    };
    let (classic, om) = running_exposition().await;
    let out = pipe(&python, &["-c", PY_OPENMETRICS], &om);
    assert!(
        out.status.success(),
        "OpenMetrics parser: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = String::from_utf8_lossy(&out.stdout).into_owned();
    let families: usize = counts.split_whitespace().next().unwrap().parse().unwrap();
    assert!(families > 30, "{counts}");

    let out = pipe(&python, &["-c", PY_CLASSIC], &classic);
    assert!(
        out.status.success(),
        "classic parser: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The parser is strict: an exposition without # EOF is refused.
    let out = pipe(
        &python,
        &["-c", PY_OPENMETRICS],
        om.trim_end_matches("# EOF\n"),
    );
    assert!(
        !out.status.success(),
        "parser accepted OpenMetrics without # EOF"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_demo_exporter() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let exporter_port = free_port();
    let mut exporter = Command::new(env!("CARGO_BIN_EXE_peloton-exporter"))
        .args([
            "--demo".to_owned(),
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
            format!("--storage.path={}", dir.path().join("state").display()),
            "--poll.interval=2s".to_owned(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prom_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: peloton\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .unwrap();
    let mut prom = Command::new(prometheus)
        .args([
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let query = |q: &'static str| async move {
        let url = format!("http://127.0.0.1:{prom_port}/api/v1/query");
        let resp = reqwest::Client::new()
            .get(url)
            .query(&[("query", q)])
            .send()
            .await
            .ok()?;
        let v: serde_json::Value = resp.json().await.ok()?;
        let result = v["data"]["result"].as_array()?.clone();
        (!result.is_empty()).then_some(result)
    };
    let result = eventually(
        Duration::from_secs(60),
        "peloton_up in Prometheus",
        || async {
            let r = query("peloton_up").await?;
            (r[0]["value"][1] == "1").then_some(r)
        },
    )
    .await;
    assert_eq!(result.len(), 1);
    let workouts = eventually(Duration::from_secs(30), "peloton_workouts_total", || {
        query("peloton_workouts_total")
    })
    .await;
    let disciplines: Vec<&str> = workouts
        .iter()
        .filter_map(|s| s["metric"]["discipline"].as_str())
        .collect();
    assert!(
        disciplines.contains(&"cycling") && disciplines.len() >= 5,
        "{disciplines:?}"
    );
    // Prometheus read the unit and type metadata of the OpenMetrics exposition.
    let meta: serde_json::Value = reqwest::get(format!(
        "http://127.0.0.1:{prom_port}/api/v1/metadata?metric=peloton_latest_workout_output_joules"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        meta["data"]["peloton_latest_workout_output_joules"][0]["unit"],
        "joules"
    );
    let _ = prom.kill();
    let _ = prom.wait();
    let _ = exporter.kill();
    let _ = exporter.wait();
}
