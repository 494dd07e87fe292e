//! docs/metrics.md, the catalogue and the live exposition agree.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use peloton_exporter::metrics::catalogue;
use peloton_exporter::metrics::family::Kind;
use peloton_fake::FakeOptions;

/// name → (type, labels) from the reference's tables.
fn reference() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("| `peloton_") || l.starts_with("| `process_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let labels = cells[3]
                .split(',')
                .map(|s| s.trim().trim_matches('`').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            (name, (cells[2].to_owned(), labels))
        })
        .collect()
}

#[test]
fn reference_and_catalogue_name_the_same_families() {
    let doc = reference();
    let catalogue: BTreeMap<String, (String, BTreeSet<String>)> = catalogue::ALL
        .iter()
        .map(|d| {
            let kind = match d.kind {
                Kind::Gauge => "gauge",
                Kind::Counter => "counter",
                Kind::Info => "info",
                Kind::Histogram => "histogram",
            };
            let labels = d.labels.iter().map(|l| (*l).to_owned()).collect();
            (d.sample_name(), (kind.to_owned(), labels))
        })
        .collect();
    assert_eq!(doc, catalogue);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_exposition_matches_the_reference() {
    let doc = reference();
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = args_with_token(&fake, dir.path());
    a.push("--poll.live-interval=5s".to_owned());
    let exporter = start(&a).await;
    wait_synced(exporter.addr).await;
    // A ride in progress, so the live families are exposed too.
    fake.start_live_ride(peloton_fake::LiveRide::default());
    let text = eventually(Duration::from_secs(15), "live values", || async {
        let (_, text) = scrape(exporter.addr, None).await;
        text.contains("peloton_live_power_zone ").then_some(text)
    })
    .await;
    exporter.stop().await.unwrap();

    let mut seen = BTreeSet::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let series = line.rsplit_once(' ').unwrap().0;
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|base| doc.get(*base).is_some_and(|(t, _)| t == "histogram"))
            })
            .unwrap_or(name);
        let (_, documented) = doc
            .get(family)
            .unwrap_or_else(|| panic!("{family} is not in docs/metrics.md"));
        let names: BTreeSet<String> = labels
            .split("\",")
            .filter(|p| !p.is_empty())
            .map(|p| p.split('=').next().unwrap().to_owned())
            .filter(|l| l != "le")
            .collect();
        assert_eq!(&names, documented, "labels of {family}");
        seen.insert(family.to_owned());
    }
    // The demo member exercises nearly the whole catalogue; only values its latest
    // workout may lack can be missing.
    let optional = [
        "peloton_history_workouts_pending",
        // Only members who sync other services have imports.
        "peloton_imported_workouts_total",
        "peloton_remote_write_samples_total",
        "peloton_remote_write_failures_total",
        "peloton_remote_write_last_success_timestamp_seconds",
        "peloton_daily_streak_start_timestamp_seconds",
        "peloton_weekly_streak_start_timestamp_seconds",
        "peloton_latest_workout_cadence_rpm",
        "peloton_latest_workout_resistance_ratio",
        "peloton_latest_workout_speed_meters_per_second",
        "peloton_latest_workout_incline_ratio",
        "peloton_latest_workout_stroke_rate_spm",
        "peloton_latest_workout_distance_meters",
        "peloton_latest_workout_elevation_meters",
        "peloton_latest_workout_output_watts",
        "peloton_latest_workout_output_joules",
        "peloton_latest_workout_heart_rate_bpm",
        "peloton_latest_workout_heart_rate_zone_seconds",
        "peloton_latest_workout_effort_points",
        "peloton_latest_workout_leaderboard_rank",
        "peloton_latest_workout_leaderboard_users",
        // The latest workout may be a class without power or heart rate.
        "peloton_latest_workout_power_best_watts",
        "peloton_latest_workout_normalized_power_watts",
        "peloton_latest_workout_intensity_factor_ratio",
        "peloton_latest_workout_training_stress_score",
        "peloton_latest_workout_training_load",
        "peloton_latest_workout_ftp_watts",
        // Only when the latest workout is a strength class, or a class with targets, or
        // one with whole splits.
        "peloton_latest_workout_strength_repetitions",
        "peloton_latest_workout_strength_volume_grams",
        "peloton_latest_workout_strength_time_under_tension_seconds",
        "peloton_latest_workout_muscle_group_score",
        "peloton_latest_workout_target_metric_seconds",
        "peloton_latest_workout_best_split_seconds",
        // Only in `backfill --traces`.
        "peloton_trace_output_watts",
        "peloton_trace_cadence_rpm",
        "peloton_trace_resistance_ratio",
        "peloton_trace_speed_meters_per_second",
        "peloton_trace_heart_rate_bpm",
    ];
    let missing: Vec<_> = doc
        .keys()
        .filter(|k| !seen.contains(*k) && !optional.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "documented but never exposed: {missing:?}"
    );
}

/// The README's collector table is the list the flags are made from: name, variable,
/// default and help, one row per group and no other.
#[test]
fn readme_collector_table_is_the_registered_list() {
    use peloton_exporter::metrics::collectors::GROUPS;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // Backticks are markdown only (the help text is also `--help`'s).
    let rows: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `--[no-]collector."))
        .map(|l| {
            let cells: Vec<&str> = l
                .trim_start_matches("| ")
                .trim_end_matches(" |")
                .split(" | ")
                .collect();
            let help = cells[3].replace('`', "");
            format!("| {} | {} | {} | {help} |", cells[0], cells[1], cells[2])
        })
        .collect();
    let want: Vec<String> = GROUPS
        .iter()
        .map(|g| {
            format!(
                "| `--[no-]{}` | `{}` | {} | {} |",
                g.flag,
                g.env,
                if g.default { "on" } else { "off" },
                g.help
            )
        })
        .collect();
    assert_eq!(rows, want);
}
