//! What one answer from Peloton says, once `peloton/convert.rs` has turned it into base
//! units: a page of the workout list, a workout's detail, its performance graph. The poller
//! sees only these, never an API shape.

use std::collections::BTreeMap;

use super::training::{FtpInForce, Trace};
use super::workout_extras::WorkoutExtras;
use super::{AvgMax, Stat, WorkoutSummary, plausible};

/// Disciplines whose `output` is a bike's power, on the scale a cycling FTP describes.
/// Tread and Row report `output` on other scales; their load comes from heart rate.
pub const POWER_DISCIPLINES: &[&str] = &["cycling", "bike_bootcamp"];

/// One page of `/api/user/{id}/workouts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListPage {
    /// The items that carry an id, newest first.
    pub workouts: Vec<WorkoutSummary>,
    /// Items on the page, with or without an id: an empty page ends the list.
    pub items: usize,
    pub total: Option<i64>,
    pub show_next: Option<bool>,
    pub page_count: Option<i64>,
    /// The page's workouts per `YYYY-MM`, keys that are no month already dropped.
    pub by_month: BTreeMap<String, f64>,
}

impl ListPage {
    /// Whether Peloton says a page follows page `page` (0-based) at `limit` per page.
    pub fn has_next(&self, page: u32, limit: u32) -> bool {
        self.show_next.unwrap_or_else(|| {
            self.page_count
                .map_or(self.items as u64 >= u64::from(limit), |n| {
                    i64::from(page) + 1 < n
                })
        })
    }
}

/// What only `/api/workout/{id}` says of a workout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkoutDetail {
    pub leaderboard_rank: Option<f64>,
    pub leaderboard_users: Option<f64>,
    pub instructor: Option<String>,
    pub output_joules: Option<f64>,
    pub imported: bool,
    /// The FTP in force at the workout (`ftp_info`), for its power analytics.
    pub ftp: Option<FtpInForce>,
    /// Badges earned and tracked strength movements.
    pub extras: WorkoutExtras,
}

/// What `/api/workout/{id}/performance_graph` says of a workout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkoutGraph {
    pub distance_meters: Option<f64>,
    pub elevation_meters: Option<f64>,
    pub energy_joules: Option<f64>,
    /// The rounded `total_output` summary: used only when the list gave no `total_work`.
    pub output_joules: Option<f64>,
    pub stats: BTreeMap<Stat, AvgMax>,
    pub hr_zone_seconds: Option<[f64; 5]>,
    pub effort_points: Option<f64>,
    /// Any `output` sample above 0 W.
    pub has_output: bool,
    /// The class length (the graph's `duration`), not the member's elapsed time.
    pub class_length_seconds: Option<f64>,
    /// The lowest heart rate of each of the member's zones 1..5, ascending.
    pub hr_zone_floors_bpm: Option<[f64; 5]>,
    /// The per-sample series, placed by their timestamps.
    pub trace: Trace,
    /// Muscle groups, time in target, the best split.
    pub extras: WorkoutExtras,
}

impl WorkoutGraph {
    /// Whether this graph carries bike power the analytics should use.
    pub fn has_bike_power(&self, discipline: &str) -> bool {
        self.has_output && POWER_DISCIPLINES.contains(&discipline)
    }
}

impl WorkoutSummary {
    /// Adds what only the workout detail has.
    pub fn with_detail(mut self, detail: &WorkoutDetail) -> Self {
        self.leaderboard_rank = detail.leaderboard_rank.or(self.leaderboard_rank);
        self.leaderboard_users = detail.leaderboard_users.or(self.leaderboard_users);
        if self.instructor.is_none() {
            self.instructor.clone_from(&detail.instructor);
        }
        if self.output_joules.is_none() {
            self.output_joules = detail.output_joules;
        }
        self.imported |= detail.imported;
        self.extras.merge(&detail.extras);
        self.checked()
    }

    /// Adds what the performance graph has: distance, energy, averages and maxima, zones.
    pub fn with_graph(mut self, g: &WorkoutGraph) -> Self {
        for (slot, value) in [
            (&mut self.distance_meters, g.distance_meters),
            (&mut self.elevation_meters, g.elevation_meters),
            (&mut self.energy_joules, g.energy_joules),
        ] {
            if value.is_some() {
                *slot = value;
            }
        }
        // total_work (joules) is more precise than the rounded kJ summary.
        if self.output_joules.is_none() {
            self.output_joules = g.output_joules;
        }
        for (stat, v) in &g.stats {
            self.stats.insert(*stat, *v);
        }
        if g.hr_zone_seconds.is_some() {
            self.hr_zone_seconds = g.hr_zone_seconds;
        }
        if g.effort_points.is_some() {
            self.effort_points = g.effort_points;
        }
        self.extras.merge(&g.extras);
        self.checked()
    }

    /// Drops what cannot be true (`plausible.rs`), with a warning naming the fields.
    pub fn checked(mut self) -> Self {
        let dropped = plausible::sanitize(&mut self);
        if !dropped.is_empty() {
            tracing::warn!(workout = %self.id, fields = ?dropped, "dropped values that cannot be true");
        }
        self
    }
}
