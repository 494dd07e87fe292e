//! What the sync owes Peloton and the names it persists its progress under: the types the
//! poller shares with its paging loop (`list_walk.rs`) and its fetch runner (`gaps.rs`).

use std::collections::BTreeMap;

use crate::domain::WorkoutSummary;
use crate::domain::training::{Trace, WorkoutTraining};

/// Page size of the first full history sync: the largest Peloton serves.
pub const HISTORY_PAGE_LIMIT: u32 = 100;
/// Page size of the steady-state poll: enough for every workout of a busy day.
pub const STEADY_PAGE_LIMIT: u32 = 10;

/// The store's meta keys of the first sync: listed to the end, and the next page to read.
pub const META_HISTORY_COMPLETE: &str = "history_complete";
pub const META_HISTORY_NEXT_PAGE: &str = "history_next_page";

/// Which read of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Every page once, resuming at the persisted page after a crash.
    History,
    /// From page 0 until a workout already known as completed appears: one small page
    /// when nothing is new, large pages when more happened than it shows.
    Newest,
}

/// What a stored workout lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lacking {
    /// Listed as completed; graph and detail never fetched.
    Details,
    /// Details stored before training analytics existed; its graph once more.
    Training,
    /// A strength workout stored before its movements and badges were read; its graph
    /// and detail once more.
    Strength,
}

impl Lacking {
    /// The log's name for a re-fetch.
    pub fn name(self) -> &'static str {
        match self {
            Lacking::Details => "details",
            Lacking::Training => "training",
            Lacking::Strength => "strength",
        }
    }
}

/// One workout as fetched: enriched by its graph and detail, with its analytics.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub enriched: WorkoutSummary,
    pub training: WorkoutTraining,
    pub trace: Option<Trace>,
}

impl SyncState {
    /// Workouts stored earlier that are still to fetch once more.
    pub fn refetch_owed(&self) -> u64 {
        self.backlog.unwrap_or(0) + self.strength.unwrap_or(0)
    }
}

/// What the sync owes Peloton's history.
#[derive(Debug, Default)]
pub struct SyncState {
    pub history_listed: bool,
    /// Completed workouts whose details are not fetched yet.
    pub pending: Option<u64>,
    /// Workouts fetched before training analytics existed, still to fetch once more.
    pub backlog: Option<u64>,
    /// Strength workouts fetched before their movements were read, still to fetch once
    /// more.
    pub strength: Option<u64>,
    /// Fetched but not stored (the disk was full): stored on the next try without
    /// asking Peloton again.
    pub unsaved: BTreeMap<String, Fetched>,
}
