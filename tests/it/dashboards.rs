//! The Grafana dashboards (dashboards/*.json): Grafana's JSON schema, provisioning, the
//! generator, and every panel query run against a real Prometheus scraping the demo
//! exporter with a ride in progress (`--demo --demo.live`).

use crate::support;

use std::fmt::Write as _;

use serde_json::Value;
use support::{Api, Query};

const SCHEMA_DIR: &str = "tests/it/support/grafana-schema";
const VALIDATOR: &str = "tests/it/support/validate_dashboards.py";

/// The dashboards and their uids, which links and bookmarks rely on: never change one.
const DASHBOARDS: [(&str, &str); 6] = [
    ("dashboards/peloton-overview.json", "peloton-overview"),
    (
        "dashboards/peloton-latest-workout.json",
        "peloton-latest-workout",
    ),
    (
        "dashboards/peloton-exporter-health.json",
        "peloton-exporter-health",
    ),
    ("dashboards/peloton-training.json", "peloton-training"),
    ("dashboards/peloton-live-ride.json", "peloton-live-ride"),
    (
        "dashboards/peloton-challenges-strength.json",
        "peloton-challenges-strength",
    ),
];

/// The live dashboard, which must show every live family.
const LIVE_DASHBOARD: &str = "peloton-live-ride.json";

/// Metrics of the last completed class that a discipline does not have (no cadence on a
/// run, no stroke rate on a ride, no leaderboard on a meditation). The demo's latest
/// class changes every minute (not while its live ride runs: then it is the history's
/// last), so a panel on one of them may be empty during the test: such a panel must name
/// a metric of the exporter's reference (docs/metrics.md) instead.
const DEPENDS_ON_THE_CLASS: [&str; 20] = [
    "peloton_latest_workout_output_joules",
    "peloton_latest_workout_energy_burned_joules",
    "peloton_latest_workout_distance_meters",
    "peloton_latest_workout_elevation_meters",
    "peloton_latest_workout_output_watts",
    "peloton_latest_workout_cadence_rpm",
    "peloton_latest_workout_resistance_ratio",
    "peloton_latest_workout_speed_meters_per_second",
    "peloton_latest_workout_incline_ratio",
    "peloton_latest_workout_heart_rate_bpm",
    "peloton_latest_workout_stroke_rate_spm",
    "peloton_latest_workout_heart_rate_zone_seconds",
    "peloton_latest_workout_effort_points",
    "peloton_latest_workout_leaderboard_rank",
    "peloton_latest_workout_leaderboard_users",
    "peloton_latest_workout_normalized_power_watts",
    "peloton_latest_workout_intensity_factor_ratio",
    "peloton_latest_workout_training_load",
    "peloton_latest_workout_power_best_watts",
    "peloton_latest_workout_ftp_watts",
];

fn dashboard_files() -> Vec<String> {
    let files = support::files("dashboards", ".json");
    let mut expected: Vec<&str> = DASHBOARDS.iter().map(|(f, _)| *f).collect();
    expected.sort_unstable();
    assert_eq!(
        files, expected,
        "dashboards/*.json changed: update DASHBOARDS"
    );
    files
}

type Breakage = (&'static str, fn(&mut Value));

fn validate(python: &std::path::Path, files: &[String]) -> std::process::Output {
    let mut args = vec![VALIDATOR, SCHEMA_DIR];
    args.extend(files.iter().map(String::as_str));
    support::run(python, &args)
}

#[test]
fn dashboards_validate_against_the_grafana_schema() {
    let Some(python) = support::python_with(&["jsonschema"]) else {
        return;
    };
    let files = dashboard_files();
    let out = validate(&python, &files);
    assert!(out.status.success(), "{}", support::text(&out));
    eprint!("{}", support::text(&out));

    for (file, uid) in DASHBOARDS {
        let d: Value =
            serde_json::from_str(&std::fs::read_to_string(support::repo().join(file)).unwrap())
                .unwrap();
        assert_eq!(
            d["uid"], uid,
            "{file}: the uid is part of every link to the dashboard"
        );
    }

    // The validation is real: each of these breakages is reported.
    let dir = tempfile::tempdir().unwrap();
    let original = read_json(DASHBOARDS[0].0);
    let breakages: [Breakage; 6] = [
        ("a panel wider than the grid", |p| {
            p["gridPos"]["w"] = 30.into();
        }),
        ("a hard-coded datasource uid", |p| {
            p["datasource"] = serde_json::json!({"type": "prometheus", "uid": "P1809F7CD0C75ACF3"});
        }),
        ("an unknown stat option", |p| {
            p["options"]["graphMod"] = "area".into();
        }),
        ("a query without the account filter", |p| {
            p["targets"][0]["expr"] = "sum(peloton_workouts_total)".into();
        }),
        ("a target without expr", |p| {
            p["targets"][0].as_object_mut().unwrap().remove("expr");
        }),
        ("a panel without description", |p| {
            p.as_object_mut().unwrap().remove("description");
        }),
    ];
    let path = dir.path().join("broken.json");
    for (what, breakage) in breakages {
        let mut d = original.clone();
        breakage(first_panel(&mut d));
        std::fs::write(&path, serde_json::to_string(&d).unwrap()).unwrap();
        let out = validate(&python, &[path.display().to_string()]);
        assert!(
            !out.status.success(),
            "the validator accepted {what}:\n{}",
            support::text(&out)
        );
    }
    let mut d = original;
    d["__inputs"] = serde_json::json!([]);
    std::fs::write(&path, serde_json::to_string(&d).unwrap()).unwrap();
    let out = validate(&python, &[path.display().to_string()]);
    assert!(
        !out.status.success(),
        "the validator accepted an export-for-sharing dashboard"
    );
}

fn read_json(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(support::repo().join(file)).unwrap()).unwrap()
}

