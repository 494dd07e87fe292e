//! A workout's badges, strength work, time in target and best split, from its detail and
//! its performance graph, in base units (grams, seconds). What cannot be true is
//! dropped, never turned into a 0.

use std::collections::BTreeMap;

use crate::domain::labels::{self, OTHER};
use crate::domain::plausible::{self, MAX_DURATION_SECONDS};
use crate::domain::units;
use crate::domain::workout_extras::{
    self, BestSplit, SplitDistance, Strength, TargetTime, WorkoutExtras,
};
use crate::peloton::model::{
    self, CompletedMovements, PerformanceGraph, RepetitionSummary, SplitsData, SplitsMetrics,
    Targets,
};

/// More repetitions than one set can hold.
const MAX_SET_REPS: f64 = 1_000.0;
/// Heavier than any dumbbell pair, in grams.
const MAX_WEIGHT_G: f64 = 500_000.0;
/// More than a lifetime's volume in one class, in grams.
const MAX_VOLUME_G: f64 = 1_000_000_000.0;
/// More badges than one workout can earn.
const MAX_BADGES: f64 = 1_000.0;
/// The highest muscle-group score Peloton could give one class.
const MAX_MUSCLE_SCORE: f64 = 1_000_000.0;
/// Most target metrics kept per workout.
const MAX_TARGET_METRICS: usize = 8;

/// What the detail adds: the badges earned and the tracked strength movements.
pub fn from_detail(d: &model::Workout) -> WorkoutExtras {
    WorkoutExtras {
        badges: d.achievement_templates.as_ref().map(|t| badges(t)),
        strength: d
            .movement_tracker_data
            .as_ref()
            .and_then(|m| m.completed_movements_summary_data.as_ref())
            .and_then(movements),
        ..WorkoutExtras::default()
    }
}

/// What the graph adds: muscle groups, time in target, the best split.
pub fn from_graph(g: &PerformanceGraph) -> WorkoutExtras {
    let muscle_groups = muscle_groups(&g.muscle_group_score);
    WorkoutExtras {
        strength: (!muscle_groups.is_empty()).then(|| Strength {
            muscle_groups,
            ..Strength::default()
        }),
        targets: targets(g),
        best_split: g
            .splits_metrics
            .as_ref()
            .and_then(row_split)
            .or_else(|| g.splits_data.as_ref().and_then(distance_split)),
        ..WorkoutExtras::default()
    }
}

/// Badges: one per template, or the template's `achievement_count` when it gives one.
fn badges(templates: &[serde_json::Value]) -> f64 {
    // A fold from +0: an empty float sum is -0, which would be written as "-0".
    let count = templates
        .iter()
        .filter(|t| t.is_object())
        .map(|t| {
            t.get("achievement_count")
                .and_then(serde_json::Value::as_f64)
                .filter(|n| n.is_finite() && *n >= 1.0 && *n <= MAX_BADGES)
                .map_or(1.0, f64::trunc)
        })
        .fold(0.0, |a, b| a + b);
    count.min(MAX_BADGES)
}

fn is_hold(set: &RepetitionSummary) -> bool {
    set.is_hold.unwrap_or_else(|| {
        set.tracking_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains("time"))
    })
}

/// Grams a set's weights add per repetition. Peloton gives one `weight_value` for a
/// pair of dumbbells and counts both in its `total_volume` (P2G #727), so a single
/// weight counts twice; two listed weights count once each.
fn set_grams(set: &RepetitionSummary, default_unit: &str) -> Option<f64> {
    let weights: Vec<f64> = set
        .weight
        .iter()
        .filter_map(|w| w.weight_data.as_ref())
        .map(|w| {
            let unit = w.weight_unit.as_deref().unwrap_or(default_unit);
            units::weight_to_grams(w.weight_value?, unit)
        })
        // A weight in a unit this build does not know makes the volume unknown, not 0.
        .collect::<Option<_>>()?;
    if weights
        .iter()
        .any(|w| !w.is_finite() || *w < 0.0 || *w > MAX_WEIGHT_G)
    {
        return None;
    }
    match weights.as_slice() {
        [] => Some(0.0),
        [one] => Some(one * 2.0),
        many => Some(many.iter().fold(0.0, |a, b| a + b)),
    }
}

