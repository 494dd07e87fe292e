//! The metric catalogue: every family the exporter writes (METRICS.md is the contract).

use super::family::{Def, Kind};

const fn def(
    base: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    kind: Kind,
) -> Def {
    Def {
        base,
        help,
        unit,
        kind,
    }
}

const SECONDS: Option<&str> = Some("seconds");
const JOULES: Option<&str> = Some("joules");
const METERS: Option<&str> = Some("meters");
const RATIO: Option<&str> = Some("ratio");
const BYTES: Option<&str> = Some("bytes");

// The process, as every official exporter reports it (no `peloton_` prefix, never an
// `account` label).
pub const PROCESS_CPU: Def = def(
    "process_cpu",
    "Total user and system CPU time spent in seconds",
    SECONDS,
    Kind::Counter,
);
pub const PROCESS_RESIDENT_MEMORY: Def = def(
    "process_resident_memory",
    "Resident memory size in bytes",
    BYTES,
    Kind::Gauge,
);
pub const PROCESS_VIRTUAL_MEMORY: Def = def(
    "process_virtual_memory",
    "Virtual memory size in bytes",
    BYTES,
    Kind::Gauge,
);
pub const PROCESS_OPEN_FDS: Def = def(
    "process_open_fds",
    "Number of open file descriptors",
    None,
    Kind::Gauge,
);
pub const PROCESS_MAX_FDS: Def = def(
    "process_max_fds",
    "Maximum number of open file descriptors",
    None,
    Kind::Gauge,
);
pub const PROCESS_START_TIME: Def = def(
    "process_start_time",
    "Start time of the process since unix epoch in seconds",
    SECONDS,
    Kind::Gauge,
);

// Exporter health.
pub const UP: Def = def(
    "peloton_up",
    "1 when the last poll reached every Peloton endpoint it needed, else 0",
    None,
    Kind::Gauge,
);
pub const BUILD_INFO: Def = def(
    "peloton_exporter_build",
    "Version and revision of the running exporter",
    None,
    Kind::Info,
);
pub const POLL_DURATION: Def = def(
    "peloton_poll_duration",
    "Time of one poll cycle",
    SECONDS,
    Kind::Histogram,
);
pub const POLLS: Def = def("peloton_polls", "Poll cycles started", None, Kind::Counter);
pub const POLL_ERRORS: Def = def(
    "peloton_poll_errors",
    "Failed poll cycles by reason",
    None,
    Kind::Counter,
);
pub const LAST_SUCCESS: Def = def(
    "peloton_last_successful_poll_timestamp",
    "Unix time of the last poll that succeeded",
    SECONDS,
    Kind::Gauge,
);
pub const API_REQUESTS: Def = def(
    "peloton_api_requests",
    "Requests sent to Peloton by endpoint and HTTP status (error: no response)",
    None,
    Kind::Counter,
);
pub const API_DURATION: Def = def(
    "peloton_api_request_duration",
    "Duration of requests to Peloton",
    SECONDS,
    Kind::Histogram,
);
pub const TOKEN_EXPIRY: Def = def(
    "peloton_auth_token_expiry_timestamp",
    "Unix time when the current access token expires (JWT exp)",
    SECONDS,
    Kind::Gauge,
);
pub const AUTH_REFRESHES: Def = def(
    "peloton_auth_refreshes",
    "Token refreshes and logins by result",
    None,
    Kind::Counter,
);
pub const HISTORY_PENDING: Def = def(
    "peloton_history_workouts_pending",
    "Workouts known but whose details are not fetched yet",
    None,
    Kind::Gauge,
);

pub const REMOTE_WRITE_SAMPLES: Def = def(
    "peloton_remote_write_samples",
    "Samples accepted by the remote-write receiver",
    None,
    Kind::Counter,
);
pub const REMOTE_WRITE_FAILURES: Def = def(
    "peloton_remote_write_failures",
    "Remote-write pushes that failed after retries",
    None,
    Kind::Counter,
);
pub const REMOTE_WRITE_LAST_SUCCESS: Def = def(
    "peloton_remote_write_last_success_timestamp",
    "Unix time of the last successful remote-write push",
    SECONDS,
    Kind::Gauge,
);

