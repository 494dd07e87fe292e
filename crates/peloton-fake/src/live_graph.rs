//! `GET /api/workout/{id}/performance_graph` of a live ride: the trace up to the elapsed
//! whole second (or the ride's end), in the shape of the completed graphs (API.md §4.5).
//!
//! Points are on the same grid as completed graphs (`1, 1 + every_n, …`) plus the newest
//! second when it is off the grid, each the sample at that second. Averages, maxima, zone
//! seconds and summaries are over every second so far, so they do not depend on `every_n`.

use serde_json::{Map, Value, json};

use super::catalog::Kind;
use super::graph::{self, MAX_EVERY_N, Parts, Series, grid, metric, pace_of, summary, zones_json};
use super::model::{GeneratedWorkout, MemberData, Units};
use super::splits::{Split, even_row_parts, render_splits, row_splits};
use super::trace::{Acc, LiveSample, RunStats, Trace};
use super::util::round_to;

/// Seconds of the trace a graph rendered at `now` shows: up to now, or up to the end of a
/// completed ride (`end`), never negative.
pub(crate) fn elapsed(w: &GeneratedWorkout, end: Option<i64>, now: i64) -> u64 {
    let until = end.map_or(now, |e| e.min(now));
    u64::try_from(until.saturating_sub(w.start_time)).unwrap_or(0)
}

/// The points shown for `elapsed` seconds at `every_n`.
pub(crate) fn offsets(elapsed: u64, every_n: u32) -> Vec<u32> {
    let last = u32::try_from(elapsed).unwrap_or(u32::MAX);
    let mut offsets = grid(last, every_n.clamp(1, MAX_EVERY_N));
    if last >= 1 && offsets.last() != Some(&last) {
        offsets.push(last);
    }
    offsets
}

fn series(
    points: &[LiveSample],
    field: fn(&LiveSample) -> Option<f64>,
    acc: &Acc,
    decimals: i32,
) -> Series {
    Series {
        values: points.iter().map(field).collect(),
        avg: round_to(acc.mean().unwrap_or(0.0), decimals),
        max: if acc.n > 0 { acc.max } else { 0.0 },
        decimals,
    }
}

struct Out {
    averages: Vec<Value>,
    metrics: Vec<Value>,
}

impl Out {
    fn push(&mut self, avg: (&str, &str), name: &str, unit: &str, slug: &str, s: &Series) {
        self.average(avg, unit, s);
        self.metrics
            .push(Value::Object(metric(name, unit, slug, s)));
    }

    fn average(&mut self, (name, slug): (&str, &str), unit: &str, s: &Series) {
        self.averages.push(summary(
            name,
            Some(unit),
            slug,
            graph::number(s.avg, s.decimals),
        ));
    }
}

/// `end` is the workout's `end_time`, or for a ride still listed in progress the time it is
/// due to end (so a graph rendered a moment after the end never shows more).
pub(crate) fn performance_graph(
    member: &MemberData,
    w: &GeneratedWorkout,
    trace: &Trace,
    end: Option<i64>,
    every_n: u32,
    now: i64,
) -> Value {
    let units = member.units;
    let elapsed = elapsed(w, end, now);
    let all = trace.samples(elapsed);
    let r = RunStats::of(&all);
    let offsets = offsets(elapsed, every_n);
    let points: Vec<LiveSample> = offsets
        .iter()
        .filter_map(|t| all.get((*t as usize).saturating_sub(1)).copied())
        .collect();
    let mut out = Out {
        averages: Vec::new(),
        metrics: Vec::new(),
    };
    let kind = trace.kind;
    if kind != Kind::Floor {
        let name = if kind == Kind::Row {
            "Stroke Output"
        } else {
            "Output"
        };
        let avg_name = format!("Avg {name}");
        let s = series(&points, |x| x.output_watts, &r.output, 0);
        out.push((&avg_name, "avg_output"), name, "watts", "output", &s);
    }
    match kind {
        Kind::Bike => {
            let s = series(&points, |x| x.cadence_rpm, &r.cadence, 0);
            out.push(
                ("Avg Cadence", "avg_cadence"),
                "Cadence",
                "rpm",
                "cadence",
                &s,
            );
            let s = series(&points, |x| x.resistance_percent, &r.resistance, 0);
            out.push(
                ("Avg Resistance", "avg_resistance"),
                "Resistance",
                "%",
                "resistance",
                &s,
            );
            let s = series(&points, |x| x.speed, &r.speed, 1);
            out.push(
                ("Avg Speed", "avg_speed"),
                "Speed",
                units.speed_unit(),
                "speed",
                &s,
            );
        }
        Kind::Tread => tread(&mut out, &points, &r, units),
        Kind::Row => {
            let s = series(&points, |x| x.stroke_rate_spm, &r.stroke_rate, 0);
            out.push(
                ("Avg Stroke Rate", "avg_stroke_rate"),
                "Stroke Rate",
                "spm",
                "stroke_rate",
                &s,
            );
            let pace_at = |v: f64| round_to(500.0 / (v * 60.0), 2);
            let s = Series {
                values: points.iter().map(|x| x.pace).collect(),
                avg: r.speed_mps.mean().map_or(0.0, pace_at),
                max: if r.speed_mps.n > 0 {
                    pace_at(r.speed_mps.max)
                } else {
                    0.0
                },
                decimals: 2,
            };
            out.push(
                ("Avg Pace", "avg_split_pace"),
                "Pace",
                "min/500m",
                "split_pace",
                &s,
            );
        }
        Kind::Floor => {}
    }
    let hr = series(&points, |x| Some(x.heart_rate_bpm), &r.heart_rate, 0);
    let mut hm = metric("Heart Rate", "bpm", "heart_rate", &hr);
    hm.insert("zones".into(), Value::from(zones_json(member, &r.zones)));
    hm.insert("missing_data_duration".into(), Value::from(0));
    out.metrics.push(Value::Object(hm));

    let splits = match kind {
        Kind::Bike | Kind::Tread => render_splits(&splits(&all, units, kind == Kind::Tread), units),
        Kind::Row => {
            let pace = r
                .speed_mps
                .mean()
                .map_or(0.0, |v| round_to(500.0 / (v * 60.0), 2));
            let dur = u32::try_from(elapsed).unwrap_or(u32::MAX);
            (
                json!([]),
                row_splits(&even_row_parts(trace.shown_distance(r.meters), dur, pace)),
            )
        }
        Kind::Floor => (json!([]), json!({"header": [], "metrics": []})),
    };
    graph::envelope(
        w,
        &Parts {
            offsets: &offsets,
            averages: out.averages,
            summaries: summaries(trace, &r, units),
            metrics: out.metrics,
            splits,
            location: json!([]),
        },
    )
}