/// Repetitions, volume and time under tension of the tracked sets; `None` when no set
/// was tracked.
fn movements(c: &CompletedMovements) -> Option<Strength> {
    let sets = c.repetition_summary_data.as_ref()?;
    let unit = c.weight_unit.as_deref().unwrap_or("lb");
    let mut reps = 0.0;
    let mut tension = 0.0;
    let mut volume = Some(0.0);
    let mut tracked = 0;
    for set in sets {
        let Some(n) = set.completed_number.filter(|n| n.is_finite() && *n >= 0.0) else {
            continue;
        };
        if is_hold(set) {
            // A hold's number is the seconds held.
            if n <= MAX_DURATION_SECONDS {
                tension += n;
                tracked += 1;
            }
            continue;
        }
        if n > MAX_SET_REPS {
            continue;
        }
        tracked += 1;
        reps += n;
        if n > 0.0
            && let Some(len) = set.length.filter(|l| l.is_finite() && *l > 0.0)
            && len <= MAX_DURATION_SECONDS
        {
            tension += len;
        }
        let own = set
            .total_volume
            .filter(|v| v.is_finite() && *v >= 0.0)
            .and_then(|v| units::weight_to_grams(v, unit));
        let set_volume = own.or_else(|| set_grams(set, unit).map(|g| g * n));
        volume = match (volume, set_volume) {
            (Some(total), Some(v)) => Some(total + v),
            _ => None,
        };
    }
    if tracked == 0 {
        return None;
    }
    let peloton_volume = c
        .total_volume
        .filter(|v| v.is_finite() && *v >= 0.0)
        .and_then(|v| units::weight_to_grams(v, unit));
    let peloton_reps = c
        .total_repetitions
        .filter(|r| r.is_finite() && *r >= 0.0 && *r <= MAX_SET_REPS * sets.len() as f64);
    Some(Strength {
        repetitions: Some(peloton_reps.unwrap_or(reps)),
        volume_grams: plausible::within(peloton_volume.or(volume), MAX_VOLUME_G),
        tension_seconds: plausible::within(Some(tension), MAX_DURATION_SECONDS),
        muscle_groups: BTreeMap::new(),
    })
}

/// Score per muscle group; unknown groups summed under `other`.
fn muscle_groups(scores: &[model::MuscleGroupScore]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in scores {
        let (Some(group), Some(score)) = (s.muscle_group.as_deref(), s.score) else {
            continue;
        };
        if score.is_finite() && (0.0..=MAX_MUSCLE_SCORE).contains(&score) {
            *out.entry(workout_extras::muscle_group(group))
                .or_insert(0.0) += score;
        }
    }
    out
}

/// Time in and out of target per metric, from whichever name the graph uses.
fn targets(g: &PerformanceGraph) -> BTreeMap<String, TargetTime> {
    [
        g.target_metrics_performance_data.as_ref(),
        g.target_performance_metrics.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|t| target_times(t, g.duration))
    .find(|t| !t.is_empty())
    .unwrap_or_default()
}

fn target_times(t: &Targets, class_length: Option<f64>) -> BTreeMap<String, TargetTime> {
    let mut in_range: Vec<(String, f64)> = t
        .time_in_metric
        .iter()
        .filter_map(|m| Some((m.name.clone()?, m.value?)))
        .collect();
    // The 2020 shape: `cadence_time_in_range`, `resistance_time_in_range`.
    for (key, value) in &t.other {
        if let (Some(metric), Some(v)) = (key.strip_suffix("_time_in_range"), value.as_f64()) {
            in_range.push((metric.to_owned(), v));
        }
    }
    let mut out = BTreeMap::new();
    for (name, seconds) in in_range {
        if !(seconds.is_finite() && (0.0..=MAX_DURATION_SECONDS).contains(&seconds)) {
            continue;
        }
        let metric = workout_extras::target_metric(&name);
        let key = labels::admit(&out, metric, MAX_TARGET_METRICS, OTHER.to_owned());
        let targeted = targeted_seconds(t, &name, class_length);
        let entry = out.entry(key).or_insert(TargetTime {
            in_seconds: 0.0,
            out_seconds: Some(0.0),
        });
        entry.in_seconds += seconds;
        entry.out_seconds = match (entry.out_seconds, targeted) {
            (Some(acc), Some(total)) if total >= seconds => Some(acc + total - seconds),
            _ => None,
        };
    }
    out
}

