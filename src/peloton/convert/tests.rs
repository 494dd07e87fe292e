use super::*;
use crate::peloton::model::{Me, Overview, PerformanceGraph, Workout, WorkoutPage};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn approx(a: Option<f64>, b: f64) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got None"));
    assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} != {b}");
}

#[test]
fn overview_fixture() {
    let o = AccountOverview::from_api(&fixture::<Overview>("overview_2024_RECONSTRUCTED.json"));
    assert_eq!(o.workout_counts.get("cycling"), Some(&749.0));
    assert_eq!(o.workout_counts.get("caesar_bootcamp"), Some(&0.0));
    assert_eq!(o.weekly_streak, Some(114.0));
    assert_eq!(o.weekly_streak_best, Some(114.0), "max(current, best)");
    assert_eq!(o.weekly_streak_start, Some(1_669_792_908.0));
    assert_eq!(o.daily_streak, Some(0.0));
    assert_eq!(o.daily_streak_start, None, "no start while the streak is 0");
    assert_eq!(o.achievements, Some(1650.0));
    let pr = o
        .personal_records
        .iter()
        .find(|p| p.duration_seconds == "2700")
        .unwrap();
    assert_eq!(pr.discipline, "cycling");
    approx(Some(pr.output_joules), 882_694.27);
}

#[test]
fn me_fixture_drops_unset_ftp() {
    let p = Profile::from_api(&fixture::<Me>("me.json")).unwrap();
    assert_eq!(p.user_id, "0e5e0000000000000000000000000001");
    assert_eq!(p.followers, Some(40.0));
    assert_eq!(p.ftp.get("manual"), Some(&142.0));
    assert_eq!(p.ftp.get("estimated"), Some(&157.0));
    assert_eq!(
        p.ftp.get("workout"),
        None,
        "cycling_workout_ftp 0 means unset"
    );
}

#[test]
fn cycling_workout_with_graph_and_detail() {
    let detail: Workout = fixture("workout_detail_cycling_2024.json");
    let graph: PerformanceGraph = fixture("performance_graph_cycling_2024.json");
    let w = WorkoutSummary::from_list_item(&detail)
        .unwrap()
        .with_detail(&super::detail(&detail))
        .with_graph(&super::graph(&graph, 1));
    assert_eq!(w.status, Status::Complete);
    approx(w.duration_seconds, 1200.0);
    approx(w.output_joules, 148_003.98);
    approx(w.leaderboard_rank, 12005.0);
    assert!(w.stats.contains_key(&Stat::OutputWatts));
    assert!(w.stats.contains_key(&Stat::CadenceRpm));
    let zones = w.hr_zone_seconds.unwrap();
    assert!(zones.iter().sum::<f64>() > 1000.0 && zones.iter().sum::<f64>() < 1300.0);
}

#[test]
fn tread_run_pace_becomes_speed() {
    let graph: PerformanceGraph = fixture("performance_graph_running_tread_2020.json");
    let w = WorkoutSummary::from_list_item(&serde_json::from_str(r#"{"id":"x"}"#).unwrap())
        .unwrap()
        .with_graph(&super::graph(&graph, 1));
    approx(w.distance_meters, 1.22 * 1609.344);
    approx(w.elevation_meters, 5.0 * 0.3048);
    approx(w.energy_joules, 217.0 * 4184.0);
    // The pace's `speed` alternative (4.1 mph avg, 8.6 max) wins over the pace itself.
    let s = w.stats[&Stat::SpeedMetersPerSecond];
    approx(s.avg, 4.1 * 0.44704);
    approx(s.max, 8.6 * 0.44704);
    approx(w.stats[&Stat::InclineRatio].avg, 0.002);
    // Effort zones are null here, so the heart-rate zones are used.
    assert_eq!(w.hr_zone_seconds, Some([613.0, 484.0, 103.0, 0.0, 0.0]));
}

#[test]
fn rower_split_pace_max_is_fastest() {
    let graph: PerformanceGraph = fixture("performance_graph_rowing_2022.json");
    let w = WorkoutSummary::from_list_item(&serde_json::from_str(r#"{"id":"x"}"#).unwrap())
        .unwrap()
        .with_graph(&super::graph(&graph, 1));
    approx(w.distance_meters, 1023.28);
    let s = w.stats[&Stat::SpeedMetersPerSecond];
    approx(s.avg, 500.0 / (3.26 * 60.0));
    approx(s.max, 500.0 / (2.79 * 60.0));
    assert!(s.max > s.avg);
    approx(w.stats[&Stat::StrokeRateSpm].avg, 20.0);
    approx(w.effort_points, 10.3);
}

#[test]
fn metric_units_member() {
    let graph: PerformanceGraph = fixture("performance_graph_cycling_metric_units_2020.json");
    let w = WorkoutSummary::from_list_item(&serde_json::from_str(r#"{"id":"x"}"#).unwrap())
        .unwrap()
        .with_graph(&super::graph(&graph, 1));
    approx(w.distance_meters, 8370.0);
    approx(w.stats[&Stat::SpeedMetersPerSecond].avg, 7.0);
    approx(w.stats[&Stat::ResistanceRatio].avg, 0.37);
    approx(w.output_joules, 112_000.0);
}

#[test]
fn meditation_has_no_made_up_values() {
    let graph: PerformanceGraph = fixture("performance_graph_meditation_2021.json");
    let w = WorkoutSummary::from_list_item(&serde_json::from_str(r#"{"id":"x"}"#).unwrap())
        .unwrap()
        .with_graph(&super::graph(&graph, 1));
    assert_eq!(w.distance_meters, None);
    assert!(!w.stats.contains_key(&Stat::OutputWatts));
    assert!(!w.stats.contains_key(&Stat::CadenceRpm));
}

#[test]
fn in_progress_workout_has_no_duration() {
    let w: Workout = fixture("workout_detail_meditation_in_progress_2025.json");
    let s = WorkoutSummary::from_list_item(&w).unwrap();
    assert_eq!(s.status, Status::InProgress);
    assert_eq!(s.duration_seconds, None);
}

#[test]
fn list_page_items_convert() {
    let page: WorkoutPage = fixture("workouts_page0.json");
    let items: Vec<_> = page
        .data
        .iter()
        .filter_map(WorkoutSummary::from_list_item)
        .collect();
    assert_eq!(items.len(), page.data.len());
    let first = &items[0];
    assert_eq!(first.discipline, "caesar");
    approx(first.output_joules, 22_629.63);
    approx(first.duration_seconds, 603.0);
    assert_eq!(page.summary.get("2022-12"), Some(&5.0));
}

#[test]
fn monthly_summary_keeps_only_real_months() {
    use std::collections::BTreeMap;
    // 2026-12-02.
    let now = 1_796_220_000;
    let mut summary = BTreeMap::new();
    for (k, v) in [
        ("2019-06", 12.0),
        ("2026-12", 3.0),
        ("2027-01", 1.0), // next month: a member east of UTC
        ("2027-02", 1.0), // the future
        ("2011-12", 1.0), // before Peloton
        ("2020-13", 1.0),
        ("2020-1", 1.0),
        ("abcd-ef", 1.0),
        ("2020-05", -1.0),
        ("2020-06", f64::INFINITY),
    ] {
        summary.insert(k.to_owned(), v);
    }
    for i in 0..600_000 {
        summary.insert(format!("x{i}"), 1.0);
    }
    let months = crate::peloton::convert::workouts_by_month(&summary, now);
    let keys: Vec<&str> = months.keys().map(String::as_str).collect();
    assert_eq!(keys, ["2019-06", "2026-12", "2027-01"]);
}
