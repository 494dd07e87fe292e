//! One row per completed workout with the converted values, as CSV or JSON: what members
//! used to pull into spreadsheets.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::domain::units::JOULES_PER_KCAL;
use crate::domain::{Stat, Status, WorkoutSummary};

/// The units of the numbers: base units (joules, meters, seconds, ratios) for machines, or
/// what people read (kcal, km or mi, minutes, watts, percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    #[default]
    Base,
    Metric,
    Imperial,
}

const MILE: f64 = 1609.344;
const FOOT: f64 = 0.3048;

/// A base column's name and factor in `units`; the unit is in every name.
fn converted(column: &'static str, units: Units) -> (String, f64) {
    let imperial = units == Units::Imperial;
    let (name, factor) = match (units, column) {
        (Units::Base, _) => (column.to_owned(), 1.0),
        (_, "duration_seconds") => ("duration_minutes".to_owned(), 1.0 / 60.0),
        (_, "output_joules") => ("output_kilojoules".to_owned(), 1e-3),
        (_, "distance_meters") if imperial => ("distance_miles".to_owned(), 1.0 / MILE),
        (_, "distance_meters") => ("distance_km".to_owned(), 1e-3),
        (_, "elevation_meters") if imperial => ("elevation_feet".to_owned(), 1.0 / FOOT),
        (_, "energy_burned_joules") => ("energy_burned_kcal".to_owned(), 1.0 / JOULES_PER_KCAL),
        (_, c) if c.starts_with("speed_meters_per_second") => {
            let (unit, factor) = if imperial {
                ("mph", 3600.0 / MILE)
            } else {
                ("kph", 3.6)
            };
            (c.replace("meters_per_second", unit), factor)
        }
        (_, c) if c.contains("_ratio_") => (c.replace("_ratio_", "_percent_"), 100.0),
        (_, c) if c.starts_with("heart_rate_zone") => {
            (c.replace("_seconds", "_minutes"), 1.0 / 60.0)
        }
        (_, c) => (c.to_owned(), 1.0),
    };
    (name, factor)
}

/// The header: `COLUMNS` in `units`, without `account` for a single account.
pub fn columns(units: Units, with_account: bool) -> Vec<String> {
    COLUMNS
        .iter()
        .filter(|c| with_account || **c != "account")
        .map(|c| converted(c, units).0)
        .collect()
}

/// Column names in base units, in order. Units are in the names; absent values are empty
/// (CSV) or null.
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

