//! Values that cannot be true are dropped, not stored: a proxy's garbage, a unit mix-up or
//! a broken sensor must not become a lifetime total of +Inf, a negative counter step or a
//! "latest workout" dated ten years ahead. A dropped value is absent (never 0), and the
//! caller logs which field went.
//!
//! The limits are far beyond any human: the best track sprinters hold about 2,500 W for a
//! few seconds, the longest Peloton class is a few hours, and the longest outdoor activity
//! Peloton records is a run or a walk.

use super::{AvgMax, Stat, WorkoutSummary};

/// Highest believable average output of a whole workout, in watts.
pub const MAX_AVERAGE_WATTS: f64 = 5_000.0;
/// Longest believable workout, in seconds.
pub const MAX_DURATION_SECONDS: f64 = 24.0 * 3600.0;
/// Longest believable distance of one workout, in meters.
pub const MAX_DISTANCE_METERS: f64 = 1_000_000.0;
/// Most believable energy of one workout, in joules (about 12,000 kcal).
pub const MAX_ENERGY_JOULES: f64 = 50_000_000.0;
/// Most output one workout can hold: the highest average over the longest workout.
pub const MAX_OUTPUT_JOULES: f64 = MAX_AVERAGE_WATTS * MAX_DURATION_SECONDS;
/// How far ahead of our clock a workout may be dated: clocks drift, Peloton's included.
pub const MAX_CLOCK_SKEW_SECONDS: f64 = 10.0 * 60.0;

/// The upper bound of each per-workout statistic (averages and maxima alike).
fn stat_limit(stat: Stat) -> f64 {
    match stat {
        Stat::OutputWatts => MAX_AVERAGE_WATTS,
        Stat::CadenceRpm | Stat::HeartRateBpm | Stat::StrokeRateSpm => 300.0,
        // Peloton shows resistance and incline in percent: 0–100 % (a ratio up to 1).
        Stat::ResistanceRatio | Stat::InclineRatio => 1.0,
        // 100 km/h: well past any run, row or indoor ride.
        Stat::SpeedMetersPerSecond => 100.0 / 3.6,
    }
}

/// A value that is finite, not negative and at most `max`.
pub fn within(v: Option<f64>, max: f64) -> Option<f64> {
    v.filter(|x| x.is_finite() && *x >= 0.0 && *x <= max)
}

/// The highest heart rate a zone bound may name, in beats per minute.
pub const MAX_HEART_RATE_BPM: f64 = 250.0;

/// Five heart-rate zone floors, when every one is given, a possible heart rate, and they
/// ascend: anything else describes no zones.
pub fn zone_floors(floors: [Option<f64>; 5]) -> Option<[f64; 5]> {
    let mut out = [0.0; 5];
    for (slot, floor) in out.iter_mut().zip(floors) {
        *slot = within(floor, MAX_HEART_RATE_BPM)?;
    }
    let ascending = out.iter().zip(out.iter().skip(1)).all(|(a, b)| a < b);
    ascending.then_some(out)
}

/// Drops every impossible value of `w` and returns the names of the fields it dropped.
pub fn sanitize(w: &mut WorkoutSummary) -> Vec<&'static str> {
    let mut dropped = Vec::new();
    let mut check = |name: &'static str, v: &mut Option<f64>, max: f64| {
        if v.is_some() && within(*v, max).is_none() {
            *v = None;
            dropped.push(name);
        }
    };
    check("duration", &mut w.duration_seconds, MAX_DURATION_SECONDS);
    check("output", &mut w.output_joules, MAX_OUTPUT_JOULES);
    check("distance", &mut w.distance_meters, MAX_DISTANCE_METERS);
    check("energy", &mut w.energy_joules, MAX_ENERGY_JOULES);
    check("elevation", &mut w.elevation_meters, 10_000.0);
    check("effort_points", &mut w.effort_points, 10_000.0);
    check("leaderboard_rank", &mut w.leaderboard_rank, 1e9);
    check("leaderboard_users", &mut w.leaderboard_users, 1e9);
    for t in [&mut w.created_at, &mut w.start_time, &mut w.end_time] {
        if t.is_some_and(|t| !t.is_finite() || t < 0.0) {
            *t = None;
            dropped.push("time");
        }
    }
    // An average above 5,000 W over the whole workout, when its length is known.
    if let (Some(j), Some(s)) = (w.output_joules, w.duration_seconds)
        && s > 0.0
        && j / s > MAX_AVERAGE_WATTS
    {
        w.output_joules = None;
        dropped.push("output");
    }
    let before = w.stats.len();
    w.stats.retain(|stat, v| {
        let max = stat_limit(*stat);
        *v = AvgMax {
            avg: within(v.avg, max),
            max: within(v.max, max),
        };
        v.avg.is_some() || v.max.is_some()
    });
    if w.stats.len() < before {
        dropped.push("stats");
    }
    if let Some(zones) = w.hr_zone_seconds
        && zones
            .iter()
            .any(|z| within(Some(*z), MAX_DURATION_SECONDS).is_none())
    {
        w.hr_zone_seconds = None;
        dropped.push("heart_rate_zones");
    }
    dropped.dedup();
    dropped
}

