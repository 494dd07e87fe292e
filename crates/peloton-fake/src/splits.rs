//! Distance splits of rides, runs and walks (`splits_data` + `splits_metrics`) and the
//! rower's 500 m splits (`splits_metrics` only, as in the rowing fixture). Derived from the
//! workout's seed alone, so every `every_n` shows the same splits and the stored
//! `best_split_seconds` matches what is rendered.

use fastrand::Rng;
use serde_json::{Value, json};

use super::catalog::{Kind, kind_of};
use super::model::{GeneratedWorkout, Units};
use super::util::{mix, round_to, uniform};

const SPLITS_SALT: u64 = 0x5b17_0000_0000_0000;
const ROW_SPLIT_M: f64 = 500.0;

/// One distance split: `marker` is the whole unit it ends at, or the fraction of the last
/// partial one; `elevation` is the change in display units (null without elevation).
pub(crate) struct Split {
    pub(crate) marker: f64,
    pub(crate) seconds: f64,
    pub(crate) elevation: Value,
}

/// The distance the graph shows: meters for the rower, else the member's unit.
pub(crate) fn shown_distance(w: &GeneratedWorkout, units: Units) -> Option<f64> {
    w.distance_meters.map(|d| {
        if kind_of(&w.discipline) == Kind::Row {
            round_to(d, 2)
        } else {
            round_to(d / units.meters_per_distance_unit(), 2)
        }
    })
}

/// Whole units cumulative, then the last partial split as its fraction (as in the
/// fixtures: 1.0, 2.0, …, 0.82).
pub(crate) fn distance_parts(w: &GeneratedWorkout, units: Units) -> Vec<Split> {
    let Some(shown) = shown_distance(w, units).filter(|d| *d > 0.0) else {
        return Vec::new();
    };
    let mut rng = Rng::with_seed(mix(w.seed ^ SPLITS_SALT));
    let with_elevation = kind_of(&w.discipline) == Kind::Tread;
    let per_unit = f64::from(w.duration_class_s) / shown;
    let whole = (shown.floor() as usize).min(500);
    let frac = round_to(shown - shown.floor(), 2);
    let mut parts: Vec<(f64, f64)> = (1..=whole)
        .map(|k| (k as f64, (per_unit * uniform(&mut rng, 0.93, 1.07)).round()))
        .collect();
    if frac >= 0.01 {
        parts.push((frac, (per_unit * frac).round()));
    }
    parts
        .into_iter()
        .map(|(marker, seconds)| Split {
            marker,
            seconds,
            elevation: if with_elevation {
                Value::from(rng.u32(0..15))
            } else {
                Value::Null
            },
        })
        .collect()
}

/// `splits_data` and `splits_metrics` of distance splits; the fastest whole split is best.
pub(crate) fn render_splits(parts: &[Split], units: Units) -> (Value, Value) {
    if parts.is_empty() {
        return (json!([]), json!({"header": [], "metrics": []}));
    }
    let best = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.marker >= 1.0)
        .min_by(|a, b| a.1.seconds.total_cmp(&b.1.seconds))
        .map(|(i, _)| i);
    let du = units.distance_unit();
    let eu = units.elevation_unit();
    let mut elapsed = 0.0;
    let mut split_items = Vec::new();
    let mut metric_rows = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let (marker, secs) = (p.marker, p.seconds);
        elapsed += secs;
        let length = if marker >= 1.0 { 1.0 } else { marker };
        split_items.push(json!({
            "distance_marker": marker,
            "order": i + 1,
            "seconds": secs,
            "elevation_change": p.elevation,
            "has_floor_segment": false,
            "is_best": Some(i) == best,
        }));
        metric_rows.push(json!({
            "is_best": Some(i) == best,
            "has_floor_segment": false,
            "data": [
                {"slug": du, "value": marker, "unit": du},
                {"slug": "total_time", "value": round_to(elapsed / 60.0, 2), "unit": "min"},
                {"slug": "pace", "value": round_to(secs / 60.0 / length, 2), "unit": units.pace_unit()},
                {"slug": "elevation", "value": p.elevation, "unit": eu},
            ],
        }));
    }
    (
        json!({
            "distance_marker_display_unit": du,
            "elevation_change_display_unit": eu,
            "splits": split_items,
        }),
        json!({
            "header": [
                {"slug": du, "display_name": du},
                {"slug": "total_time", "display_name": "Total Time"},
                {"slug": "pace", "display_name": "Pace"},
                {"slug": "elevation", "display_name": "Elevation"},
            ],
            "metrics": metric_rows,
        }),
    )
}

