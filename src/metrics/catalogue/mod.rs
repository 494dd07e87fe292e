//! The metric catalogue: every family the exporter writes (docs/metrics.md is the
//! contract), one row each: its constant, type, label set, name, unit, optional group and
//! help. The collectors, `/metrics`, the backfill, remote write, the `--collector.*` flags
//! and the docs test all read it; a family's label set is a type (`labels`), so its series
//! cannot be given other labels.

pub mod labels;
pub mod metric;

pub use metric::Metric;

use crate::metrics::collectors::Collector;
use crate::metrics::family::Def;
use labels::{
    AuthResult, Build, Category, Challenge, ChallengeTier, ClassLength, CurvePoint, Discipline,
    Duration, Endpoint, EndpointCode, InstructorDiscipline, LabelSet, LiveInfo, Method, Month,
    MuscleGroup, NoLabels, Reason, Source, SplitLength, Stat, TargetRange, User, WorkoutInfo, Zone,
};
use metric::{BYTES, GRAMS, JOULES, METERS, METERS_PER_SECOND, RATIO, SECONDS, WATTS};

/// Declares one constant per row and `ALL`, every family in the rows' order, which is the
/// order of the exposition. A row reads
/// `CONSTANT: type<LabelSet> "name" [in UNIT] [if Group]: "help";`.
macro_rules! families {
    ($($name:ident: $kind:ident<$labels:ty> $base:literal $(in $unit:ident)? $(if $group:ident)?: $help:literal;)*) => {
        $(pub const $name: Metric<$labels> =
            metric::$kind($base, $help)$(.unit($unit))?$(.group(Collector::$group))?;)*

        /// Every family, in exposition order.
        pub const ALL: &[Def] = &[$($name.def),*];
    };
}

