use super::*;
use crate::peloton::model::{PerformanceGraph, Workout};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn strength_sets_give_reps_volume_with_both_dumbbells_and_time_under_tension() {
    let d: Workout = fixture("workout_detail_strength_2023_DERIVED_from_p2g_dto.json");
    let s = from_detail(&d).strength.unwrap();
    // Ten rep-tracked sets, no hold; 10 lb pairs count twice (1,250 lb in all).
    assert_eq!(s.repetitions, Some(84.0));
    assert!(close(s.volume_grams.unwrap(), 1250.0 * 453.592_37));
    assert_eq!(s.tension_seconds, Some(360.0));
    assert!(
        from_detail(&d).badges.is_none(),
        "no achievement_templates field"
    );
}

#[test]
fn peloton_totals_win_and_holds_are_seconds() {
    let d: Workout = serde_json::from_value(serde_json::json!({
        "achievement_templates": [{"slug": "a"}, {"slug": "b", "achievement_count": 2}, "junk"],
        "movement_tracker_data": {"completed_movements_summary_data": {
            "total_volume": 400, "weight_unit": "lb", "total_repetitions": 10,
            "repetition_summary_data": [
                {"is_hold": false, "completed_number": 10, "length": 40, "total_volume": 400,
                 "weight": [{"weight_data": {"weight_value": 20, "weight_unit": "lb"}}]},
                {"is_hold": true, "completed_number": 45, "length": 60},
                {"is_hold": false, "completed_number": -3, "length": 30},
                {"is_hold": false, "completed_number": 1e9, "length": 30}
            ]}}
    }))
    .unwrap();
    let e = from_detail(&d);
    assert_eq!(e.badges, Some(3.0));
    let s = e.strength.unwrap();
    assert_eq!(s.repetitions, Some(10.0));
    assert!(close(s.volume_grams.unwrap(), 400.0 * 453.592_37));
    assert_eq!(s.tension_seconds, Some(40.0 + 45.0));
}

#[test]
fn missing_null_or_renamed_movement_data_is_absent_not_zero() {
    for detail in [
        serde_json::json!({}),
        serde_json::json!({"movement_tracker_data": null}),
        serde_json::json!({"movement_tracker_data": {"completed_movements_summary_data": null}}),
        serde_json::json!({"movement_tracker_data": {"completed_movements_summary_data": {"repetition_summary_data": []}}}),
        serde_json::json!({"movement_tracker_data": {"completed_movements_summary_data": {"repetitions": [{"completed_number": 5}]}}}),
        serde_json::json!({"movement_tracker_data": {"completed_movements_summary_data": {"repetition_summary_data": [{"completed_number": "x"}]}}}),
    ] {
        let d: Workout = serde_json::from_value(detail.clone()).unwrap();
        assert!(from_detail(&d).strength.is_none(), "{detail}");
    }
    // An unknown weight unit: reps stay, volume is unknown rather than 0.
    let d: Workout = serde_json::from_value(serde_json::json!({"movement_tracker_data": {"completed_movements_summary_data": {"repetition_summary_data": [
        {"completed_number": 5, "length": 30, "weight": [{"weight_data": {"weight_value": 5, "weight_unit": "stone"}}]}
    ]}}}))
    .unwrap();
    let s = from_detail(&d).strength.unwrap();
    assert_eq!(s.repetitions, Some(5.0));
    assert_eq!(s.volume_grams, None);
}

#[test]
fn muscle_groups_are_peloton_s_set_and_unknown_ones_are_other() {
    let g: PerformanceGraph = fixture("performance_graph_rowing_2022.json");
    let groups = from_graph(&g).strength.unwrap().muscle_groups;
    assert_eq!(groups["biceps"], 390.0);
    assert_eq!(groups["glutes"], 1170.0);
    let g: PerformanceGraph = serde_json::from_value(serde_json::json!({"muscle_group_score": [
        {"muscle_group": "core", "score": 10}, {"muscle_group": "tail", "score": 5},
        {"muscle_group": "wings", "score": 6}, {"muscle_group": "quads", "score": -1},
        {"muscle_group": "chest", "score": null}
    ]}))
    .unwrap();
    let groups = from_graph(&g).strength.unwrap().muscle_groups;
    assert_eq!(groups.len(), 2);
    assert_eq!(groups["core"], 10.0);
    assert_eq!(groups["other"], 11.0, "unknown groups counted, not dropped");
    let none: PerformanceGraph =
        serde_json::from_value(serde_json::json!({"muscle_group_score": null})).unwrap();
    assert!(from_graph(&none).strength.is_none());
}

