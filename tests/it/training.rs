//! Training analytics end to end: the exporter's exposed power curve, NP, IF, TSS and
//! zone times equal an independent computation from the fake Peloton's own graphs and
//! `ftp_info`, written here from the textbook definitions without the exporter's code.

use crate::common;

use std::time::Duration;

use common::*;
use peloton_fake::FakeOptions;
use serde_json::Value;

/// Watts of the `output` series, placed one per second by `seconds_since_pedaling_start`
/// (gaps are 0 W).
fn watts(graph: &Value) -> Vec<f64> {
    let seconds: Vec<i64> = graph["seconds_since_pedaling_start"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    let output = graph["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == "output");
    let Some(output) = output else {
        return Vec::new();
    };
    let first = seconds[0];
    let mut out = vec![0.0; (seconds.last().unwrap() - first + 1) as usize];
    for (t, v) in seconds.iter().zip(output["values"].as_array().unwrap()) {
        out[(t - first) as usize] = v.as_f64().unwrap_or(0.0);
    }
    out
}

fn best_average(w: &[f64], seconds: usize) -> Option<f64> {
    if w.len() < seconds {
        return None;
    }
    w.windows(seconds)
        .map(|x| x.iter().sum::<f64>() / seconds as f64)
        .reduce(f64::max)
}

/// Coggan: 30 s rolling mean, fourth-power mean, fourth root.
fn normalized_power(w: &[f64]) -> f64 {
    let means: Vec<f64> = w
        .windows(30)
        .map(|x| x.iter().sum::<f64>() / 30.0)
        .collect();
    (means.iter().map(|m| m.powi(4)).sum::<f64>() / means.len() as f64).powf(0.25)
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: not exposed"));
    assert!(
        (actual - expected).abs() <= 0.001 * expected.abs(),
        "{what}: exporter {actual}, independent {expected}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exposed_values_equal_an_independent_computation_from_the_fake() {
    let fake = fake(FakeOptions {
        workouts: 60,
        history_days: 120,
        ..FakeOptions::default()
    })
    .await;
    let ride = fake.add_workout("cycling");
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    wait_synced(exporter.addr).await;
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(60),
        "training analytics",
        |s| value(s, "peloton_latest_workout_normalized_power_watts").is_some(),
    )
    .await;
    exporter.stop().await.unwrap();

    let graph = peloton_json(
        &fake,
        &format!("/api/workout/{ride}/performance_graph?every_n=1"),
    )
    .await;
    let detail = peloton_json(&fake, &format!("/api/workout/{ride}")).await;
    let ftp = detail["ftp_info"]["ftp"].as_f64().unwrap();
    let source = detail["ftp_info"]["ftp_source"].as_str().unwrap();
    let w = watts(&graph);
    let np = normalized_power(&w);
    let intensity = np / ftp;
    let tss = w.len() as f64 * np * intensity / (ftp * 3600.0) * 100.0;
    close(
        value(&s, "peloton_latest_workout_normalized_power_watts"),
        np,
        "NP",
    );
    close(
        value(&s, "peloton_latest_workout_intensity_factor_ratio"),
        intensity,
        "IF",
    );
    close(
        value(&s, "peloton_latest_workout_training_stress_score"),
        tss,
        "TSS",
    );
    close(
        value(
            &s,
            "peloton_latest_workout_training_load{method=\"power_tss\"}",
        ),
        tss,
        "load",
    );
    let short = source
        .trim_start_matches("ftp_")
        .trim_end_matches("_source");
    close(
        value(
            &s,
            &format!("peloton_latest_workout_ftp_watts{{source=\"{short}\"}}"),
        ),
        ftp,
        "FTP",
    );
    close(
        value(
            &s,
            &format!("peloton_power_zone_ftp_watts{{source=\"{short}\"}}"),
        ),
        ftp,
        "zone FTP",
    );
    for (label, seconds) in [("5", 5), ("60", 60), ("300", 300), ("1200", 1200)] {
        if let Some(best) = best_average(&w, seconds) {
            close(
                value(
                    &s,
                    &format!("peloton_latest_workout_power_best_watts{{duration=\"{label}\"}}"),
                ),
                best,
                &format!("latest best {label} s"),
            );
        }
    }

    // The all-time curve and zone times over every ride the fake serves.
    let member = fake.member();
    let mut all_time = [None::<f64>; 4];
    let mut zones = [0.0_f64; 7];
    for workout in member.workouts.iter().filter(|w| {
        ["cycling", "bike_bootcamp"].contains(&w.discipline.as_str()) && w.is_complete()
    }) {
        let graph = peloton_json(
            &fake,
            &format!("/api/workout/{}/performance_graph?every_n=1", workout.id),
        )
        .await;
        let detail = peloton_json(&fake, &format!("/api/workout/{}", workout.id)).await;
        let w = watts(&graph);
        if !w.iter().any(|x| *x > 0.0) {
            continue;
        }
        for (slot, seconds) in all_time.iter_mut().zip([5, 60, 300, 1200]) {
            if let Some(best) = best_average(&w, seconds) {
                *slot = Some(slot.map_or(best, |b: f64| b.max(best)));
            }
        }
        let ftp = detail["ftp_info"]["ftp"].as_f64().unwrap();
        for x in &w {
            let ratio = x / ftp;
            let zone = [0.55, 0.75, 0.90, 1.05, 1.20, 1.50]
                .iter()
                .take_while(|upper| ratio > **upper)
                .count();
            zones[zone] += 1.0;
        }
    }
    for ((label, _), best) in [("5", 5), ("60", 60), ("300", 300), ("1200", 1200)]
        .iter()
        .zip(all_time)
    {
        close(
            value(
                &s,
                &format!("peloton_power_curve_watts{{duration=\"{label}\",window=\"all_time\"}}"),
            ),
            best.unwrap(),
            &format!("all-time best {label} s"),
        );
    }
    for (i, seconds) in zones.iter().enumerate() {
        let exposed = value(
            &s,
            &format!("peloton_power_zone_seconds_total{{zone=\"{}\"}}", i + 1),
        )
        .unwrap();
        assert_eq!(exposed, *seconds, "zone {}", i + 1);
    }
    // Fitness and fatigue exist and are sane: non-negative, fatigue reacts faster.
    let ctl = value(&s, "peloton_training_load_chronic{method=\"power_tss\"}").unwrap();
    let atl = value(&s, "peloton_training_load_acute{method=\"power_tss\"}").unwrap();
    let form = value(&s, "peloton_training_form{method=\"power_tss\"}").unwrap();
    assert!(ctl > 0.0 && atl > 0.0, "{ctl} {atl}");
    assert!((form - (ctl - atl)).abs() < 1e-9);
    fake.shutdown().await;
}

/// A store synced before training analytics existed: every workout's details, no
/// analytics. The exporter fetches each completed workout's graph once more (and a ride's
/// detail for its FTP), resumes after a restart without fetching twice, and then shows
/// the same training values as a fresh sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_synced_before_fetches_each_graph_once_more_and_resumes() {
    let fake = fake(FakeOptions {
        workouts: 40,
        history_days: 60,
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    let fresh = wait_synced(exporter.addr).await;
    exporter.stop().await.unwrap();
    let curve = |s: &std::collections::BTreeMap<String, f64>| {
        series(s, "peloton_power_curve_watts")
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Vec<_>>()
    };
    assert!(!curve(&fresh).is_empty());
    let completed = fake
        .member()
        .workouts
        .iter()
        .filter(|w| w.is_complete())
        .count();

    // What an older version left, stopped half-way through the backlog: half of the
    // workouts have no analytics. Only those are fetched again.
    let db = dir.path().join("peloton.db");
    let missing = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("DELETE FROM training WHERE rowid % 2 = 0", [])
            .unwrap()
    };
    assert!(missing > 5, "{missing}");
    fake.clear_requests();
    let graphs = |fake: &peloton_fake::FakePeloton| {
        fake.requests()
            .iter()
            .filter(|r| r.path.ends_with("/performance_graph"))
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    };
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    let again = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(60),
        "backlog fetched",
        |s| {
            value(s, "peloton_history_workouts_pending") == Some(0.0)
                && !series(s, "peloton_power_curve_watts").is_empty()
        },
    )
    .await;
    exporter.stop().await.unwrap();
    let fetched = graphs(&fake);
    assert_eq!(fetched.len(), missing, "each missing workout's graph once");
    assert!(missing < completed);
    let unique: std::collections::BTreeSet<_> = fetched.iter().collect();
    assert_eq!(unique.len(), fetched.len(), "none twice");
    assert_eq!(curve(&again), curve(&fresh));
    for name in [
        "peloton_power_zone_seconds_total",
        "peloton_training_load_total",
        "peloton_effort_points_total",
    ] {
        let a: Vec<_> = series(&again, name);
        assert_eq!(a, series(&fresh, name), "{name}");
    }

    // Nothing left: a restart fetches no graph.
    fake.clear_requests();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    wait_synced(exporter.addr).await;
    exporter.stop().await.unwrap();
    assert!(graphs(&fake).is_empty(), "{:?}", graphs(&fake));
    fake.shutdown().await;
}
