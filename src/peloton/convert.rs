//! Peloton's answers (`model`) turned into domain values in base units: the edge where
//! `display_unit`, kJ versus J, percentages and paces are resolved, so nothing past it sees
//! an API shape.

pub mod account;
pub mod extras;
pub mod training;

use std::collections::BTreeMap;

use super::model::{self, EffortZones, GraphMetric, PerformanceGraph};
use crate::domain::fetched::{ListPage, WorkoutDetail, WorkoutGraph};
use crate::domain::labels::{self, MAX_DISCIPLINES, MAX_PERSONAL_RECORDS};
use crate::domain::plausible;
use crate::domain::units;
use crate::domain::workout_extras::WorkoutExtras;
use crate::domain::{
    AccountOverview, AvgMax, PersonalRecord, Profile, Stat, Status, UNKNOWN_DISCIPLINE,
    WorkoutSummary,
};

impl Profile {
    pub fn from_api(me: &model::Me) -> Option<Self> {
        let user_id = me
            .id
            .as_deref()
            .map(labels::text)
            .filter(|id| !id.is_empty())?;
        let mut ftp = BTreeMap::new();
        for (source, value) in [
            ("workout", me.cycling_workout_ftp),
            ("manual", me.cycling_ftp),
            ("estimated", me.estimated_cycling_ftp),
        ] {
            // Zero means "not set"; no rider holds an FTP of 2,000 W.
            if let Some(v) = plausible::within(value, 2_000.0).filter(|v| *v > 0.0) {
                ftp.insert(source, v);
            }
        }
        Some(Self {
            user_id,
            username: me.username.as_deref().map(labels::text),
            followers: me.total_followers.map(|v| v as f64),
            following: me.total_following.map(|v| v as f64),
            ftp,
            hr_zones: account::hr_zones(me),
        })
    }
}

impl AccountOverview {
    pub fn from_api(o: &model::Overview) -> Self {
        let mut workout_counts = BTreeMap::new();
        if let Some(counts) = &o.workout_counts {
            for c in &counts.workouts {
                if let (Some(slug), Some(count)) =
                    (c.slug.as_deref().and_then(labels::slug), c.count)
                    && count >= 0
                {
                    let key = labels::admit(
                        &workout_counts,
                        slug,
                        MAX_DISCIPLINES,
                        labels::OTHER.to_owned(),
                    );
                    *workout_counts.entry(key).or_insert(0.0) += count as f64;
                }
            }
        }
        let streaks = o.streaks.clone().unwrap_or_default();
        // A streak is a count of weeks or days: never negative.
        let count = |v: Option<i64>| v.filter(|v| *v >= 0).map(|v| v as f64);
        let weekly = count(streaks.current_weekly);
        let best = match (weekly, count(streaks.best_weekly)) {
            // `best_weekly` does not include the running streak (API.md §4.2).
            (Some(c), Some(b)) => Some(c.max(b)),
            (c, b) => c.or(b),
        };
        // A start date only means something while the streak runs.
        let start = |streak: Option<f64>, date: Option<i64>| {
            streak
                .filter(|s| *s > 0.0)
                .and(date.filter(|d| *d > 0))
                .map(|d| d as f64)
        };
        let daily = count(streaks.current_daily);
        let achievements = o
            .achievement_counts
            .as_ref()
            .and_then(|a| a.total_count)
            // A count (a counter downstream) is never negative.
            .filter(|v| *v >= 0)
            .map(|v| v as f64)
            .or_else(|| (!o.achievements.is_empty()).then_some(o.achievements.len() as f64));
        let mut personal_records = Vec::new();
        for group in &o.personal_records {
            let discipline = match &group.slug {
                None => "cycling".to_owned(),
                Some(s) => labels::slug(s).unwrap_or_else(|| UNKNOWN_DISCIPLINE.to_owned()),
            };
            for r in &group.records {
                let joules = r.raw_value.or_else(|| {
                    r.value
                        .and_then(|v| units::energy_to_joules(v, r.unit.as_deref().unwrap_or("kj")))
                });
                if let (Some(slug), Some(j)) = (
                    &r.slug,
                    plausible::within(joules, plausible::MAX_OUTPUT_JOULES),
                ) && slug.chars().all(|c| c.is_ascii_digit())
                    && !slug.is_empty()
                    && slug.len() <= 6
                    && personal_records.len() < MAX_PERSONAL_RECORDS
                {
                    personal_records.push(PersonalRecord {
                        discipline: discipline.clone(),
                        duration_seconds: slug.clone(),
                        output_joules: j,
                    });
                }
            }
        }
        Self {
            workout_counts,
            weekly_streak: weekly,
            weekly_streak_best: best,
            weekly_streak_start: start(weekly, streaks.start_date_of_current_weekly),
            daily_streak: daily,
            daily_streak_start: start(daily, streaks.start_date_of_current_daily),
            achievements,
            personal_records,
        }
    }
}

