//! Peloton's answers turned into domain values in base units. This is the only place that
//! knows about `display_unit`, kJ versus J, percentages and paces; metrics code downstream
//! only ever sees meters, seconds, joules, ratios and m/s.

pub mod challenge;
pub mod counting;
pub mod fetched;
pub mod labels;
pub mod latest_of_kind;
pub mod live;
pub mod plausible;
pub mod totals;
pub mod training;
pub mod training_summary;
pub mod units;
pub mod workout_extras;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// From `/api/me`. Personal data such as email or name is deliberately not carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    pub user_id: String,
    pub username: Option<String>,
    pub followers: Option<f64>,
    pub following: Option<f64>,
    /// Watts per FTP source (`workout`, `manual`, `estimated`); zero means "not set".
    pub ftp: BTreeMap<&'static str, f64>,
    /// The member's own zones when set, else Peloton's defaults.
    pub hr_zones: Option<HeartRateZones>,
}

/// Heart-rate zones 1..5 in bpm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeartRateZones {
    /// Each zone's lowest heart rate, ascending.
    pub floors: [f64; 5],
    /// The maximum heart rate: the top of zone 5.
    pub max_bpm: Option<f64>,
}

impl HeartRateZones {
    /// Each zone's highest heart rate: the next zone's floor, and for zone 5 the maximum.
    pub fn ceilings(&self) -> [Option<f64>; 5] {
        let f = self.floors;
        [Some(f[1]), Some(f[2]), Some(f[3]), Some(f[4]), self.max_bpm]
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonalRecord {
    pub discipline: String,
    /// Class length in seconds, as Peloton's slug gives it.
    pub duration_seconds: String,
    pub output_joules: f64,
}

/// From `/api/user/{id}/overview`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountOverview {
    /// Completed workouts per discipline slug, zero counts included.
    pub workout_counts: BTreeMap<String, f64>,
    pub weekly_streak: Option<f64>,
    pub weekly_streak_best: Option<f64>,
    pub weekly_streak_start: Option<f64>,
    pub daily_streak: Option<f64>,
    pub daily_streak_start: Option<f64>,
    pub achievements: Option<f64>,
    pub personal_records: Vec<PersonalRecord>,
}

/// A per-workout statistic with an average and a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Stat {
    OutputWatts,
    CadenceRpm,
    ResistanceRatio,
    SpeedMetersPerSecond,
    InclineRatio,
    HeartRateBpm,
    StrokeRateSpm,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AvgMax {
    pub avg: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Complete,
    InProgress,
    Other,
}

/// One workout as the exporter understands it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkoutSummary {
    pub id: String,
    pub discipline: String,
    pub status: Status,
    pub created_at: Option<f64>,
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
    pub title: Option<String>,
    pub instructor: Option<String>,
    pub workout_type: Option<String>,
    pub device_type: Option<String>,
    pub duration_seconds: Option<f64>,
    pub output_joules: Option<f64>,
    pub distance_meters: Option<f64>,
    pub elevation_meters: Option<f64>,
    pub energy_joules: Option<f64>,
    pub stats: BTreeMap<Stat, AvgMax>,
    /// Seconds in heart-rate zones 1..5.
    pub hr_zone_seconds: Option<[f64; 5]>,
    pub effort_points: Option<f64>,
    pub leaderboard_rank: Option<f64>,
    pub leaderboard_users: Option<f64>,
    /// Synced in from another service (Apple Health, Strava, Fitbit, Garmin), not done on
    /// Peloton: counted apart unless `--peloton.include-imported`.
    #[serde(default)]
    pub imported: bool,
    /// Badges, strength work, time in target and the best split (issue 25).
    #[serde(
        default,
        skip_serializing_if = "workout_extras::WorkoutExtras::is_empty"
    )]
    pub extras: workout_extras::WorkoutExtras,
}

/// Discipline slug for a workout that names none.
pub const UNKNOWN_DISCIPLINE: &str = "unknown";