/// Tread: `pace` with its `speed` alternative, then `incline`; averages as in the fixtures.
fn tread(out: &mut Out, points: &[LiveSample], r: &RunStats, units: Units) {
    let speed = series(points, |x| x.speed, &r.speed, 1);
    let pace = Series {
        values: points.iter().map(|x| x.pace).collect(),
        avg: pace_of(speed.avg).unwrap_or(0.0),
        max: pace_of(speed.max).unwrap_or(0.0),
        decimals: 2,
    };
    out.average(("Avg Pace", "avg_pace"), units.pace_unit(), &pace);
    let mut pm: Map<String, Value> = metric("Pace", units.pace_unit(), "pace", &pace);
    let alternative = metric("Speed", units.speed_unit(), "speed", &speed);
    pm.insert("alternatives".into(), json!([Value::Object(alternative)]));
    out.metrics.push(Value::Object(pm));
    let s = series(points, |x| x.incline_percent, &r.incline, 1);
    out.push(
        ("Avg Incline", "avg_incline"),
        "Incline",
        "%",
        "incline",
        &s,
    );
    out.average(("Avg Speed", "avg_speed"), units.speed_unit(), &speed);
}

fn summaries(trace: &Trace, r: &RunStats, units: Units) -> Vec<Value> {
    let kind = trace.kind;
    let mut out = Vec::new();
    if kind != Kind::Floor {
        let kj = (r.joules / 1000.0).round() as i64;
        out.push(summary(
            "Total Output",
            Some("kj"),
            "total_output",
            Value::from(kj),
        ));
        let unit = if kind == Kind::Row {
            "m"
        } else {
            units.distance_unit()
        };
        let d = trace.shown_distance(r.meters);
        out.push(summary("Distance", Some(unit), "distance", Value::from(d)));
    }
    if kind == Kind::Tread {
        let ft = (r.elevation_m / units.meters_per_elevation_unit()).round() as i64;
        out.push(summary(
            "Elevation",
            Some(units.elevation_unit()),
            "elevation",
            Value::from(ft),
        ));
    }
    if kind == Kind::Row {
        let strokes = r.strokes.round() as i64;
        out.push(summary(
            "Strokes",
            None,
            "stroke_count",
            Value::from(strokes),
        ));
    }
    if let Some(kcal) = trace.calories(r) {
        out.push(summary(
            "Calories",
            Some("kcal"),
            "calories",
            Value::from(kcal as i64),
        ));
    }
    out
}

/// Distance splits of the seconds ridden: the seconds each whole unit took, then the
/// fraction of the unit in progress.
fn splits(all: &[LiveSample], units: Units, with_elevation: bool) -> Vec<Split> {
    let unit = units.meters_per_distance_unit();
    let elevation_unit = units.meters_per_elevation_unit();
    let elevation = |m: f64| {
        if with_elevation {
            Value::from((m / elevation_unit).round())
        } else {
            Value::Null
        }
    };
    let mut out = Vec::new();
    let (mut meters, mut climb, mut last_s) = (0.0, 0.0, 0u64);
    for x in all {
        let mps = x.speed_mps.unwrap_or(0.0);
        meters += mps;
        climb += mps * x.incline_percent.unwrap_or(0.0) / 100.0;
        let next = (out.len() + 1) as f64;
        if meters / unit >= next && out.len() < 500 {
            out.push(Split {
                marker: next,
                seconds: (x.second - last_s) as f64,
                elevation: elevation(climb),
            });
            last_s = x.second;
            climb = 0.0;
        }
    }
    let frac = round_to(meters / unit - out.len() as f64, 2);
    if (0.01..1.0).contains(&frac) {
        out.push(Split {
            marker: frac,
            seconds: (all.len() as u64).saturating_sub(last_s) as f64,
            elevation: elevation(climb),
        });
    }
    out
}