fn first_panel(d: &mut Value) -> &mut Value {
    d["panels"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["type"] != "row")
        .unwrap()
}

#[test]
fn dashboards_match_their_generator() {
    let Some(python) = support::tool("python3") else {
        return;
    };
    let out = support::run(&python, &["dashboards/generate.py", "--check"]);
    assert!(
        out.status.success(),
        "dashboards/*.json differ from dashboards/generate.py: edit the generator, then run \
         `python3 dashboards/generate.py`\n{}",
        support::text(&out)
    );
}

const CHECK_PROVISIONING: &str = r#"
import yaml
p = yaml.safe_load(open("dashboards/provisioning/dashboards/peloton.yaml"))
assert p["apiVersion"] == 1, "apiVersion"
providers = p["providers"]
assert providers and all(x["type"] == "file" and x["options"]["path"] for x in providers), providers
d = yaml.safe_load(open("dashboards/provisioning/datasources/prometheus.yaml"))
assert d["apiVersion"] == 1, "apiVersion"
assert [x for x in d["datasources"] if x["type"] == "prometheus" and x.get("isDefault")], d
print("ok")
"#;

#[test]
fn provisioning_files_are_valid() {
    let Some(python) = support::python_with(&["yaml"]) else {
        return;
    };
    let out = support::run(&python, &["-c", CHECK_PROVISIONING]);
    assert!(
        out.status.success(),
        "dashboards/provisioning: {}",
        support::text(&out)
    );
}

/// `$__range` and `$__rate_interval` as the test substitutes them: small, because this
/// Prometheus only has the few seconds of history it scraped itself (1 s scrapes).
const RANGE: &str = "30s";
const RATE_INTERVAL: &str = "10s";

/// Runs one query; `Ok(Some(note))` for an empty result that [`DEPENDS_ON_THE_CLASS`]
/// explains, `Err` for a problem.
async fn check(api: &Api, q: &Query, documented: &[String]) -> Result<Option<String>, String> {
    if let Some(e) = &q.error {
        return Err(e.clone());
    }
    let has_data = api
        .has_data(&q.promql)
        .await
        .map_err(|e| format!("Prometheus rejects it: {e}"))?;
    let mut absent = Vec::new();
    for m in &q.metrics {
        if !api.metric_exists(m).await? {
            absent.push(m.as_str());
        }
    }
    let unexplained: Vec<&str> = absent
        .iter()
        .copied()
        .filter(|m| !DEPENDS_ON_THE_CLASS.contains(m))
        .collect();
    if !unexplained.is_empty() {
        let (recorded, exported): (Vec<&str>, Vec<&str>) =
            unexplained.iter().partition(|m| m.contains(':'));
        let mut why = Vec::new();
        if !exported.is_empty() {
            why.push(format!(
                "metric(s) {} not exported by the demo exporter",
                exported.join(", ")
            ));
        }
        if exported.iter().any(|m| m.starts_with("peloton_live_")) {
            why.push(
                "a live metric is absent: no ride in progress right now? (the demo's ride \
                 lasts 5 minutes from the exporter's start, then 30 s without one)"
                    .to_owned(),
            );
        }
        if !recorded.is_empty() {
            why.push(format!(
                "recorded series {} missing (not in deploy/prometheus/rules/recording.yml, or its input is not exported)",
                recorded.join(", ")
            ));
        }
        return Err(why.join("; "));
    }
    if let Some(m) = absent.iter().find(|m| !documented.iter().any(|d| d == *m)) {
        return Err(format!("{m} is not a metric of docs/metrics.md"));
    }
    match (has_data, absent.is_empty()) {
        (true, _) => Ok(None),
        (false, false) => Ok(Some(format!(
            "empty: the demo's current class has no {}",
            absent.join(", ")
        ))),
        (false, true) => {
            Err("returns no data although its metrics exist (label matchers?)".to_owned())
        }
    }
}

