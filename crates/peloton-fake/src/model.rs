//! The fake member's ground truth. Every API response is rendered from these values, so a test
//! can compute what the exporter should export from [`MemberData`] alone.

/// The member's display-unit preference (API.md §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Units {
    /// mi, mph, min/mi, ft.
    #[default]
    Imperial,
    /// km, kph, min/km, m.
    Metric,
}

impl Units {
    pub(crate) fn distance_unit(self) -> &'static str {
        match self {
            Units::Imperial => "mi",
            Units::Metric => "km",
        }
    }
    pub(crate) fn speed_unit(self) -> &'static str {
        match self {
            Units::Imperial => "mph",
            Units::Metric => "kph",
        }
    }
    pub(crate) fn pace_unit(self) -> &'static str {
        match self {
            Units::Imperial => "min/mi",
            Units::Metric => "min/km",
        }
    }
    pub(crate) fn elevation_unit(self) -> &'static str {
        match self {
            Units::Imperial => "ft",
            Units::Metric => "m",
        }
    }
    /// Meters in one displayed distance unit.
    pub fn meters_per_distance_unit(self) -> f64 {
        match self {
            Units::Imperial => 1609.344,
            Units::Metric => 1000.0,
        }
    }
    /// Meters per second in one displayed speed unit.
    pub fn mps_per_speed_unit(self) -> f64 {
        match self {
            Units::Imperial => 0.447_04,
            Units::Metric => 1000.0 / 3600.0,
        }
    }
    /// Meters in one displayed elevation unit.
    pub fn meters_per_elevation_unit(self) -> f64 {
        match self {
            Units::Imperial => 0.3048,
            Units::Metric => 1.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkoutStatus {
    Complete,
    InProgress,
}

impl WorkoutStatus {
    /// The API spelling: `COMPLETE` / `IN_PROGRESS`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkoutStatus::Complete => "COMPLETE",
            WorkoutStatus::InProgress => "IN_PROGRESS",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkoutType {
    /// An instructor-led (or outdoor audio) class.
    Class,
    /// "Just Ride": `ride.id` is 32 zeros, no instructor, `peloton_id` null.
    Freestyle,
    /// Scenic ride/run: a real ride object without instructor.
    Scenic,
}

impl WorkoutType {
    /// The API spelling: `class` / `freestyle` / `scenic`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkoutType::Class => "class",
            WorkoutType::Freestyle => "freestyle",
            WorkoutType::Scenic => "scenic",
        }
    }
}

/// Average and maximum of one performance-graph metric, in base units (see field docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub avg: f64,
    pub max: f64,
}