// One row per family: the table reads best unwrapped.
#[rustfmt::skip]
families! {
    // The process, as every official exporter reports it (no `peloton_` prefix, never an
    // `account` label).
    PROCESS_CPU: counter<NoLabels> "process_cpu" in SECONDS: "Total user and system CPU time spent in seconds";
    PROCESS_RESIDENT_MEMORY: gauge<NoLabels> "process_resident_memory" in BYTES: "Resident memory size in bytes";
    PROCESS_VIRTUAL_MEMORY: gauge<NoLabels> "process_virtual_memory" in BYTES: "Virtual memory size in bytes";
    PROCESS_OPEN_FDS: gauge<NoLabels> "process_open_fds": "Number of open file descriptors";
    PROCESS_MAX_FDS: gauge<NoLabels> "process_max_fds": "Maximum number of open file descriptors";
    PROCESS_START_TIME: gauge<NoLabels> "process_start_time" in SECONDS: "Start time of the process since unix epoch in seconds";

    // Exporter health.
    UP: gauge<NoLabels> "peloton_up": "1 when the last poll reached every Peloton endpoint it needed, else 0";
    BUILD_INFO: info<Build> "peloton_exporter_build": "Version and revision of the running exporter";
    POLL_DURATION: histogram<NoLabels> "peloton_poll_duration" in SECONDS: "Time of one poll cycle";
    POLLS: counter<NoLabels> "peloton_polls": "Poll cycles started";
    POLL_ERRORS: counter<Reason> "peloton_poll_errors": "Failed poll cycles by reason";
    LAST_SUCCESS: gauge<NoLabels> "peloton_last_successful_poll_timestamp" in SECONDS: "Unix time of the last poll that succeeded";
    API_REQUESTS: counter<EndpointCode> "peloton_api_requests": "Requests sent to Peloton by endpoint and HTTP status (error: no response)";
    API_DURATION: histogram<Endpoint> "peloton_api_request_duration" in SECONDS: "Duration of requests to Peloton";
    TOKEN_EXPIRY: gauge<NoLabels> "peloton_auth_token_expiry_timestamp" in SECONDS: "Unix time when the current access token expires (JWT exp)";
    AUTH_REFRESHES: counter<AuthResult> "peloton_auth_refreshes": "Token refreshes and logins by result";
    HISTORY_PENDING: gauge<NoLabels> "peloton_history_workouts_pending": "Workouts known but whose details are not fetched yet";
    REMOTE_WRITE_SAMPLES: counter<NoLabels> "peloton_remote_write_samples": "Samples accepted by the remote-write receiver";
    REMOTE_WRITE_FAILURES: counter<NoLabels> "peloton_remote_write_failures": "Remote-write pushes that failed after retries";
    REMOTE_WRITE_LAST_SUCCESS: gauge<NoLabels> "peloton_remote_write_last_success_timestamp" in SECONDS: "Unix time of the last successful remote-write push";
    CONFIG_RELOAD_OK: gauge<NoLabels> "peloton_config_last_reload_successful": "1 when the last reload of the configuration and secret files succeeded and the web config file on disk is in force, else 0";
    CONFIG_RELOAD_TIME: gauge<NoLabels> "peloton_config_last_reload_success_timestamp" in SECONDS: "Unix time of the last successful configuration load (start-up or reload)";

    // The account.
    USER_INFO: info<User> "peloton_user": "The Peloton account being exported";
    FOLLOWERS: gauge<NoLabels> "peloton_user_followers": "Members following this account";
    FOLLOWING: gauge<NoLabels> "peloton_user_following": "Members this account follows";
    FTP: gauge<Source> "peloton_cycling_ftp" in WATTS: "Cycling functional threshold power by source";
    WORKOUTS: counter<Discipline> "peloton_workouts": "Completed workouts by discipline";
    WORKOUTS_BY_MONTH: gauge<Month> "peloton_workouts_by_month" if Monthly: "Workouts started in a calendar month (YYYY-MM, UTC)";
    WEEKLY_STREAK: gauge<NoLabels> "peloton_weekly_streak": "Current weekly streak in weeks";
    WEEKLY_STREAK_BEST: gauge<NoLabels> "peloton_weekly_streak_best": "Best weekly streak ever in weeks, the running one included";
    DAILY_STREAK: gauge<NoLabels> "peloton_daily_streak": "Current daily streak in days";
    WEEKLY_STREAK_START: gauge<NoLabels> "peloton_weekly_streak_start_timestamp" in SECONDS: "Unix time the current weekly streak started";
    DAILY_STREAK_START: gauge<NoLabels> "peloton_daily_streak_start_timestamp" in SECONDS: "Unix time the current daily streak started";
    ACHIEVEMENTS: counter<NoLabels> "peloton_achievements": "Achievements earned";
    ACHIEVEMENTS_BY_CATEGORY: gauge<Category> "peloton_achievements_by_category" if Challenges: "Badges earned per achievement category (unknown categories included, past 32 as other)";
    HR_ZONE_MIN: gauge<Zone> "peloton_heart_rate_zone_min_bpm": "Lowest heart rate of each of the member's heart-rate zones in beats per minute";
    HR_ZONE_MAX: gauge<Zone> "peloton_heart_rate_zone_max_bpm": "Highest heart rate of each of the member's heart-rate zones in beats per minute (zone 5: the maximum heart rate)";

    // The annual minutes challenge, while the member has joined one.
    CHALLENGE_PROGRESS: gauge<Challenge> "peloton_annual_challenge_progress" in SECONDS if Challenges: "Workout time counted towards the annual challenge";
    CHALLENGE_TIER: gauge<ChallengeTier> "peloton_annual_challenge_tier" in SECONDS if Challenges: "Workout time each tier of the annual challenge asks for";
    CHALLENGE_NEEDED_PER_DAY: gauge<ChallengeTier> "peloton_annual_challenge_needed_per_day" in SECONDS if Challenges: "Workout time per remaining day (today included) still needed to reach each tier; 0 once reached";
    CHALLENGE_START: gauge<Challenge> "peloton_annual_challenge_start_timestamp" in SECONDS if Challenges: "Unix time the annual challenge started";
    CHALLENGE_END: gauge<Challenge> "peloton_annual_challenge_end_timestamp" in SECONDS if Challenges: "Unix time the annual challenge ends";
    PERSONAL_RECORD: gauge<ClassLength> "peloton_personal_record_output" in JOULES if PersonalRecords: "Best total output for a class length (duration_seconds)";
    IN_PROGRESS: gauge<Discipline> "peloton_workout_in_progress": "1 while the newest workout of this discipline is in progress, else 0";

    // Lifetime totals over completed workouts.
    OUTPUT_TOTAL: counter<Discipline> "peloton_output" in JOULES: "Total output of completed workouts by discipline";
    DURATION_TOTAL: counter<Discipline> "peloton_workout_duration" in SECONDS: "Time spent in completed workouts by discipline";
    DISTANCE_TOTAL: counter<Discipline> "peloton_distance" in METERS: "Distance of completed workouts by discipline";
    ENERGY_TOTAL: counter<Discipline> "peloton_energy_burned" in JOULES: "Energy burned in completed workouts by discipline (kcal x 4184)";
    HR_ZONE_TOTAL: counter<Zone> "peloton_heart_rate_zone" in SECONDS: "Time in each heart-rate zone over completed workouts";
    IMPORTED_WORKOUTS: counter<Discipline> "peloton_imported_workouts": "Completed workouts imported from other services (Apple Health, Strava, Fitbit, Garmin) by discipline; not in the lifetime totals unless --peloton.include-imported";
    INSTRUCTOR_WORKOUTS: counter<InstructorDiscipline> "peloton_instructor_workouts" if Instructor: "Completed workouts by instructor and discipline";

    // The latest completed workout.
    LATEST_INFO: info<WorkoutInfo> "peloton_latest_workout" if LatestWorkout: "The latest completed workout";
    LATEST_START: gauge<NoLabels> "peloton_latest_workout_start_timestamp" in SECONDS if LatestWorkout: "Unix time the latest completed workout started";
    LATEST_END: gauge<NoLabels> "peloton_latest_workout_end_timestamp" in SECONDS if LatestWorkout: "Unix time the latest completed workout ended";
    LATEST_DURATION: gauge<NoLabels> "peloton_latest_workout_duration" in SECONDS if LatestWorkout: "Time spent in the latest completed workout";
    LATEST_OUTPUT: gauge<NoLabels> "peloton_latest_workout_output" in JOULES if LatestWorkout: "Total output of the latest completed workout";
    LATEST_ENERGY: gauge<NoLabels> "peloton_latest_workout_energy_burned" in JOULES if LatestWorkout: "Energy burned in the latest completed workout (kcal x 4184)";
    LATEST_DISTANCE: gauge<NoLabels> "peloton_latest_workout_distance" in METERS if LatestWorkout: "Distance of the latest completed workout";
    LATEST_ELEVATION: gauge<NoLabels> "peloton_latest_workout_elevation" in METERS if LatestWorkout: "Elevation gain of the latest completed workout";
    LATEST_OUTPUT_WATTS: gauge<Stat> "peloton_latest_workout_output" in WATTS if LatestWorkout: "Power of the latest completed workout (stat avg or max)";
    LATEST_CADENCE: gauge<Stat> "peloton_latest_workout_cadence_rpm" if LatestWorkout: "Cadence of the latest completed workout in revolutions per minute";
    LATEST_RESISTANCE: gauge<Stat> "peloton_latest_workout_resistance" in RATIO if LatestWorkout: "Resistance of the latest completed workout";
    LATEST_SPEED: gauge<Stat> "peloton_latest_workout_speed" in METERS_PER_SECOND if LatestWorkout: "Speed of the latest completed workout";
    LATEST_INCLINE: gauge<Stat> "peloton_latest_workout_incline" in RATIO if LatestWorkout: "Incline of the latest completed workout";
    LATEST_HEART_RATE: gauge<Stat> "peloton_latest_workout_heart_rate_bpm" if LatestWorkout: "Heart rate in the latest completed workout in beats per minute";
    LATEST_STROKE_RATE: gauge<Stat> "peloton_latest_workout_stroke_rate_spm" if LatestWorkout: "Stroke rate of the latest completed workout in strokes per minute";
    LATEST_HR_ZONE: gauge<Zone> "peloton_latest_workout_heart_rate_zone" in SECONDS if LatestWorkout: "Time in each heart-rate zone in the latest completed workout";
    LATEST_EFFORT: gauge<NoLabels> "peloton_latest_workout_effort_points" if LatestWorkout: "Effort points of the latest completed workout";
    LATEST_RANK: gauge<NoLabels> "peloton_latest_workout_leaderboard_rank" if LatestWorkout: "Leaderboard rank in the latest completed workout";
    LATEST_USERS: gauge<NoLabels> "peloton_latest_workout_leaderboard_users" if LatestWorkout: "Members on the leaderboard of the latest completed workout";
    LATEST_BADGES: gauge<NoLabels> "peloton_latest_workout_achievements" if LatestWorkout: "Badges earned in the latest completed workout";
    LATEST_REPS: gauge<NoLabels> "peloton_latest_workout_strength_repetitions" if LatestWorkout: "Repetitions of tracked movements in the latest completed workout";
    LATEST_VOLUME: gauge<NoLabels> "peloton_latest_workout_strength_volume" in GRAMS if LatestWorkout: "Weight lifted times repetitions in the latest completed workout";
    LATEST_TENSION: gauge<NoLabels> "peloton_latest_workout_strength_time_under_tension" in SECONDS if LatestWorkout: "Time under load in the latest completed workout";
    LATEST_MUSCLE_GROUP: gauge<MuscleGroup> "peloton_latest_workout_muscle_group_score" if LatestWorkout: "Peloton's muscle-group score of the latest completed workout";
    LATEST_TARGET: gauge<TargetRange> "peloton_latest_workout_target_metric" in SECONDS if LatestWorkout: "Time in and out of the target range per target metric in the latest completed workout";
    LATEST_BEST_SPLIT: gauge<SplitLength> "peloton_latest_workout_best_split" in SECONDS if LatestWorkout: "Fastest whole split of the latest completed workout";

    // The ride in progress, in live mode (--poll.live-interval): absent while none runs and
    // once its latest sample is older than three live intervals (docs/live.md).
    LIVE_INFO: info<LiveInfo> "peloton_live_workout": "The workout in progress (live mode)";
    LIVE_START: gauge<NoLabels> "peloton_live_workout_start_timestamp" in SECONDS: "Unix time the workout in progress started";
    LIVE_CLASS_LENGTH: gauge<NoLabels> "peloton_live_workout_class_length" in SECONDS: "Length of the class in progress";
    LIVE_OUTPUT_SO_FAR: gauge<NoLabels> "peloton_live_workout_output" in JOULES: "Output of the workout in progress so far";
    LIVE_DISTANCE_SO_FAR: gauge<NoLabels> "peloton_live_workout_distance" in METERS: "Distance of the workout in progress so far";
    LIVE_SAMPLE_TIME: gauge<NoLabels> "peloton_live_sample_timestamp" in SECONDS: "Unix time the latest live sample was read";
    LIVE_ELAPSED: gauge<NoLabels> "peloton_live_elapsed" in SECONDS: "Seconds since the member started, at the latest live sample";
    LIVE_OUTPUT: gauge<NoLabels> "peloton_live_output" in WATTS: "Power at the latest live sample";
    LIVE_CADENCE: gauge<NoLabels> "peloton_live_cadence_rpm": "Cadence at the latest live sample in revolutions per minute";
    LIVE_RESISTANCE: gauge<NoLabels> "peloton_live_resistance" in RATIO: "Resistance at the latest live sample";
    LIVE_SPEED: gauge<NoLabels> "peloton_live_speed" in METERS_PER_SECOND: "Speed at the latest live sample";
    LIVE_HEART_RATE: gauge<NoLabels> "peloton_live_heart_rate_bpm": "Heart rate at the latest live sample in beats per minute";
    LIVE_HR_ZONE: gauge<NoLabels> "peloton_live_heart_rate_zone": "Heart-rate zone (1-5, the member's own zones) of the latest live sample";
    LIVE_POWER_ZONE: gauge<NoLabels> "peloton_live_power_zone": "Peloton power zone (1-7, at the FTP zones are drawn with) of the latest live sample";

    // Training analytics (docs/metrics.md, "Training").
    POWER_CURVE: gauge<CurvePoint> "peloton_power_curve" in WATTS: "Best average cycling power over duration seconds, over all time or the last 90 days (window)";
    POWER_ZONE_FTP: gauge<Source> "peloton_power_zone_ftp" in WATTS: "FTP Peloton shows power zones at: ftp_info of the most recent ride that had one";
    TRAINING_LOAD_CHRONIC: gauge<Method> "peloton_training_load_chronic": "Fitness (CTL): 42-day exponentially weighted daily training load, per load method";
    TRAINING_LOAD_ACUTE: gauge<Method> "peloton_training_load_acute": "Fatigue (ATL): 7-day exponentially weighted daily training load, per load method";
    TRAINING_FORM: gauge<Method> "peloton_training_form": "Form (TSB): fitness minus fatigue at the end of the UTC day, per load method";
    POWER_ZONE_TOTAL: counter<Zone> "peloton_power_zone" in SECONDS: "Time in each of Peloton's seven power zones over completed rides, each at its own FTP";
    TRAINING_LOAD_TOTAL: counter<Method> "peloton_training_load": "Training load of completed workouts summed, per load method (power_tss, hr_trimp)";
    EFFORT_POINTS_TOTAL: counter<NoLabels> "peloton_effort_points": "Effort points of completed workouts";

    // Badges, strength, targets and splits over completed workouts (docs/metrics.md).
    WORKOUT_BADGES_TOTAL: counter<NoLabels> "peloton_workout_achievements": "Badges earned in completed workouts (their detail's achievement_templates), at each workout's time";
    STRENGTH_REPS_TOTAL: counter<NoLabels> "peloton_strength_repetitions": "Repetitions of tracked strength movements";
    STRENGTH_VOLUME_TOTAL: counter<NoLabels> "peloton_strength_volume" in GRAMS: "Weight lifted times repetitions in tracked strength movements, both dumbbells of a pair counted";
    STRENGTH_TENSION_TOTAL: counter<NoLabels> "peloton_strength_time_under_tension" in SECONDS: "Time under load in tracked strength movements: seconds held plus the time of each set done";
    MUSCLE_GROUP_TOTAL: counter<MuscleGroup> "peloton_muscle_group_score": "Peloton's muscle-group score summed over completed workouts";
    TARGET_TOTAL: counter<TargetRange> "peloton_target_metric" in SECONDS: "Time in (range=in) and out of (range=out) the class's target range, per target metric";
    BEST_SPLIT: gauge<SplitLength> "peloton_best_split" in SECONDS: "Fastest whole split ever: 500 m on the rower, a kilometre or mile running, walking or riding";

    // The newest strength class and the newest class with targets, whatever came after.
    LATEST_STRENGTH_END: gauge<NoLabels> "peloton_latest_strength_workout_end_timestamp" in SECONDS: "Unix time the newest completed workout with tracked strength work ended";
    LATEST_STRENGTH_REPS: gauge<NoLabels> "peloton_latest_strength_workout_repetitions": "Repetitions of tracked movements in the newest strength workout";
    LATEST_STRENGTH_VOLUME: gauge<NoLabels> "peloton_latest_strength_workout_volume" in GRAMS: "Weight lifted times repetitions in the newest strength workout";
    LATEST_STRENGTH_TENSION: gauge<NoLabels> "peloton_latest_strength_workout_time_under_tension" in SECONDS: "Time under load in the newest strength workout";
    LATEST_STRENGTH_MUSCLE_GROUP: gauge<MuscleGroup> "peloton_latest_strength_workout_muscle_group_score": "Peloton's muscle-group score of the newest strength workout";
    LATEST_TARGETED_END: gauge<NoLabels> "peloton_latest_targeted_workout_end_timestamp" in SECONDS: "Unix time the newest completed class with targets ended";
    LATEST_TARGETED: gauge<TargetRange> "peloton_latest_targeted_workout_target_metric" in SECONDS: "Time in and out of the target range per target metric in the newest class with targets";

    // The latest completed workout's training analytics.
    LATEST_POWER_BEST: gauge<Duration> "peloton_latest_workout_power_best" in WATTS if LatestWorkout: "Best average power over duration seconds in the latest completed workout";
    LATEST_NORMALIZED_POWER: gauge<NoLabels> "peloton_latest_workout_normalized_power" in WATTS if LatestWorkout: "Normalized power of the latest completed workout (4th-power mean of 30 s averages)";
    LATEST_INTENSITY_FACTOR: gauge<NoLabels> "peloton_latest_workout_intensity_factor" in RATIO if LatestWorkout: "Intensity factor of the latest completed workout: normalized power / FTP";
    LATEST_TSS: gauge<NoLabels> "peloton_latest_workout_training_stress_score" if LatestWorkout: "Training stress score of the latest completed workout (100 = one hour at FTP)";
    LATEST_TRAINING_LOAD: gauge<Method> "peloton_latest_workout_training_load" if LatestWorkout: "Training load of the latest completed workout: power_tss or hr_trimp (method)";
    LATEST_FTP: gauge<Source> "peloton_latest_workout_ftp" in WATTS if LatestWorkout: "FTP in force at the latest completed workout (its ftp_info), by source";

    // Per-sample traces: only in `backfill --traces` and `--remote-write.traces`.
    TRACE_OUTPUT: gauge<NoLabels> "peloton_trace_output" in WATTS: "Power of each sample of a workout's performance graph";
    TRACE_CADENCE: gauge<NoLabels> "peloton_trace_cadence_rpm": "Cadence of each sample of a workout's performance graph";
    TRACE_RESISTANCE: gauge<NoLabels> "peloton_trace_resistance" in RATIO: "Resistance of each sample of a workout's performance graph";
    TRACE_SPEED: gauge<NoLabels> "peloton_trace_speed" in METERS_PER_SECOND: "Speed of each sample of a workout's performance graph";
    TRACE_HEART_RATE: gauge<NoLabels> "peloton_trace_heart_rate_bpm": "Heart rate of each sample of a workout's performance graph";
}

