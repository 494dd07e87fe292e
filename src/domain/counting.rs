//! Workout counts and totals from what the overview and the list say, with no I/O: the
//! poller hands in each list page's rows as the store saw them before and after, and
//! reads back counts that count each workout once and never step back.
//!
//! `peloton_workouts_total` is the overview's count plus the workouts seen completing on
//! the list since that overview was read. Peloton may count a workout in its overview
//! before or after it lists it, and a poll may fail between the two reads; so a workout
//! listed before any list read succeeded after the overview is not added (the next
//! overview has it): a race can count a workout late, never twice.

use std::collections::BTreeMap;

use super::totals::Totals;
use super::{AccountOverview, Status, WorkoutSummary};

/// One stored workout row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWorkout {
    pub summary: WorkoutSummary,
    pub details_fetched: bool,
}

/// A listed workout, as the store had it before this listing and as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub before: Option<StoredWorkout>,
    pub now: WorkoutSummary,
}

#[derive(Debug, Clone, Default)]
pub struct Counting {
    totals: Totals,
    overview: Option<AccountOverview>,
    /// Workouts that completed after the overview was read: id → discipline.
    completed_since_overview: BTreeMap<String, String>,
    /// An overview was read and no list read has succeeded since.
    overview_unlisted: bool,
    /// Counts as last published: a counter never steps back (Peloton deleting a workout,
    /// or an overview that lags the list, would otherwise read as a reset).
    published: BTreeMap<String, f64>,
}

impl Counting {
    pub fn new(include_imported: bool) -> Self {
        Self {
            totals: Totals::new(include_imported),
            ..Self::default()
        }
    }

    /// Starts the totals again from every stored row (at start-up).
    pub fn load<'a>(&mut self, stored: impl IntoIterator<Item = &'a WorkoutSummary>) {
        let mut totals = Totals::new(self.totals.include_imported);
        for w in stored {
            totals.update(None, w);
        }
        self.totals = totals;
    }

    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    pub fn overview(&self) -> Option<&AccountOverview> {
        self.overview.as_ref()
    }

    /// A new overview: it counts everything completed so far.
    pub fn overview_read(&mut self, overview: AccountOverview) {
        self.overview = Some(overview);
        self.completed_since_overview.clear();
        self.overview_unlisted = true;
    }

    /// A list read (incremental or the whole history) succeeded.
    pub fn list_read(&mut self) {
        self.overview_unlisted = false;
    }

    /// Whether a workout seen completing now is missing from the overview.
    pub fn counts_new(&self) -> bool {
        !self.overview_unlisted
    }

    /// Adds a list page's rows. `count_new`: workouts seen completing are added to the
    /// overview's count (never while the whole history is read: the overview has them).
    /// Returns whether any row was already known as completed, where an incremental read
    /// stops.
    pub fn listed(&mut self, rows: &[Listed], count_new: bool) -> bool {
        let mut known = false;
        for row in rows {
            let before = row.before.as_ref();
            let was_complete = before.is_some_and(|b| b.summary.status == Status::Complete);
            known |= was_complete;
            if before.is_some_and(|b| b.details_fetched) {
                continue;
            }
            self.totals.update(before.map(|b| &b.summary), &row.now);
            let counted = self.totals.include_imported || !row.now.imported;
            if count_new && counted && !was_complete && row.now.status == Status::Complete {
                self.completed_since_overview
                    .insert(row.now.id.clone(), row.now.discipline.clone());
            }
        }
        known
    }

    /// A workout's details arrived: only what they add to `listed` is added.
    pub fn detailed(&mut self, listed: &WorkoutSummary, detailed: &WorkoutSummary) {
        self.totals.update(Some(listed), detailed);
    }

    /// Completed workouts per discipline, never below what was published before.
    pub fn workout_counts(&mut self) -> BTreeMap<String, f64> {
        let mut counts = self
            .overview
            .as_ref()
            .map(|o| o.workout_counts.clone())
            .unwrap_or_default();
        if self.overview.is_some() {
            for discipline in self.completed_since_overview.values() {
                *counts.entry(discipline.clone()).or_insert(0.0) += 1.0;
            }
        }
        for (discipline, published) in &self.published {
            let count = counts.entry(discipline.clone()).or_insert(0.0);
            if *count < *published {
                tracing::debug!(%discipline, from = published, to = *count, "workout count would step back; keeping it");
                *count = *published;
            }
        }
        self.published.clone_from(&counts);
        counts
    }
}

