//! What a workout's detail and graph say beyond its totals (issue 25): the badges it
//! earned, its strength work, its time in target and its best split. Stored with the
//! workout, summed into the lifetime totals and shown for the latest workout.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::labels::{self, OTHER};

/// Disciplines whose detail carries tracked movements (`movement_tracker_data`).
pub const STRENGTH_DISCIPLINES: &[&str] = &["strength"];

/// Peloton's muscle groups (`muscle_group_score[].muscle_group`); any other slug is
/// counted as `other`, so the label set stays this list.
pub const MUSCLE_GROUPS: &[&str] = &[
    "biceps",
    "triceps",
    "forearms",
    "shoulders",
    "chest",
    "lats",
    "mid_back",
    "low_back",
    "traps",
    "core",
    "obliques",
    "glutes",
    "quads",
    "hamstrings",
    "calves",
    "hips",
];

/// The metrics a class sets targets for (`target_metrics[].metrics[].name`); others are
/// counted as `other`.
pub const TARGET_METRICS: &[&str] = &[
    "cadence",
    "resistance",
    "output",
    "speed",
    "incline",
    "pace",
    "stroke_rate",
    "split_pace",
];

/// The muscle-group label of a slug: Peloton's own, or `other`.
pub fn muscle_group(slug: &str) -> String {
    known(slug, MUSCLE_GROUPS)
}

/// The target-metric label of a name: a known one, or `other`.
pub fn target_metric(name: &str) -> String {
    known(name, TARGET_METRICS)
}

fn known(raw: &str, set: &[&str]) -> String {
    let slug = labels::slug(raw).unwrap_or_default();
    if set.contains(&slug.as_str()) {
        slug
    } else {
        OTHER.to_owned()
    }
}

/// Extras of one workout; each `None` or empty when Peloton did not say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkoutExtras {
    /// Badges earned in the workout (its detail's `achievement_templates`); `None` when the
    /// detail was not read.
    pub badges: Option<f64>,
    pub strength: Option<Strength>,
    /// Seconds in and out of the class's targets, per target metric.
    pub targets: BTreeMap<String, TargetTime>,
    pub best_split: Option<BestSplit>,
}

impl WorkoutExtras {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Adds what the detail says, keeping what the graph said.
    pub fn merge(&mut self, other: &WorkoutExtras) {
        if other.badges.is_some() {
            self.badges = other.badges;
        }
        match (&mut self.strength, &other.strength) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
            _ => {}
        }
        for (metric, time) in &other.targets {
            self.targets.insert(metric.clone(), *time);
        }
        if other.best_split.is_some() {
            self.best_split = other.best_split;
        }
    }
}

/// A strength workout's tracked movements (the detail's `movement_tracker_data`) and the
/// muscle groups it worked (the graph's `muscle_group_score`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Strength {
    /// Completed repetitions of rep-tracked movements; `None` without movement tracking.
    pub repetitions: Option<f64>,
    /// Weight lifted times repetitions, in grams (both dumbbells of a pair counted).
    pub volume_grams: Option<f64>,
    /// Seconds under load: the held seconds of timed movements plus the time of each
    /// rep-tracked movement that was done.
    pub tension_seconds: Option<f64>,
    /// Peloton's score per muscle group.
    pub muscle_groups: BTreeMap<String, f64>,
}

impl Strength {
    fn merge(&mut self, other: &Strength) {
        self.repetitions = other.repetitions.or(self.repetitions);
        self.volume_grams = other.volume_grams.or(self.volume_grams);
        self.tension_seconds = other.tension_seconds.or(self.tension_seconds);
        if !other.muscle_groups.is_empty() {
            self.muscle_groups.clone_from(&other.muscle_groups);
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Seconds in and out of a target range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetTime {
    pub in_seconds: f64,
    /// The targeted time less the time in range; `None` when the class's target
    /// segments were not given.
    pub out_seconds: Option<f64>,
}

/// The distance a split is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SplitDistance {
    /// The rower's 500 m.
    Meters500,
    Kilometer,
    Mile,
}

impl SplitDistance {
    pub fn label(self) -> &'static str {
        match self {
            Self::Meters500 => "500m",
            Self::Kilometer => "1km",
            Self::Mile => "1mi",
        }
    }
}

/// The fastest whole split of a workout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestSplit {
    pub distance: SplitDistance,
    pub seconds: f64,
}