/// The row of one workout, keyed by `columns(units, account.is_some())`.
pub fn row(account: Option<&str>, w: &WorkoutSummary, units: Units) -> Map<String, Value> {
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
        .zip(values)
        .filter(|(c, _)| account.is_some() || **c != "account")
        .map(|(c, v)| {
            let (name, factor) = converted(c, units);
            let v = match v {
                Value::Number(n) if factor != 1.0 => n
                    .as_f64()
                    .map(|x| x * factor)
                    .filter(|x| x.is_finite())
                    // Two decimals: a spreadsheet's reader wants 523.45 kcal, not the
                    // float noise of a division.
                    .map_or(Value::Null, |x| json!((x * 100.0).round() / 100.0)),
                v => v,
            };
            (name, v)
        })
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
    columns: &[String],
    rows: impl IntoIterator<Item = Map<String, Value>> + 'a,
    out: &mut impl Write,
) -> io::Result<u64> {
    writeln!(out, "{}", columns.join(","))?;
    let mut n = 0;
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match row.get(c) {
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
        let r = row(Some("alice"), &w, Units::Base);
        assert_eq!(r.len(), COLUMNS.len());
        assert_eq!(r["start_time"], json!("2023-11-14T22:13:20Z"));
        assert_eq!(r["duration_seconds"], json!(1800.0));
        assert_eq!(r["distance_meters"], Value::Null);
        let mut out = Vec::new();
        write_csv(&columns(Units::Base, true), vec![r], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            text.lines().nth(1).unwrap().split(',').count(),
            COLUMNS.len()
        );
    }

    fn ride() -> WorkoutSummary {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": "w1", "status": "COMPLETE", "fitness_discipline": "cycling",
            "start_time": 1_700_000_000, "end_time": 1_700_001_800
        }))
        .unwrap();
        let mut w = WorkoutSummary::from_list_item(&item).unwrap();
        w.output_joules = Some(300_000.0);
        w.distance_meters = Some(16_093.44);
        w.elevation_meters = Some(100.0);
        w.energy_joules = Some(500.0 * JOULES_PER_KCAL);
        w.hr_zone_seconds = Some([60.0, 120.0, 0.0, 0.0, 0.0]);
        w
    }

    fn csv(units: Units, account: Option<&str>) -> (Vec<String>, Vec<String>) {
        let mut out = Vec::new();
        let cols = columns(units, account.is_some());
        write_csv(&cols, vec![row(account, &ride(), units)], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        let split = |l: &str| l.split(',').map(str::to_owned).collect::<Vec<_>>();
        (split(lines.next().unwrap()), split(lines.next().unwrap()))
    }

    fn cell(table: &(Vec<String>, Vec<String>), column: &str) -> String {
        let i = table
            .0
            .iter()
            .position(|c| c == column)
            .unwrap_or_else(|| panic!("no column {column} in {:?}", table.0));
        table.1[i].clone()
    }

    #[test]
    fn units_for_people_put_the_unit_in_every_header() {
        let metric = csv(Units::Metric, None);
        assert_eq!(cell(&metric, "duration_minutes"), "30.0");
        assert_eq!(cell(&metric, "output_kilojoules"), "300.0");
        assert_eq!(cell(&metric, "distance_km"), "16.09");
        assert_eq!(cell(&metric, "elevation_meters"), "100.0");
        assert_eq!(cell(&metric, "energy_burned_kcal"), "500.0");
        assert_eq!(cell(&metric, "heart_rate_zone2_minutes"), "2.0");
        assert!(metric.0.contains(&"speed_kph_avg".to_owned()));
        assert!(metric.0.contains(&"resistance_percent_avg".to_owned()));
        assert!(metric.0.contains(&"output_watts_avg".to_owned()));
        let imperial = csv(Units::Imperial, None);
        assert_eq!(cell(&imperial, "distance_miles"), "10.0");
        assert_eq!(cell(&imperial, "elevation_feet"), "328.08");
        assert!(imperial.0.contains(&"speed_mph_max".to_owned()));
        // Base units stay the default, for machines.
        let base = csv(Units::Base, None);
        assert_eq!(cell(&base, "output_joules"), "300000.0");
        assert_eq!(cell(&base, "distance_meters"), "16093.44");
        for table in [&metric, &imperial, &base] {
            assert_eq!(table.0.len(), table.1.len());
            // Every measurement names its unit; the rest are ids, text, times and counts.
            let unitless = [
                "id",
                "start_time",
                "end_time",
                "discipline",
                "title",
                "instructor",
                "workout_type",
                "device_type",
                "effort_points",
                "leaderboard_rank",
                "leaderboard_users",
            ];
            let units = [
                "seconds",
                "minutes",
                "joules",
                "kilojoules",
                "kcal",
                "km",
                "miles",
                "meters",
                "feet",
                "watts",
                "kph",
                "mph",
                "percent",
                "second",
                "ratio",
                "rpm",
                "bpm",
                "spm",
            ];
            for c in table.0.iter().filter(|c| !unitless.contains(&c.as_str())) {
                let stem = c.trim_end_matches("_avg").trim_end_matches("_max");
                let unit = stem.rsplit('_').next().unwrap();
                assert!(units.contains(&unit), "{c} names no unit");
            }
        }
    }

    #[test]
    fn the_account_column_appears_only_with_several_accounts() {
        assert!(!csv(Units::Base, None).0.contains(&"account".to_owned()));
        let several = csv(Units::Metric, Some("alice"));
        assert_eq!(several.0[0], "account");
        assert_eq!(several.1[0], "alice");
    }
}