/// Whether the workout is dated after `now` (Unix seconds) by more than the allowed skew:
/// such a workout counts, but is never "the latest".
pub fn is_future(w: &WorkoutSummary, now: f64) -> bool {
    [w.created_at, w.start_time, w.end_time]
        .into_iter()
        .flatten()
        .any(|t| t > now + MAX_CLOCK_SKEW_SECONDS)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::Status;

    fn workout() -> WorkoutSummary {
        WorkoutSummary {
            id: "w".to_owned(),
            discipline: "cycling".to_owned(),
            status: Status::Complete,
            created_at: Some(1_700_000_000.0),
            start_time: Some(1_700_000_000.0),
            end_time: Some(1_700_001_800.0),
            title: None,
            instructor: None,
            workout_type: None,
            device_type: None,
            duration_seconds: Some(1800.0),
            output_joules: Some(360_000.0),
            distance_meters: Some(15_000.0),
            elevation_meters: None,
            energy_joules: Some(1_500_000.0),
            stats: BTreeMap::from([(
                Stat::OutputWatts,
                AvgMax {
                    avg: Some(200.0),
                    max: Some(600.0),
                },
            )]),
            hr_zone_seconds: Some([60.0, 600.0, 600.0, 500.0, 40.0]),
            effort_points: Some(40.0),
            leaderboard_rank: Some(100.0),
            leaderboard_users: Some(10_000.0),
            imported: false,
            extras: crate::domain::workout_extras::WorkoutExtras::default(),
        }
    }

    #[test]
    fn a_real_ride_keeps_everything() {
        let mut w = workout();
        assert!(sanitize(&mut w).is_empty());
        assert_eq!(w, workout());
    }

    #[test]
    fn impossible_values_are_dropped_and_named() {
        let mut w = workout();
        w.output_joules = Some(1.5e308);
        w.duration_seconds = Some(90_000.0);
        w.distance_meters = Some(-3.0);
        w.energy_joules = Some(f64::NAN);
        w.stats.insert(
            Stat::HeartRateBpm,
            AvgMax {
                avg: Some(f64::INFINITY),
                max: None,
            },
        );
        let dropped = sanitize(&mut w);
        assert_eq!(w.output_joules, None);
        assert_eq!(w.duration_seconds, None);
        assert_eq!(w.distance_meters, None);
        assert_eq!(w.energy_joules, None);
        assert!(!w.stats.contains_key(&Stat::HeartRateBpm));
        for field in ["output", "duration", "distance", "energy", "stats"] {
            assert!(dropped.contains(&field), "{field} in {dropped:?}");
        }
    }

    #[test]
    fn an_average_above_5000_watts_drops_the_output() {
        let mut w = workout();
        // 5,001 W over the half hour.
        w.output_joules = Some(5_001.0 * 1800.0);
        assert_eq!(sanitize(&mut w), vec!["output"]);
        assert_eq!(w.output_joules, None);
        let mut ok = workout();
        ok.output_joules = Some(4_999.0 * 1800.0);
        assert!(sanitize(&mut ok).is_empty());
    }

    #[test]
    fn future_means_beyond_the_skew() {
        let w = workout();
        let end = w.end_time.unwrap();
        assert!(!is_future(&w, end));
        assert!(!is_future(&w, end - MAX_CLOCK_SKEW_SECONDS + 1.0));
        assert!(is_future(&w, end - MAX_CLOCK_SKEW_SECONDS - 1.0));
    }
}