impl WorkoutSummary {
    /// What the list item alone says. `None` when it has no id.
    pub fn from_list_item(w: &model::Workout) -> Option<Self> {
        let id = w.id.clone().filter(|id| !id.is_empty())?;
        let status = match w.status.as_deref() {
            Some("COMPLETE") => Status::Complete,
            Some("IN_PROGRESS") => Status::InProgress,
            _ => Status::Other,
        };
        let ride = w.ride.as_ref();
        let start = w.start_time.filter(|t| *t > 0);
        let end = w.end_time.filter(|t| *t > 0);
        let duration = match (start, end) {
            (Some(s), Some(e)) if e >= s => Some((e - s) as f64),
            _ => None,
        };
        let (zones, effort) = effort_zones(w.effort_zones.as_ref());
        Some(
            Self {
                id,
                discipline: w
                    .fitness_discipline
                    .as_deref()
                    .and_then(labels::slug)
                    .unwrap_or_else(|| UNKNOWN_DISCIPLINE.to_owned()),
                status,
                created_at: w.created_at.map(|t| t as f64),
                start_time: start.map(|t| t as f64),
                end_time: end.map(|t| t as f64),
                title: ride
                    .and_then(|r| r.title.as_deref())
                    .or(w.title.as_deref())
                    .or(w.name.as_deref())
                    .map(labels::text)
                    .filter(|t| !t.is_empty()),
                instructor: instructor_name(w),
                workout_type: w.workout_type.as_deref().map(labels::text),
                device_type: w.device_type.as_deref().map(labels::text),
                duration_seconds: duration,
                output_joules: w.total_work.filter(|v| *v >= 0.0),
                distance_meters: None,
                elevation_meters: None,
                energy_joules: None,
                stats: BTreeMap::new(),
                hr_zone_seconds: zones,
                effort_points: effort,
                leaderboard_rank: w.leaderboard_rank.map(|v| v as f64),
                leaderboard_users: w.total_leaderboard_users.map(|v| v as f64),
                imported: is_imported(w),
                extras: WorkoutExtras::default(),
            }
            .checked(),
        )
    }
}

/// A page of the workout list. `now` bounds the months its `summary` may name.
pub fn list_page(page: &model::WorkoutPage, now: i64) -> ListPage {
    ListPage {
        workouts: page
            .data
            .iter()
            .filter_map(WorkoutSummary::from_list_item)
            .collect(),
        items: page.data.len(),
        total: page.total,
        show_next: page.show_next,
        page_count: page.page_count,
        by_month: workouts_by_month(&page.summary, now),
    }
}

/// What only the workout detail has.
pub fn detail(d: &model::Workout) -> WorkoutDetail {
    WorkoutDetail {
        leaderboard_rank: d.leaderboard_rank.map(|v| v as f64),
        leaderboard_users: d.total_leaderboard_users.map(|v| v as f64),
        instructor: instructor_name(d),
        output_joules: d.total_work.filter(|v| *v >= 0.0),
        imported: is_imported(d),
        ftp: training::ftp_in_force(d),
        extras: extras::from_detail(d),
    }
}