pub const CONFIG_RELOAD_OK: Def = def(
    "peloton_config_last_reload_successful",
    "1 when the last reload of the configuration and secret files succeeded and the web config file on disk is in force, else 0",
    None,
    Kind::Gauge,
);
pub const CONFIG_RELOAD_TIME: Def = def(
    "peloton_config_last_reload_success_timestamp",
    "Unix time of the last successful configuration load (start-up or reload)",
    SECONDS,
    Kind::Gauge,
);

// Account.
pub const USER_INFO: Def = def(
    "peloton_user",
    "The Peloton account being exported",
    None,
    Kind::Info,
);
pub const FOLLOWERS: Def = def(
    "peloton_user_followers",
    "Members following this account",
    None,
    Kind::Gauge,
);
pub const FOLLOWING: Def = def(
    "peloton_user_following",
    "Members this account follows",
    None,
    Kind::Gauge,
);
pub const FTP: Def = def(
    "peloton_cycling_ftp",
    "Cycling functional threshold power by source",
    Some("watts"),
    Kind::Gauge,
);
pub const WORKOUTS: Def = def(
    "peloton_workouts",
    "Completed workouts by discipline",
    None,
    Kind::Counter,
);
pub const WORKOUTS_BY_MONTH: Def = def(
    "peloton_workouts_by_month",
    "Workouts started in a calendar month (YYYY-MM, UTC)",
    None,
    Kind::Gauge,
);
pub const WEEKLY_STREAK: Def = def(
    "peloton_weekly_streak",
    "Current weekly streak in weeks",
    None,
    Kind::Gauge,
);
pub const WEEKLY_STREAK_BEST: Def = def(
    "peloton_weekly_streak_best",
    "Best weekly streak ever in weeks, the running one included",
    None,
    Kind::Gauge,
);
pub const DAILY_STREAK: Def = def(
    "peloton_daily_streak",
    "Current daily streak in days",
    None,
    Kind::Gauge,
);
pub const WEEKLY_STREAK_START: Def = def(
    "peloton_weekly_streak_start_timestamp",
    "Unix time the current weekly streak started",
    SECONDS,
    Kind::Gauge,
);
pub const DAILY_STREAK_START: Def = def(
    "peloton_daily_streak_start_timestamp",
    "Unix time the current daily streak started",
    SECONDS,
    Kind::Gauge,
);
pub const ACHIEVEMENTS: Def = def(
    "peloton_achievements",
    "Achievements earned",
    None,
    Kind::Counter,
);
pub const PERSONAL_RECORD: Def = def(
    "peloton_personal_record_output",
    "Best total output for a class length (duration_seconds)",
    JOULES,
    Kind::Gauge,
);
pub const IN_PROGRESS: Def = def(
    "peloton_workout_in_progress",
    "1 while the newest workout of this discipline is in progress, else 0",
    None,
    Kind::Gauge,
);

// Lifetime totals over completed workouts.
pub const OUTPUT_TOTAL: Def = def(
    "peloton_output",
    "Total output of completed workouts by discipline",
    JOULES,
    Kind::Counter,
);
pub const DURATION_TOTAL: Def = def(
    "peloton_workout_duration",
    "Time spent in completed workouts by discipline",
    SECONDS,
    Kind::Counter,
);
pub const DISTANCE_TOTAL: Def = def(
    "peloton_distance",
    "Distance of completed workouts by discipline",
    METERS,
    Kind::Counter,
);
pub const ENERGY_TOTAL: Def = def(
    "peloton_energy_burned",
    "Energy burned in completed workouts by discipline (kcal x 4184)",
    JOULES,
    Kind::Counter,
);
pub const HR_ZONE_TOTAL: Def = def(
    "peloton_heart_rate_zone",
    "Time in each heart-rate zone over completed workouts",
    SECONDS,
    Kind::Counter,
);
pub const IMPORTED_WORKOUTS: Def = def(
    "peloton_imported_workouts",
    "Completed workouts imported from other services (Apple Health, Strava, Fitbit, Garmin) by discipline; not in the lifetime totals unless --peloton.include-imported",
    None,
    Kind::Counter,
);
pub const INSTRUCTOR_WORKOUTS: Def = def(
    "peloton_instructor_workouts",
    "Completed workouts by instructor and discipline",
    None,
    Kind::Counter,
);

