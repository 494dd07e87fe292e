//! `GET /api/workout/{id}/performance_graph`, generated at request time from the workout's
//! seed and truths (API.md §4.5; shapes of the `performance_graph_*` fixtures).
//!
//! The series are scaled so their mean is the stored average and their peak the stored
//! maximum; summaries and averages are the stored truths in the member's display units.

use fastrand::Rng;
use serde_json::{Value, json};

use super::catalog::{self, Kind, kind_of};
use super::model::{GeneratedWorkout, MemberData, Stat, Units, WorkoutType};
use super::render;
use super::splits;
use super::strength;
use super::targets;
use super::util::{hex32_from, mix, round_to, uniform};

const GRAPH_SALT: u64 = 0x6a4f_0000_0000_0000;
pub(crate) const MAX_EVERY_N: u32 = 600;

/// One metric series as shown: `None` values render as `null`.
pub(crate) struct Series {
    pub(crate) values: Vec<Option<f64>>,
    pub(crate) avg: f64,
    pub(crate) max: f64,
    pub(crate) decimals: i32,
}

impl Series {
    /// For an in-progress workout only a prefix exists and the stats describe that prefix.
    /// `lower_is_better` marks pace, whose "max" is the fastest (smallest) value.
    fn visible(mut self, n: usize, in_progress: bool, lower_is_better: bool) -> Self {
        self.values.truncate(n);
        if in_progress {
            let seen: Vec<f64> = self.values.iter().flatten().copied().collect();
            if !seen.is_empty() {
                self.avg = round_to(seen.iter().sum::<f64>() / seen.len() as f64, self.decimals);
                self.max = if lower_is_better {
                    seen.iter().copied().fold(f64::INFINITY, f64::min)
                } else {
                    seen.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                };
            }
        }
        self
    }
}

pub(crate) fn number(x: f64, decimals: i32) -> Value {
    if decimals == 0 {
        Value::from(x.round() as i64)
    } else {
        Value::from(round_to(x, decimals))
    }
}