/// Seconds of the class that set a target for `metric`: the union of its segments
/// (inclusive offsets), or the points of its per-second target graph.
fn targeted_seconds(t: &Targets, metric: &str, class_length: Option<f64>) -> Option<f64> {
    let mut spans: Vec<(f64, f64)> = t
        .target_metrics
        .iter()
        .filter(|s| s.metrics.iter().any(|m| m.name.as_deref() == Some(metric)))
        .filter_map(|s| {
            let o = s.offsets.as_ref()?;
            let (start, end) = (o.start?, o.end?);
            (start.is_finite() && end.is_finite() && start >= 0.0 && end >= start)
                .then_some((start, end + 1.0))
        })
        .collect();
    if !spans.is_empty() {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (mut total, mut reach) = (0.0, f64::NEG_INFINITY);
        for (start, end) in spans {
            let from = start.max(reach);
            if end > from {
                total += end - from;
            }
            reach = reach.max(end);
        }
        return plausible::within(Some(total), MAX_DURATION_SECONDS);
    }
    let graph = t
        .target_graph_metrics
        .iter()
        .find(|g| g.kind.as_deref() == Some(metric))?;
    let points = graph.graph_data.as_ref()?.upper.as_slice();
    let set = points.iter().flatten().filter(|v| **v > 0.0).count() as f64;
    if points.is_empty() || set == 0.0 {
        return None;
    }
    // One point per second of the class in every sample seen; scaled if not.
    let per_point = class_length
        .filter(|l| *l > 0.0)
        .map_or(1.0, |l| l / points.len() as f64);
    plausible::within(Some(set * per_point), MAX_DURATION_SECONDS)
}

/// The rower's fastest whole 500 m split from `splits_metrics` (cumulative `meter`, the
/// split's `pace` in min/500m).
fn row_split(m: &SplitsMetrics) -> Option<BestSplit> {
    let mut previous = 0.0;
    let mut best: Option<f64> = None;
    for row in &m.metrics {
        let cell = |slug: &str| row.data.iter().find(|c| c.slug.as_deref() == Some(slug));
        let (Some(meter), Some(pace)) = (cell("meter"), cell("pace")) else {
            continue;
        };
        if pace
            .unit
            .as_deref()
            .is_some_and(|u| !u.eq_ignore_ascii_case("min/500m"))
        {
            continue;
        }
        let (Some(mark), Some(minutes)) = (meter.value, pace.value) else {
            continue;
        };
        let length = mark - previous;
        previous = mark;
        let seconds = minutes * 60.0;
        if (length - 500.0).abs() <= 1.0 && seconds.is_finite() && seconds > 0.0 {
            best = Some(best.map_or(seconds, |b| b.min(seconds)));
        }
    }
    let seconds = plausible::within(best, MAX_DURATION_SECONDS)?;
    Some(BestSplit {
        distance: SplitDistance::Meters500,
        seconds,
    })
}

/// The fastest whole mile or kilometre of `splits_data` (a partial last split is a
/// fraction of the unit and is not a split of that distance).
fn distance_split(d: &SplitsData) -> Option<BestSplit> {
    let distance = match d.distance_marker_display_unit.as_deref()?.trim() {
        u if u.eq_ignore_ascii_case("mi") => SplitDistance::Mile,
        u if u.eq_ignore_ascii_case("km") => SplitDistance::Kilometer,
        _ => return None,
    };
    let best = d
        .splits
        .iter()
        .filter(|s| {
            s.distance_marker
                .is_some_and(|m| m >= 1.0 && (m - m.round()).abs() < 1e-6)
        })
        .filter_map(|s| s.seconds)
        .filter(|s| s.is_finite() && *s > 0.0)
        .reduce(f64::min);
    let seconds = plausible::within(best, MAX_DURATION_SECONDS)?;
    Some(BestSplit { distance, seconds })
}

#[cfg(test)]
mod tests;