/// One row of the rower's `splits_metrics`.
pub(crate) struct RowSplit {
    /// Cumulative meters at the end of a whole split; the meters of the last partial one
    /// (as in the rowing fixture: 500.0, 1000.0, 23.28).
    pub(crate) meter: f64,
    /// Cumulative minutes at the end of the split, 2 decimals.
    pub(crate) total_time_min: f64,
    /// min/500m, 2 decimals.
    pub(crate) pace: f64,
    pub(crate) whole: bool,
}

/// 500 m splits whose paces vary around the average (each a multiple of 0.01 min), then
/// the partial rest, which ends at the class length.
pub(crate) fn row_parts(w: &GeneratedWorkout) -> Vec<RowSplit> {
    let Some(distance) = w
        .distance_meters
        .map(|d| round_to(d, 2))
        .filter(|d| *d > 0.0)
    else {
        return Vec::new();
    };
    let dur = f64::from(w.duration_class_s);
    let mut rng = Rng::with_seed(mix(w.seed ^ SPLITS_SALT ^ 1));
    let whole = ((distance / ROW_SPLIT_M).floor() as usize).min(200);
    let base_min = dur / distance * ROW_SPLIT_M / 60.0;
    let factors: Vec<f64> = (0..whole).map(|_| uniform(&mut rng, 0.94, 1.06)).collect();
    let mean = if whole == 0 {
        1.0
    } else {
        factors.iter().sum::<f64>() / whole as f64
    };
    let mut out = Vec::new();
    let mut elapsed_s = 0.0;
    for (k, f) in factors.iter().enumerate() {
        let pace = round_to(base_min * f / mean, 2);
        elapsed_s += pace * 60.0;
        out.push(RowSplit {
            meter: (k + 1) as f64 * ROW_SPLIT_M,
            total_time_min: round_to(elapsed_s / 60.0, 2),
            pace,
            whole: true,
        });
    }
    let rest_m = distance - whole as f64 * ROW_SPLIT_M;
    if rest_m >= 0.01 {
        let rest_s = (dur - elapsed_s).max(1.0);
        out.push(RowSplit {
            meter: rest_m,
            total_time_min: round_to((elapsed_s + rest_s) / 60.0, 2),
            pace: round_to(rest_s / 60.0 / (rest_m / ROW_SPLIT_M), 2),
            whole: false,
        });
    }
    out
}

/// Whole 500 m splits all at `pace` (a live ride's, from its running average).
pub(crate) fn even_row_parts(distance_m: f64, dur: u32, pace: f64) -> Vec<RowSplit> {
    let mut out = Vec::new();
    let mut done = 0.0;
    while done + ROW_SPLIT_M <= distance_m && out.len() < 200 {
        done += ROW_SPLIT_M;
        out.push(RowSplit {
            meter: done,
            total_time_min: round_to(done / distance_m * f64::from(dur) / 60.0, 2),
            pace,
            whole: true,
        });
    }
    out
}

fn best_row(parts: &[RowSplit]) -> Option<usize> {
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| p.whole)
        .min_by(|a, b| a.1.pace.total_cmp(&b.1.pace))
        .map(|(i, _)| i)
}

pub(crate) fn row_splits(parts: &[RowSplit]) -> Value {
    let best = best_row(parts);
    let rows: Vec<Value> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "is_best": Some(i) == best,
                "has_floor_segment": false,
                "data": [
                    {"slug": "meter", "value": p.meter, "unit": "m"},
                    {"slug": "total_time", "value": p.total_time_min, "unit": "min"},
                    {"slug": "pace", "value": p.pace, "unit": "min/500m"},
                ],
            })
        })
        .collect();
    json!({
        "header": [
            {"slug": "meter", "display_name": "Meters"},
            {"slug": "total_time", "display_name": "Total Time"},
            {"slug": "pace", "display_name": "min/500m"},
        ],
        "metrics": rows,
    })
}

/// The stored truth: see [`GeneratedWorkout::best_split_seconds`].
pub(crate) fn best_split_seconds(w: &GeneratedWorkout, units: Units) -> Option<f64> {
    if kind_of(&w.discipline) == Kind::Row {
        let parts = row_parts(w);
        return best_row(&parts)
            .and_then(|i| parts.get(i))
            .map(|p| p.pace * 60.0);
    }
    distance_parts(w, units)
        .iter()
        .filter(|p| p.marker >= 1.0)
        .map(|p| p.seconds)
        .min_by(f64::total_cmp)
}
