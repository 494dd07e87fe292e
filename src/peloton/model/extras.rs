//! Serde shapes of what Peloton says beyond totals (issue 25): the challenges, the
//! achievements page, a strength class's tracked movements, and the graph's muscle groups,
//! splits and class targets. Lenient like every shape in `model.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::peloton::lenient;

/// `/api/user/{id}/challenges/current?has_joined=true`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Challenges {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub challenges: Vec<ChallengeEntry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeEntry {
    #[serde(deserialize_with = "lenient::object_opt")]
    pub challenge_summary: Option<ChallengeSummary>,
    /// Older answers listed the summaries themselves (an earlier P2G model).
    #[serde(flatten)]
    pub own: ChallengeSummary,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub progress: Option<ChallengeProgress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeSummary {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub start_time: Option<i64>,
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub end_time: Option<i64>,
}

/// A challenge's progress: `metric_value` in the detail, `current_tier` in the list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeProgress {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub metric_value: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub metric_display_unit: Option<String>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub current_tier: Option<Box<ChallengeProgress>>,
}

/// `/api/user/{id}/challenge/{challenge_id}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeDetail {
    #[serde(deserialize_with = "lenient::object_opt")]
    pub challenge_summary: Option<ChallengeSummary>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub challenge_detail: Option<ChallengeTiers>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub progress: Option<ChallengeProgress>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeTiers {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub tiers: Vec<ChallengeTier>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ChallengeTier {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub metric_value: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub metric_display_unit: Option<String>,
}

/// `/api/user/{id}/achievements`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Achievements {
    #[serde(deserialize_with = "lenient::vec_opt")]
    pub categories: Option<Vec<AchievementCategory>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AchievementCategory {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub achievements: Vec<EarnedAchievement>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EarnedAchievement {
    #[serde(deserialize_with = "lenient::i64_opt")]
    pub count: Option<i64>,
}

/// A strength class's tracked movements (detail, 2023+).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MovementTrackerData {
    #[serde(deserialize_with = "lenient::object_opt")]
    pub completed_movements_summary_data: Option<CompletedMovements>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CompletedMovements {
    #[serde(deserialize_with = "lenient::vec_opt")]
    pub repetition_summary_data: Option<Vec<RepetitionSummary>>,
    /// Peloton's own volume: both dumbbells of a pair counted (P2G #727).
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub total_volume: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub weight_unit: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub total_repetitions: Option<f64>,
}

/// One tracked movement set. The movement's name is never read: it is no label.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RepetitionSummary {
    #[serde(deserialize_with = "lenient::bool_opt")]
    pub is_hold: Option<bool>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub tracking_type: Option<String>,
    /// Repetitions, or seconds held for a timed movement.
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub completed_number: Option<f64>,
    /// Seconds the set lasted in the class.
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub length: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub total_volume: Option<f64>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub weight: Vec<Weight>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Weight {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub weight_category: Option<String>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub weight_data: Option<WeightData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WeightData {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub weight_value: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub weight_unit: Option<String>,
}

/// `ftp_info` of a workout detail; `ftp` is 0 and the source null on non-cycling workouts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MuscleGroupScore {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub muscle_group: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub score: Option<f64>,
}

/// `splits_data`: one item per distance unit, the last one partial.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SplitsData {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub distance_marker_display_unit: Option<String>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub splits: Vec<Split>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Split {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub distance_marker: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub seconds: Option<f64>,
}

/// `splits_metrics` (2022+): rows of `{slug, value, unit}` cells.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SplitsMetrics {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub metrics: Vec<SplitRow>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SplitRow {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub data: Vec<SplitCell>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SplitCell {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub slug: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub value: Option<f64>,
    #[serde(deserialize_with = "lenient::string_opt")]
    pub unit: Option<String>,
}

/// A class's targets, in either shape: segments with bounds and `time_in_metric`
/// (2021+), or per-second `target_graph_metrics` with `{metric}_time_in_range` (2020).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Targets {
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub target_metrics: Vec<TargetSegment>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub time_in_metric: Vec<TimeInMetric>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub target_graph_metrics: Vec<TargetGraph>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TargetSegment {
    #[serde(deserialize_with = "lenient::object_opt")]
    pub offsets: Option<Offsets>,
    #[serde(deserialize_with = "lenient::vec_skip")]
    pub metrics: Vec<TargetBound>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Offsets {
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub start: Option<f64>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub end: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TargetBound {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TimeInMetric {
    #[serde(deserialize_with = "lenient::string_opt")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::f64_opt")]
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TargetGraph {
    #[serde(rename = "type", deserialize_with = "lenient::string_opt")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient::object_opt")]
    pub graph_data: Option<TargetGraphData>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TargetGraphData {
    #[serde(deserialize_with = "lenient::f64_vec")]
    pub upper: Vec<Option<f64>>,
}
