//! Remote write into a real Prometheus receiver; a restart pushes nothing twice.

use crate::common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_exporter::run::Running;
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

/// A real Prometheus with its remote-write receiver on and the `tsdb` section given, or
/// `None` when it is not installed (the test says it skipped; under CI=true it fails).
async fn receiver(dir: &std::path::Path, tsdb: &str) -> Option<(Child, u16)> {
    let prometheus = tool("prometheus")?;
    let port = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1m\nstorage:\n  tsdb:\n{tsdb}"),
    )
    .unwrap();
    let prom = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
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
    Some((prom, port))
}

/// Starts the exporter again on the same store and checks that three polls send the
/// receiver nothing more than the `before` requests it had.
async fn restart_pushes_nothing(args: &[String], port: u16, before: f64) -> Running {
    let exporter = start(args).await;
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
    exporter
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_receives_the_history_once() {
    let dir = tempfile::tempdir().unwrap();
    // No out-of-order window: the history goes out in time order, a day per request.
    let Some((mut prom, port)) = receiver(dir.path(), "    {}\n").await else {
        return;
    };

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

    // A restart with nothing new pushes nothing, also when it switches traces on: the
    // traces of workouts pushed before come from `backfill --traces`.
    let before = writes_received(port).await;
    assert!(before > 0.0);
    a.push("--remote-write.traces".into());
    let exporter = restart_pushes_nothing(&a, port, before).await;

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
    let new_start = fake
        .member()
        .workouts
        .iter()
        .find(|w| w.discipline == "rowing_test")
        .unwrap()
        .start_time;
    let traces = prom_query(port, "peloton_trace_output_watts{job=\"peloton\"}[5y]")
        .await
        .unwrap_or_default();
    for series in &traces {
        for sample in series["values"].as_array().unwrap() {
            let ts = sample[0].as_f64().unwrap();
            assert!(
                ts >= new_start as f64,
                "a trace sample at {ts}, before the workout pushed after traces were switched on ({new_start})"
            );
        }
    }
    exporter.stop().await.unwrap();
    let _ = prom.kill();
    let _ = prom.wait();
}

/// `--remote-write.traces`: a ride's per-second power reaches Prometheus with the
/// timestamps and values of Peloton's performance graph, and a restart sends it no more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_reach_a_real_prometheus_at_their_own_seconds_once() {
    let dir = tempfile::tempdir().unwrap();
    // Traces follow the day's counters, so they need the out-of-order window the README
    // asks for (as every workout Peloton lists hours after it ended does).
    let Some((mut prom, port)) = receiver(dir.path(), "    out_of_order_time_window: 60d\n").await
    else {
        return;
    };
    let fake = fake(FakeOptions {
        workouts: 12,
        history_days: 30,
        ..FakeOptions::default()
    })
    .await;
    let mut a = args_with_token(&fake, &dir.path().join("state"));
    a.push(format!(
        "--remote-write.url=http://127.0.0.1:{port}/api/v1/write"
    ));
    a.push("--remote-write.label=job=peloton".into());
    a.push("--remote-write.traces".into());
    let exporter = start(&a).await;
    wait_for_samples(exporter.addr, "history pushed", |s| {
        value(s, "peloton_remote_write_samples_total") > Some(0.0)
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;

    // What Peloton's graph says about the newest ride, at 1-s resolution.
    let member = fake.member();
    let ride = member
        .workouts
        .iter()
        .filter(|w| w.is_complete() && w.discipline == "cycling" && w.output_watts.is_some())
        .max_by_key(|w| w.start_time)
        .expect("the fake member rides");
    let graph = peloton_json(
        &fake,
        &format!("/api/workout/{}/performance_graph?every_n=1", ride.id),
    )
    .await;
    let seconds = graph["seconds_since_pedaling_start"].as_array().unwrap();
    let output = graph["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == "output")
        .unwrap()["values"]
        .as_array()
        .unwrap();
    let expected: Vec<(i64, f64)> = seconds
        .iter()
        .zip(output)
        .filter_map(|(t, v)| Some((ride.start_time + t.as_i64()?, v.as_f64()?)))
        .collect();
    let (first, last) = (expected[0].0, expected[expected.len() - 1].0);
    assert!(expected.len() > 600, "a ride of {} samples", expected.len());

    let q = format!(
        "peloton_trace_output_watts{{job=\"peloton\"}}[{}s]",
        last - first + 1
    );
    let got: Vec<(i64, f64)> = eventually(Duration::from_secs(30), "the ride's trace", || {
        let q = q.clone();
        async move {
            let r = reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/api/v1/query"))
                .query(&[("query", q.as_str()), ("time", &last.to_string())])
                .send()
                .await
                .ok()?
                .json::<serde_json::Value>()
                .await
                .ok()?;
            let values = r["data"]["result"][0]["values"].as_array()?.clone();
            Some(
                values
                    .iter()
                    .map(|s| {
                        (
                            s[0].as_f64().unwrap() as i64,
                            s[1].as_str().unwrap().parse().unwrap(),
                        )
                    })
                    .collect(),
            )
        }
    })
    .await;
    assert_eq!(
        got.len(),
        expected.len(),
        "one sample per second of the graph"
    );
    for ((ts, v), (want_ts, want)) in got.iter().zip(&expected) {
        assert_eq!(ts, want_ts);
        // Traces are kept to the watt.
        assert!(
            (v - want).abs() <= 0.5,
            "{v} W at {ts}, the graph says {want} W"
        );
    }
    exporter.stop().await.unwrap();

    let before = writes_received(port).await;
    let exporter = restart_pushes_nothing(&a, port, before).await;
    exporter.stop().await.unwrap();
    let _ = prom.kill();
    let _ = prom.wait();
}
