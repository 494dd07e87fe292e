//! What the exporter knows about one account at a point in time: a plain immutable value,
//! built by the poller and read by every scrape.

use std::collections::BTreeMap;

use crate::domain::challenge::AnnualChallenge;
use crate::domain::latest_of_kind::LatestOfKind;
use crate::domain::live::{LiveRide, LiveSample};
use crate::domain::totals::Totals;
use crate::domain::training::WorkoutTraining;
use crate::domain::training_summary::TrainingSummary;
use crate::domain::{AccountOverview, Profile, WorkoutSummary};
use crate::state::progress::Progress;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub profile: Option<Profile>,
    pub overview: Option<AccountOverview>,
    /// Completed workouts per discipline: the overview's counts plus the workouts that
    /// completed since the overview was fetched.
    pub workout_counts: BTreeMap<String, f64>,
    pub workouts_by_month: BTreeMap<String, f64>,
    /// Every known discipline, with whether its newest workout is in progress.
    pub in_progress: BTreeMap<String, bool>,
    pub latest: Option<WorkoutSummary>,
    /// Lifetime totals over the stored history.
    pub totals: Totals,
    /// The last poll reached every endpoint it needed.
    pub up: bool,
    /// Why the last poll failed (`reason: message`, bounded, never a secret); `None` after
    /// a success.
    pub last_error: Option<String>,
    /// Unix seconds of the last successful poll.
    pub last_success: Option<f64>,
    pub history_pending: Option<f64>,
    /// The first history sync's details: done of total and its pace.
    pub history_progress: Option<Progress>,
    /// Power curve, zone times, effort points, fitness and fatigue, computed by the
    /// poller when a workout's analytics arrive and at UTC midnight.
    pub training: Option<TrainingSummary>,
    /// The analytics of `latest`.
    pub latest_training: Option<WorkoutTraining>,
    /// The ride in progress, in live mode only.
    pub live: Option<LiveView>,
    /// The annual challenge the member has joined, read at the profile interval.
    pub challenge: Option<AnnualChallenge>,
    /// The newest strength workout and the newest class with targets.
    pub latest_of_kind: LatestOfKind,
    /// Badges per achievement category, read at the profile interval.
    pub badge_categories: Option<BTreeMap<String, f64>>,
}

/// A ride in progress as a scrape shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveView {
    pub ride: LiveRide,
    /// The latest sample while it is current; `None` once it is older than the bound.
    pub sample: Option<LiveSample>,
}
