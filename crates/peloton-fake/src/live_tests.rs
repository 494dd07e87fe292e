//! Live rides: the graph at explicit instants, and end to end over HTTP in real time.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::generator::{WorkoutCtx, build_workout_of_length};
use super::tests::{NOW, assert_has_fixture_keys, fake, fixture, get, summary};
use super::trace::Trace;
use super::*;

/// A live workout of `discipline` started at `start`, and its trace.
fn ride(m: &MemberData, discipline: &str, class_s: u32, start: i64) -> (GeneratedWorkout, Trace) {
    let ctx = WorkoutCtx::of(m);
    let mut rng = fastrand::Rng::with_seed(99);
    let mut w = build_workout_of_length(
        &mut rng,
        &ctx,
        discipline,
        start + 1,
        WorkoutStatus::InProgress,
        Some(class_s),
    );
    w.start_time = start;
    let trace = Trace::new(w.seed, discipline, class_s, &ctx);
    (w, trace)
}

fn metric<'a>(g: &'a Value, slug: &str) -> &'a Value {
    g["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == slug)
        .unwrap_or_else(|| panic!("no {slug} metric"))
}

fn values(g: &Value, slug: &str) -> Vec<f64> {
    metric(g, slug)["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn offsets(g: &Value) -> Vec<u64> {
    g["seconds_since_pedaling_start"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn summary_f64(g: &Value, slug: &str) -> f64 {
    summary(g, "summaries", slug).unwrap()["value"]
        .as_f64()
        .unwrap()
}

#[test]
fn the_graph_grows_with_time() {
    let m = generate_member(&FakeOptions::default(), NOW);
    let start = NOW - 3000;
    let (w, trace) = ride(&m, "cycling", 1800, start);
    let at = |elapsed: i64, n: u32| {
        live_graph::performance_graph(&m, &w, &trace, None, n, start + elapsed)
    };

    let g = at(0, 5);
    assert_eq!(g["duration"], 1800);
    assert!(offsets(&g).is_empty());
    assert!(values(&g, "output").is_empty());
    assert_eq!(summary_f64(&g, "total_output"), 0.0);
    assert_eq!(g["effort_zones"], Value::Null);

    // The grid of the completed graphs, plus the newest second.
    let g = at(7, 5);
    assert_eq!(offsets(&g), [1, 6, 7]);
    let truth: Vec<f64> = [1, 6, 7]
        .iter()
        .map(|s| trace.sample(*s).output_watts.unwrap())
        .collect();
    assert_eq!(values(&g, "output"), truth);
    assert_eq!(offsets(&at(11, 5)), [1, 6, 11]);
    assert_eq!(offsets(&at(-5, 5)), Vec::<u64>::new(), "not started yet");

    let mut previous: Vec<f64> = Vec::new();
    for elapsed in [1, 2, 60, 61, 300, 1799, 1800, 1900] {
        let g = at(elapsed, 1);
        let secs = u64::try_from(elapsed).unwrap();
        assert_eq!(offsets(&g), (1..=secs).collect::<Vec<_>>());
        let samples: Vec<LiveSample> = (1..=secs).map(|s| trace.sample(s)).collect();
        let watts: Vec<f64> = samples.iter().map(|s| s.output_watts.unwrap()).collect();
        assert_eq!(values(&g, "output"), watts);
        assert_eq!(
            values(&g, "cadence"),
            samples
                .iter()
                .map(|s| s.cadence_rpm.unwrap())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            values(&g, "resistance"),
            samples
                .iter()
                .map(|s| s.resistance_percent.unwrap())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            values(&g, "speed"),
            samples.iter().map(|s| s.speed.unwrap()).collect::<Vec<_>>()
        );
        assert_eq!(
            values(&g, "heart_rate"),
            samples.iter().map(|s| s.heart_rate_bpm).collect::<Vec<_>>()
        );
        assert!(watts.starts_with(&previous), "earlier samples never change");
        previous = watts;

        let totals = trace.totals(secs);
        let joules: f64 = samples.iter().map(|s| s.output_watts.unwrap()).sum();
        let meters: f64 = samples.iter().map(|s| s.speed_mps.unwrap()).sum();
        assert_eq!(totals.output_joules, joules);
        assert!((totals.distance_meters - meters).abs() < 1e-9);
        assert_eq!(summary_f64(&g, "total_output"), (joules / 1000.0).round());
        assert_eq!(
            summary_f64(&g, "distance"),
            (meters / 1609.344 * 100.0).round() / 100.0
        );
        let avg = summary(&g, "average_summaries", "avg_output").unwrap()["value"]
            .as_f64()
            .unwrap();
        assert_eq!(avg, (joules / secs as f64).round());
        let zones: Vec<f64> = metric(&g, "heart_rate")["zones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|z| z["duration"].as_f64().unwrap())
            .collect();
        assert_eq!(zones, totals.heart_rate_zone_seconds.to_vec());
        assert_eq!(zones.iter().sum::<f64>(), secs as f64);
        // The zone of each sample is the one whose range holds its heart rate.
        let bounds = metric(&g, "heart_rate")["zones"]
            .as_array()
            .unwrap()
            .clone();
        for s in &samples {
            let z = &bounds[usize::from(s.heart_rate_zone - 1)];
            assert!(s.heart_rate_bpm >= z["min_value"].as_f64().unwrap());
            assert!(s.heart_rate_bpm <= z["max_value"].as_f64().unwrap());
        }
    }

    // A completed ride shows its trace up to the end, whenever asked.
    let g = live_graph::performance_graph(&m, &w, &trace, Some(start + 95), 5, start + 4000);
    assert_eq!(offsets(&g).last(), Some(&95));
    assert_eq!(offsets(&g).len(), 20);
    assert_eq!(
        summary_f64(&g, "total_output"),
        (trace.totals(95).output_joules / 1000.0).round()
    );
}

#[test]
fn live_graphs_have_the_real_shapes() {
    let m = generate_member(&FakeOptions::default(), NOW);
    for (discipline, fixture_name, slugs) in [
        (
            "cycling",
            "performance_graph_cycling_2024.json",
            &["output", "cadence", "resistance", "speed", "heart_rate"][..],
        ),
        (
            "running",
            "performance_graph_running_tread_2020.json",
            &["output", "pace", "incline", "heart_rate"][..],
        ),
        (
            "caesar",
            "performance_graph_rowing_2022.json",
            &["output", "stroke_rate", "split_pace", "heart_rate"][..],
        ),
        (
            "strength",
            "performance_graph_strength_2023_DERIVED_from_p2g_dto.json",
            &["heart_rate"][..],
        ),
    ] {
        let (w, trace) = ride(&m, discipline, 1200, NOW - 5000);
        let g = live_graph::performance_graph(&m, &w, &trace, None, 5, NOW - 5000 + 1500);
        let mut fx = fixture(fixture_name);
        // Stroke-level rower data: the fake serves none, live or not.
        fx.as_object_mut().unwrap().remove("caesar_metrics");
        // The older name of `target_metrics_performance_data` (API.md §4.5).
        fx.as_object_mut()
            .unwrap()
            .remove("target_performance_metrics");
        assert_has_fixture_keys(&g, &fx, discipline);
        let got: Vec<&str> = g["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["slug"].as_str().unwrap())
            .collect();
        assert_eq!(got, slugs, "{discipline}");
        // The DERIVED sample's heart rate has an `alternatives` no capture shows.
        let derived = fixture_name.contains("DERIVED");
        for (ours, theirs) in g["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .zip(fx["metrics"].as_array().unwrap())
            .filter(|_| !derived)
        {
            assert_has_fixture_keys(ours, theirs, discipline);
        }
        let want: Vec<&str> = fx["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["slug"].as_str().unwrap())
            .collect();
        let have: Vec<&str> = g["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["slug"].as_str().unwrap())
            .collect();
        assert_eq!(have, want, "{discipline}");
        assert_eq!(offsets(&g).len(), 301);
    }
}

/// Seconds since the Unix epoch, with the sub-second part.
fn now_secs_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Sleeps until just after the wall clock's next whole second at or after `t`.
async fn sleep_until(t: i64) {
    let wait = t as f64 + 0.05 - now_secs_f64();
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
}

#[tokio::test]
async fn a_live_ride_over_http_grows_then_completes() {
    let (pel, token) = fake(FakeOptions {
        workouts: 20,
        ..FakeOptions::default()
    })
    .await;
    let api = pel.api_url();
    let uid = pel.user_id();
    let before = pel.member().total_workouts();
    let id = pel.start_live_ride(LiveRide {
        class_length: Duration::from_secs(45 * 60),
        ride_for: Some(Duration::from_secs(33)),
        started_ago: Duration::from_secs(30),
        ..LiveRide::default()
    });
    let w = pel.member().workouts[0].clone();
    assert_eq!(w.id, id);
    let start = w.start_time;
    assert!(w.title.starts_with("45 min "), "{}", w.title);
    assert_eq!(w.duration_class_s, 2700);

    let list = format!("{api}/api/user/{uid}/workouts?joins=ride,ride.instructor&limit=1&page=0");
    let (_, page) = get(&list, &token).await;
    let item = &page["data"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["status"], "IN_PROGRESS");
    assert_eq!(item["end_time"], Value::Null);
    assert_eq!(item["total_work"], 0.0);
    assert_eq!(item["ride"]["duration"], 2700);
    assert_eq!(item["ride"]["title"], w.title.as_str());
    assert_eq!(item["start_time"], start);

    let (_, detail) = get(&format!("{api}/api/workout/{id}"), &token).await;
    assert_eq!(detail["status"], "IN_PROGRESS");
    assert_eq!(detail["end_time"], Value::Null);
    assert_eq!(detail["achievement_templates"], serde_json::json!([]));
    assert_eq!(detail["leaderboard_rank"], Value::Null);
    assert_eq!(detail["ftp_info"]["ftp"], pel.member().ftp);
    let mut fx = fixture("workout_detail_meditation_in_progress_2025.json");
    fx.as_object_mut().unwrap().remove("ride");
    assert_has_fixture_keys(&detail, &fx, "in-progress detail");

    let graph_url = format!("{api}/api/workout/{id}/performance_graph?every_n=1");
    let (status, g1) = get(&graph_url, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(g1["duration"], 2700);
    let n1 = offsets(&g1).len() as u64;
    assert!((30..=32).contains(&n1), "{n1}");
    let truth: Vec<f64> = (1..=n1)
        .map(|s| pel.live_sample(&id, s).unwrap().output_watts.unwrap())
        .collect();
    assert_eq!(values(&g1, "output"), truth);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, g2) = get(&graph_url, &token).await;
    let n2 = offsets(&g2).len() as u64;
    assert!(n2 > n1, "{n2} > {n1}");
    assert!(values(&g2, "output").starts_with(&truth));

    // It completes by itself at start + 33, whenever it is next looked at.
    sleep_until(start + 34).await;
    let (_, page) = get(&list, &token).await;
    let item = &page["data"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["status"], "COMPLETE");
    assert_eq!(item["end_time"], start + 33);
    let totals = pel.live_totals(&id, u64::MAX).unwrap();
    assert_eq!(totals.seconds, 33);
    let summed: f64 = (1..=33)
        .map(|s| pel.live_sample(&id, s).unwrap().output_watts.unwrap())
        .sum();
    assert_eq!(totals.output_joules, summed);
    assert_eq!(item["total_work"].as_f64().unwrap(), summed);
    assert!(
        pel.live_sample(&id, 34).is_none(),
        "no samples after the end"
    );
    let (_, done) = get(&graph_url, &token).await;
    assert_eq!(offsets(&done), (1..=33).collect::<Vec<_>>());
    assert_eq!(
        summary_f64(&done, "total_output"),
        (summed / 1000.0).round()
    );
    let meters: f64 = (1..=33)
        .map(|s| pel.live_sample(&id, s).unwrap().speed_mps.unwrap())
        .sum();
    assert_eq!(
        summary_f64(&done, "distance"),
        (meters / 1609.344 * 100.0).round() / 100.0
    );
    assert!(
        done["effort_zones"].is_object(),
        "effort zones once complete"
    );
    let (_, again) = get(
        &format!("{api}/api/workout/{id}/performance_graph?every_n=1"),
        &token,
    )
    .await;
    assert_eq!(again, done, "a completed ride's graph no longer changes");

    let m = pel.member();
    assert_eq!(m.total_workouts(), before + 1);
    let finished = m.find_workout(&id).unwrap();
    assert_eq!(finished.total_work_joules, Some(summed));
    assert_eq!(finished.hr_zone_seconds.unwrap().iter().sum::<f64>(), 33.0);
    let (_, ov) = get(&format!("{api}/api/user/{uid}/overview"), &token).await;
    assert_eq!(ov["workout_counts"]["total_workouts"], before + 1);

    // The request log tells how often the graph was fetched, with the query.
    let graphs: Vec<RecordedRequest> = pel
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::PerformanceGraph && r.path.contains(&id))
        .collect();
    assert_eq!(graphs.len(), 4);
    assert!(graphs.iter().all(|r| r.query == "every_n=1"));
    pel.shutdown().await;
}

#[tokio::test]
async fn samples_are_deterministic_per_seed() {
    let spec = LiveRide {
        ride_for: None,
        started_ago: Duration::from_secs(600),
        ..LiveRide::default()
    };
    let opts = |seed| FakeOptions {
        seed,
        workouts: 10,
        ..FakeOptions::default()
    };
    let (a, _) = fake(opts(5)).await;
    let (b, _) = fake(opts(5)).await;
    let (c, _) = fake(opts(6)).await;
    let ia = a.start_live_ride(spec.clone());
    let ib = b.start_live_ride(spec.clone());
    let ic = c.start_live_ride(spec);
    assert_eq!(ia, ib);
    let run = |p: &FakePeloton, id: &str| -> Vec<LiveSample> {
        (1..=600).map(|s| p.live_sample(id, s).unwrap()).collect()
    };
    assert_eq!(run(&a, &ia), run(&b, &ib));
    assert_ne!(run(&a, &ia), run(&c, &ic));
    assert_eq!(a.live_totals(&ia, 600), b.live_totals(&ib, 600));
    assert_eq!(a.live_sample(&ia, 0), None);
    assert_eq!(a.live_sample("not-a-live-ride", 1), None);
    let completed = a.member().workouts[1].id.clone();
    assert_eq!(a.live_totals(&completed, 10), None);
    // Future seconds of a ride in progress are known in advance.
    assert!(a.live_sample(&ia, 100_000).is_some());
}

#[tokio::test]
async fn a_ride_without_an_end_stays_in_progress() {
    let (pel, token) = fake(FakeOptions {
        workouts: 10,
        ..FakeOptions::default()
    })
    .await;
    let id = pel.start_live_ride(LiveRide {
        class_length: Duration::from_secs(30 * 60),
        ride_for: None,
        started_ago: Duration::from_secs(3 * 3600),
        title: Some("30 min Forgotten Ride".to_owned()),
        ..LiveRide::default()
    });
    let stuck = pel.start_live_ride(LiveRide {
        ride_for: Some(Duration::MAX),
        ..LiveRide::default()
    });
    let m = pel.member();
    assert_eq!(m.workouts[0].id, stuck);
    assert_eq!(m.workouts[0].status, WorkoutStatus::InProgress);
    let w = m.find_workout(&id).unwrap().clone();
    assert_eq!(w.status, WorkoutStatus::InProgress);
    assert_eq!(w.title, "30 min Forgotten Ride");
    let url = format!(
        "{}/api/workout/{id}/performance_graph?every_n=5",
        pel.api_url()
    );
    let (_, g) = get(&url, &token).await;
    let last = *offsets(&g).last().unwrap();
    assert!((10_800..=10_802).contains(&last), "{last}");
    assert_eq!(g["duration"], 1800);
    let (_, detail) = get(&format!("{}/api/workout/{id}", pel.api_url()), &token).await;
    assert_eq!(detail["status"], "IN_PROGRESS");
    assert_eq!(detail["ride"]["title"], "30 min Forgotten Ride");

    pel.complete_workout(&id);
    let done = pel.member().find_workout(&id).unwrap().clone();
    assert_eq!(done.status, WorkoutStatus::Complete);
    let secs = u64::try_from(done.end_time.unwrap() - done.start_time).unwrap();
    assert!((10_800..=10_802).contains(&secs));
    let totals = pel.live_totals(&id, u64::MAX).unwrap();
    assert_eq!(totals.seconds, secs);
    assert_eq!(done.total_work_joules, Some(totals.output_joules));
    let (_, g) = get(&url, &token).await;
    assert_eq!(
        summary_f64(&g, "total_output"),
        (totals.output_joules / 1000.0).round()
    );
    assert_eq!(pel.member().workouts[0].status, WorkoutStatus::InProgress);
    pel.shutdown().await;
}

#[tokio::test]
async fn the_live_ride_demo_rides_again() {
    let (pel, token) = fake(FakeOptions {
        workouts: 10,
        live_interval: Some(Duration::from_millis(200)),
        live_ride: Some(LiveRide {
            class_length: Duration::from_secs(120),
            ride_for: Some(Duration::from_secs(2)),
            ..LiveRide::default()
        }),
        live_ride_gap: Duration::from_millis(500),
        ..FakeOptions::default()
    })
    .await;
    let first = pel.member().workouts[0].clone();
    assert_eq!(first.status, WorkoutStatus::InProgress);
    assert_eq!(first.duration_class_s, 120);
    let url = format!(
        "{}/api/user/{}/workouts?limit=5&page=0",
        pel.api_url(),
        pel.user_id()
    );
    sleep_until(first.start_time + 3).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, page) = get(&url, &token).await;
    let m = pel.member();
    // The next live ride is the newest; the first completed at its end.
    let next = &m.workouts[0];
    assert_ne!(next.id, first.id);
    assert_eq!(next.status, WorkoutStatus::InProgress);
    assert!(pel.live_sample(&next.id, 1).is_some());
    let listed = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == first.id.as_str())
        .unwrap();
    assert_eq!(listed["status"], "COMPLETE");
    assert_eq!(listed["end_time"], first.start_time + 2);
    pel.shutdown().await;
}

#[test]
fn demo_live_options() {
    let o = FakeOptions::demo_live();
    let ride = o.live_ride.unwrap();
    assert_eq!(ride.discipline, "cycling");
    assert!(ride.ride_for.unwrap() <= Duration::from_secs(300));
    assert_eq!(o.live_interval, None);
}