pub(crate) fn metric(
    display_name: &str,
    unit: &str,
    slug: &str,
    s: &Series,
) -> serde_json::Map<String, Value> {
    let values: Vec<Value> = s
        .values
        .iter()
        .map(|v| v.map_or(Value::Null, |x| number(x, s.decimals)))
        .collect();
    let v = json!({
        "display_name": display_name,
        "display_unit": unit,
        "max_value": number(s.max, s.decimals),
        "average_value": number(s.avg, s.decimals),
        "values": values,
        "slug": slug,
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

pub(crate) fn summary(display_name: &str, unit: Option<&str>, slug: &str, value: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("display_name".into(), Value::from(display_name));
    m.insert("display_unit".into(), unit.map_or(Value::Null, Value::from));
    m.insert("value".into(), value);
    m.insert("slug".into(), Value::from(slug));
    Value::Object(m)
}

/// Intensity profile in roughly 0..1.6 sampled at `offsets`: warm-up ramp, blocks of effort
/// with a few short sprints, cool-down. Defined over seconds so different `every_n` show the
/// same ride. Rides (`efforts`) sprint harder and shorter, and one in three classes of 30
/// minutes or more holds a 20-minute threshold effort, as FTP tests and power-zone
/// endurance rides do, so a member's power curve has a real sprint and a real 20 minutes.
fn base_shape(rng: &mut Rng, offsets: &[u32], dur: u32, efforts: bool) -> Vec<f64> {
    let d = f64::from(dur.max(1));
    let blocks = rng.usize(4..=10);
    let levels: Vec<f64> = (0..blocks).map(|_| uniform(rng, 0.55, 1.0)).collect();
    let (sprint_level, sprint_s) = if efforts {
        (1.6, (8.0, 20.0))
    } else {
        (1.3, (20.0, 60.0))
    };
    let sprints: Vec<(f64, f64)> = (0..rng.usize(2..=4))
        .map(|_| {
            let at = uniform(rng, 0.15, 0.85);
            (at, at + uniform(rng, sprint_s.0, sprint_s.1) / d)
        })
        .collect();
    let threshold = (efforts && dur >= 1800 && rng.u32(0..3) == 0).then(|| {
        let at = uniform(rng, 0.15, (0.9 - 1200.0 / d).max(0.15));
        (at, at + 1200.0 / d, uniform(rng, 1.0, 1.1))
    });
    offsets
        .iter()
        .map(|&t| {
            let x = f64::from(t) / d;
            let level = if x < 0.12 {
                0.35 + 0.25 * x / 0.12
            } else if x > 0.92 {
                0.6 - 0.3 * ((x - 0.92) / 0.08).min(1.0)
            } else if sprints.iter().any(|(a, b)| x >= *a && x < *b) {
                sprint_level
            } else if let Some((_, _, level)) = threshold.filter(|(a, b, _)| x >= *a && x < *b) {
                level
            } else {
                let i = (((x - 0.12) / 0.8) * blocks as f64) as usize;
                levels.get(i.min(blocks - 1)).copied().unwrap_or(0.7)
            };
            level + uniform(rng, -0.04, 0.04)
        })
        .collect()
}

/// Scales `shape` (plus jitter) so its mean is `avg` and its peak `max`, never below `floor`.
/// When the shape's dips would cross the floor, the swing is reduced and the peak sample is
/// raised to `max`, the other samples lowered to keep the mean.
fn scaled(rng: &mut Rng, shape: &[f64], stat: Stat, jitter: f64, floor: f64) -> Vec<f64> {
    let raw: Vec<f64> = shape
        .iter()
        .map(|s| s + uniform(rng, -jitter, jitter))
        .collect();
    if raw.is_empty() {
        return raw;
    }
    let n = raw.len() as f64;
    let mean = raw.iter().sum::<f64>() / n;
    let top = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let bottom = raw.iter().copied().fold(f64::INFINITY, f64::min);
    let mut k = if top - mean > 1e-9 {
        (stat.max - stat.avg) / (top - mean)
    } else {
        0.0
    };
    if mean - bottom > 1e-9 {
        k = k.min((stat.avg - floor).max(0.0) / (mean - bottom));
    }
    let mut out: Vec<f64> = raw.iter().map(|x| stat.avg + (x - mean) * k).collect();
    let peak = out
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    if let Some(i) = peak
        && raw.len() > 1
    {
        let excess = stat.max - out.get(i).copied().unwrap_or(stat.max);
        if excess > 0.0 {
            let share = excess / (n - 1.0);
            for (j, v) in out.iter_mut().enumerate() {
                *v = if j == i { stat.max } else { *v - share };
            }
        }
    }
    out.into_iter().map(|v| v.max(floor)).collect()
}

/// Heart rate lags effort: a moving average of the shape.
fn lagged(shape: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(shape.len());
    let mut acc = shape.first().copied().unwrap_or(0.0);
    for s in shape {
        acc = 0.85 * acc + 0.15 * s;
        out.push(acc);
    }
    out
}

fn plain(values: Vec<f64>, stat: Stat, decimals: i32) -> Series {
    Series {
        values: values.into_iter().map(Some).collect(),
        avg: stat.avg,
        max: stat.max,
        decimals,
    }
}

pub(crate) fn pace_of(speed: f64) -> Option<f64> {
    (speed > 0.5).then(|| round_to(60.0 / speed, 2))
}

pub(crate) fn split_pace_of(mps: f64) -> Option<f64> {
    (mps > 0.3).then(|| round_to(500.0 / (mps * 60.0), 2))
}

pub(crate) fn zones_json(m: &MemberData, z: &[f64; 5]) -> Vec<Value> {
    let lb: Vec<i64> = m.heart_rate_zones.iter().map(|b| b.ceil() as i64).collect();
    let top = (m.max_heart_rate + 3.0).round() as i64;
    (0..5)
        .map(|i| {
            let min = if i == 0 {
                0
            } else {
                lb.get(i).copied().unwrap_or(0)
            };
            let max = lb.get(i + 1).map_or(top, |next| next - 1);
            let range = match i {
                0 => format!("<{} bpm", max + 1),
                4 => format!(">={min} bpm"),
                _ => format!("{min}-{max} bpm"),
            };
            json!({
                "display_name": format!("Zone {}", i + 1),
                "slug": format!("zone{}", i + 1),
                "range": range,
                "duration": z.get(i).copied().unwrap_or(0.0) as i64,
                "max_value": max,
                "min_value": min,
            })
        })
        .collect()
}

fn segment(
    w: &GeneratedWorkout,
    i: u64,
    start: u32,
    length: u32,
    name: &str,
    icon: &str,
    mets: f64,
) -> Value {
    json!({
        "id": hex32_from(mix(w.seed ^ (0x5e6 + i))),
        "length": length,
        "start_time_offset": start,
        "icon_url": format!("https://s3.amazonaws.com/static-cdn.pelotoncycle.com/segment-icons/{icon}.png"),
        "intensity_in_mets": mets,
        "metrics_type": catalog::metrics_type(kind_of(&w.discipline)).unwrap_or("floor"),
        "icon_name": icon,
        "icon_slug": icon,
        "name": name,
        "is_drill": false,
    })
}

pub(crate) fn segments(w: &GeneratedWorkout, kind: Kind) -> Vec<Value> {
    let dur = w.duration_class_s;
    let main_icon = match kind {
        Kind::Bike => "cycling".to_owned(),
        Kind::Row => "caesar".to_owned(),
        Kind::Tread if w.discipline == "walking" => "walking".to_owned(),
        Kind::Tread => "running".to_owned(),
        Kind::Floor if w.discipline == "strength" => "full_body".to_owned(),
        Kind::Floor => w.discipline.clone(),
    };
    let main_name = catalog::display_name(&w.discipline);
    if dur < 600 || w.workout_type != WorkoutType::Class {
        return vec![segment(w, 0, 0, dur, &main_name, &main_icon, 6.0)];
    }
    let warm = (dur / 10 / 60).max(1) * 60;
    let cool = 60;
    vec![
        segment(w, 0, 0, warm, "Warmup", "warmup", 3.5),
        segment(w, 1, warm, dur - warm - cool, &main_name, &main_icon, 6.0),
        segment(w, 2, dur - cool, cool, "Cool Down", "cooldown", 3.5),
    ]
}

fn location_data(w: &GeneratedWorkout, offsets: &[u32], units: Units, segs: &[Value]) -> Value {
    let total_m = w.distance_meters.unwrap_or(0.0);
    let dur = f64::from(w.duration_class_s.max(1));
    let mut out = Vec::new();
    for seg in segs {
        let start = seg
            .get("start_time_offset")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32;
        let len = seg.get("length").and_then(Value::as_u64).unwrap_or(0) as u32;
        let coords: Vec<Value> = offsets
            .iter()
            .filter(|t| **t >= start && **t < start + len)
            .map(|&t| {
                let meters = total_m * f64::from(t) / dur;
                json!({
                    "accuracy": 5.0 + (f64::from(t) * 7.0) % 20.0,
                    "distance": round_to(meters / units.meters_per_distance_unit(), 2),
                    "distance_display_unit": units.distance_unit(),
                    "latitude": round_to(40.7 + meters / 111_000.0, 6),
                    "longitude": round_to(-74.0 + meters / 150_000.0, 6),
                    "seconds_offset_from_start": t,
                })
            })
            .collect();
        out.push(json!({"segment_id": seg.get("id"), "is_gap": false, "coordinates": coords}));
    }
    Value::Array(out)
}

/// Accumulates `average_summaries` and `metrics` in the fixtures' order.
struct GraphParts {
    rng: Rng,
    shape: Vec<f64>,
    visible: usize,
    in_progress: bool,
    averages: Vec<Value>,
    metrics: Vec<Value>,
}

impl GraphParts {
    fn series(&mut self, stat: Stat, jitter: f64, decimals: i32) -> Series {
        plain(
            scaled(&mut self.rng, &self.shape, stat, jitter, 0.0),
            stat,
            decimals,
        )
        .visible(self.visible, self.in_progress, false)
    }

    fn average(&mut self, name: &str, unit: &str, slug: &str, s: &Series) {
        self.averages
            .push(summary(name, Some(unit), slug, number(s.avg, s.decimals)));
    }

    fn push(
        &mut self,
        avg_name: &str,
        avg_slug: &str,
        name: &str,
        unit: &str,
        slug: &str,
        s: &Series,
    ) {
        self.average(avg_name, unit, avg_slug, s);
        self.metrics
            .push(Value::Object(metric(name, unit, slug, s)));
    }

    /// Rower: `split_pace` in min/500m, derived from the speed truth.
    fn split_pace(&mut self, sp: Stat) {
        let mps = scaled(&mut self.rng, &self.shape, sp, 0.05, 0.0);
        let s = Series {
            values: mps.iter().map(|x| split_pace_of(*x)).collect(),
            avg: round_to(500.0 / (sp.avg * 60.0), 2),
            max: round_to(500.0 / (sp.max * 60.0), 2),
            decimals: 2,
        }
        .visible(self.visible, self.in_progress, true);
        self.push(
            "Avg Pace",
            "avg_split_pace",
            "Pace",
            "min/500m",
            "split_pace",
            &s,
        );
    }

    /// Tread and outdoor: `pace` with a `speed` alternative, then `incline` (tread only).
    fn pace(&mut self, units: Units, sp: Stat, incline: Option<Stat>) {
        let shown = shown_speed(units, sp);
        let speeds = scaled(&mut self.rng, &self.shape, shown, 0.03, 0.0);
        let speed = plain(speeds.clone(), shown, 1).visible(self.visible, self.in_progress, false);
        let pace = Series {
            values: speeds.iter().map(|x| pace_of(*x)).collect(),
            avg: pace_of(shown.avg).unwrap_or(0.0),
            max: pace_of(shown.max).unwrap_or(0.0),
            decimals: 2,
        }
        .visible(self.visible, self.in_progress, true);
        self.average("Avg Pace", units.pace_unit(), "avg_pace", &pace);
        let mut pm = metric("Pace", units.pace_unit(), "pace", &pace);
        let alternative = metric("Speed", units.speed_unit(), "speed", &speed);
        pm.insert("alternatives".into(), json!([Value::Object(alternative)]));
        self.metrics.push(Value::Object(pm));
        if let Some(inc) = incline {
            let s = self.series(inc, 0.02, 1);
            self.push("Avg Incline", "avg_incline", "Incline", "%", "incline", &s);
        }
        self.average("Avg Speed", units.speed_unit(), "avg_speed", &speed);
    }

    /// Outdoor: an `altitude` profile whose rise is the elevation gain; no average or max,
    /// as in the outdoor fixture.
    fn altitude(&mut self, units: Units, offsets: &[u32], dur: u32, gain_m: f64) {
        let base = uniform(&mut self.rng, 20.0, 200.0);
        let values: Vec<i64> = offsets
            .iter()
            .take(self.visible)
            .map(|t| {
                let progress = f64::from(*t) / f64::from(dur.max(1));
                let meters = base + gain_m * (progress * std::f64::consts::PI).sin();
                (meters / units.meters_per_elevation_unit()).round() as i64
            })
            .collect();
        self.metrics.push(json!({
            "display_name": "Elevation",
            "display_unit": units.elevation_unit(),
            "max_value": null,
            "average_value": null,
            "values": values,
            "slug": "altitude",
        }));
    }
}

/// `seconds_since_pedaling_start` of a graph: every `every_n`-th second from 1 up to `last`.
/// A completed graph runs to `duration + 1`; a live ride's to its elapsed second, plus that
/// second itself when it is off the grid (the 2024 cycling fixture also ends on its last
/// second, `…, 1191, 1196, 1200`).
pub(crate) fn grid(last: u32, every_n: u32) -> Vec<u32> {
    let every_n = every_n.max(1);
    if last == 0 {
        return Vec::new();
    }
    (0..=(last - 1) / every_n)
        .map(|i| 1 + i * every_n)
        .collect()
}

fn shown_speed(units: Units, sp: Stat) -> Stat {
    let per_unit = units.mps_per_speed_unit();
    Stat {
        avg: round_to(sp.avg / per_unit, 1),
        max: round_to(sp.max / per_unit, 1),
    }
}

pub(crate) fn performance_graph(
    member: &MemberData,
    w: &GeneratedWorkout,
    every_n: u32,
    now: i64,
) -> Value {
    let units = member.units;
    let kind = kind_of(&w.discipline);
    let every_n = every_n.clamp(1, MAX_EVERY_N);
    let dur = w.duration_class_s;
    let in_progress = !w.is_complete();
    let shown_secs = if in_progress {
        u32::try_from((now - w.start_time).clamp(0, i64::from(dur))).unwrap_or(0)
    } else {
        dur
    };
    let fraction = f64::from(shown_secs) / f64::from(dur.max(1));
    let offsets = grid(dur.saturating_add(1), every_n);
    let visible = (shown_secs / every_n + 1) as usize;
    let mut rng = Rng::with_seed(mix(w.seed ^ GRAPH_SALT ^ u64::from(every_n)));
    let shape = base_shape(&mut rng, &offsets, dur, kind == Kind::Bike);
    let mut g = GraphParts {
        rng,
        shape,
        visible,
        in_progress,
        averages: Vec::new(),
        metrics: Vec::new(),
    };

    let mut summaries = Vec::new();
    let scale = |x: f64| x * fraction;

    if let Some(j) = w.total_work_joules {
        summaries.push(summary(
            "Total Output",
            Some("kj"),
            "total_output",
            Value::from((scale(j) / 1000.0).round() as i64),
        ));
    }
    let shown_distance = splits::shown_distance(w, units);
    if let Some(d) = shown_distance {
        let unit = if kind == Kind::Row {
            "m"
        } else {
            units.distance_unit()
        };
        summaries.push(summary(
            "Distance",
            Some(unit),
            "distance",
            Value::from(round_to(scale(d), 2)),
        ));
    }
    if let Some(e) = w.elevation_meters {
        let shown = (scale(e) / units.meters_per_elevation_unit()).round() as i64;
        summaries.push(summary(
            "Elevation",
            Some(units.elevation_unit()),
            "elevation",
            Value::from(shown),
        ));
    }
    if let Some(c) = w.stroke_count {
        summaries.push(summary(
            "Strokes",
            None,
            "stroke_count",
            Value::from(scale(f64::from(c)).round() as i64),
        ));
    }
    if let Some(c) = w.calories_kcal {
        summaries.push(summary(
            "Calories",
            Some("kcal"),
            "calories",
            Value::from(scale(c).round() as i64),
        ));
    }

    let output_name = if kind == Kind::Row {
        "Stroke Output"
    } else {
        "Output"
    };
    if let Some(o) = w.output_watts {
        let s = g.series(o, 0.05, 0);
        g.push(
            &format!("Avg {output_name}"),
            "avg_output",
            output_name,
            "watts",
            "output",
            &s,
        );
    }
    if let Some(c) = w.cadence_rpm {
        let s = g.series(c, 0.15, 0);
        g.push(
            "Avg Cadence",
            "avg_cadence",
            "Cadence",
            "rpm",
            "cadence",
            &s,
        );
    }
    if let Some(r) = w.resistance_pct {
        let s = g.series(r, 0.03, 0);
        g.push(
            "Avg Resistance",
            "avg_resistance",
            "Resistance",
            "%",
            "resistance",
            &s,
        );
    }
    if let Some(sr) = w.stroke_rate_spm {
        let s = g.series(sr, 0.1, 0);
        g.push(
            "Avg Stroke Rate",
            "avg_stroke_rate",
            "Stroke Rate",
            "spm",
            "stroke_rate",
            &s,
        );
    }
    if let Some(sp) = w.speed_mps {
        match kind {
            Kind::Row => g.split_pace(sp),
            Kind::Bike => {
                let s = g.series(shown_speed(units, sp), 0.03, 1);
                g.push(
                    "Avg Speed",
                    "avg_speed",
                    "Speed",
                    units.speed_unit(),
                    "speed",
                    &s,
                );
            }
            Kind::Tread | Kind::Floor => g.pace(units, sp, w.incline_pct),
        }
    }
    if w.is_outdoor {
        g.altitude(units, &offsets, dur, w.elevation_meters.unwrap_or(0.0));
    }
    if let (Some(hr), Some(z)) = (w.heart_rate_bpm, w.hr_zone_seconds) {
        let lagged_shape = lagged(&g.shape);
        let s = plain(scaled(&mut g.rng, &lagged_shape, hr, 0.01, 45.0), hr, 0).visible(
            visible,
            in_progress,
            false,
        );
        let mut hm = metric("Heart Rate", "bpm", "heart_rate", &s);
        hm.insert("zones".into(), Value::from(zones_json(member, &z)));
        let missing = f64::from(dur) - z.iter().sum::<f64>();
        hm.insert("missing_data_duration".into(), Value::from(missing as i64));
        g.metrics.push(Value::Object(hm));
    }
    let GraphParts {
        averages, metrics, ..
    } = g;

    let (splits_data, splits_metrics) = match kind {
        Kind::Row => (json!([]), splits::row_splits(&splits::row_parts(w))),
        _ => splits::render_splits(&splits::distance_parts(w, units), units),
    };
    let location = if w.is_outdoor {
        let segs = segments(w, kind);
        location_data(w, offsets.get(..visible).unwrap_or(&offsets), units, &segs)
    } else {
        json!([])
    };
    envelope(
        w,
        &Parts {
            offsets: offsets.get(..visible).unwrap_or(&offsets),
            averages,
            summaries,
            metrics,
            splits: (splits_data, splits_metrics),
            location,
        },
    )
}

/// The pieces of a graph that depend on the data shown.
pub(crate) struct Parts<'a> {
    pub(crate) offsets: &'a [u32],
    pub(crate) averages: Vec<Value>,
    pub(crate) summaries: Vec<Value>,
    pub(crate) metrics: Vec<Value>,
    /// `splits_data` and `splits_metrics`.
    pub(crate) splits: (Value, Value),
    pub(crate) location: Value,
}

/// The whole graph object in the fixtures' key order.
pub(crate) fn envelope(w: &GeneratedWorkout, p: &Parts<'_>) -> Value {
    let (targets_key, targets) = targets::render(w);
    let mut v = json!({
        "duration": w.duration_class_s,
        "is_class_plan_shown": w.workout_type == WorkoutType::Class,
        "segment_list": segments(w, kind_of(&w.discipline)),
        "seconds_since_pedaling_start": p.offsets,
        "average_summaries": p.averages,
        "summaries": p.summaries,
        "metrics": p.metrics,
        "has_apple_watch_metrics": false,
        "location_data": p.location,
        "is_location_data_accurate": if w.is_outdoor { Value::from(true) } else { Value::Null },
        "splits_data": p.splits.0,
        "splits_metrics": p.splits.1,
        "effort_zones": render::effort_zones(w),
        "muscle_group_score": strength::muscle_groups_json(&w.muscle_groups),
        "summary_available": true,
        "performance_graph_available": true,
    });
    if let Some(o) = v.as_object_mut() {
        // Old workouts with targets carry the old name instead of the new one.
        o.remove("target_metrics_performance_data");
        o.insert(targets_key.to_owned(), targets);
    }
    v
}
