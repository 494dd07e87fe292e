//! The poller: one tokio task per account that decides what to ask Peloton and when.
//!
//! - First start: every page of the workout list (`limit=100`, newest first), resumable
//!   after a crash from the persisted page cursor (`list_walk.rs`).
//! - Afterwards: page 0 (`limit=10`) until a known completed workout appears. With nothing
//!   new that is one request per poll.
//! - Every completed workout's performance graph is fetched once, ever, newest first, at
//!   `--peloton.max-request-rate`; the newest one's detail (leaderboard) too (`gaps.rs`).
//! - `/api/me` and the overview run on their own slower cadence.
//! - Which of these a poll does, and how long it waits after, follows its `Phase`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::error::PollError;
use super::phase::{Intervals, Outcome, Phase, Progress};
use super::progress_log::ProgressLog;
use super::rate_limit::RateLimiter;
use super::sync_state::{Lacking, META_HISTORY_COMPLETE, SyncState, Walk};
use crate::clock::now_unix;
use crate::domain::challenge::AnnualChallenge;
use crate::domain::counting::{self, Counting};
use crate::domain::latest_of_kind::LatestOfKind;
use crate::domain::live::LiveRide;
use crate::domain::plausible;
use crate::domain::training::WorkoutTraining;
use crate::domain::training_summary::{TrainingSummary, summarize, utc_day};
use crate::domain::{Profile, Status, WorkoutSummary};
use crate::peloton::PelotonClient;
use crate::state::account::AccountState;
use crate::state::snapshot::{LiveView, Snapshot};
use crate::store::database::Store;

pub use super::sync_state::{HISTORY_PAGE_LIMIT, STEADY_PAGE_LIMIT};

/// The shortest cap on a Retry-After; the cap is this or 12 polls, whichever is longer.
const RETRY_AFTER_CAP_FLOOR: Duration = Duration::from_secs(3600);

const META_USER_ID: &str = "user_id";
/// A live sample is shown for this many live intervals after it was read, then absent.
const LIVE_STALE_INTERVALS: f64 = 3.0;

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    /// How often `/api/me` and the overview are refreshed.
    pub profile_interval: Duration,
    /// Requests per second for the history: list pages of the first sync and details.
    pub max_request_rate: f64,
    /// `--peloton.include-imported`: imports count in the totals and can be the latest.
    pub include_imported: bool,
    /// `--poll.live-interval`: how often a ride in progress is read; `None` is off.
    pub live_interval: Option<Duration>,
    /// `--collector.challenges`: read the annual challenge and badges per category.
    pub profile_extras: bool,
}

/// Called with the number of workouts whose details are still pending.
pub type ProgressFn = Box<dyn FnMut(u64) + Send + Sync>;

pub struct Poller {
    pub(super) remote: Option<crate::history::remote_write::RemoteWriter>,
    pub(super) progress: Option<ProgressFn>,
    pub(super) client: PelotonClient,
    pub(super) state: Arc<AccountState>,
    pub(super) store: Arc<Store>,
    pub(super) schedule: Schedule,
    pub(super) phase: Phase,
    pub(super) sync: SyncState,
    pub(super) account: AccountFacts,
    pub(super) counting: Counting,
    pub(super) health: Health,
    /// The ride in progress being watched (live mode), and one given up on.
    pub(super) live: Option<LiveRide>,
    pub(super) live_given_up: Option<String>,
    pub(super) limiter: RateLimiter,
    /// The storage path's lock: held while this poller may write there.
    lock: Option<crate::store::lock::StorageLock>,
    pub(super) progress_log: ProgressLog,
}

/// What the account looks like, as last read.
#[derive(Debug, Default)]
pub(super) struct AccountFacts {
    pub profile: Option<Profile>,
    pub profile_at: Option<Instant>,
    pub overview_at: Option<Instant>,
    pub latest: Option<WorkoutSummary>,
    /// The first item of page 0: in progress while a class runs.
    pub newest: Option<WorkoutSummary>,
    pub workouts_by_month: BTreeMap<String, f64>,
    pub training: Option<TrainingSummary>,
    pub latest_training: Option<WorkoutTraining>,
    pub extras_at: Option<Instant>,
    pub latest_of_kind: LatestOfKind,
    pub challenge: Option<AnnualChallenge>,
    pub badge_categories: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Default)]