/// What the performance graph has: distance, energy, averages and maxima, zones, and the
/// per-sample trace at `every_n` seconds.
pub fn graph(g: &PerformanceGraph, every_n: u32) -> WorkoutGraph {
    let mut out = WorkoutGraph {
        has_output: training::has_output(g),
        trace: training::trace(g, every_n),
        ..WorkoutGraph::default()
    };
    for s in &g.summaries {
        let (Some(slug), Some(value)) = (s.slug.as_deref(), s.value) else {
            continue;
        };
        let unit = s.display_unit.as_deref().unwrap_or("");
        let or = |default: &'static str| if unit.is_empty() { default } else { unit };
        match slug {
            "distance" => out.distance_meters = units::length_to_meters(value, unit),
            "elevation" => out.elevation_meters = units::length_to_meters(value, unit),
            "calories" => out.energy_joules = units::energy_to_joules(value, or("kcal")),
            "total_output" => out.output_joules = units::energy_to_joules(value, or("kj")),
            _ => {}
        }
    }
    let by_slug = |slug: &str| g.metrics.iter().find(|m| m.slug.as_deref() == Some(slug));
    for (stat, v) in [
        (Stat::OutputWatts, by_slug("output").map(plain)),
        (Stat::CadenceRpm, by_slug("cadence").map(plain)),
        (Stat::HeartRateBpm, by_slug("heart_rate").map(plain)),
        (Stat::StrokeRateSpm, by_slug("stroke_rate").map(plain)),
        (Stat::ResistanceRatio, by_slug("resistance").map(ratio)),
        (Stat::InclineRatio, by_slug("incline").map(ratio)),
        (Stat::SpeedMetersPerSecond, speed(g)),
    ] {
        if let Some(v) = v.filter(|v| v.avg.is_some() || v.max.is_some()) {
            out.stats.insert(stat, v);
        }
    }
    let graph_zones = effort_zones(g.effort_zones.as_ref());
    let hr_zones = by_slug("heart_rate").and_then(|m| metric_zones(&m.zones));
    out.hr_zone_seconds = graph_zones.0.or(hr_zones);
    out.effort_points = graph_zones.1;
    out.class_length_seconds =
        plausible::within(g.duration, plausible::MAX_DURATION_SECONDS).filter(|d| *d > 0.0);
    out.hr_zone_floors_bpm = by_slug("heart_rate").and_then(|m| zone_floors(&m.zones));
    out.extras = extras::from_graph(g);
    out
}

/// Each zone's lowest heart rate, when all five are given, plausible and ascending.
fn zone_floors(zones: &[model::HeartRateZone]) -> Option<[f64; 5]> {
    let mut floors = [None; 5];
    for z in zones {
        if let Some(slot) = zone_index(z).and_then(|i| floors.get_mut(i)) {
            *slot = z.min_value;
        }
    }
    plausible::zone_floors(floors)
}

/// `zone1`..`zone5` as 0..4.
fn zone_index(z: &model::HeartRateZone) -> Option<usize> {
    z.slug
        .as_deref()
        .and_then(|s| s.strip_prefix("zone"))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
}

/// Peloton's first year: no member has a workout before it.
const FIRST_YEAR: i64 = 2012;
/// More workouts than a month can hold (one a minute, all month).
const MAX_PER_MONTH: f64 = 44_640.0;

