//! The poller: one tokio task per account that decides what to ask Peloton and when.
//!
//! Steady state is one small request (page 0 of the workout list). A workout that
//! completed since the last poll costs its performance graph and its detail, once.
//! `/api/me` and the overview run on their own slower cadence.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::account::AccountState;
use crate::domain::{AccountOverview, Profile, Status, WorkoutSummary};
use crate::peloton::auth::now_unix;
use crate::peloton::model::WorkoutPage;
use crate::peloton::{ApiError, PelotonClient};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    /// How often `/api/me` and the overview are refreshed when nothing else asks for it.
    pub profile_interval: Duration,
}

#[derive(Debug)]
pub struct Poller {
    client: PelotonClient,
    state: Arc<AccountState>,
    schedule: Schedule,
    memory: Memory,
}

/// What the poller learned from earlier polls.
#[derive(Debug, Default)]
struct Memory {
    profile: Option<Profile>,
    profile_at: Option<Instant>,
    overview: Option<AccountOverview>,
    overview_at: Option<Instant>,
    /// Workouts that completed after the overview was fetched: id → discipline.
    completed_since_overview: BTreeMap<String, String>,
    /// Ids of the completed workouts on the previous page 0, and the oldest creation time
    /// among them; a completed id newer than that and not in the set is new.
    seen_complete: Option<(BTreeSet<String>, f64)>,
    latest: Option<WorkoutSummary>,
    workouts_by_month: BTreeMap<String, f64>,
    newest: Option<WorkoutSummary>,
    last_success: Option<f64>,
    /// Peloton asked us (Retry-After) not to call before this time.
    not_before: Option<Instant>,
    /// Consecutive failed polls, for backoff.
    failures: u32,
}

impl Poller {
    pub fn new(client: PelotonClient, state: Arc<AccountState>, schedule: Schedule) -> Self {
        Self {
            client,
            state,
            schedule,
            memory: Memory::default(),
        }
    }