/// The trace families in the order of `Trace::channels`.
pub const TRACES: [Metric<NoLabels>; 5] = [
    TRACE_OUTPUT,
    TRACE_CADENCE,
    TRACE_RESISTANCE,
    TRACE_SPEED,
    TRACE_HEART_RATE,
];

/// Whether the exporter writes a label of this name itself: an extra label of that name
/// (`--label`, `--remote-write.label`) would clash with it.
pub fn writes_label(name: &str) -> bool {
    name == labels::BUCKET_BOUND
        || labels::Account::NAMES.contains(&name)
        || ALL.iter().any(|d| d.labels.contains(&name))
}

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

    #[test]
    fn the_latest_workout_group_is_every_latest_workout_family() {
        use crate::metrics::collectors::Collector;
        for d in ALL {
            assert_eq!(
                d.group == Some(Collector::LatestWorkout),
                d.base.starts_with("peloton_latest_workout"),
                "{}",
                d.base
            );
        }
    }

    #[test]
    fn extra_labels_may_not_take_a_name_the_exporter_writes() {
        for name in ["account", "discipline", "method", "window", "le", "user_id"] {
            assert!(writes_label(name), "{name}");
        }
        for name in ["job", "instance", "env"] {
            assert!(!writes_label(name), "{name}");
        }
    }
}
