//! Live mode against a ride the fake runs in real time: values follow the fake's trace,
//! vanish when the ride ends, count nothing twice (also across a restart mid-ride), stay
//! within the request budget, and a workout stuck in progress for hours is not watched.

use std::time::{Duration, Instant};

use crate::common;

use common::truth::assert_exact;
use common::*;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, LiveRide};

const LIVE_INTERVAL_S: u64 = 5;

fn small() -> FakeOptions {
    FakeOptions {
        workouts: 12,
        history_days: 30,
        ..FakeOptions::default()
    }
}

fn live_args(fake: &FakePeloton, dir: &std::path::Path) -> Vec<String> {
    let mut a = args_with_token(fake, dir);
    a.push(format!("--poll.live-interval={LIVE_INTERVAL_S}s"));
    a
}

fn graph_requests(fake: &FakePeloton, id: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::PerformanceGraph && r.path.contains(id))
        .count()
}

fn list_requests(fake: &FakePeloton) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Workouts)
        .count()
}

fn live_series(s: &Samples) -> Vec<&String> {
    s.keys()
        .filter(|k| k.starts_with("peloton_live_"))
        .collect()
}

/// The live values equal the fake's sample at the elapsed second they report.
fn assert_follows_trace(s: &Samples, fake: &FakePeloton, id: &str) {
    let elapsed = value(s, "peloton_live_elapsed_seconds").unwrap();
    let truth = fake.live_sample(id, elapsed as u64).unwrap();
    assert_eq!(
        value(s, "peloton_live_output_watts"),
        truth.output_watts,
        "at {elapsed} s"
    );
    assert_eq!(
        value(s, "peloton_live_cadence_rpm"),
        truth.cadence_rpm,
        "at {elapsed} s"
    );
    assert_eq!(
        value(s, "peloton_live_heart_rate_bpm"),
        Some(truth.heart_rate_bpm),
        "at {elapsed} s"
    );
    assert_eq!(
        value(s, "peloton_live_heart_rate_zone"),
        Some(f64::from(truth.heart_rate_zone)),
        "at {elapsed} s"
    );
    let ratio = value(s, "peloton_live_resistance_ratio").unwrap();
    assert!(
        (ratio * 100.0 - truth.resistance_percent.unwrap()).abs() < 1e-9,
        "{ratio}"
    );
    let speed = value(s, "peloton_live_speed_meters_per_second").unwrap();
    assert!(
        (speed - truth.speed_mps.unwrap()).abs() < 0.05,
        "{speed} m/s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ride_in_progress_is_followed_live_then_counted_once() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&live_args(&fake, dir.path())).await;
    let before = wait_synced(exporter.addr).await;
    assert!(live_series(&before).is_empty(), "no ride, no live series");

    let ride_for = Duration::from_secs(40);
    let started = Instant::now();
    let id = fake.start_live_ride(LiveRide {
        class_length: Duration::from_secs(20 * 60),
        ride_for: Some(ride_for),
        ..LiveRide::default()
    });
    let graphs_before = graph_requests(&fake, &id);
    let lists_before = list_requests(&fake);

    // Within two live intervals of the start (the test's poll interval is 1 s).
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(2 * LIVE_INTERVAL_S),
        "live values",
        |s| value(s, "peloton_live_output_watts").is_some(),
    )
    .await;
    assert_follows_trace(&s, &fake, &id);
    assert_eq!(
        value(&s, "peloton_live_workout_class_length_seconds"),
        Some(1200.0)
    );
    let first_elapsed = value(&s, "peloton_live_elapsed_seconds").unwrap();
    // The values move with the ride, a live interval at a time.
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(2 * LIVE_INTERVAL_S + 2),
        "a newer sample",
        |s| value(s, "peloton_live_elapsed_seconds").is_some_and(|e| e > first_elapsed),
    )
    .await;
    assert_follows_trace(&s, &fake, &id);
    let totals_during = s.clone();

    // The ride ends by itself; the values are gone within one live interval after it.
    let end = started + ride_for;
    tokio::time::sleep_until(end.into()).await;
    wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(LIVE_INTERVAL_S + 2),
        "live values gone",
        |s| live_series(s).is_empty(),
    )
    .await;
    // Counted once, from its final detail and graph: totals equal the fake's truth.
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(20),
        "the finished ride counted",
        |s| value(s, "peloton_history_workouts_pending") == Some(0.0) && truth::exact(s, &fake),
    )
    .await;
    assert_exact(&s, &fake, "after the ride");
    let want = fake
        .live_totals(&id, ride_for.as_secs())
        .unwrap()
        .output_joules;
    let grew = value(&s, "peloton_output_joules_total{discipline=\"cycling\"}").unwrap()
        - value(
            &totals_during,
            "peloton_output_joules_total{discipline=\"cycling\"}",
        )
        .unwrap();
    assert!(
        (grew - want).abs() < 1e-6,
        "output grew by {grew}, the ride did {want}"
    );

    // The budget: one graph per live interval during the ride (plus the one read when the
    // ride is seen and the final fetch), and page 0 only to see that it ended.
    let graphs = graph_requests(&fake, &id) - graphs_before;
    let budget = (ride_for.as_secs() / LIVE_INTERVAL_S) as usize + 3;
    assert!(graphs <= budget, "{graphs} graph requests, budget {budget}");
    let lists = list_requests(&fake) - lists_before;
    let list_budget = 2 /* before it was seen */ + 2 /* its end */ + 20 /* 1 s polls after */;
    assert!(lists <= list_budget, "{lists} list requests");
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_ride_resumes_live_mode_and_counts_nothing_twice() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&live_args(&fake, dir.path())).await;
    wait_synced(exporter.addr).await;
    let ride_for = Duration::from_secs(30);
    let started = Instant::now();
    let id = fake.start_live_ride(LiveRide {
        ride_for: Some(ride_for),
        ..LiveRide::default()
    });
    wait_for_samples_within(exporter.addr, Duration::from_secs(10), "live values", |s| {
        value(s, "peloton_live_output_watts").is_some()
    })
    .await;
    exporter.stop().await.unwrap();

    let exporter = start(&live_args(&fake, dir.path())).await;
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(15),
        "live values after the restart",
        |s| value(s, "peloton_live_output_watts").is_some(),
    )
    .await;
    assert_follows_trace(&s, &fake, &id);
    assert_exact(&s, &fake, "mid-ride, after the restart");
    tokio::time::sleep_until((started + ride_for).into()).await;
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(20),
        "the finished ride counted once",
        |s| live_series(s).is_empty() && truth::exact(s, &fake),
    )
    .await;
    assert_exact(&s, &fake, "after the ride");
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workout_stuck_in_progress_for_hours_is_not_watched() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&live_args(&fake, dir.path())).await;
    wait_synced(exporter.addr).await;
    let id = fake.start_live_ride(LiveRide {
        class_length: Duration::from_secs(20 * 60),
        started_ago: Duration::from_secs(3 * 3600),
        ride_for: None,
        ..LiveRide::default()
    });
    // Seen at the next poll; its graph read once shows it is past its class and margin.
    wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(10),
        "seen in progress",
        |s| value(s, "peloton_workout_in_progress{discipline=\"cycling\"}") == Some(1.0),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3 * LIVE_INTERVAL_S)).await;
    let s = samples(&scrape(exporter.addr, None).await.1);
    assert!(live_series(&s).is_empty(), "{:?}", live_series(&s));
    assert!(
        graph_requests(&fake, &id) <= 1,
        "{} graph requests for a ride three hours old",
        graph_requests(&fake, &id)
    );
    // The regular poll goes on at its interval.
    let lists = list_requests(&fake);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(list_requests(&fake) > lists, "the regular poll stopped");
    exporter.stop().await.unwrap();
}
