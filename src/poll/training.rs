//! One workout's training analytics, computed once when its performance graph (and, for
//! bike power, its detail with `ftp_info`) arrives; the poller stores the result with the
//! workout and never computes it again.

use crate::domain::WorkoutSummary;
use crate::domain::fetched::{WorkoutDetail, WorkoutGraph};
use crate::domain::training::{Trace, WorkoutTraining};
use crate::domain::workout_extras::STRENGTH_DISCIPLINES;

/// The `every_n` the graph is requested with (docs/metrics.md, "Resolution"): 1 s, because
/// Peloton's coarser buckets are point samples rather than averages and do not reproduce
/// its own average output.
pub const GRAPH_EVERY_N: u32 = 1;

/// Whether the workout's detail is needed: bike power needs the FTP in force, which only
/// the detail's `ftp_info` gives, and a strength class's reps and weights are only there.
pub fn needs_detail(w: &WorkoutSummary, graph: Option<&WorkoutGraph>) -> bool {
    STRENGTH_DISCIPLINES.contains(&w.discipline.as_str())
        || graph.is_some_and(|g| g.has_bike_power(&w.discipline))
}

/// The analytics and the trace of a workout from what Peloton served (`graph` is `None`
/// when Peloton refused it; heart-rate load and effort points then come from the list).
pub fn analyse(
    w: &WorkoutSummary,
    graph: Option<WorkoutGraph>,
    detail: Option<&WorkoutDetail>,
) -> (WorkoutTraining, Option<Trace>) {
    let bike_power = graph
        .as_ref()
        .is_some_and(|g| g.has_bike_power(&w.discipline));
    let trace = graph.map(|g| g.trace);
    let power = trace.as_ref().filter(|_| bike_power).and_then(Trace::power);
    let ftp = detail.and_then(|d| d.ftp);
    let training = WorkoutTraining::compute(
        power.as_ref(),
        ftp.filter(|_| power.is_some()),
        w.hr_zone_seconds.as_ref(),
        w.effort_points,
    );
    (training, trace.filter(|t| !t.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::training::LoadMethod;
    use crate::peloton::convert;
    use crate::peloton::model::{PerformanceGraph, Workout};

    fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn graph(name: &str) -> WorkoutGraph {
        convert::graph(&fixture::<PerformanceGraph>(name), GRAPH_EVERY_N)
    }

    fn summary(discipline: &str, graph: &WorkoutGraph) -> WorkoutSummary {
        let item: Workout = serde_json::from_value(serde_json::json!({
            "id": "w", "status": "COMPLETE", "fitness_discipline": discipline,
            "start_time": 1000, "end_time": 2200
        }))
        .unwrap();
        WorkoutSummary::from_list_item(&item)
            .unwrap()
            .with_graph(graph)
    }

    #[test]
    fn a_ride_at_every_n_1_with_its_ftp() {
        let graph = graph("performance_graph_cycling_metric_units_2020.json");
        let detail = convert::detail(&fixture::<Workout>(
            "workout_detail_cycling_2020_with_instructor.json",
        ));
        let w = summary("cycling", &graph);
        assert!(needs_detail(&w, Some(&graph)));
        let (t, trace) = analyse(&w, Some(graph.clone()), Some(&detail));
        assert_eq!(t.ftp.map(|f| f.watts), Some(243.0));
        // Peloton's own average output of this ride is 94 W; gaps count as 0 W here.
        let avg = t.average_watts.unwrap();
        assert!((avg - 94.0).abs() < 1.0, "{avg}");
        let np = t.normalized_power_watts.unwrap();
        assert!(np >= avg, "{np} < {avg}");
        assert_eq!(t.load.map(|(m, _)| m), Some(LoadMethod::Power));
        assert!(
            t.power_curve_watts[0].unwrap() <= 152.0,
            "max output is 152 W"
        );
        assert!(t.power_zone_seconds.is_some());
        assert_eq!(trace.map(|t| t.step_s), Some(1));
        // Without the detail there is no FTP: no IF, TSS or zones, but the curve stays.
        let (t, _) = analyse(&w, Some(graph.clone()), None);
        assert_eq!(t.intensity_factor, None);
        assert_eq!(t.power_zone_seconds, None);
        assert!(t.power_curve_watts[0].is_some());
    }

    #[test]
    fn a_run_gets_a_heart_rate_load_and_no_power() {
        let graph = graph("performance_graph_running_tread_2020.json");
        let w = summary("running", &graph);
        assert!(!needs_detail(&w, Some(&graph)));
        let (t, trace) = analyse(&w, Some(graph.clone()), None);
        assert_eq!(
            t.power_curve_watts, [None; 5],
            "tread output is not bike power"
        );
        assert_eq!(t.load.map(|(m, _)| m), Some(LoadMethod::HeartRateTrimp));
        assert!(trace.is_some_and(|t| !t.output_watts.is_empty()));
    }
}