pub(super) struct Health {
    pub last_success: Option<f64>,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("state", &self.state)
            .field("schedule", &self.schedule)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl Poller {
    pub fn new(
        client: PelotonClient,
        state: Arc<AccountState>,
        store: Arc<Store>,
        schedule: Schedule,
    ) -> Self {
        Self {
            remote: None,
            progress: None,
            client,
            state,
            store,
            limiter: RateLimiter::new(schedule.max_request_rate),
            schedule,
            phase: Phase::Starting,
            sync: SyncState::default(),
            account: AccountFacts::default(),
            counting: Counting::new(schedule.include_imported),
            health: Health::default(),
            live: None,
            live_given_up: None,
            lock: None,
            progress_log: ProgressLog::default(),
        }
    }

    /// Polls until `shutdown` turns true. A poll in flight is dropped, but a token
    /// exchange it started finishes and is stored first.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = self.poll_once() => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
            let intervals = Intervals {
                interval: self.schedule.interval,
                live: self.schedule.live_interval,
            };
            let wait = self.phase.wait(intervals, Instant::now(), fastrand::f64());
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        self.client.tokens().settle().await;
    }

    /// Holds the storage path's lock for as long as this poller lives.
    pub fn holding(mut self, lock: crate::store::lock::StorageLock) -> Self {
        self.lock = Some(lock);
        self
    }

    /// Pushes newly completed workouts to a remote-write receiver after each poll.
    pub fn with_remote_write(mut self, writer: crate::history::remote_write::RemoteWriter) -> Self {
        self.state.telemetry.enable_remote_write();
        self.remote = Some(writer);
        self
    }

    /// Once the history's details are complete, pushes what completed since the last
    /// push. A receiver's trouble is logged and counted, never a Peloton poll failure.
    async fn push_remote(&self) {
        let Some(writer) = &self.remote else { return };
        if !self.sync.history_listed || self.sync.pending.is_none_or(|p| p > 0) {
            return;
        }
        let telemetry = &self.state.telemetry;
        match writer
            .push_new(&self.store, self.state.name.as_deref())
            .await
        {
            Ok(pushed) => {
                if pushed.samples > 0 {
                    tracing::info!(
                        samples = pushed.samples,
                        requests = pushed.requests,
                        "pushed history to the remote-write receiver"
                    );
                }
                telemetry.remote_write(pushed.samples, false);
            }
            Err(failed) => {
                tracing::warn!(error = %failed.error, accepted_samples = failed.pushed.samples, "remote write failed");
                telemetry.remote_write(failed.pushed.samples, true);
            }
        }
    }

    /// Reports the pending count while details are fetched.
    pub fn on_progress(&mut self, f: ProgressFn) {
        self.progress = Some(f);
    }

    /// Syncs the whole history now: the list, then every pending detail. For the
    /// subcommands, which need the complete history before they write anything.
    pub async fn sync(&mut self) -> anyhow::Result<()> {
        // What they write has no challenge or badge categories: not asked for.
        self.schedule.profile_extras = false;
        self.poll().await?;
        loop {
            self.fill(Lacking::Details).await?;
            if self.sync.pending.is_none_or(|p| p == 0) {
                break;
            }
        }
        while self.sync.backlog.is_some_and(|b| b > 0) {
            self.fill(Lacking::Training).await?;
        }
        while self.sync.strength.is_some_and(|b| b > 0) {
            self.fill(Lacking::Strength).await?;
        }
        Ok(())
    }