/// One workout. Values are the exact numbers the API shows, converted to base units: a
/// rendered `distance` of 5.82 mi is stored as `5.82 * 1609.344` m, so converting the API value
/// back gives the stored value up to float rounding.
// Each bool is a field of the rendered JSON, not a state to merge into an enum.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedWorkout {
    /// 32 hex digits.
    pub id: String,
    /// Seed of everything rendered lazily (graph values, ride details).
    pub seed: u64,
    pub created_at: i64,
    pub start_time: i64,
    /// `None` while `IN_PROGRESS`.
    pub end_time: Option<i64>,
    pub status: WorkoutStatus,
    /// `fitness_discipline` slug (any string, including unknown ones).
    pub discipline: String,
    pub workout_type: WorkoutType,
    pub device_type: String,
    pub platform: String,
    pub is_outdoor: bool,
    /// `ride.instructor.name`; `None` for Just Ride, scenic and instructor-less classes.
    pub instructor: Option<String>,
    pub instructor_id: Option<String>,
    /// `ride.id` (32 zeros for Just Ride).
    pub ride_id: String,
    /// `ride.title`, e.g. "30 min Pop Ride" (the workout's own `title` is null, as in the API).
    pub title: String,
    /// `ride.duration` and the performance graph's `duration`: the class length in seconds.
    pub duration_class_s: u32,
    /// `total_work` in joules. `None` renders as `0.0`, as Peloton does for classes without
    /// output (floor classes, outdoor runs) and while a workout is in progress.
    pub total_work_joules: Option<f64>,
    /// Performance graph `summaries.distance`, in meters.
    pub distance_meters: Option<f64>,
    /// Performance graph `summaries.elevation`, in meters.
    pub elevation_meters: Option<f64>,
    /// Performance graph `summaries.calories` (kcal, integral).
    pub calories_kcal: Option<f64>,
    /// Seconds in heart-rate zones 1..5 (integral); `None` without a heart-rate monitor.
    pub hr_zone_seconds: Option<[f64; 5]>,
    /// `effort_zones` is null in the list item and performance graph; the `heart_rate`
    /// metric's `zones[].duration` still carries `hr_zone_seconds` when present.
    pub effort_zones_null: bool,
    /// `effort_zones.total_effort_points` (when effort zones are not null).
    pub effort_points: Option<f64>,
    /// `output` metric, watts.
    pub output_watts: Option<Stat>,
    /// `cadence` metric, rpm.
    pub cadence_rpm: Option<Stat>,
    /// `resistance` metric, percent (0..100).
    pub resistance_pct: Option<Stat>,
    /// Speed in m/s: the `speed` metric (bike) or the `pace` metric's `speed` alternative
    /// (tread, outdoor), converted exactly; for the rower derived from `split_pace`
    /// (`500 / (pace_min * 60)`, the fastest pace giving `max`).
    pub speed_mps: Option<Stat>,
    /// `incline` metric, percent.
    pub incline_pct: Option<Stat>,
    /// `heart_rate` metric, bpm.
    pub heart_rate_bpm: Option<Stat>,
    /// `stroke_rate` metric, strokes per minute.
    pub stroke_rate_spm: Option<Stat>,
    /// Rower `summaries.stroke_count`.
    pub stroke_count: Option<u32>,
    /// Workout detail `leaderboard_rank`.
    pub leaderboard_rank: Option<u32>,
    pub total_leaderboard_users: u32,
    pub is_total_work_personal_record: bool,
    /// Slugs of achievement templates earned in this workout.
    pub achievements: Vec<String>,
    /// Synced in from another service (Apple Health): `is_3p_fit_feed_workout` true,
    /// `is_peloton_originated_workout` false, not in the overview's class counts.
    pub imported: bool,
    /// Rep tracking of a `strength` workout: the totals of the detail's
    /// `movement_tracker_data` (rendered only once the workout is complete). `None` for
    /// other disciplines.
    pub strength: Option<StrengthTruth>,
    /// The performance graph's `muscle_group_score`, in rendered order (strength only,
    /// empty otherwise).
    pub muscle_groups: Vec<MuscleGroupScore>,
    /// Target metrics of the performance graph: `(metric, seconds in range, targeted
    /// seconds)` for `cadence` and `resistance`, in that order; empty when the class has no
    /// targets. Targeted seconds are the inclusive lengths `end - start + 1` of the
    /// `target_metrics` segments that target the metric (new shape), or the number of
    /// seconds with an upper bound above 0 in `target_graph_metrics` (old shape, workouts
    /// started before 2021). Seconds in range are `time_in_metric[].value` (new) or
    /// `{metric}_time_in_range` (old).
    pub targets: Vec<(String, f64, f64)>,
    /// The fastest whole split of `splits_metrics` (the one with `is_best: true`): for the
    /// rower the fastest 500 m as rendered (`pace` min/500m × 60), for rides, runs and walks
    /// the smallest `splits_data.splits[].seconds` of a whole mile or kilometer (the member's
    /// unit). `None` without a whole split, and for live rides (their splits come from
    /// the trace).
    pub best_split_seconds: Option<f64>,
}

/// Totals of a strength workout's rep tracking (`movement_tracker_data`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StrengthTruth {
    /// `total_repetitions`: sum of `completed_number` over sets that are not holds.
    pub repetitions: f64,
    /// `total_volume` in lb: sum of the sets' `total_volume`, which for dumbbell moves is
    /// 2 × `weight_value` × reps (both dumbbells count, P2G issue #727).
    pub volume_lb: f64,
    /// Sum of `completed_number` (seconds held) over holds.
    pub hold_seconds: f64,
    /// Sum of `length` over non-hold sets with `completed_number` > 0.
    pub rep_set_seconds: f64,
}

/// One `muscle_group_score` item of a strength performance graph.
#[derive(Clone, Debug, PartialEq)]
pub struct MuscleGroupScore {
    /// Peloton's slug (`biceps`, `mid_back`, …).
    pub muscle_group: String,
    pub display_name: String,
    pub score: f64,
    /// Rounded share of the total score; they add up to about 100.
    pub percentage: u32,
    /// 3 primary, 2 secondary, 1 minor.
    pub bucket: u32,
}

