//! Serde shapes of Peloton's responses (API.md §4). Every field is optional and lenient:
//! unknown fields are ignored, nulls and odd types become `None`. Units stay as the API
//! sends them; `domain` converts them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::lenient;

mod extras;
pub use extras::*;

/// `GET /api/me`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Me {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub username: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_workouts: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_followers: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_following: Option<i64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub cycling_ftp: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub cycling_workout_ftp: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub estimated_cycling_ftp: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub cycling_ftp_source: Option<String>,
    /// Zone floors in bpm: numbers, or `{slug, min_value, max_value}` objects in some
    /// answers (research: homebridge-peloton's recorded `me`).
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub default_heart_rate_zones: Vec<serde_json::Value>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub customized_heart_rate_zones: Vec<serde_json::Value>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub default_max_heart_rate: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub customized_max_heart_rate: Option<f64>,
}

/// `GET /api/user/{id}/overview`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Overview {
    #[serde(deserialize_with = "lenient::object_opt")]
    pub workout_counts: Option<WorkoutCounts>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub personal_records: Vec<PersonalRecordGroup>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub streaks: Option<Streaks>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub achievement_counts: Option<AchievementCounts>,
    /// The older (2021) shape: a plain list of achievements instead of `achievement_counts`.
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub achievements: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkoutCounts {
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_workouts: Option<i64>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub workouts: Vec<DisciplineCount>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DisciplineCount {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub count: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonalRecordGroup {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub records: Vec<PersonalRecord>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonalRecord {
    /// Class length in seconds, as a string.
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    /// Joules (the rounded `value` is kJ).
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub raw_value: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub value: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Streaks {
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub current_weekly: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub best_weekly: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub start_date_of_current_weekly: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub current_daily: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub start_date_of_current_daily: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AchievementCounts {
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_count: Option<i64>,
}

/// `GET /api/user/{id}/workouts` envelope.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkoutPage {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub data: Vec<Workout>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub page: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub page_count: Option<i64>,
    pub show_next: Option<bool>,
    /// Workouts per month (`YYYY-MM`) over the whole history.
    #[serde(deserialize_with = "lenient::number_map")]
    pub summary: BTreeMap<String, f64>,
}

/// A workout, as a list item or as `GET /api/workout/{id}` (the detail adds leaderboard
/// fields).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Workout {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub created_at: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub start_time: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub end_time: Option<i64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub fitness_discipline: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub workout_type: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub device_type: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub title: Option<String>,
    /// Joules.
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub total_work: Option<f64>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub effort_zones: Option<EffortZones>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub ride: Option<Ride>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub leaderboard_rank: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub total_leaderboard_users: Option<i64>,
    /// `true` on a workout synced in from Apple Health, Strava, Fitbit or Garmin
    /// (docs/imported-workouts.md).
    #[serde(deserialize_with = "lenient::bool_opt")]
    pub is_3p_fit_feed_workout: Option<bool>,
    /// `false` on the same imports.
    #[serde(deserialize_with = "lenient::bool_opt")]
    pub is_peloton_originated_workout: Option<bool>,
    /// Detail only: the FTP the member had going into this workout.
    #[serde(deserialize_with = "lenient::object_opt")]
    pub ftp_info: Option<FtpInfo>,
    /// Badges earned in this workout (detail only); `None` when the field is missing.
    #[serde(deserialize_with = "lenient::vec_opt")]
    pub achievement_templates: Option<Vec<serde_json::Value>>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub movement_tracker_data: Option<MovementTrackerData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FtpInfo {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub ftp: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub ftp_source: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Ride {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub duration: Option<i64>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub instructor: Option<Instructor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Instructor {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EffortZones {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub total_effort_points: Option<f64>,
    #[serde(deserialize_with = "lenient::number_map")]
    pub heart_rate_zone_durations: BTreeMap<String, f64>,
}

/// `GET /api/workout/{id}/performance_graph`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PerformanceGraph {
    /// The class length in seconds (not the member's elapsed time).
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub duration: Option<f64>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub summaries: Vec<Summary>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub average_summaries: Vec<Summary>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub metrics: Vec<GraphMetric>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub effort_zones: Option<EffortZones>,
    /// The x-axis of every `metrics[].values[]`: seconds since the member started, one per
    /// sample, with gaps where they stopped (P2G#618).
    #[serde(deserialize_with = "lenient::f64_vec")]
    pub seconds_since_pedaling_start: Vec<Option<f64>>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub muscle_group_score: Vec<MuscleGroupScore>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub splits_data: Option<SplitsData>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub splits_metrics: Option<SplitsMetrics>,
    /// The 2021+ name of the class targets; `target_performance_metrics` before. Either
    /// name may carry either shape, so both are read as `Targets`.
    #[serde(deserialize_with = "lenient::object_opt")]
    pub target_metrics_performance_data: Option<Targets>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub target_performance_metrics: Option<Targets>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Summary {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub display_unit: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub value: Option<f64>,
}

/// One series of the graph. `values[]` feeds the training analytics and traces; the graph
/// is parsed once per workout, ever.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GraphMetric {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub display_unit: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub average_value: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub max_value: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_vec")]
    pub values: Vec<Option<f64>>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub zones: Vec<HeartRateZone>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub alternatives: Vec<GraphMetric>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HeartRateZone {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub duration: Option<f64>,
    /// The zone's lowest heart rate (bpm).
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub min_value: Option<f64>,
}

/// Auth0 `POST /oauth/token` success body. Its `Debug` shows which tokens came back,
/// never their values.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenResponse {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub access_token: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub refresh_token: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let present = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("TokenResponse")
            .field("access_token", &present(&self.access_token))
            .field("refresh_token", &present(&self.refresh_token))
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Auth0 error body (`{"error":"invalid_grant","error_description":…}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OAuthError {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub error: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_types_become_absent_not_errors() {
        let w: Workout = serde_json::from_str(
            r#"{"id": 5, "total_work": "12.5", "end_time": null, "effort_zones": "x",
                "ride": [], "status": {"a":1}, "new_field": [1,2,3]}"#,
        )
        .unwrap();
        assert_eq!(w.id.as_deref(), Some("5"));
        assert_eq!(w.total_work, Some(12.5));
        assert!(w.end_time.is_none());
        assert!(w.effort_zones.is_none());
        assert!(w.ride.is_none());
        assert!(w.status.is_none());
    }

    #[test]
    fn graph_values_keep_their_positions() {
        let g: PerformanceGraph = serde_json::from_str(
            r#"{"seconds_since_pedaling_start": [1, "x", 3, null],
                "metrics": [{"slug": "output", "values": [100, null, "7", {"a": 1}]},
                            {"slug": "cadence", "values": "oops"}]}"#,
        )
        .unwrap();
        assert_eq!(
            g.seconds_since_pedaling_start,
            vec![Some(1.0), None, Some(3.0), None]
        );
        assert_eq!(g.metrics[0].values, vec![Some(100.0), None, None, None]);
        assert!(g.metrics[1].values.is_empty());
        let d: Workout =
            serde_json::from_str(r#"{"ftp_info": {"ftp": "171", "ftp_source": 3}}"#).unwrap();
        let ftp = d.ftp_info.unwrap();
        assert_eq!(ftp.ftp, Some(171.0));
        assert_eq!(ftp.ftp_source.as_deref(), Some("3"));
    }

    #[test]
    fn list_items_that_do_not_parse_are_skipped() {
        let p: WorkoutPage = serde_json::from_str(
            r#"{"data": [1, {"id":"a"}, null], "summary": {"2024-01": 3, "x": "y"}}"#,
        )
        .unwrap();
        assert_eq!(p.data.len(), 1);
        assert_eq!(p.summary.len(), 1);
    }
}