/// Per discipline of `counts`, whether the newest listed workout is in progress in it.
pub fn in_progress(
    counts: &BTreeMap<String, f64>,
    newest: Option<&WorkoutSummary>,
) -> BTreeMap<String, bool> {
    let mut out: BTreeMap<String, bool> = counts.keys().map(|d| (d.clone(), false)).collect();
    if let Some(newest) = newest {
        let slot = out.entry(newest.discipline.clone()).or_insert(false);
        *slot = *slot || newest.status == Status::InProgress;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workout(id: &str, discipline: &str, status: Status) -> WorkoutSummary {
        WorkoutSummary {
            id: id.to_owned(),
            discipline: discipline.to_owned(),
            status,
            created_at: Some(1.0),
            start_time: Some(0.0),
            end_time: Some(1200.0),
            title: None,
            instructor: None,
            workout_type: None,
            device_type: None,
            duration_seconds: Some(1200.0),
            output_joules: Some(100_000.0),
            distance_meters: None,
            elevation_meters: None,
            energy_joules: None,
            stats: BTreeMap::new(),
            hr_zone_seconds: None,
            effort_points: None,
            leaderboard_rank: None,
            leaderboard_users: None,
            imported: false,
            extras: crate::domain::workout_extras::WorkoutExtras::default(),
        }
    }

    fn new_row(w: WorkoutSummary) -> Listed {
        Listed {
            before: None,
            now: w,
        }
    }

    fn overview(cycling: f64) -> AccountOverview {
        AccountOverview {
            workout_counts: BTreeMap::from([("cycling".to_owned(), cycling)]),
            ..AccountOverview::default()
        }
    }

    #[test]
    fn a_workout_completing_after_the_overview_is_added_once() {
        let mut c = Counting::new(false);
        c.overview_read(overview(10.0));
        c.list_read();
        let w = workout("a", "cycling", Status::Complete);
        assert!(!c.listed(&[new_row(w.clone())], c.counts_new()));
        // Listed again before its details arrive: the store has it, not yet detailed.
        let again = Listed {
            before: Some(StoredWorkout {
                summary: w.clone(),
                details_fetched: false,
            }),
            now: w,
        };
        assert!(c.listed(&[again], c.counts_new()), "known as completed");
        assert_eq!(c.workout_counts().get("cycling"), Some(&11.0));
        assert_eq!(c.totals().output_joules.get("cycling"), Some(&100_000.0));
    }

    #[test]
    fn nothing_is_added_until_a_list_read_follows_the_overview() {
        let mut c = Counting::new(false);
        c.overview_read(overview(10.0));
        // A poll failed between the overview and the list: the overview may hold it.
        c.listed(
            &[new_row(workout("a", "cycling", Status::Complete))],
            c.counts_new(),
        );
        assert_eq!(c.workout_counts().get("cycling"), Some(&10.0));
    }

    #[test]
    fn counts_never_step_back() {
        let mut c = Counting::new(false);
        c.overview_read(overview(10.0));
        assert_eq!(c.workout_counts().get("cycling"), Some(&10.0));
        c.overview_read(overview(9.0));
        assert_eq!(c.workout_counts().get("cycling"), Some(&10.0));
    }

    #[test]
    fn a_known_completed_row_stops_the_read_and_adds_nothing() {
        let mut c = Counting::new(false);
        c.overview_read(overview(10.0));
        c.list_read();
        let w = workout("a", "cycling", Status::Complete);
        let known = Listed {
            before: Some(StoredWorkout {
                summary: w.clone(),
                details_fetched: true,
            }),
            now: w,
        };
        assert!(c.listed(&[known], true));
        assert_eq!(c.workout_counts().get("cycling"), Some(&10.0));
        assert!(c.totals().output_joules.is_empty());
    }

    #[test]
    fn imports_are_not_counted_unless_included() {
        for include in [false, true] {
            let mut c = Counting::new(include);
            c.overview_read(overview(10.0));
            c.list_read();
            let mut w = workout("a", "cycling", Status::Complete);
            w.imported = true;
            c.listed(&[new_row(w)], true);
            let want = if include { 11.0 } else { 10.0 };
            assert_eq!(c.workout_counts().get("cycling"), Some(&want));
        }
    }

    #[test]
    fn an_in_progress_workout_counts_when_it_completes() {
        let mut c = Counting::new(false);
        c.overview_read(overview(10.0));
        c.list_read();
        let running = workout("a", "cycling", Status::InProgress);
        c.listed(&[new_row(running.clone())], true);
        assert_eq!(c.workout_counts().get("cycling"), Some(&10.0));
        let done = Listed {
            before: Some(StoredWorkout {
                summary: running.clone(),
                details_fetched: false,
            }),
            now: workout("a", "cycling", Status::Complete),
        };
        c.listed(&[done], true);
        assert_eq!(c.workout_counts().get("cycling"), Some(&11.0));
        let flags = in_progress(&c.workout_counts(), Some(&running));
        assert_eq!(flags.get("cycling"), Some(&true));
    }
}