#[test]
fn time_in_target_in_both_shapes() {
    // 2021+: segments tile 60..=1860, of which the member was in range 34 s and 42 s.
    let g: PerformanceGraph = fixture("performance_graph_walking_tread_2021.json");
    let t = from_graph(&g).targets;
    assert_eq!(t["speed"].in_seconds, 34.0);
    assert_eq!(t["speed"].out_seconds, Some(1801.0 - 34.0));
    assert_eq!(t["incline"].out_seconds, Some(1801.0 - 42.0));
    // 2020: per-second target graphs over the 1,200 s class.
    let g: PerformanceGraph = fixture("performance_graph_cycling_metric_units_2020.json");
    let t = from_graph(&g).targets;
    assert_eq!(t["cadence"].in_seconds, 72.0);
    assert_eq!(t["cadence"].out_seconds, Some(1200.0 - 72.0));
    assert_eq!(t["resistance"].in_seconds, 56.0);
    // The 2021 shape under the old name, and no targets at all.
    let g: PerformanceGraph = serde_json::from_value(serde_json::json!({
        "target_performance_metrics": {"target_metrics": [
            {"offsets": {"start": 0, "end": 99}, "metrics": [{"name": "cadence"}]}
        ], "time_in_metric": [{"name": "cadence", "value": 150}, {"name": "power_zone", "distribution": {}}]}
    }))
    .unwrap();
    let t = from_graph(&g).targets;
    assert_eq!(t["cadence"].in_seconds, 150.0);
    assert_eq!(
        t["cadence"].out_seconds, None,
        "more in range than targeted"
    );
    assert_eq!(t.len(), 1);
    let g: PerformanceGraph = fixture("performance_graph_cycling_2024.json");
    assert!(from_graph(&g).targets.is_empty());
}

#[test]
fn best_splits_of_rows_runs_and_rides() {
    let g: PerformanceGraph = fixture("performance_graph_rowing_2022.json");
    let s = from_graph(&g).best_split.unwrap();
    assert_eq!(s.distance, SplitDistance::Meters500);
    assert!(close(s.seconds, 4.03 * 60.0), "{}", s.seconds);
    let g: PerformanceGraph = fixture("performance_graph_running_outdoor_2021.json");
    let s = from_graph(&g).best_split.unwrap();
    assert_eq!((s.distance, s.seconds), (SplitDistance::Mile, 670.0));
    let g: PerformanceGraph = fixture("performance_graph_cycling_2024.json");
    let s = from_graph(&g).best_split.unwrap();
    assert_eq!((s.distance, s.seconds), (SplitDistance::Mile, 195.0));
    for graph in [
        serde_json::json!({"splits_data": []}),
        serde_json::json!({"splits_data": {"distance_marker_display_unit": "furlong", "splits": [{"distance_marker": 1, "seconds": 100}]}}),
        serde_json::json!({"splits_data": {"distance_marker_display_unit": "km", "splits": [{"distance_marker": 0.4, "seconds": 100}, {"distance_marker": 1, "seconds": 0}]}}),
        serde_json::json!({"splits_metrics": {"metrics": [{"data": [{"slug": "meter", "value": 500}, {"slug": "pace", "value": null, "unit": "min/500m"}]}]}}),
    ] {
        let g: PerformanceGraph = serde_json::from_value(graph.clone()).unwrap();
        assert!(from_graph(&g).best_split.is_none(), "{graph}");
    }
}

#[test]
fn the_2024_strength_fixtures_exactly() {
    let d: Workout = fixture("workout_detail_strength_2024_RECONSTRUCTED.json");
    let e = from_detail(&d);
    assert_eq!(e.badges, Some(2.0));
    let s = e.strength.unwrap();
    assert_eq!(s.repetitions, Some(59.0));
    assert!(close(s.volume_grams.unwrap(), 1750.0 * 453.592_37));
    assert_eq!(s.tension_seconds, Some(80.0 + 255.0));
    let g: PerformanceGraph = fixture("performance_graph_strength_2024_RECONSTRUCTED.json");
    let groups = from_graph(&g).strength.unwrap().muscle_groups;
    let expected: BTreeMap<String, f64> = [
        ("biceps", 3600.0),
        ("shoulders", 2700.0),
        ("chest", 1800.0),
        ("triceps", 1500.0),
        ("core", 900.0),
        ("glutes", 600.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(groups, expected);
}

#[test]
fn the_2024_targets_fixture_exactly() {
    let g: PerformanceGraph = fixture("performance_graph_cycling_targets_2024_RECONSTRUCTED.json");
    let t = from_graph(&g).targets;
    assert_eq!(t["cadence"].in_seconds, 816.0);
    assert_eq!(t["cadence"].out_seconds, Some(1201.0 - 816.0));
    assert_eq!(t["resistance"].in_seconds, 530.0);
    assert_eq!(t["resistance"].out_seconds, Some(931.0 - 530.0));
}
