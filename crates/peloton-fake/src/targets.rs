//! Cadence and resistance targets of cycling classes in the performance graph:
//! `target_metrics_performance_data` (segments with inclusive offsets and `time_in_metric`),
//! or for workouts before 2021 the older `target_performance_metrics` with one value per
//! second and `*_time_in_range` (`fixtures/performance_graph_cycling_targets_2024_RECONSTRUCTED.json`).

use fastrand::Rng;
use serde_json::{Value, json};

use super::model::{GeneratedWorkout, WorkoutType};
use super::util::{mix, uniform};

const TARGETS_SALT: u64 = 0x7a46_0000_0000_0000;
/// Workouts started before 2021-01-01T00:00:00Z get the older shape.
pub(crate) const OLD_SHAPE_BEFORE: i64 = 1_609_459_200;
/// The new shape's offsets count from the start of the video, intro included (the walking
/// fixture's first segment starts at 60 and its last ends at duration + 60).
const INTRO_S: u32 = 60;

pub(crate) struct Segment {
    pub(crate) start: u32,
    /// Inclusive.
    pub(crate) end: u32,
    pub(crate) cadence: Option<(u32, u32)>,
    pub(crate) resistance: Option<(u32, u32)>,
}

impl Segment {
    fn len(&self) -> u32 {
        self.end + 1 - self.start
    }
}

/// About one in three instructor-led indoor cycling classes has targets.
pub(crate) fn has_targets(w: &GeneratedWorkout) -> bool {
    w.discipline == "cycling"
        && w.workout_type == WorkoutType::Class
        && !w.is_outdoor
        && mix(w.seed ^ TARGETS_SALT).is_multiple_of(3)
}

pub(crate) fn is_old_shape(w: &GeneratedWorkout) -> bool {
    w.start_time < OLD_SHAPE_BEFORE
}

/// Segments tiling the class: the next one starts one second after the previous ends. The
/// new shape spans `60..=60 + class`, the old one the class seconds `0..=class - 1`.
/// Every segment targets cadence; about one in five leaves resistance free.
pub(crate) fn segments(seed: u64, class_s: u32, old: bool) -> Vec<Segment> {
    let mut rng = Rng::with_seed(mix(seed ^ TARGETS_SALT ^ 1));
    let (first, last) = if old {
        (0, class_s.saturating_sub(1))
    } else {
        (INTRO_S, INTRO_S + class_s)
    };
    let mut out = Vec::new();
    let mut start = first;
    while start <= last {
        let end = (start + rng.u32(20..=120) - 1).min(last);
        let cad_lo = 5 * rng.u32(12..=20);
        let res_lo = 5 * rng.u32(5..=11);
        out.push(Segment {
            start,
            end,
            cadence: Some((cad_lo, cad_lo + 5 * rng.u32(2..=4))),
            resistance: (rng.u32(0..5) != 0).then(|| (res_lo, res_lo + 5 * rng.u32(1..=2))),
        });
        start = end + 1;
    }
    out
}

/// `(metric, seconds in range, targeted seconds)` for cadence and resistance.
pub(crate) fn truth(seed: u64, segs: &[Segment]) -> Vec<(String, f64, f64)> {
    let mut rng = Rng::with_seed(mix(seed ^ TARGETS_SALT ^ 2));
    let cadence: u32 = segs
        .iter()
        .filter(|s| s.cadence.is_some())
        .map(Segment::len)
        .sum();
    let resistance: u32 = segs
        .iter()
        .filter(|s| s.resistance.is_some())
        .map(Segment::len)
        .sum();
    [("cadence", cadence), ("resistance", resistance)]
        .into_iter()
        .map(|(name, targeted)| {
            let within = (f64::from(targeted) * uniform(&mut rng, 0.45, 0.9)).floor();
            (name.to_owned(), within, f64::from(targeted))
        })
        .collect()
}

/// The ground truth stored on the workout (empty without targets).
pub(crate) fn of(w: &GeneratedWorkout) -> Vec<(String, f64, f64)> {
    if !has_targets(w) {
        return Vec::new();
    }
    truth(
        w.seed,
        &segments(w.seed, w.duration_class_s, is_old_shape(w)),
    )
}

fn in_range(w: &GeneratedWorkout, metric: &str) -> i64 {
    w.targets
        .iter()
        .find(|t| t.0 == metric)
        .map_or(0, |t| t.1 as i64)
}

/// The graph key and value: `target_metrics_performance_data`, or `target_performance_metrics`
/// for old workouts with targets.
pub(crate) fn render(w: &GeneratedWorkout) -> (&'static str, Value) {
    if w.targets.is_empty() {
        return (
            "target_metrics_performance_data",
            json!({"target_metrics": [], "time_in_metric": []}),
        );
    }
    let old = is_old_shape(w);
    let segs = segments(w.seed, w.duration_class_s, old);
    if old {
        return ("target_performance_metrics", old_shape(w, &segs));
    }
    let items: Vec<Value> = segs
        .iter()
        .map(|s| {
            let mut metrics = Vec::new();
            for (name, range) in [("cadence", s.cadence), ("resistance", s.resistance)] {
                if let Some((lower, upper)) = range {
                    metrics.push(json!({"name": name, "upper": upper, "lower": lower}));
                }
            }
            json!({
                "offsets": {"start": s.start, "end": s.end},
                "segment_type": "cycling",
                "metrics": metrics,
            })
        })
        .collect();
    (
        "target_metrics_performance_data",
        json!({
            "target_metrics": items,
            "time_in_metric": [
                {"name": "cadence", "value": in_range(w, "cadence")},
                {"name": "resistance", "value": in_range(w, "resistance")},
            ],
        }),
    )
}

fn old_shape(w: &GeneratedWorkout, segs: &[Segment]) -> Value {
    let n = w.duration_class_s as usize;
    let graph = |kind: &str, pick: fn(&Segment) -> Option<(u32, u32)>| {
        let (mut upper, mut lower, mut average) = (vec![0; n], vec![0; n], vec![0; n]);
        for s in segs {
            let Some((lo, hi)) = pick(s) else { continue };
            for i in s.start as usize..=(s.end as usize).min(n.saturating_sub(1)) {
                if let (Some(u), Some(l), Some(a)) =
                    (upper.get_mut(i), lower.get_mut(i), average.get_mut(i))
                {
                    *u = hi;
                    *l = lo;
                    *a = u32::midpoint(lo, hi);
                }
            }
        }
        let targeted: Vec<u32> = average.iter().copied().filter(|a| *a > 0).collect();
        let mean = if targeted.is_empty() {
            0
        } else {
            targeted.iter().sum::<u32>() / targeted.len() as u32
        };
        json!({
            "graph_data": {"upper": upper, "lower": lower, "average": average},
            "max": upper.iter().copied().max().unwrap_or(0),
            "min": lower.iter().copied().filter(|l| *l > 0).min().unwrap_or(0),
            "average": mean,
            "type": kind,
        })
    };
    json!({
        "target_graph_metrics": [
            graph("cadence", |s| s.cadence),
            graph("resistance", |s| s.resistance),
        ],
        "cadence_time_in_range": in_range(w, "cadence"),
        "resistance_time_in_range": in_range(w, "resistance"),
    })
}
