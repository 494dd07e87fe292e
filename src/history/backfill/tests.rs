//! The backfill: counters, the latest workout, training history and traces, whole and split
//! by month.

use super::*;

fn workout(id: &str, discipline: &str, start: i64, work: f64) -> WorkoutSummary {
    let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
        "id": id, "status": "COMPLETE", "fitness_discipline": discipline, "total_work": work,
        "start_time": start, "end_time": start + 1800, "created_at": start,
        "ride": {"title": "30 min \"Ride\"", "instructor": {"name": "Coach"}}
    }))
    .unwrap();
    WorkoutSummary::from_list_item(&item).unwrap()
}

#[test]
fn switched_off_groups_are_not_written() {
    use crate::metrics::collectors::Collector;
    let day = 1_700_006_400;
    let history = || AccountHistory {
        account: None,
        workouts: vec![workout("a", "cycling", day + 100, 100.0)],
        training: vec![],
        traces: None,
    };
    let text = |collectors: Collectors| {
        let options = Options {
            from: None,
            to: day + 2 * DAY,
            labels: vec![],
            collectors,
            include_imported: false,
            traces: false,
        };
        let mut out = Vec::new();
        write(&[history()], &options, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let all = text(Collectors::default());
    assert!(all.contains("peloton_instructor_workouts_total{"));
    assert!(all.contains("peloton_latest_workout_output_joules{} "));
    let some = text(Collectors::new([
        (Collector::Instructor, false),
        (Collector::LatestWorkout, false),
    ]));
    assert!(!some.contains("peloton_instructor_workouts"), "{some}");
    assert!(!some.contains("peloton_latest_workout"), "{some}");
    assert!(some.contains("peloton_output_joules_total{"));
}

#[test]
fn months_tile_the_range_and_split_files_hold_every_sample_once() {
    // 2024-01-30T12:00Z, 2024-02-15 and 2024-03-02: three months, the first and
    // last cut to the samples.
    let jan30 = 1_706_616_000;
    let history = || AccountHistory {
        account: None,
        workouts: vec![
            workout("a", "cycling", jan30, 100.0),
            workout("b", "cycling", jan30 + 16 * DAY, 200.0),
            workout("c", "yoga", jan30 + 31 * DAY, 0.0),
        ],
        training: vec![],
        traces: None,
    };
    let to = jan30 + 40 * DAY;
    let months = months(&[history()], None, to);
    let names: Vec<&str> = months.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["2024-01", "2024-02", "2024-03"]);
    assert_eq!(months[0].from, jan30);
    assert_eq!(months[1].from, 1_706_745_600); // 2024-02-01T00:00Z
    assert_eq!(months[1].to, 1_709_251_199); // 2024-02-29T23:59:59Z
    assert_eq!(months[2].to, to);
    assert!(months.windows(2).all(|w| w[0].to + 1 == w[1].from));
    // --from in February leaves January out.
    let later = super::months(&[history()], Some(1_707_000_000), to);
    assert_eq!(later.first().map(|m| m.from), Some(1_707_000_000));
    assert_eq!(later.len(), 2);
    assert!(super::months(&[history()], Some(to + 1), to).is_empty());

    let options = |from: Option<i64>, to: i64| Options {
        from,
        to,
        labels: vec![],
        collectors: Collectors::default(),
        include_imported: false,
        traces: false,
    };
    let samples = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    let mut whole = Vec::new();
    let all = write(&[history()], &options(None, to), &mut whole).unwrap();
    let mut union = Vec::new();
    let mut written = 0;
    for m in &months {
        let mut out = Vec::new();
        written += write(&[history()], &options(Some(m.from), m.to), &mut out)
            .unwrap()
            .samples;
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("# EOF\n"));
        for line in samples(&text) {
            let ts: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!((m.from..=m.to).contains(&ts), "{} holds {line}", m.name);
            union.push(line);
        }
    }
    let whole = samples(&String::from_utf8(whole).unwrap());
    assert!(whole.len() > 20, "{whole:?}");
    // Every sample of the single file is in exactly one monthly file; each file also
    // closes its series at its last second (as the single file does at --to), so a
    // month's series run to its end.
    let mut extra = union.clone();
    for line in &whole {
        let i = extra.iter().position(|l| l == line).expect(line);
        extra.swap_remove(i);
    }
    let month_ends: Vec<i64> = months.iter().map(|m| m.to).collect();
    for line in &extra {
        let ts: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(month_ends.contains(&ts), "{line} is not at a month's end");
    }
    assert!(!extra.is_empty());
    assert_eq!(written, all.samples + extra.len() as u64);
}

