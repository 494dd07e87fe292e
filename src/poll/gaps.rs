//! The one runner that fetches what stored workouts still lack, newest first, at the rate
//! limit, for at most one poll interval per round: the graph and detail of a workout
//! listed as completed, the graph of a workout stored before training analytics, or the
//! graph and detail of a strength workout stored before its movements were read.
//! Resumable: each workout is stored as it arrives, and one fetched but not stored (the
//! disk was full) is stored on the next try without asking Peloton again.

use std::time::{Duration, Instant};

use super::error::PollError;
use super::poller::Poller;
use super::progress_log;
use super::sync_state::{Fetched, Lacking};
use super::training::{GRAPH_EVERY_N, analyse, needs_detail};
use crate::clock::now_unix;
use crate::domain::WorkoutSummary;
use crate::domain::fetched::WorkoutDetail;
use crate::domain::training::WorkoutTraining;
use crate::domain::workout_extras::STRENGTH_DISCIPLINES;
use crate::peloton::ApiError;

/// Workouts read from the store per batch.
const BATCH: usize = 32;

impl Poller {
    /// Fetches, for at most one interval, what the stored workouts `lacking` still need.
    pub(super) async fn fill(&mut self, lacking: Lacking) -> Result<(), PollError> {
        if lacking == Lacking::Details {
            // Also when nothing is owed: the log says once that the history is complete.
            self.log_progress();
        }
        let left = match lacking {
            Lacking::Details => self.sync.pending,
            Lacking::Training => self.sync.backlog,
            Lacking::Strength => self.sync.strength,
        };
        if left.is_none_or(|n| n == 0) {
            return Ok(());
        }
        let deadline = Instant::now() + self.schedule.interval;
        match lacking {
            Lacking::Training => tracing::info!(
                workouts = left,
                rate = self.schedule.max_request_rate,
                "fetching the graphs of workouts stored before training analytics, once"
            ),
            Lacking::Strength => tracing::info!(
                workouts = left,
                rate = self.schedule.max_request_rate,
                "fetching the details of strength workouts stored before reps and volume were read, once"
            ),
            Lacking::Details => {}
        }
        // The newest workout's detail is fetched even without bike power: its leaderboard.
        let newest_id = match lacking {
            Lacking::Details => self.store.newest_complete()?.map(|w| w.summary.id),
            Lacking::Training | Lacking::Strength => None,
        };
        let mut published = Instant::now();
        let mut done = 0_u64;
        'rounds: while Instant::now() < deadline {
            let batch = match lacking {
                Lacking::Details => self.store.pending(BATCH)?,
                Lacking::Training => self.store.training_backlog(BATCH)?,
                Lacking::Strength => self.store.strength_backlog(BATCH)?,
            };
            if batch.is_empty() {
                break;
            }
            for w in batch {
                if Instant::now() >= deadline {
                    break 'rounds;
                }
                let fetched = if let Some(fetched) = self.sync.unsaved.remove(&w.id) {
                    fetched
                } else {
                    let newest = newest_id.as_deref() == Some(w.id.as_str());
                    self.fetch_workout(&w, newest).await?
                };
                self.keep(lacking, &w, fetched)?;
                done += 1;
                if lacking != Lacking::Details && done.is_multiple_of(100) {
                    let left = left.unwrap_or(0).saturating_sub(done);
                    tracing::info!(done, left, backlog = lacking.name(), "re-fetching");
                }
                if published.elapsed() >= Duration::from_secs(1) {
                    self.publish();
                    published = Instant::now();
                }
            }
        }
        match lacking {
            Lacking::Details => {
                self.sync.pending = Some(self.store.pending_count()?);
                self.log_progress();
            }
            Lacking::Training => {
                let left = self.store.training_backlog_count()?;
                self.sync.backlog = Some(left);
                tracing::info!(done, left, backlog = lacking.name(), "re-fetching");
            }
            Lacking::Strength => {
                let left = self.store.strength_backlog_count()?;
                self.sync.strength = Some(left);
                tracing::info!(done, left, backlog = lacking.name(), "re-fetching");
            }
        }
        if done > 0 {
            self.refresh_training()?;
        }
        Ok(())
    }

    /// Stores one fetched workout and counts what it adds.
    fn keep(
        &mut self,
        lacking: Lacking,
        listed: &WorkoutSummary,
        fetched: Fetched,
    ) -> Result<(), PollError> {
        // A strength class in the training backlog was stored before its reps were read
        // too: its detail came with the graph, so both backlogs are settled at once.
        let strength = lacking == Lacking::Strength
            || (lacking == Lacking::Training
                && STRENGTH_DISCIPLINES.contains(&listed.discipline.as_str()));
        let stored = if lacking == Lacking::Training && !strength {
            self.store
                .set_training(listed, &fetched.training, fetched.trace.as_ref())
        } else {
            self.store.set_details_with_training(
                &fetched.enriched,
                &fetched.training,
                fetched.trace.as_ref(),
            )
        };
        if let Err(e) = stored {
            // Kept (a few at most: the poll stops here) so the next try only writes.
            self.sync.unsaved.insert(listed.id.clone(), fetched);
            return Err(e.into());
        }
        if lacking == Lacking::Training && !strength {
            return Ok(());
        }
        // Only what the workout grew by is added: a re-fetched strength workout adds its
        // reps and volume, nothing it had counted already.
        self.counting.detailed(listed, &fetched.enriched);
        if self.may_be_latest(&fetched.enriched, now_unix() as f64) {
            self.account.latest_of_kind.offer(&fetched.enriched);
        }
        if strength && lacking != Lacking::Details {
            if let Some(latest) = self.account.latest.as_mut()
                && latest.id == listed.id
            {
                *latest = fetched.enriched;
            }
            self.sync.strength = self.sync.strength.map(|n| n.saturating_sub(1));
            return Ok(());
        }
        let newer = self.may_be_latest(&fetched.enriched, now_unix() as f64)
            && self
                .account
                .latest
                .as_ref()
                .is_none_or(|l| fetched.enriched.created_at >= l.created_at);
        if newer {
            self.account.latest = Some(fetched.enriched);
            self.account.latest_training = Some(fetched.training);
        }
        self.sync.pending = self.sync.pending.map(|p| p.saturating_sub(1));
        if let (Some(report), Some(p)) = (self.progress.as_mut(), self.sync.pending) {
            report(p);
        }
        self.log_progress();
        Ok(())
    }

    /// The workout enriched by its graph (and its detail when it is the newest, or when
    /// bike power needs its FTP), with its training analytics.
    pub(super) async fn fetch_workout(
        &mut self,
        w: &WorkoutSummary,
        newest: bool,
    ) -> Result<Fetched, PollError> {
        self.limiter.wait().await;
        let graph = match self.client.performance_graph(&w.id, GRAPH_EVERY_N).await {
            Ok(graph) => Some(graph),
            // Peloton will not serve this workout's graph (deleted, third-party import):
            // keep what the list said rather than asking again on every poll.
            Err(ApiError::Client { status, .. }) => {
                tracing::warn!(workout = %w.id, status, "no performance graph; keeping the list values, no power analytics");
                None
            }
            Err(e) => return Err(e.into()),
        };
        let mut enriched = match &graph {
            Some(g) => w.clone().with_graph(g),
            None => w.clone(),
        };
        let wanted = newest || needs_detail(w, graph.as_ref());
        let detail = if wanted {
            self.detail_of(w).await?
        } else {
            None
        };
        if let Some(detail) = &detail {
            enriched = enriched.with_detail(detail);
        }
        let (mut training, trace) = analyse(&enriched, graph, detail.as_ref());
        if enriched.imported && !self.schedule.include_imported {
            // Imports stay out of the training values as they stay out of the totals; the
            // trace is kept.
            training = WorkoutTraining::default();
        }
        Ok(Fetched {
            enriched,
            training,
            trace,
        })
    }

    async fn detail_of(&mut self, w: &WorkoutSummary) -> Result<Option<WorkoutDetail>, PollError> {
        self.limiter.wait().await;
        match self.client.workout(&w.id).await {
            Ok(detail) => Ok(Some(detail)),
            Err(ApiError::Client { status, .. }) => {
                tracing::warn!(workout = %w.id, status, "no workout detail");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The first sync's progress in the server log (the subcommands draw a bar instead).
    pub(super) fn log_progress(&mut self) {
        let Some(pending) = self.sync.pending else {
            return;
        };
        let entry = self.progress_log.pending(pending, Instant::now());
        if self.progress.is_some() {
            return;
        }
        match entry {
            Some(progress_log::Entry::Progress(p)) => tracing::info!(
                done = p.done,
                total = p.total,
                "fetching workout details: {}",
                p.describe()
            ),
            Some(progress_log::Entry::Complete { total, took }) => tracing::info!(
                workouts = total,
                "workout history complete: {total} workouts' details fetched in {}",
                crate::state::progress::human(took)
            ),
            None => {}
        }
    }
}
