//! Issue acceptance for the persisted history: exact lifetime totals for a large member,
//! crash safety, steady-state cost, unit systems, several accounts.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_exporter::store::database::Store;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, Units};

/// discipline → value, from series `name{discipline="…"}`.
fn by_discipline(s: &BTreeMap<String, f64>, name: &str) -> BTreeMap<String, f64> {
    series(s, name)
        .into_iter()
        .map(|(k, v)| {
            let d = k
                .split("discipline=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (d.to_owned(), v)
        })
        .collect()
}

struct Expected {
    output: BTreeMap<String, f64>,
    duration: BTreeMap<String, f64>,
    distance: BTreeMap<String, f64>,
    energy: BTreeMap<String, f64>,
    zones: [f64; 5],
    instructors: BTreeMap<(String, String), f64>,
}

/// The totals, computed here from the fake's own truth rather than from its responses.
fn expected(fake: &FakePeloton) -> Expected {
    let mut e = Expected {
        output: BTreeMap::new(),
        duration: BTreeMap::new(),
        distance: BTreeMap::new(),
        energy: BTreeMap::new(),
        zones: [0.0; 5],
        instructors: BTreeMap::new(),
    };
    for w in fake.member().workouts.iter().filter(|w| w.is_complete()) {
        let d = w.discipline.clone();
        *e.output.entry(d.clone()).or_default() += w.total_work_joules.unwrap_or(0.0);
        *e.duration.entry(d.clone()).or_default() += w.elapsed_seconds().unwrap() as f64;
        if let Some(m) = w.distance_meters {
            *e.distance.entry(d.clone()).or_default() += m;
        }
        if let Some(kcal) = w.calories_kcal {
            *e.energy.entry(d.clone()).or_default() += kcal * 4184.0;
        }
        if let Some(z) = w.hr_zone_seconds {
            for (t, s) in e.zones.iter_mut().zip(z) {
                *t += s;
            }
        }
        if let Some(i) = &w.instructor {
            *e.instructors.entry((i.clone(), d)).or_default() += 1.0;
        }
    }
    e
}

fn assert_close(what: &str, got: &BTreeMap<String, f64>, want: &BTreeMap<String, f64>, rel: f64) {
    let want: BTreeMap<_, _> = want.iter().filter(|(_, v)| **v > 0.0).collect();
    let got: BTreeMap<_, _> = got.iter().filter(|(_, v)| **v > 0.0).collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: disciplines"
    );
    for (k, w) in &want {
        let g = got[k];
        assert!(
            (g - **w).abs() <= rel * w.abs() + 1e-6,
            "{what}[{k}]: exported {g}, expected {w}"
        );
    }
}