    /// One cycle: the cheap part (profile, list, overview), published at once, then the
    /// history details for up to one interval.
    pub async fn poll_once(&mut self) {
        let telemetry = self.state.telemetry.clone();
        telemetry.poll_started();
        let started = Instant::now();
        let live_only = self.phase == Phase::Live && self.live.is_some();
        let mut result = if live_only {
            self.live_tick().await
        } else {
            self.poll().await
        };
        if result.is_ok() {
            self.succeeded();
            self.publish();
            result = self.fill(Lacking::Details).await;
        }
        if result.is_ok() && self.sync.pending.is_some_and(|p| p == 0) {
            result = self.fill(Lacking::Training).await;
        }
        if result.is_ok() && self.sync.pending.is_some_and(|p| p == 0) {
            result = self.fill(Lacking::Strength).await;
        }
        if result.is_ok()
            && self
                .account
                .training
                .as_ref()
                .is_some_and(|t| t.day != utc_day(now_unix()))
        {
            // Fitness and fatigue move on at UTC midnight, and the 90-day curve with them.
            result = self.refresh_training();
        }
        telemetry.poll_finished(
            started.elapsed(),
            result.as_ref().err().map(PollError::reason),
        );
        match &result {
            Ok(()) => {
                self.succeeded();
                tracing::debug!(
                    took_ms = started.elapsed().as_millis() as u64,
                    phase = self.phase.name(),
                    "poll succeeded"
                );
                self.push_remote().await;
            }
            Err(e) => self.failed(e),
        }
        self.publish();
    }

    fn failed(&mut self, e: &PollError) {
        self.health.last_error = Some(e.text());
        let retry_after = match e {
            PollError::Api(api) => api
                .retry_after()
                .map(|after| self.capped_retry_after(after)),
            _ => None,
        };
        self.phase = self
            .phase
            .after(Outcome::Failed { retry_after }, Instant::now());
        let serving = if self.health.last_success.is_some() {
            "serving the last good data"
        } else {
            "no data yet"
        };
        if let Some(wait) = retry_after {
            // The error names the wait Peloton asked for; the line says the one kept.
            tracing::warn!(
                error = %e,
                waiting_seconds = wait.as_secs(),
                "poll failed; {serving}; next try in {}s at the earliest (Retry-After, capped)",
                wait.as_secs()
            );
        } else {
            tracing::warn!(error = %e, "poll failed; {serving}");
        }
    }

    /// A Retry-After, at most the larger of an hour and 12 poll intervals: a server (or a
    /// proxy) asking for years must not stop the exporter for years.
    fn capped_retry_after(&self, after: Duration) -> Duration {
        let cap = RETRY_AFTER_CAP_FLOOR.max(self.schedule.interval.saturating_mul(12));
        if after > cap {
            tracing::warn!(
                requested_seconds = after.as_secs(),
                capped_seconds = cap.as_secs(),
                "Peloton asked to wait longer than the cap; waiting the cap"
            );
            cap
        } else {
            after
        }
    }

    fn succeeded(&mut self) {
        let progress = Progress {
            history_listed: self.sync.history_listed,
            pending: self.sync.pending.unwrap_or(0),
            backlog: self.sync.refetch_owed(),
            live: self.live.is_some(),
        };
        self.phase = self
            .phase
            .after(Outcome::Succeeded(progress), Instant::now());
        self.health.last_error = None;
        self.health.last_success = Some(now_unix() as f64);
    }

    pub(super) fn publish(&mut self) {
        let snapshot = self.snapshot();
        self.state.publish(snapshot);
    }

    async fn poll(&mut self) -> Result<(), PollError> {
        if self.phase == Phase::Starting {
            self.load()?;
        }
        let every = self.schedule.profile_interval;
        let due = move |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= every);
        if self.account.profile.is_none() || due(self.account.profile_at) {
            let profile = self.client.me().await?;
            self.check_account(&profile.user_id)?;
            self.account.profile = Some(profile);
            self.account.profile_at = Some(Instant::now());
        }
        let user_id = self.user_id();