    /// Polls until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            self.poll_once().await;
            let wait = self.next_wait();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }

    /// The interval with ±10 % jitter, stretched by a Retry-After and by repeated
    /// failures (up to 8 intervals) so an outage is not hammered.
    fn next_wait(&self) -> Duration {
        let interval = self.schedule.interval;
        let factor = 2u32.saturating_pow(self.memory.failures.saturating_sub(1).min(3));
        let base = if self.memory.failures > 0 {
            interval.saturating_mul(factor)
        } else {
            interval
        };
        let jitter = base.mul_f64(0.9 + 0.2 * fastrand::f64());
        let until_allowed = self
            .memory
            .not_before
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        jitter.max(until_allowed)
    }

    pub async fn poll_once(&mut self) {
        let telemetry = self.state.telemetry.clone();
        telemetry.poll_started();
        let started = Instant::now();
        let result = self.poll().await;
        let error = result.as_ref().err().map(ApiError::reason);
        telemetry.poll_finished(started.elapsed(), error);
        match &result {
            Ok(()) => {
                self.memory.failures = 0;
                self.memory.last_success = Some(now_unix() as f64);
                tracing::debug!(
                    took_ms = started.elapsed().as_millis() as u64,
                    "poll succeeded"
                );
            }
            Err(e) => {
                self.memory.failures += 1;
                if let Some(after) = e.retry_after() {
                    self.memory.not_before = Some(Instant::now() + after);
                }
                tracing::warn!(error = %e, "poll failed; serving the last good data");
            }
        }
        self.state.publish(self.snapshot(result.is_ok()));
    }

    async fn poll(&mut self) -> Result<(), ApiError> {
        let every = self.schedule.profile_interval;
        let due = move |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= every);
        if self.memory.profile.is_none() || due(self.memory.profile_at) {
            let me = self.client.me().await?;
            let profile = Profile::from_api(&me).ok_or_else(|| ApiError::InvalidResponse {
                endpoint: crate::peloton::Endpoint::Me,
                detail: "no user id in /api/me".to_owned(),
            })?;
            self.memory.profile = Some(profile);
            self.memory.profile_at = Some(Instant::now());
        }
        let user_id = self
            .memory
            .profile
            .as_ref()
            .map(|p| p.user_id.clone())
            .unwrap_or_default();

        let page = self
            .client
            .workouts(&user_id, 0, self.client.page_limit())
            .await?;
        let all_new = self.note_completions(&page);

        if self.memory.overview.is_none() || due(self.memory.overview_at) || all_new {
            let overview = self.client.overview(&user_id).await?;
            self.memory.overview = Some(AccountOverview::from_api(&overview));
            self.memory.overview_at = Some(Instant::now());
            self.memory.completed_since_overview.clear();
        }

        self.memory.workouts_by_month = page.summary.clone();
        let items: Vec<WorkoutSummary> = page
            .data
            .iter()
            .filter_map(WorkoutSummary::from_list_item)
            .collect();
        self.memory.newest = items.first().cloned();
        if let Some(newest_complete) = items.iter().find(|w| w.status == Status::Complete) {
            let known = self
                .memory
                .latest
                .as_ref()
                .is_some_and(|l| l.id == newest_complete.id);
            if !known {
                // A completed workout never changes: its details are fetched once.
                let graph = self.client.performance_graph(&newest_complete.id).await?;
                let detail = self.client.workout(&newest_complete.id).await?;
                self.memory.latest = Some(
                    newest_complete
                        .clone()
                        .with_detail(&detail)
                        .with_graph(&graph),
                );
            }
        }
        Ok(())
    }

    /// Records workouts that completed since the previous page 0. Returns true when none
    /// of the page was known before, i.e. more may have completed than one page shows.
    fn note_completions(&mut self, page: &WorkoutPage) -> bool {
        let complete: Vec<(String, String, f64)> = page
            .data
            .iter()
            .filter(|w| w.status.as_deref() == Some("COMPLETE"))
            .filter_map(|w| {
                Some((
                    w.id.clone()?,
                    w.fitness_discipline
                        .clone()
                        .unwrap_or_else(|| crate::domain::UNKNOWN_DISCIPLINE.to_owned()),
                    w.created_at.unwrap_or(0) as f64,
                ))
            })
            .collect();
        let mut all_new = false;
        if let Some((seen, oldest)) = &self.memory.seen_complete {
            let fresh: Vec<_> = complete
                .iter()
                .filter(|(id, _, created)| !seen.contains(id) && *created >= *oldest)
                .collect();
            all_new = !complete.is_empty() && fresh.len() == complete.len();
            for (id, discipline, _) in fresh {
                self.memory
                    .completed_since_overview
                    .insert(id.clone(), discipline.clone());
            }
        }
        let oldest = complete
            .iter()
            .map(|(_, _, c)| *c)
            .fold(f64::INFINITY, f64::min);
        self.memory.seen_complete = Some((
            complete.into_iter().map(|(id, _, _)| id).collect(),
            if oldest.is_finite() { oldest } else { 0.0 },
        ));
        all_new
    }

    fn snapshot(&self, up: bool) -> Snapshot {
        let m = &self.memory;
        let mut workout_counts = m
            .overview
            .as_ref()
            .map(|o| o.workout_counts.clone())
            .unwrap_or_default();
        if m.overview.is_some() {
            for discipline in m.completed_since_overview.values() {
                *workout_counts.entry(discipline.clone()).or_insert(0.0) += 1.0;
            }
        }
        let mut in_progress: BTreeMap<String, bool> =
            workout_counts.keys().map(|d| (d.clone(), false)).collect();
        if let Some(newest) = &m.newest {
            let running = newest.status == Status::InProgress;
            let slot = in_progress
                .entry(newest.discipline.clone())
                .or_insert(false);
            *slot = *slot || running;
        }
        Snapshot {
            profile: m.profile.clone(),
            overview: m.overview.clone(),
            workout_counts,
            workouts_by_month: m.workouts_by_month.clone(),
            in_progress,
            latest: m.latest.clone(),
            up,
            last_success: m.last_success,
            history_pending: None,
        }
    }
}