fn renamed(q: &Query, from: &str, to: &str) -> Query {
    let mut q = q.clone();
    q.promql = q.promql.replace(&format!("{from}{{"), &format!("{to}{{"));
    for m in &mut q.metrics {
        if m == from {
            to.clone_into(m);
        }
    }
    q
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_data_from_a_real_prometheus() {
    let Some(python) = support::python_with(&["promql_parser"]) else {
        return;
    };
    let Some(prometheus) = support::tool("prometheus") else {
        return;
    };
    let files = dashboard_files();
    let dir = tempfile::tempdir().unwrap();
    let (mut exporter, mut prom, api) = support::start_live_demo(&prometheus, dir.path()).await;

    let mut args = vec![
        "dashboards",
        "--range",
        RANGE,
        "--rate-interval",
        RATE_INTERVAL,
        "--interval",
        "1s",
    ];
    args.extend(files.iter().map(String::as_str));
    let queries = support::list_queries(&python, &args);
    assert!(
        queries.len() >= 60,
        "only {} queries in the dashboards",
        queries.len()
    );
    let on_live: Vec<&str> = queries
        .iter()
        .filter(|q| q.source.starts_with(LIVE_DASHBOARD))
        .flat_map(|q| q.metrics.iter().map(String::as_str))
        .collect();
    for m in support::LIVE_METRICS {
        assert!(on_live.contains(&m), "{LIVE_DASHBOARD} shows no {m}");
    }
    let documented = support::documented_metrics();

    let mut failures = Vec::new();
    let mut notes = Vec::new();
    for q in &queries {
        match check(&api, q, &documented).await {
            Ok(None) => {}
            Ok(Some(note)) => notes.push(format!("{}: {note}", q.source)),
            Err(e) => failures.push(format!("{}: {e}\n      {}", q.source, q.promql)),
        }
    }
    // The rules the dashboards read evaluate without error on real data (no many-to-many
    // matches and the like, which promtool's synthetic series would not show).
    for (name, health, error) in api.rules().await.unwrap() {
        if health != "ok" {
            failures.push(format!("rule {name}: {health} {error}"));
        }
    }

    let mut report = String::new();
    writeln!(
        report,
        "{} queries, {} failing, {} empty for the demo's class",
        queries.len(),
        failures.len(),
        notes.len()
    )
    .unwrap();
    for n in &notes {
        writeln!(report, "  note: {n}").unwrap();
    }
    // TODO(backfill): these panels plot the member's history (ranges, recorded series);
    // here they only had the test's own seconds of 1 s scrapes, with $__range=30s.
    // Re-check them against a Prometheus loaded with a backfill of the demo member's
    // history once the exporter can write one. (The health dashboard's history is the
    // exporter's own, which a backfill does not hold.)
    writeln!(
        report,
        "checked on live history only (re-check against a backfill):"
    )
    .unwrap();
    for q in queries
        .iter()
        .filter(|q| q.history && !q.source.starts_with("peloton-exporter-health"))
    {
        writeln!(report, "  {}", q.source).unwrap();
    }
    eprint!("{report}");
    exporter.assert_running();
    prom.assert_running();
    assert!(
        failures.is_empty(),
        "{} dashboard queries fail:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );

    // The check is real: a renamed metric fails it, also behind `or vector(0)`, among the
    // metrics a class may lack and among the live ones; a broken expression does not parse.
    let find = |metric: &str| {
        queries
            .iter()
            .find(|q| q.metrics.iter().any(|m| m == metric))
            .unwrap_or_else(|| panic!("no query on {metric}"))
    };
    for (from, to) in [
        ("peloton_weekly_streak", "peloton_weekly_streaks"),
        ("peloton_workouts_by_month", "peloton_workouts_per_month"),
        (
            "peloton_latest_workout_cadence_rpm",
            "peloton_latest_workout_cadence",
        ),
        (
            "discipline:peloton_workouts:increase1w",
            "discipline:peloton_workouts:increase7d",
        ),
        ("peloton_live_heart_rate_bpm", "peloton_live_heart_rate"),
    ] {
        let q = renamed(find(from), from, to);
        assert!(q.promql.contains(to), "{}", q.promql);
        let outcome = check(&api, &q, &documented).await;
        assert!(
            outcome.is_err(),
            "renaming {from} to {to} went unnoticed: {outcome:?}"
        );
    }
    let out = support::run(
        &python,
        &[
            "tests/it/support/promql_queries.py",
            "parse",
            "sum(peloton_up{job=~\".*\"}",
        ],
    );
    assert!(
        !out.status.success(),
        "promql-parser accepted an unclosed parenthesis"
    );
}