// Latest completed workout.
pub const LATEST_INFO: Def = def(
    "peloton_latest_workout",
    "The latest completed workout",
    None,
    Kind::Info,
);
pub const LATEST_START: Def = def(
    "peloton_latest_workout_start_timestamp",
    "Unix time the latest completed workout started",
    SECONDS,
    Kind::Gauge,
);
pub const LATEST_END: Def = def(
    "peloton_latest_workout_end_timestamp",
    "Unix time the latest completed workout ended",
    SECONDS,
    Kind::Gauge,
);
pub const LATEST_DURATION: Def = def(
    "peloton_latest_workout_duration",
    "Time spent in the latest completed workout",
    SECONDS,
    Kind::Gauge,
);
pub const LATEST_OUTPUT: Def = def(
    "peloton_latest_workout_output",
    "Total output of the latest completed workout",
    JOULES,
    Kind::Gauge,
);
pub const LATEST_ENERGY: Def = def(
    "peloton_latest_workout_energy_burned",
    "Energy burned in the latest completed workout (kcal x 4184)",
    JOULES,
    Kind::Gauge,
);
pub const LATEST_DISTANCE: Def = def(
    "peloton_latest_workout_distance",
    "Distance of the latest completed workout",
    METERS,
    Kind::Gauge,
);
pub const LATEST_ELEVATION: Def = def(
    "peloton_latest_workout_elevation",
    "Elevation gain of the latest completed workout",
    METERS,
    Kind::Gauge,
);
pub const LATEST_OUTPUT_WATTS: Def = def(
    "peloton_latest_workout_output",
    "Power of the latest completed workout (stat avg or max)",
    Some("watts"),
    Kind::Gauge,
);
pub const LATEST_CADENCE: Def = def(
    "peloton_latest_workout_cadence_rpm",
    "Cadence of the latest completed workout in revolutions per minute",
    None,
    Kind::Gauge,
);
pub const LATEST_RESISTANCE: Def = def(
    "peloton_latest_workout_resistance",
    "Resistance of the latest completed workout",
    RATIO,
    Kind::Gauge,
);
pub const LATEST_SPEED: Def = def(
    "peloton_latest_workout_speed",
    "Speed of the latest completed workout",
    Some("meters_per_second"),
    Kind::Gauge,
);
pub const LATEST_INCLINE: Def = def(
    "peloton_latest_workout_incline",
    "Incline of the latest completed workout",
    RATIO,
    Kind::Gauge,
);
pub const LATEST_HEART_RATE: Def = def(
    "peloton_latest_workout_heart_rate_bpm",
    "Heart rate in the latest completed workout in beats per minute",
    None,
    Kind::Gauge,
);
pub const LATEST_STROKE_RATE: Def = def(
    "peloton_latest_workout_stroke_rate_spm",
    "Stroke rate of the latest completed workout in strokes per minute",
    None,
    Kind::Gauge,
);
pub const LATEST_HR_ZONE: Def = def(
    "peloton_latest_workout_heart_rate_zone",
    "Time in each heart-rate zone in the latest completed workout",
    SECONDS,
    Kind::Gauge,
);
pub const LATEST_EFFORT: Def = def(
    "peloton_latest_workout_effort_points",
    "Effort points of the latest completed workout",
    None,
    Kind::Gauge,
);
pub const LATEST_RANK: Def = def(
    "peloton_latest_workout_leaderboard_rank",
    "Leaderboard rank in the latest completed workout",
    None,
    Kind::Gauge,
);
pub const LATEST_USERS: Def = def(
    "peloton_latest_workout_leaderboard_users",
    "Members on the leaderboard of the latest completed workout",
    None,
    Kind::Gauge,
);

