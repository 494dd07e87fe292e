//! Remote write into a real Prometheus receiver; a restart pushes nothing twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_fake::FakeOptions;

async fn prom_query(port: u16, q: &str) -> Option<Vec<serde_json::Value>> {
    let resp = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/query"))
        .query(&[("query", q)])
        .send()
        .await
        .ok()?;
    let v: serde_json::Value = resp.json().await.ok()?;
    v["data"]["result"].as_array().cloned()
}

/// Write requests Prometheus has answered, from its own metrics.
async fn writes_received(port: u16) -> f64 {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("prometheus_http_requests_total{")
                && l.contains("handler=\"/api/v1/write\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_receives_the_history_once() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
    let mut prom = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg("--storage.tsdb.retention.time=20y")
        .arg("--web.enable-remote-write-receiver")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually(Duration::from_secs(30), "prometheus ready", || async {
        reqwest::get(format!("http://127.0.0.1:{port}/-/ready"))
            .await
            .ok()?
            .status()
            .is_success()
            .then_some(())
    })
    .await;

    let fake = fake(FakeOptions {
        workouts: 200,
        ..FakeOptions::default()
    })
    .await;
    let storage = dir.path().join("state");
    let mut a = args_with_token(&fake, &storage);
    a.push(format!(
        "--remote-write.url=http://127.0.0.1:{port}/api/v1/write"
    ));
    a.push("--remote-write.label=job=peloton".into());
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "history pushed", |s| {
        value(s, "peloton_remote_write_samples_total") > Some(0.0)
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_remote_write_failures_total"), Some(0.0));

    let mut expected = BTreeMap::new();
    for w in fake.member().workouts.iter().filter(|w| w.is_complete()) {
        *expected.entry(w.discipline.clone()).or_insert(0.0) += 1.0;
    }
    let counts = |result: Vec<serde_json::Value>| -> BTreeMap<String, f64> {
        result
            .iter()
            .map(|r| {
                (
                    r["metric"]["discipline"].as_str().unwrap().to_owned(),
                    r["value"][1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    let q = "last_over_time(peloton_workouts_total{job=\"peloton\"}[3y])";
    let got = eventually(Duration::from_secs(30), "pushed counts", || async {
        let r = prom_query(port, q).await?;
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(counts(got), expected);
    exporter.stop().await.unwrap();

    // A restart with nothing new pushes nothing.
    let before = writes_received(port).await;
    assert!(before > 0.0);
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "restarted and polled", |s| {
        value(s, "peloton_up") == Some(1.0) && value(s, "peloton_polls_total") >= Some(3.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_remote_write_samples_total"), Some(0.0));
    assert_eq!(
        writes_received(port).await,
        before,
        "a restart pushed again"
    );

    // A new workout is pushed once, with its true timestamp.
    fake.add_workout("rowing_test");
    wait_for_samples(exporter.addr, "new workout pushed", |s| {
        value(s, "peloton_remote_write_samples_total") > Some(0.0)
    })
    .await;
    let got = eventually(
        Duration::from_secs(30),
        "new workout in Prometheus",
        || async {
            let r = prom_query(
                port,
                "peloton_workouts_total{job=\"peloton\",discipline=\"rowing_test\"}",
            )
            .await?;
            (!r.is_empty()).then_some(r)
        },
    )
    .await;
    assert_eq!(got[0]["value"][1], "1");
    exporter.stop().await.unwrap();
    let _ = prom.kill();
    let _ = prom.wait();
}