        // The overview first, then the list (domain/counting.rs says why).
        if self.counting.overview().is_none() || due(self.account.overview_at) {
            let overview = self.client.overview(&user_id).await?;
            self.counting.overview_read(overview);
            self.account.overview_at = Some(Instant::now());
        }
        self.refresh_profile_extras(&user_id).await?;
        let walk = if self.sync.history_listed {
            Walk::Newest
        } else {
            Walk::History
        };
        self.walk_list(&user_id, walk).await?;
        self.counting.list_read();
        self.follow_newest().await
    }

    pub(super) fn user_id(&self) -> String {
        self.account
            .profile
            .as_ref()
            .map(|p| p.user_id.clone())
            .unwrap_or_default()
    }

    /// Totals and the latest workout from what earlier runs stored.
    fn load(&mut self) -> Result<(), PollError> {
        let mut stored = Vec::new();
        let mut latest: Option<WorkoutSummary> = None;
        let mut kinds = LatestOfKind::default();
        let now = now_unix() as f64;
        self.store.for_each(|w| {
            if w.details_fetched && self.may_be_latest(&w.summary, now) {
                kinds.offer(&w.summary);
            }
            if w.details_fetched
                && self.may_be_latest(&w.summary, now)
                && latest
                    .as_ref()
                    .is_none_or(|l| w.summary.created_at >= l.created_at)
            {
                latest = Some(w.summary.clone());
            }
            stored.push(w.summary);
        })?;
        self.counting.load(&stored);
        self.account.latest = latest;
        self.account.latest_of_kind = kinds;
        self.sync.history_listed = self.store.meta(META_HISTORY_COMPLETE)?.as_deref() == Some("1");
        self.sync.pending = Some(self.store.pending_count()?);
        self.sync.backlog = Some(self.store.training_backlog_count()?);
        self.sync.strength = Some(self.store.strength_backlog_count()?);
        self.account.latest_training = match &self.account.latest {
            Some(latest) => self.store.training_of(&latest.id)?,
            None => None,
        };
        self.refresh_training()?;
        self.phase = if self.sync.history_listed {
            Phase::CatchingUp
        } else {
            Phase::FirstSync
        };
        Ok(())
    }

    /// A completed Peloton workout dated no later than now (plus skew); imports only with
    /// `--peloton.include-imported`.
    pub(super) fn may_be_latest(&self, w: &WorkoutSummary, now: f64) -> bool {
        w.status == Status::Complete
            && (self.schedule.include_imported || !w.imported)
            && !plausible::is_future(w, now)
    }

    /// The account-wide training summary from every stored workout's analytics. Lifetime
    /// sums never step back, whatever order the workouts were added in.
    pub(super) fn refresh_training(&mut self) -> Result<(), PollError> {
        let mut summary = summarize(&self.store.training_rows()?, now_unix());
        if let Some(before) = &self.account.training {
            summary.keep_lifetime_sums_of(before);
        }
        self.account.training = Some(summary);
        Ok(())
    }

    fn check_account(&self, user_id: &str) -> Result<(), PollError> {
        match self.store.meta(META_USER_ID)? {
            Some(stored) if stored != user_id => Err(PollError::OtherAccount {
                stored,
                current: user_id.to_owned(),
            }),
            Some(_) => Ok(()),
            None => Ok(self.store.set_meta(META_USER_ID, user_id)?),
        }
    }

    fn snapshot(&mut self) -> Snapshot {
        let workout_counts = self.counting.workout_counts();
        let in_progress = counting::in_progress(&workout_counts, self.account.newest.as_ref());
        let a = &self.account;
        Snapshot {
            profile: a.profile.clone(),
            overview: self.counting.overview().cloned(),
            workout_counts,
            workouts_by_month: a.workouts_by_month.clone(),
            in_progress,
            latest: a.latest.clone(),
            totals: self.counting.totals().clone(),
            up: self.phase.is_up(),
            last_success: self.health.last_success,
            last_error: self.health.last_error.clone(),
            history_pending: self
                .sync
                .pending
                .map(|p| (p + self.sync.refetch_owed()) as f64),
            history_progress: self.progress_log.current(),
            training: a.training.clone(),
            latest_training: a.latest_training.clone(),
            challenge: a.challenge.clone(),
            latest_of_kind: a.latest_of_kind.clone(),
            badge_categories: a.badge_categories.clone(),
            live: self.live.as_ref().map(|ride| {
                let stale_after = self
                    .schedule
                    .live_interval
                    .map_or(0.0, |i| i.as_secs_f64() * LIVE_STALE_INTERVALS);
                LiveView {
                    // After a failed read nothing vouches that the sample is current.
                    sample: ride
                        .current(now_unix() as f64, stale_after)
                        .filter(|_| self.phase.is_up())
                        .copied(),
                    ride: ride.clone(),
                }
            }),
        }
    }
}
