//! docs/home-assistant.md: the Home Assistant YAML uses the "Prometheus Sensor"
//! integration's options, and every PromQL expression in it answers as the integration
//! needs against a real Prometheus scraping the demo exporter with a ride in progress
//! (`--demo --demo.live`, the stack of the dashboards test).

use crate::support;

use serde_json::Value;
use support::{Api, Query};

const DOC: &str = "docs/home-assistant.md";
const HELPER: &str = "tests/it/support/promql_queries.py";

fn doc_queries(python: &std::path::Path) -> Vec<Query> {
    support::list_queries(python, &["home-assistant", DOC])
}

#[test]
fn home_assistant_yaml_matches_the_integration() {
    let Some(python) = support::python_with(&["promql_parser", "yaml"]) else {
        return;
    };
    let queries = doc_queries(&python);
    let errors: Vec<String> = queries
        .iter()
        .filter_map(|q| q.error.as_ref().map(|e| format!("{}: {e}", q.source)))
        .collect();
    assert!(errors.is_empty(), "{DOC}:\n  {}", errors.join("\n  "));

    // The page's promises: sensors for heart rate, output and heart-rate zone, and a
    // binary sensor for the ride in progress.
    let reads = |kind: &str, metric: &str| {
        queries
            .iter()
            .any(|q| q.kind.as_deref() == Some(kind) && q.metrics.iter().any(|m| m == metric))
    };
    for metric in [
        "peloton_live_heart_rate_bpm",
        "peloton_live_output_watts",
        "peloton_live_heart_rate_zone",
    ] {
        assert!(reads("sensor", metric), "{DOC}: no sensor reads {metric}");
    }
    assert!(
        reads("binary_sensor", "peloton_live_workout_info"),
        "{DOC}: no binary sensor on peloton_live_workout_info"
    );

    // The check is real: a typo in a key, a broken expression and an `expr:` outside a
    // prometheus_sensor query are each reported.
    let original = std::fs::read_to_string(support::repo().join(DOC)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.md");
    let path_arg = path.display().to_string();
    let breakages: [(&str, String); 3] = [
        (
            "an unknown key",
            original.replacen("unit_of_measurement: bpm", "unit: bpm", 1),
        ),
        (
            "an unclosed parenthesis",
            original.replacen(
                "expr: max(peloton_live_heart_rate_bpm)",
                "expr: max(peloton_live_heart_rate_bpm",
                1,
            ),
        ),
        (
            "an expression outside the integration's queries",
            format!("{original}\n```yaml\nrules:\n  - expr: peloton_up\n```\n"),
        ),
    ];
    for (what, text) in breakages {
        assert_ne!(text, original, "{what}: the breakage changed nothing");
        std::fs::write(&path, text).unwrap();
        let out = support::run(&python, &[HELPER, "home-assistant", &path_arg]);
        assert!(out.status.success(), "{}", support::text(&out));
        let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            list.iter().any(|q| q["error"].is_string()),
            "{what} went unnoticed"
        );
    }
}

/// The value of the single sample of an instant query's answer, `None` for no sample, or
/// why the integration could not use it (it reads `result[0].value` of a vector and
/// refuses more than one series).
fn single_value(data: &Value) -> Result<Option<f64>, String> {
    if data["resultType"] != "vector" {
        return Err(format!(
            "result type {} (the integration reads a vector)",
            data["resultType"]
        ));
    }
    let result = data["result"].as_array().cloned().unwrap_or_default();
    match result.as_slice() {
        [] => Ok(None),
        [one] => one["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| format!("unreadable sample {one}")),
        many => Err(format!(
            "{} series: the integration wants exactly one (aggregate, e.g. max)",
            many.len()
        )),
    }
}

/// During the ride: one finite sample (the binary sensor's 1). At `quiet`, a time without
/// live series: a sensor has no sample (unavailable), the binary sensor 0 (off).
async fn check(api: &Api, q: &Query, quiet: f64) -> Result<(), String> {
    if let Some(e) = &q.error {
        return Err(e.clone());
    }
    for m in &q.metrics {
        if !api.metric_exists(m).await? {
            return Err(format!("{m} is not exported by the demo exporter"));
        }
    }
    let binary = q.kind.as_deref() == Some("binary_sensor");
    let now = single_value(&api.query(&q.promql).await?)?;
    match now {
        Some(v) if binary && v != 1.0 => {
            return Err(format!(
                "{v} during the ride: the binary sensor would not be on"
            ));
        }
        Some(v) if !v.is_finite() => return Err(format!("{v} during the ride")),
        Some(_) => {}
        None => return Err("no sample during the ride: the sensor would be unavailable".into()),
    }
    let after = single_value(&api.query_at(&q.promql, quiet).await?)?;
    match (binary, after) {
        (false, None) | (true, Some(0.0)) => Ok(()),
        (false, Some(v)) => Err(format!(
            "{v} without a ride: the sensor would show a made-up value, the page says unavailable"
        )),
        (true, v) => Err(format!(
            "{v:?} without a ride: the binary sensor must be 0 (off), not unavailable"
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_query_answers_from_a_real_prometheus() {
    let Some(python) = support::python_with(&["promql_parser", "yaml"]) else {
        return;
    };
    let Some(prometheus) = support::tool("prometheus") else {
        return;
    };
    let queries = doc_queries(&python);
    assert!(
        queries.len() >= 4,
        "only {} queries in {DOC}",
        queries.len()
    );
    // Before this test's Prometheus existed: no series at all, like the time after a
    // ride, when the exporter has removed the live ones.
    let quiet = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        - 3600.0;
    let dir = tempfile::tempdir().unwrap();
    let (mut exporter, mut prom, api) = support::start_live_demo(&prometheus, dir.path()).await;

    let mut failures = Vec::new();
    for q in &queries {
        if let Err(e) = check(&api, q, quiet).await {
            failures.push(format!("{}: {e}\n      {}", q.source, q.promql));
        }
    }
    exporter.assert_running();
    prom.assert_running();
    assert!(
        failures.is_empty(),
        "{} queries of {DOC} fail:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    eprintln!("{}: {} queries answer as documented", DOC, queries.len());

    // The check is real: a series per discipline (several results), a misspelled metric,
    // and a sensor that reads 0 without a ride are each caught.
    let sensor = queries
        .iter()
        .find(|q| q.kind.as_deref() == Some("sensor"))
        .unwrap();
    for (what, promql, metric) in [
        (
            "several series",
            "peloton_workout_in_progress",
            "peloton_workout_in_progress",
        ),
        (
            "a misspelled metric",
            "max(peloton_live_heart_rate)",
            "peloton_live_heart_rate",
        ),
        (
            "a made-up value without a ride",
            "max(peloton_live_heart_rate_bpm) or on () vector(0)",
            "peloton_live_heart_rate_bpm",
        ),
    ] {
        let mut q = sensor.clone();
        promql.clone_into(&mut q.promql);
        q.metrics = vec![metric.to_owned()];
        let outcome = check(&api, &q, quiet).await;
        assert!(outcome.is_err(), "{what} went unnoticed: {outcome:?}");
    }
}
