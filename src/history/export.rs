//! One row per completed workout with the converted values, as CSV or JSON: what members
//! used to pull into spreadsheets.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::domain::{Stat, Status, WorkoutSummary};

/// Column names, in order. Units are in the names; absent values are empty (CSV) or null.
pub const COLUMNS: &[&str] = &[
    "account",
    "id",
    "start_time",
    "end_time",
    "discipline",
    "title",
    "instructor",
    "workout_type",
    "device_type",
    "duration_seconds",
    "output_joules",
    "distance_meters",
    "elevation_meters",
    "energy_burned_joules",
    "output_watts_avg",
    "output_watts_max",
    "cadence_rpm_avg",
    "cadence_rpm_max",
    "resistance_ratio_avg",
    "resistance_ratio_max",
    "speed_meters_per_second_avg",
    "speed_meters_per_second_max",
    "incline_ratio_avg",
    "incline_ratio_max",
    "heart_rate_bpm_avg",
    "heart_rate_bpm_max",
    "stroke_rate_spm_avg",
    "stroke_rate_spm_max",
    "heart_rate_zone1_seconds",
    "heart_rate_zone2_seconds",
    "heart_rate_zone3_seconds",
    "heart_rate_zone4_seconds",
    "heart_rate_zone5_seconds",
    "effort_points",
    "leaderboard_rank",
    "leaderboard_users",
];

/// The row of one workout, keyed by `COLUMNS`.
pub fn row(account: Option<&str>, w: &WorkoutSummary) -> Map<String, Value> {
    let num = |v: Option<f64>| {
        v.filter(|x| x.is_finite())
            .map_or(Value::Null, |x| json!(x))
    };
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| json!(s));
    let time = |v: Option<f64>| {
        v.and_then(|t| {
            let secs = u64::try_from(t as i64).ok()?;
            Some(json!(
                humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
                )
                .to_string()
            ))
        })
        .unwrap_or(Value::Null)
    };
    let stat = |s: Stat| w.stats.get(&s).copied().unwrap_or_default();
    let zone = |i: usize| num(w.hr_zone_seconds.and_then(|z| z.get(i).copied()));
    let values = [
        text(account),
        json!(w.id),
        time(w.start_time),
        time(w.end_time),
        json!(w.discipline),
        text(w.title.as_deref()),
        text(w.instructor.as_deref()),
        text(w.workout_type.as_deref()),
        text(w.device_type.as_deref()),
        num(w.duration_seconds),
        num(w.output_joules),
        num(w.distance_meters),
        num(w.elevation_meters),
        num(w.energy_joules),
        num(stat(Stat::OutputWatts).avg),
        num(stat(Stat::OutputWatts).max),
        num(stat(Stat::CadenceRpm).avg),
        num(stat(Stat::CadenceRpm).max),
        num(stat(Stat::ResistanceRatio).avg),
        num(stat(Stat::ResistanceRatio).max),
        num(stat(Stat::SpeedMetersPerSecond).avg),
        num(stat(Stat::SpeedMetersPerSecond).max),
        num(stat(Stat::InclineRatio).avg),
        num(stat(Stat::InclineRatio).max),
        num(stat(Stat::HeartRateBpm).avg),
        num(stat(Stat::HeartRateBpm).max),
        num(stat(Stat::StrokeRateSpm).avg),
        num(stat(Stat::StrokeRateSpm).max),
        zone(0),
        zone(1),
        zone(2),
        zone(3),
        zone(4),
        num(w.effort_points),
        num(w.leaderboard_rank),
        num(w.leaderboard_users),
    ];
    COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .zip(values)
        .collect()
}

/// Completed workouts, oldest first.
pub fn completed(mut workouts: Vec<WorkoutSummary>) -> Vec<WorkoutSummary> {
    workouts.retain(|w| w.status == Status::Complete);
    workouts.sort_by(|a, b| {
        a.start_time
            .partial_cmp(&b.start_time)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.id.cmp(&b.id))
    });
    workouts
}

pub fn write_csv<'a>(
    rows: impl IntoIterator<Item = Map<String, Value>> + 'a,
    out: &mut impl Write,
) -> io::Result<u64> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    let mut n = 0;
    for row in rows {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| match row.get(*c) {
                Some(Value::String(s)) => csv_field(s),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            })
            .collect();
        writeln!(out, "{}", cells.join(","))?;
        n += 1;
    }
    Ok(n)
}

pub fn write_json(rows: Vec<Map<String, Value>>, out: &mut impl Write) -> io::Result<u64> {
    let n = rows.len() as u64;
    serde_json::to_writer_pretty(
        &mut *out,
        &Value::Array(rows.into_iter().map(Value::Object).collect()),
    )?;
    writeln!(out)?;
    Ok(n)
}

/// RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled.
/// A leading `=`, `+`, `-` or `@` would be a formula in a spreadsheet; titles are
/// Peloton's, so such a field is prefixed with an apostrophe.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }

    #[test]
    fn rows_have_every_column_and_nulls_for_absent_values() {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": "w1", "status": "COMPLETE", "fitness_discipline": "yoga",
            "start_time": 1_700_000_000, "end_time": 1_700_001_800
        }))
        .unwrap();
        let w = WorkoutSummary::from_list_item(&item).unwrap();
        let r = row(None, &w);
        assert_eq!(r.len(), COLUMNS.len());
        assert_eq!(r["start_time"], json!("2023-11-14T22:13:20Z"));
        assert_eq!(r["duration_seconds"], json!(1800.0));
        assert_eq!(r["distance_meters"], Value::Null);
        let mut out = Vec::new();
        write_csv(vec![r], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            text.lines().nth(1).unwrap().split(',').count(),
            COLUMNS.len()
        );
    }
}