#[test]
fn counters_climb_and_series_are_grouped_and_increasing() {
    let day = 1_700_006_400; // a UTC midnight
    let history = AccountHistory {
        account: None,
        workouts: vec![
            workout("b", "cycling", day + 2 * DAY + 100, 200.0),
            workout("a", "cycling", day + 100, 100.0),
            workout("c", "yoga", day + 3 * DAY, 0.0),
        ],
        training: vec![],
        traces: None,
    };
    let options = Options {
        from: None,
        to: day + 5 * DAY,
        labels: vec![("job".to_owned(), "peloton".to_owned())],
        collectors: Collectors::default(),
        include_imported: false,
        traces: false,
    };
    let mut out = Vec::new();
    let stats = write(&[history], &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with("# EOF\n"));
    assert_eq!(stats.workouts, 3);
    let cycling: Vec<(f64, i64)> = text
        .lines()
        .filter(|l| {
            l.starts_with("peloton_output_joules_total{discipline=\"cycling\",job=\"peloton\"}")
        })
        .map(|l| {
            let mut parts = l.rsplit(' ');
            let ts = parts.next().unwrap().parse().unwrap();
            (parts.next().unwrap().parse().unwrap(), ts)
        })
        .collect();
    assert_eq!(cycling.first(), Some(&(100.0, day + 1900)));
    assert_eq!(cycling.last(), Some(&(300.0, day + 5 * DAY)));
    assert!(
        cycling
            .windows(2)
            .all(|w| w[0].1 < w[1].1 && w[0].0 <= w[1].0)
    );
    // The yoga class gives the cycling series a sample too: every series continues.
    assert!(
        cycling
            .iter()
            .any(|(v, ts)| *ts == day + 3 * DAY + 1800 && *v == 300.0)
    );
    // Each family appears once, in one block.
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
    let unique: std::collections::BTreeSet<_> = types.iter().collect();
    assert_eq!(types.len(), unique.len());
    assert!(text.contains("# TYPE peloton_workouts counter"));
    assert!(text.contains("title=\"30 min \\\"Ride\\\"\""));
}

#[test]
fn never_covers_the_last_three_hours() {
    let now = crate::clock::now_unix();
    let history = AccountHistory {
        account: None,
        workouts: vec![
            workout("old", "cycling", now - 10 * DAY, 1.0),
            workout("new", "cycling", now - 3600, 1.0),
        ],
        training: vec![],
        traces: None,
    };
    let options = Options {
        from: None,
        to: now,
        labels: vec![],
        collectors: Collectors::default(),
        include_imported: false,
        traces: false,
    };
    let mut out = Vec::new();
    let stats = write(&[history], &options, &mut out).unwrap();
    assert_eq!(stats.workouts, 1);
    let text = String::from_utf8(out).unwrap();
    let latest_ts = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .max()
        .unwrap();
    assert!(latest_ts <= now - RECENT_SECONDS);
}

#[test]
fn the_90_day_curve_slides_as_it_did_live() {
    let start = 1_700_006_400;
    let old = workout("old", "cycling", start, 100.0);
    let new = workout("new", "cycling", start + 100 * DAY, 100.0);
    let curve = |w: &WorkoutSummary, watts: f64| TrainingRow {
        id: w.id.clone(),
        end_time: at(w).unwrap(),
        training: WorkoutTraining {
            power_curve_watts: [Some(watts), None, None, None, None],
            ..WorkoutTraining::default()
        },
    };
    let history = AccountHistory {
        account: None,
        training: vec![curve(&old, 900.0), curve(&new, 500.0)],
        workouts: vec![old.clone(), new.clone()],
        traces: None,
    };
    let to = at(&new).unwrap() + DAY;
    let options = Options {
        from: None,
        to,
        labels: vec![],
        collectors: Collectors::default(),
        traces: false,
        include_imported: false,
    };
    let collected = collect(&[history], &options);
    let recent: Vec<(i64, f64)> = collected
        .series()
        .find(|(def, labels, _)| {
            **def == c::POWER_CURVE.def
                && labels.contains(&("window".to_owned(), "90d".to_owned()))
                && labels.contains(&("duration".to_owned(), "5".to_owned()))
        })
        .map(|(_, _, samples)| samples.to_vec())
        .unwrap();
    let old_at = at(&old).unwrap();
    assert_eq!(recent.first(), Some(&(old_at, 900.0)));
    // Weekly samples keep 900 W while the old ride is inside the window...
    assert!(
        recent
            .iter()
            .any(|(t, v)| *t == old_at + 12 * WEEK && *v == 900.0)
    );
    // ...and after 90 days nothing is left until the new ride, which sets 500 W.
    assert!(
        recent
            .iter()
            .all(|(t, _)| *t <= old_at + 90 * DAY || *t >= at(&new).unwrap())
    );
    assert_eq!(recent.last(), Some(&(to, 500.0)));
    let all_time = collected
        .series()
        .find(|(def, labels, _)| {
            **def == c::POWER_CURVE.def
                && labels.contains(&("window".to_owned(), "all_time".to_owned()))
                && labels.contains(&("duration".to_owned(), "5".to_owned()))
        })
        .map(|(_, _, samples)| samples.last().copied())
        .unwrap();
    assert_eq!(all_time, Some((to, 900.0)));
}