/// A challenge the fake serves (`/challenges/current`, `/challenge/{id}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Challenge {
    /// 32 hex digits, derived from the challenge's window (a new id each year or month).
    pub id: String,
    pub title: String,
    /// Unix seconds, inclusive bounds: 00:00:00 UTC of the first day to 23:59:59 UTC of
    /// the last.
    pub start_time: i64,
    pub end_time: i64,
    pub has_joined: bool,
    /// Only workouts of this discipline count (`None`: all).
    pub discipline: Option<String>,
    /// `(title, minutes)` of `challenge_detail.tiers`, starting with `("Joined", 0)`.
    pub tiers: Vec<(String, f64)>,
    /// `progress.metric_value` of the detail: whole minutes (rounded down) of the summed
    /// `end_time - start_time` of completed, not imported workouts whose `start_time` is in
    /// the window. 0 when not joined.
    pub progress_minutes: f64,
}

impl GeneratedWorkout {
    pub fn is_complete(&self) -> bool {
        self.status == WorkoutStatus::Complete
    }

    /// `end_time - start_time`, the member's actual time.
    pub fn elapsed_seconds(&self) -> Option<i64> {
        self.end_time.map(|e| e - self.start_time)
    }
}

/// The member and their whole history.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberData {
    pub user_id: String,
    pub username: String,
    /// Private fields the exporter must never export.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub location: String,
    pub units: Units,
    /// IANA-style name rendered in workouts' `timezone`.
    pub timezone: String,
    /// Fixed offset used for `device_time_created_at` and for streak days/weeks.
    pub utc_offset_s: i64,
    /// Account creation (`/api/me` `created_at`).
    pub created_at: i64,
    /// `/api/me` `last_workout_at`: set at generation and deliberately never updated
    /// afterwards (HB reports it is stale in the real API).
    pub last_workout_at: i64,
    pub followers: u32,
    pub following: u32,
    /// `cycling_ftp`.
    pub ftp: u32,
    /// `cycling_workout_ftp`.
    pub workout_ftp: u32,
    /// `estimated_cycling_ftp`.
    pub estimated_ftp: u32,
    /// `cycling_ftp_source`: `ftp_workout_source` | `ftp_manual_source` | `ftp_estimated_source`.
    pub ftp_source: String,
    pub ftp_workout_id: Option<String>,
    /// `default_max_heart_rate`.
    pub max_heart_rate: f64,
    /// `default_heart_rate_zones`: lower bounds of zones 1..5 in bpm.
    pub heart_rate_zones: [f64; 5],
    /// Newest first (by `created_at`).
    pub workouts: Vec<GeneratedWorkout>,
}

impl MemberData {
    /// A copy of the member-level fields only (cheap even for a huge history).
    pub(crate) fn without_workouts(&self) -> MemberData {
        MemberData {
            user_id: self.user_id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            location: self.location.clone(),
            units: self.units,
            timezone: self.timezone.clone(),
            utc_offset_s: self.utc_offset_s,
            created_at: self.created_at,
            last_workout_at: self.last_workout_at,
            followers: self.followers,
            following: self.following,
            ftp: self.ftp,
            workout_ftp: self.workout_ftp,
            estimated_ftp: self.estimated_ftp,
            ftp_source: self.ftp_source.clone(),
            ftp_workout_id: self.ftp_workout_id.clone(),
            max_heart_rate: self.max_heart_rate,
            heart_rate_zones: self.heart_rate_zones,
            workouts: Vec::new(),
        }
    }
}

/// One cycling output personal record (overview `personal_records[].records[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PersonalRecord {
    /// Class length in seconds (the record's `slug`).
    pub duration_s: u32,
    /// `raw_value`, joules.
    pub joules: f64,
    pub workout_id: String,
    /// Unix seconds of the workout's `created_at` (rendered as `workout_date`).
    pub created_at: i64,
}

/// Overview `streaks`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streaks {
    pub current_weekly: u32,
    /// Longest finished weekly streak, not counting the running one (as in the real sample).
    pub best_weekly: u32,
    pub start_date_of_current_weekly: Option<i64>,
    pub current_daily: u32,
    pub start_date_of_current_daily: Option<i64>,
}