fn assert_totals(s: &BTreeMap<String, f64>, e: &Expected) {
    assert_close(
        "output",
        &by_discipline(s, "peloton_output_joules_total"),
        &e.output,
        1e-9,
    );
    assert_close(
        "duration",
        &by_discipline(s, "peloton_workout_duration_seconds_total"),
        &e.duration,
        0.0,
    );
    assert_close(
        "distance",
        &by_discipline(s, "peloton_distance_meters_total"),
        &e.distance,
        1e-3,
    );
    assert_close(
        "energy",
        &by_discipline(s, "peloton_energy_burned_joules_total"),
        &e.energy,
        1e-9,
    );
    for (i, want) in e.zones.iter().enumerate() {
        let got = value(
            s,
            &format!(
                "peloton_heart_rate_zone_seconds_total{{zone=\"{}\"}}",
                i + 1
            ),
        )
        .unwrap();
        assert!((got - want).abs() < 1e-6, "zone {}: {got} vs {want}", i + 1);
    }
    let instructors: usize = series(s, "peloton_instructor_workouts_total").len();
    assert_eq!(instructors, e.instructors.len());
    for ((name, d), n) in &e.instructors {
        let key = format!(
            "peloton_instructor_workouts_total{{instructor=\"{name}\",discipline=\"{d}\"}}"
        );
        assert_eq!(value(s, &key), Some(*n), "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2000_workout_history_gives_exact_totals_then_costs_one_request_per_poll() {
    let fake = fake(FakeOptions {
        workouts: 2000,
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let a = args_with_token(&fake, dir.path());
    let exporter = start(&a).await;
    let s = wait_synced(exporter.addr).await;
    assert_totals(&s, &expected(&fake));

    // The first sync: ceil(2000/100) list pages, one graph per workout, the detail of
    // every ride (its ftp_info, for the training analytics), of every strength class (its
    // reps and weights) and of the newest workout.
    let requests = fake.requests();
    let count = |e: Endpoint| requests.iter().filter(|r| r.endpoint == e).count();
    assert_eq!(count(Endpoint::PerformanceGraph), 2000);
    let member = fake.member();
    let needs_detail = |w: &&peloton_fake::GeneratedWorkout| {
        let ride = ["cycling", "bike_bootcamp"].contains(&w.discipline.as_str())
            && w.output_watts.is_some_and(|o| o.max > 0.0);
        ride || w.discipline == "strength"
    };
    let detailed = member.workouts.iter().filter(needs_detail).count();
    let newest_detailed = member.workouts.first().is_some_and(|w| needs_detail(&w));
    assert_eq!(
        count(Endpoint::Workout),
        detailed + usize::from(!newest_detailed)
    );
    let big_pages = requests
        .iter()
        .filter(|r| r.endpoint == Endpoint::Workouts && r.query.contains("limit=100"))
        .count();
    assert_eq!(big_pages, 20);

    // Steady state: nothing new, one request per poll.
    fake.clear_requests();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let requests = fake.requests();
    let polls = requests.len();
    assert!(polls >= 2, "{polls}");
    assert!(
        requests
            .iter()
            .all(|r| r.endpoint == Endpoint::Workouts && r.query.contains("page=0"))
    );

    // One new workout: at most three requests in the poll that finds it.
    fake.clear_requests();
    fake.add_workout("running");
    wait_for_samples(exporter.addr, "new run", |s| {
        series(s, "peloton_latest_workout_info")
            .first()
            .is_some_and(|(k, _)| k.contains("running"))
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    let extra: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint != Endpoint::Workouts)
        .map(|r| r.endpoint)
        .collect();
    assert_eq!(extra, [Endpoint::PerformanceGraph, Endpoint::Workout]);
    let (_, body) = scrape(exporter.addr, None).await;
    assert_totals(&samples(&body), &expected(&fake));
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_the_history_sync_loses_nothing_and_fetches_nothing_twice() {
    let fake = fake(FakeOptions {
        workouts: 400,
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let spawn = |port: u16, rate: &str| {
        Command::new(env!("CARGO_BIN_EXE_peloton-exporter"))
            .args(args(&fake, dir.path()).iter().filter(|a| {
                !a.starts_with("--web.listen-address")
                    && !a.starts_with("--peloton.max-request-rate")
            }))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--peloton.max-request-rate={rate}"))
            .env("PELOTON_REFRESH_TOKEN", fake.refresh_token())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let graphs = |fake: &FakePeloton| {
        fake.requests()
            .iter()
            .filter(|r| r.endpoint == Endpoint::PerformanceGraph)
            .count()
    };
    let mut child = spawn(free_port(), "10");
    eventually(Duration::from_secs(60), "some graphs fetched", || async {
        (graphs(&fake) >= 50).then_some(())
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    let first_run = graph_counts(&fake);
    assert!(first_run.len() < 400, "the kill landed during the sync");

    // What the killed process had committed. A graph in flight at the kill was answered
    // but never stored; it is the one request that may be repeated, and only once.
    let stored: BTreeSet<String> = {
        let (store, _) = Store::open(dir.path()).unwrap();
        let mut ids = BTreeSet::new();
        store
            .for_each(|w| {
                if w.details_fetched {
                    ids.insert(graph_path(&w.summary.id));
                }
            })
            .unwrap();
        ids
    };
    assert!(
        stored.len() >= 50 - 1,
        "only {} graphs stored",
        stored.len()
    );
    let unstored: Vec<_> = first_run.keys().filter(|p| !stored.contains(*p)).collect();
    assert!(
        unstored.len() <= 1,
        "answered but lost at the kill: {unstored:?}"
    );

    let port = free_port();
    let mut child = spawn(port, "1000");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let s = wait_synced(addr).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_totals(&s, &expected(&fake));
    let fetched = graph_counts(&fake);
    assert_eq!(fetched.len(), 400);
    let twice: Vec<_> = fetched
        .iter()
        .filter(|(path, n)| **n > 1 && (stored.contains(*path) || **n > 2))
        .collect();
    assert!(
        twice.is_empty(),
        "fetched again after it was stored: {twice:?}"
    );
    let repeated: Vec<_> = fetched
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(p, _)| p)
        .collect();
    assert!(
        repeated.len() <= unstored.len(),
        "repeated {repeated:?}, but only {unstored:?} was in flight at the kill"
    );
}

fn graph_path(id: &str) -> String {
    format!("/api/workout/{id}/performance_graph")
}

fn graph_counts(fake: &FakePeloton) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::PerformanceGraph)
    {
        *counts.entry(r.path.clone()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_and_imperial_members_report_the_same_meters() {
    let mut distances = Vec::new();
    for units in [Units::Imperial, Units::Metric] {
        let fake = fake(FakeOptions {
            workouts: 150,
            units,
            ..FakeOptions::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let a = args_with_token(&fake, dir.path());
        let exporter = start(&a).await;
        let s = wait_synced(exporter.addr).await;
        exporter.stop().await.unwrap();
        let exported = by_discipline(&s, "peloton_distance_meters_total");
        // The truth is in meters; the API showed it in miles or kilometers.
        assert_close(
            &format!("{units:?} distance"),
            &exported,
            &expected(&fake).distance,
            1e-3,
        );
        distances.push(exported);
    }
    assert!(!distances[0].is_empty());
    // The same member in either unit system: the fake rounds shown speeds to 0.1 mph or
    // 0.1 km/h, so the two histories differ by that rounding only.
    assert_close("metric vs imperial", &distances[1], &distances[0], 0.02);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_one_failing_the_other_keeps_updating() {
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("accounts.yml");
    std::fs::write(
        &config,
        format!(
            "accounts:\n  - name: alice\n    refresh_token: {}\n  - name: bob\n    refresh_token: v1.revoked-or-never-valid\n",
            fake.refresh_token()
        ),
    )
    .unwrap();
    let mut a = args(&fake, dir.path());
    a.push(format!("--config.file={}", config.display()));
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "alice synced, bob failing", |s| {
        value(s, "peloton_up{account=\"alice\"}") == Some(1.0)
            && value(s, "peloton_history_workouts_pending{account=\"alice\"}") == Some(0.0)
            && value(
                s,
                "peloton_poll_errors_total{account=\"bob\",reason=\"auth\"}",
            ) >= Some(1.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_up{account=\"bob\"}"), Some(0.0));
    assert!(
        series(&s, "peloton_up")
            .iter()
            .all(|(k, _)| k.contains("account="))
    );
    assert!(dir.path().join("alice").join("peloton.db").is_file());
    assert!(dir.path().join("bob").join("peloton.db").is_file());
    let key = "peloton_workouts_total{account=\"alice\",discipline=\"yoga\"}";
    let before = value(&s, key).unwrap_or(0.0);
    fake.add_workout("yoga");
    wait_for_samples(exporter.addr, "alice counts the new workout", |s| {
        value(s, key) == Some(before + 1.0)
    })
    .await;
    let ready = reqwest::get(format!("http://{}/readyz", exporter.addr))
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        200,
        "one failing account does not make the exporter unready"
    );
    exporter.stop().await.unwrap();
}
