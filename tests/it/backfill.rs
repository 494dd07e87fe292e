//! History into Prometheus: the backfill file (and its monthly split) through real promtool
//! and Prometheus, and the CSV export against the store.

use crate::common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_fake::{FakeOptions, FakePeloton};

fn run(fake: &FakePeloton, storage: &std::path::Path, sub: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(sub)
        .args([
            format!("--peloton.api-url={}", fake.api_url()),
            format!("--peloton.auth-url={}", fake.auth_url()),
            format!("--storage.path={}", storage.display()),
            "--peloton.max-request-rate=1000".to_owned(),
        ])
        .env("PELOTON_REFRESH_TOKEN", fake.refresh_token())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{sub:?} failed: {stderr}");
    stderr
}

fn fake_counts(fake: &FakePeloton, before: i64) -> BTreeMap<String, f64> {
    let mut counts = BTreeMap::new();
    for w in fake.member().workouts.iter().filter(|w| w.is_complete()) {
        if w.end_time.is_some_and(|t| t <= before) {
            *counts.entry(w.discipline.clone()).or_insert(0.0) += 1.0;
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_becomes_blocks_that_prometheus_queries() {
    let (Some(promtool), Some(prometheus)) = (tool("promtool"), tool("prometheus")) else {
        return;
    };
    let fake = fake(FakeOptions {
        workouts: 2000,
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.om");
    let stderr = run(
        &fake,
        &dir.path().join("state"),
        &[
            "backfill",
            "--out",
            file.to_str().unwrap(),
            "--label",
            "job=peloton",
        ],
    );
    assert!(
        stderr.contains("promtool tsdb create-blocks-from openmetrics"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("# EOF\n"));

    // The README's way for years of history: one file per month, one block per day.
    // promtool reads its whole input once per block window, so the single file above
    // would cost it minutes; these cost it seconds, and hold every one of its samples.
    let monthly = dir.path().join("monthly");
    std::fs::create_dir(&monthly).unwrap();
    let stderr = run(
        &fake,
        &dir.path().join("state"),
        &[
            "backfill",
            "--split",
            "month",
            "--out",
            monthly.join("history.om").to_str().unwrap(),
            "--label",
            "job=peloton",
        ],
    );
    assert!(stderr.contains("monthly files"), "{stderr}");
    // The blocks come from the monthly files, whose closing samples are three hours before
    // they were written: the range query ends right after those, not before (a query point
    // only sees samples at or before it).
    let end = peloton_exporter::clock::now_unix() - 3 * 3600;
    let mut files: Vec<_> = std::fs::read_dir(&monthly)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    // (series, timestamp) → value of every monthly sample.
    let sample = |l: &str| {
        let mut parts = l.rsplitn(3, ' ');
        let ts: i64 = parts.next().unwrap().parse().unwrap();
        let value: f64 = parts.next().unwrap().parse().unwrap();
        ((parts.next().unwrap().to_owned(), ts), value)
    };
    let mut split_samples = std::collections::HashMap::new();
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.starts_with("history-20") && f.extension().is_some_and(|e| e == "om"),
            "{name}"
        );
        let part = std::fs::read_to_string(f).unwrap();
        assert!(part.ends_with("# EOF\n"), "{name}");
        for l in part.lines().filter(|l| !l.starts_with('#')) {
            let (key, value) = sample(l);
            assert!(split_samples.insert(key, value).is_none(), "twice: {l}");
        }
    }
    // Every sample of the single file is in a monthly one, with its value (the daily loads
    // to rounding: a month's first day continues the model from the days before it).
    // Both files end with a closing sample three hours before they were written, seconds
    // apart: those are left out.
    let whole: Vec<_> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(sample)
        .collect();
    let closing = whole.iter().map(|((_, ts), _)| *ts).max().unwrap();
    let mut compared = 0;
    for ((series, ts), value) in whole.iter().filter(|((_, ts), _)| *ts < closing) {
        let got = split_samples.get(&(series.clone(), *ts));
        assert!(
            got.is_some_and(|g| (g - value).abs() <= 1e-9 * value.abs().max(1.0)),
            "{series} at {ts}: {value} in the single file, {got:?} in the monthly ones"
        );
        compared += 1;
    }
    assert!(compared > 10_000, "{compared}");

    let blocks = dir.path().join("tsdb");
    for f in &files {
        let out = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg("--max-block-duration=24h")
            .arg(f)
            .arg(&blocks)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool on {}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").unwrap();
    let mut prom = Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", blocks.display()))
        .arg("--storage.tsdb.retention.time=20y")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let query = |start: i64, end: i64| async move {
        let resp = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/api/v1/query_range"))
            .query(&[
                ("query", "peloton_workouts_total".to_owned()),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("step", "3600".to_owned()),
            ])
            .send()
            .await
            .ok()?;
        let v: serde_json::Value = resp.json().await.ok()?;
        let result = v["data"]["result"].as_array()?.clone();
        (!result.is_empty()).then_some(result)
    };
    let result = eventually(Duration::from_secs(60), "range query on the blocks", || {
        query(end - 7 * 86_400, end)
    })
    .await;
    let _ = prom.kill();
    let _ = prom.wait();
    let mut at_end = BTreeMap::new();
    for series in &result {
        assert_eq!(series["metric"]["job"], "peloton");
        let discipline = series["metric"]["discipline"].as_str().unwrap().to_owned();
        let last = series["values"].as_array().unwrap().last().unwrap();
        assert!(
            last[0].as_f64().unwrap() as i64 >= end - 3600,
            "series {discipline} ends early"
        );
        at_end.insert(
            discipline,
            last[1].as_str().unwrap().parse::<f64>().unwrap(),
        );
    }
    assert_eq!(at_end, fake_counts(&fake, end));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_export_round_trips_with_the_store() {
    let fake = fake(FakeOptions {
        workouts: 250,
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let csv = dir.path().join("workouts.csv");
    run(
        &fake,
        &state,
        &["export", "--format", "csv", "--out", csv.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let output_col = header.iter().position(|c| *c == "output_joules").unwrap();
    let rows: Vec<Vec<String>> = lines.map(parse_csv_line).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()));

    let (store, _) = peloton_exporter::store::database::Store::open(&state).unwrap();
    let mut stored_rows = 0;
    let mut stored_output = 0.0;
    store
        .for_each(|w| {
            if w.summary.status == peloton_exporter::domain::Status::Complete {
                stored_rows += 1;
                stored_output += w.summary.output_joules.unwrap_or(0.0);
            }
        })
        .unwrap();
    let exported_output: f64 = rows
        .iter()
        .map(|r| r[output_col].parse::<f64>().unwrap_or(0.0))
        .sum();
    assert_eq!(rows.len(), stored_rows);
    assert_eq!(
        stored_rows,
        fake.member()
            .workouts
            .iter()
            .filter(|w| w.is_complete())
            .count()
    );
    assert!(
        (exported_output - stored_output).abs() < 1e-6 * stored_output,
        "{exported_output} vs {stored_output}"
    );
    // The export has no challenge or badge categories: they are not asked for.
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| crate::challenges_strength::is_profile_extra(r.endpoint)),
        "the sync of a subcommand asked for challenges or achievements"
    );

    // JSON has the same rows.
    let json = dir.path().join("workouts.json");
    run(
        &fake,
        &state,
        &[
            "export",
            "--format",
            "json",
            "--out",
            json.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), stored_rows);
}

/// Splits one RFC 4180 line (no embedded newlines in this data).
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}