#[test]
fn a_ride_over_a_month_boundary_has_its_trace_split_between_the_two_months() {
    use crate::domain::training::Trace;
    // 2024-01-31T23:59:00Z: one minute of trace in January, two in February; the
    // ride ends (start + 1,800 s) in February, after the January file's last second.
    let start = 1_706_745_540;
    let ride = workout("r", "cycling", start, 100.0);
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    store.upsert_listed(std::slice::from_ref(&ride)).unwrap();
    let trace = Trace {
        step_s: 1,
        offset_s: 0,
        output_watts: (0..180).map(|i| Some(f64::from(100 + i))).collect(),
        ..Trace::default()
    };
    store
        .set_details_with_training(&ride, &WorkoutTraining::default(), Some(&trace))
        .unwrap();
    let history = AccountHistory {
        account: None,
        workouts: vec![ride],
        training: store.training_rows().unwrap(),
        traces: Some(std::sync::Arc::new(store)),
    };
    let to = start + 3 * DAY;
    let options = |from: Option<i64>, to: i64| Options {
        from,
        to,
        labels: vec![],
        collectors: Collectors::default(),
        traces: true,
        include_imported: false,
    };
    let trace_lines = |from: Option<i64>, to: i64| -> Vec<String> {
        let mut out = Vec::new();
        write(std::slice::from_ref(&history), &options(from, to), &mut out).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("peloton_trace_output_watts{} "))
            .map(str::to_owned)
            .collect()
    };
    let months = months(std::slice::from_ref(&history), None, to);
    assert_eq!(months.len(), 2);
    let per_month: Vec<Vec<String>> = months
        .iter()
        .map(|m| trace_lines(Some(m.from), m.to))
        .collect();
    assert_eq!(per_month[0].len(), 60, "January's minute");
    assert_eq!(per_month[1].len(), 120, "February's two minutes");
    assert_eq!(per_month.concat(), trace_lines(None, to));
}