/// The list's `summary` (workouts per `YYYY-MM`), keeping only keys that are a month between
/// Peloton's first year and next month (time zones: the member's month may be ahead of
/// UTC), with a count a month can hold. At most one key per month can pass, so the series
/// stay bounded by the calendar, whatever the answer holds.
pub fn workouts_by_month(summary: &BTreeMap<String, f64>, now: i64) -> BTreeMap<String, f64> {
    let (year, month) = crate::clock::utc_year_month(now);
    let latest = year * 12 + i64::from(month); // next month, 1-based months
    summary
        .iter()
        .filter(|(key, value)| {
            plausible::within(Some(**value), MAX_PER_MONTH).is_some()
                && month_index(key).is_some_and(|m| (FIRST_YEAR * 12..=latest).contains(&m))
        })
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// `YYYY-MM` as `year * 12 + month - 1`; anything else is `None`.
fn month_index(key: &str) -> Option<i64> {
    let (y, m) = key.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !y.chars().chain(m.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

fn instructor_name(w: &model::Workout) -> Option<String> {
    w.ride
        .as_ref()
        .and_then(|r| r.instructor.as_ref())
        .and_then(|i| i.name.as_deref())
        .map(labels::text)
        .filter(|n| !n.is_empty())
}

/// Device types of the services Peloton imports from, for answers that lack the flags.
const IMPORT_DEVICE_TYPES: &[&str] = &[
    "apple_health",
    "strava",
    "fitbit",
    "garmin",
    "google_fit",
    "health_connect",
];

/// A workout synced in from another service (docs/imported-workouts.md).
fn is_imported(w: &model::Workout) -> bool {
    w.is_3p_fit_feed_workout == Some(true)
        || w.is_peloton_originated_workout == Some(false)
        || w.device_type
            .as_deref()
            .is_some_and(|d| IMPORT_DEVICE_TYPES.contains(&d))
}

fn plain(m: &GraphMetric) -> AvgMax {
    AvgMax {
        avg: m.average_value,
        max: m.max_value,
    }
}

fn ratio(m: &GraphMetric) -> AvgMax {
    let unit = m.display_unit.as_deref().unwrap_or("%");
    AvgMax {
        avg: m
            .average_value
            .and_then(|v| units::percent_to_ratio(v, unit)),
        max: m.max_value.and_then(|v| units::percent_to_ratio(v, unit)),
    }
}

/// Speed from the `speed` series, else a pace's `speed` alternative, else the pace itself
/// (run/walk `pace`, rower `split_pace`). The "max" of a pace is its fastest, smallest
/// value, so it maps to the maximum speed.
fn speed(g: &PerformanceGraph) -> Option<AvgMax> {
    let as_speed = |m: &GraphMetric| {
        let unit = m.display_unit.as_deref().unwrap_or("");
        AvgMax {
            avg: m.average_value.and_then(|v| units::speed_to_mps(v, unit)),
            max: m.max_value.and_then(|v| units::speed_to_mps(v, unit)),
        }
    };
    let as_pace = |m: &GraphMetric| {
        let unit = m.display_unit.as_deref().unwrap_or("");
        AvgMax {
            avg: m.average_value.and_then(|v| units::pace_to_mps(v, unit)),
            max: m.max_value.and_then(|v| units::pace_to_mps(v, unit)),
        }
    };
    let found = |v: &AvgMax| v.avg.is_some() || v.max.is_some();
    let slug = |m: &GraphMetric, s: &str| m.slug.as_deref() == Some(s);
    g.metrics
        .iter()
        .filter(|m| slug(m, "speed"))
        .map(as_speed)
        .chain(
            g.metrics
                .iter()
                .filter(|m| slug(m, "pace") || slug(m, "split_pace"))
                .flat_map(|m| m.alternatives.iter().filter(|a| slug(a, "speed")))
                .map(as_speed),
        )
        .chain(
            g.metrics
                .iter()
                .filter(|m| slug(m, "pace") || slug(m, "split_pace"))
                .map(as_pace),
        )
        .find(found)
}

fn effort_zones(z: Option<&EffortZones>) -> (Option<[f64; 5]>, Option<f64>) {
    let Some(z) = z else { return (None, None) };
    let mut zones = [0.0; 5];
    let mut any = false;
    for (i, slot) in zones.iter_mut().enumerate() {
        if let Some(v) = z
            .heart_rate_zone_durations
            .get(&format!("heart_rate_z{}_duration", i + 1))
        {
            *slot = *v;
            any = true;
        }
    }
    (any.then_some(zones), z.total_effort_points)
}

fn metric_zones(zones: &[model::HeartRateZone]) -> Option<[f64; 5]> {
    let mut out = [0.0; 5];
    let mut any = false;
    for z in zones {
        if let (Some(i), Some(d)) = (zone_index(z), z.duration)
            && let Some(slot) = out.get_mut(i)
        {
            *slot = d;
            any = true;
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests;