// Training analytics (docs/metrics.md, "Training").
const WATTS: Option<&str> = Some("watts");
pub const POWER_CURVE: Def = def(
    "peloton_power_curve",
    "Best average cycling power over duration seconds, over all time or the last 90 days (window)",
    WATTS,
    Kind::Gauge,
);
pub const POWER_ZONE_FTP: Def = def(
    "peloton_power_zone_ftp",
    "FTP Peloton shows power zones at: ftp_info of the most recent ride that had one",
    WATTS,
    Kind::Gauge,
);
pub const TRAINING_LOAD_CHRONIC: Def = def(
    "peloton_training_load_chronic",
    "Fitness (CTL): 42-day exponentially weighted daily training load, per load method",
    None,
    Kind::Gauge,
);
pub const TRAINING_LOAD_ACUTE: Def = def(
    "peloton_training_load_acute",
    "Fatigue (ATL): 7-day exponentially weighted daily training load, per load method",
    None,
    Kind::Gauge,
);
pub const TRAINING_FORM: Def = def(
    "peloton_training_form",
    "Form (TSB): fitness minus fatigue at the end of the UTC day, per load method",
    None,
    Kind::Gauge,
);
pub const POWER_ZONE_TOTAL: Def = def(
    "peloton_power_zone",
    "Time in each of Peloton's seven power zones over completed rides, each at its own FTP",
    SECONDS,
    Kind::Counter,
);
pub const TRAINING_LOAD_TOTAL: Def = def(
    "peloton_training_load",
    "Training load of completed workouts summed, per load method (power_tss, hr_trimp)",
    None,
    Kind::Counter,
);
pub const EFFORT_POINTS_TOTAL: Def = def(
    "peloton_effort_points",
    "Effort points of completed workouts",
    None,
    Kind::Counter,
);
pub const LATEST_POWER_BEST: Def = def(
    "peloton_latest_workout_power_best",
    "Best average power over duration seconds in the latest completed workout",
    WATTS,
    Kind::Gauge,
);
pub const LATEST_NORMALIZED_POWER: Def = def(
    "peloton_latest_workout_normalized_power",
    "Normalized power of the latest completed workout (4th-power mean of 30 s averages)",
    WATTS,
    Kind::Gauge,
);
pub const LATEST_INTENSITY_FACTOR: Def = def(
    "peloton_latest_workout_intensity_factor",
    "Intensity factor of the latest completed workout: normalized power / FTP",
    RATIO,
    Kind::Gauge,
);
pub const LATEST_TSS: Def = def(
    "peloton_latest_workout_training_stress_score",
    "Training stress score of the latest completed workout (100 = one hour at FTP)",
    None,
    Kind::Gauge,
);
pub const LATEST_TRAINING_LOAD: Def = def(
    "peloton_latest_workout_training_load",
    "Training load of the latest completed workout: power_tss or hr_trimp (method)",
    None,
    Kind::Gauge,
);
pub const LATEST_FTP: Def = def(
    "peloton_latest_workout_ftp",
    "FTP in force at the latest completed workout (its ftp_info), by source",
    WATTS,
    Kind::Gauge,
);

// Per-sample traces: only in `backfill --traces` and `--remote-write.traces`.
pub const TRACE_OUTPUT: Def = def(
    "peloton_trace_output",
    "Power of each sample of a workout's performance graph",
    WATTS,
    Kind::Gauge,
);
pub const TRACE_CADENCE: Def = def(
    "peloton_trace_cadence_rpm",
    "Cadence of each sample of a workout's performance graph",
    None,
    Kind::Gauge,
);
pub const TRACE_RESISTANCE: Def = def(
    "peloton_trace_resistance",
    "Resistance of each sample of a workout's performance graph",
    RATIO,
    Kind::Gauge,
);
pub const TRACE_SPEED: Def = def(
    "peloton_trace_speed",
    "Speed of each sample of a workout's performance graph",
    Some("meters_per_second"),
    Kind::Gauge,
);
pub const TRACE_HEART_RATE: Def = def(
    "peloton_trace_heart_rate_bpm",
    "Heart rate of each sample of a workout's performance graph",
    None,
    Kind::Gauge,
);
/// The trace families in the order of `Trace::channels`.
pub const TRACES: [Def; 5] = [
    TRACE_OUTPUT,
    TRACE_CADENCE,
    TRACE_RESISTANCE,
    TRACE_SPEED,
    TRACE_HEART_RATE,
];