#[test]
fn training_history_per_workout_and_per_day_and_traces() {
    use crate::domain::training::{FtpInForce, LoadMethod, Trace};
    let day = 1_700_006_400; // a UTC midnight
    let ride = workout("r", "cycling", day + 100, 100.0);
    let training = WorkoutTraining {
        ftp: FtpInForce::new(Some(200.0), Some("ftp_workout_source")),
        normalized_power_watts: Some(210.0),
        intensity_factor: Some(1.05),
        training_stress_score: Some(55.0),
        load: Some((LoadMethod::Power, 55.0)),
        power_curve_watts: [Some(400.0), Some(300.0), None, None, None],
        ..WorkoutTraining::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    store.upsert_listed(std::slice::from_ref(&ride)).unwrap();
    let trace = Trace {
        step_s: 1,
        offset_s: 1,
        output_watts: vec![Some(150.0), None, Some(170.0)],
        ..Trace::default()
    };
    store
        .set_details_with_training(&ride, &training, Some(&trace))
        .unwrap();
    let history = AccountHistory {
        account: None,
        workouts: vec![ride],
        training: store.training_rows().unwrap(),
        traces: Some(std::sync::Arc::new(store)),
    };
    let options = Options {
        from: None,
        to: day + 3 * DAY,
        labels: vec![],
        collectors: Collectors::default(),
        traces: true,
        include_imported: false,
    };
    let mut out = Vec::new();
    write(&[history], &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let end = day + 1900;
    for line in [
        format!("peloton_latest_workout_normalized_power_watts{{}} 210.0 {end}"),
        format!("peloton_latest_workout_training_stress_score{{}} 55.0 {end}"),
        format!("peloton_latest_workout_ftp_watts{{source=\"workout\"}} 200.0 {end}"),
        format!("peloton_power_zone_ftp_watts{{source=\"workout\"}} 200.0 {end}"),
        format!("peloton_training_load_total{{method=\"power_tss\"}} 55.0 {end}"),
        format!("peloton_power_curve_watts{{duration=\"5\",window=\"all_time\"}} 400.0 {end}"),
        // Traces from the workout's start plus the first sample's offset, gaps left out.
        format!("peloton_trace_output_watts{{}} 150.0 {}", day + 101),
        format!("peloton_trace_output_watts{{}} 170.0 {}", day + 103),
    ] {
        assert!(text.contains(&line), "{line} missing:\n{text}");
    }
    assert!(!text.contains(&format!("peloton_trace_output_watts{{}} 0.0 {}", day + 102)));
    // One CTL/ATL/form sample at the end of each UTC day: day 0 .. day 3 (clamped).
    let ctl: Vec<i64> = text
        .lines()
        .filter(|l| l.starts_with("peloton_training_load_chronic{method=\"power_tss\"}"))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        ctl,
        vec![
            day + DAY - 1,
            day + 2 * DAY - 1,
            day + 3 * DAY - 1,
            day + 3 * DAY
        ]
    );
    // The 90-day curve as /metrics showed it at each sample.
    assert!(text.contains(&format!(
        "peloton_power_curve_watts{{duration=\"60\",window=\"90d\"}} 300.0 {end}"
    )));
    assert!(text.ends_with("# EOF\n"));
    let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
    let unique: std::collections::BTreeSet<_> = types.iter().collect();
    assert_eq!(types.len(), unique.len());
}

#[test]
fn badges_strength_targets_and_splits_are_written_at_each_workout() {
    use crate::domain::workout_extras::{BestSplit, SplitDistance, Strength, TargetTime};
    let day = 1_700_006_400;
    let mut lift = workout("lift", "strength", day + 100, 0.0);
    lift.extras.badges = Some(2.0);
    lift.extras.strength = Some(Strength {
        repetitions: Some(84.0),
        volume_grams: Some(567_000.0),
        tension_seconds: Some(360.0),
        muscle_groups: BTreeMap::from([("core".to_owned(), 900.0)]),
    });
    let mut ride = workout("ride", "cycling", day + DAY, 100.0);
    ride.extras.badges = Some(1.0);
    ride.extras.targets = BTreeMap::from([(
        "cadence".to_owned(),
        TargetTime {
            in_seconds: 816.0,
            out_seconds: Some(385.0),
        },
    )]);
    let mut row = workout("row", "caesar", day + 2 * DAY, 50.0);
    row.extras.best_split = Some(BestSplit {
        distance: SplitDistance::Meters500,
        seconds: 120.0,
    });
    let history = AccountHistory {
        account: None,
        workouts: vec![row, ride, lift],
        training: vec![],
        traces: None,
    };
    let options = Options {
        from: None,
        to: day + 4 * DAY,
        labels: vec![],
        collectors: Collectors::default(),
        include_imported: false,
        traces: false,
    };
    let mut out = Vec::new();
    write(&[history], &options, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let samples = |series: &str| -> Vec<(f64, i64)> {
        text.lines()
            .filter(|l| l.starts_with(series))
            .map(|l| {
                let mut parts = l.rsplit(' ');
                let ts = parts.next().unwrap().parse().unwrap();
                (parts.next().unwrap().parse().unwrap(), ts)
            })
            .collect()
    };
    let badges = samples("peloton_workout_achievements_total{}");
    assert_eq!(
        badges.first(),
        Some(&(2.0, day + 1900)),
        "at the class's time"
    );
    assert!(badges.contains(&(3.0, day + DAY + 1800)));
    assert_eq!(
        samples("peloton_strength_repetitions_total{}").first(),
        Some(&(84.0, day + 1900))
    );
    assert_eq!(
        samples("peloton_strength_volume_grams_total{}").first(),
        Some(&(567_000.0, day + 1900))
    );
    assert_eq!(
        samples("peloton_muscle_group_score_total{muscle_group=\"core\"}").first(),
        Some(&(900.0, day + 1900))
    );
    assert_eq!(
        samples("peloton_target_metric_seconds_total{metric=\"cadence\",range=\"out\"}").first(),
        Some(&(385.0, day + DAY + 1800))
    );
    assert_eq!(
        samples("peloton_best_split_seconds{distance=\"500m\"}").first(),
        Some(&(120.0, day + 2 * DAY + 1800))
    );
    // The latest workout's values as they were after each workout.
    assert_eq!(
        samples("peloton_latest_workout_strength_repetitions{}"),
        [(84.0, day + 1900)]
    );
}