/// Every family, in exposition order.
pub const ALL: &[Def] = &[
    PROCESS_CPU,
    PROCESS_RESIDENT_MEMORY,
    PROCESS_VIRTUAL_MEMORY,
    PROCESS_OPEN_FDS,
    PROCESS_MAX_FDS,
    PROCESS_START_TIME,
    UP,
    BUILD_INFO,
    POLL_DURATION,
    POLLS,
    POLL_ERRORS,
    LAST_SUCCESS,
    API_REQUESTS,
    API_DURATION,
    TOKEN_EXPIRY,
    AUTH_REFRESHES,
    HISTORY_PENDING,
    REMOTE_WRITE_SAMPLES,
    REMOTE_WRITE_FAILURES,
    REMOTE_WRITE_LAST_SUCCESS,
    CONFIG_RELOAD_OK,
    CONFIG_RELOAD_TIME,
    USER_INFO,
    FOLLOWERS,
    FOLLOWING,
    FTP,
    WORKOUTS,
    WORKOUTS_BY_MONTH,
    WEEKLY_STREAK,
    WEEKLY_STREAK_BEST,
    DAILY_STREAK,
    WEEKLY_STREAK_START,
    DAILY_STREAK_START,
    ACHIEVEMENTS,
    PERSONAL_RECORD,
    IN_PROGRESS,
    OUTPUT_TOTAL,
    DURATION_TOTAL,
    DISTANCE_TOTAL,
    ENERGY_TOTAL,
    HR_ZONE_TOTAL,
    IMPORTED_WORKOUTS,
    INSTRUCTOR_WORKOUTS,
    LATEST_INFO,
    LATEST_START,
    LATEST_END,
    LATEST_DURATION,
    LATEST_OUTPUT,
    LATEST_ENERGY,
    LATEST_DISTANCE,
    LATEST_ELEVATION,
    LATEST_OUTPUT_WATTS,
    LATEST_CADENCE,
    LATEST_RESISTANCE,
    LATEST_SPEED,
    LATEST_INCLINE,
    LATEST_HEART_RATE,
    LATEST_STROKE_RATE,
    LATEST_HR_ZONE,
    LATEST_EFFORT,
    LATEST_RANK,
    LATEST_USERS,
    POWER_CURVE,
    POWER_ZONE_FTP,
    TRAINING_LOAD_CHRONIC,
    TRAINING_LOAD_ACUTE,
    TRAINING_FORM,
    POWER_ZONE_TOTAL,
    TRAINING_LOAD_TOTAL,
    EFFORT_POINTS_TOTAL,
    LATEST_POWER_BEST,
    LATEST_NORMALIZED_POWER,
    LATEST_INTENSITY_FACTOR,
    LATEST_TSS,
    LATEST_TRAINING_LOAD,
    LATEST_FTP,
    TRACE_OUTPUT,
    TRACE_CADENCE,
    TRACE_RESISTANCE,
    TRACE_SPEED,
    TRACE_HEART_RATE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_follow_conventions() {
        let mut seen = HashSet::new();
        for d in ALL {
            // The standard process families keep their standard names.
            assert!(
                d.base.starts_with("peloton_") || d.base.starts_with("process_"),
                "{}",
                d.base
            );
            assert!(
                seen.insert(d.family_name()),
                "duplicate {}",
                d.family_name()
            );
            assert!(
                !d.base.ends_with("_total") && !d.base.ends_with("_info"),
                "{}",
                d.base
            );
            assert!(!d.help.contains('\n') && !d.help.contains('\\'));
        }
    }
}
