//! The poller: one tokio task per account that decides what to ask Peloton and when.
//!
//! - First start: every page of the workout list (`limit=100`, newest first), resumable
//!   after a crash from the persisted page cursor.
//! - Afterwards: page 0 (`limit=10`) until a known completed workout appears. With nothing
//!   new that is one request per poll.
//! - Every completed workout's performance graph is fetched once, ever, newest first, at
//!   `--peloton.max-request-rate`; the newest one's detail (leaderboard) too.
//! - `/api/me` and the overview run on their own slower cadence.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::clock::now_unix;
use crate::domain::plausible;
use crate::domain::totals::Totals;
use crate::domain::training::{Trace, WorkoutTraining};
use crate::domain::training_summary::{TrainingSummary, summarize, utc_day};
use crate::domain::{AccountOverview, Profile, Status, WorkoutSummary};
use crate::peloton::convert;
use crate::peloton::{ApiError, PelotonClient};
use crate::poll::progress_log::{self, ProgressLog};
use crate::poll::training::{GRAPH_EVERY_N, analyse, needs_detail};
use crate::state::account::AccountState;
use crate::state::labels::{Endpoint, ErrorReason};
use crate::state::snapshot::Snapshot;
use crate::store::database::{Store, StoreError};

/// Page size of the first full history sync: the largest Peloton serves.
pub const HISTORY_PAGE_LIMIT: u32 = 100;
/// Page size of the steady-state poll: enough for every workout of a busy day.
pub const STEADY_PAGE_LIMIT: u32 = 10;
/// Pages of the first sync when Peloton reports no `total`: a million workouts.
const MAX_HISTORY_PAGES: u32 = 10_000;
/// Pages read beyond what the reported `total` needs: the list may grow while we page.
const PAGE_SLACK: u32 = 2;
/// The shortest cap on a Retry-After; the cap is this or 12 polls, whichever is longer.
const RETRY_AFTER_CAP_FLOOR: Duration = Duration::from_secs(3600);

const META_HISTORY_COMPLETE: &str = "history_complete";
const META_HISTORY_NEXT_PAGE: &str = "history_next_page";
const META_USER_ID: &str = "user_id";

#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    /// How often `/api/me` and the overview are refreshed.
    pub profile_interval: Duration,
    /// Requests per second for the history: list pages of the first sync and details.
    pub max_request_rate: f64,
    /// `--peloton.include-imported`: imports count in the totals and can be the latest.
    pub include_imported: bool,
}

/// Called with the number of workouts whose details are still pending.
pub type ProgressFn = Box<dyn FnMut(u64) + Send + Sync>;

pub struct Poller {
    remote: Option<crate::history::remote_write::RemoteWriter>,
    progress: Option<ProgressFn>,
    client: PelotonClient,
    state: Arc<AccountState>,
    store: Arc<Store>,
    schedule: Schedule,
    memory: Memory,
    totals: Totals,
    limiter: RateLimiter,
    /// The storage path's lock: held while this poller may write there.
    lock: Option<crate::store::lock::StorageLock>,
    progress_log: ProgressLog,
}

/// What the poller learned from earlier polls.
// Independent facts about the last polls, not states of one machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Default)]
struct Memory {
    loaded: bool,
    profile: Option<Profile>,
    profile_at: Option<Instant>,
    overview: Option<AccountOverview>,
    overview_at: Option<Instant>,
    /// Workouts that completed after the overview was fetched: id → discipline.
    completed_since_overview: BTreeMap<String, String>,
    latest: Option<WorkoutSummary>,
    newest: Option<WorkoutSummary>,
    workouts_by_month: BTreeMap<String, f64>,
    history_complete: bool,
    pending: Option<u64>,
    /// Workouts fetched before training analytics existed, still to fetch once more.
    training_backlog: Option<u64>,
    training: Option<TrainingSummary>,
    latest_training: Option<WorkoutTraining>,
    last_success: Option<f64>,
    last_error: Option<String>,
    up: bool,
    /// Peloton asked us (Retry-After) not to call before this time.
    not_before: Option<Instant>,
    /// Consecutive failed polls, for backoff.
    failures: u32,
    /// Workout counts as last published: a counter never steps back (Peloton deleting a
    /// workout, or an overview that lags the list, would otherwise read as a reset).
    published_counts: BTreeMap<String, f64>,
    /// An overview was read and no list read has succeeded since.
    overview_unlisted: bool,
    /// Details fetched but not stored (the disk was full): stored on the next try without
    /// asking Peloton again.
    unsaved: BTreeMap<String, (WorkoutSummary, WorkoutTraining, Option<Trace>)>,
}

/// Spaces requests at most `rate` per second.
#[derive(Debug)]
struct RateLimiter {
    period: Duration,
    next: Option<Instant>,
}

impl RateLimiter {
    fn new(rate: f64) -> Self {
        let period = if rate > 0.0 && rate.is_finite() {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Self { period, next: None }
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        if let Some(next) = self.next
            && next > now
        {
            tokio::time::sleep(next - now).await;
        }
        self.next = Some(Instant::now() + self.period);
    }
}

#[derive(Debug, thiserror::Error)]
enum PollError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("state database: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the state in --storage.path belongs to Peloton user {stored}, but the token is for {current}; use a separate --storage.path per account"
    )]
    OtherAccount { stored: String, current: String },
}

/// `reason: message`, cut at a bound: the landing page shows it.
fn error_text(e: &PollError) -> String {
    const MAX: usize = 300;
    let mut text = format!("{}: {e}", e.reason().as_str());
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

impl PollError {
    fn reason(&self) -> ErrorReason {
        match self {
            PollError::Api(e) => e.reason(),
            PollError::Store(_) => ErrorReason::Storage,
            PollError::OtherAccount { .. } => ErrorReason::Auth,
        }
    }
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("state", &self.state)
            .field("schedule", &self.schedule)
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
            memory: Memory::default(),
            totals: Totals::new(schedule.include_imported),
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
            let wait = self.next_wait();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        self.client.tokens().settle().await;
    }

    /// The interval with ±10 % jitter, stretched by a Retry-After and by repeated
    /// failures (up to 8 intervals) so an outage is not hammered. While history details
    /// are pending the next round starts at once: the rate limiter paces it.
    fn next_wait(&self) -> Duration {
        let interval = self.schedule.interval;
        let until_allowed = self
            .memory
            .not_before
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        let backlog = self.memory.training_backlog.is_some_and(|b| b > 0);
        if self.memory.failures == 0 && (self.memory.pending.is_some_and(|p| p > 0) || backlog) {
            return until_allowed;
        }
        let factor = 2u32.saturating_pow(self.memory.failures.saturating_sub(1).min(3));
        let base = if self.memory.failures > 0 {
            interval.saturating_mul(factor)
        } else {
            interval
        };
        base.mul_f64(0.9 + 0.2 * fastrand::f64()).max(until_allowed)
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
        if !self.memory.history_complete || self.memory.pending.is_none_or(|p| p > 0) {
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
        self.poll().await?;
        loop {
            self.fetch_details().await?;
            if self.memory.pending.is_none_or(|p| p == 0) {
                break;
            }
        }
        while self.memory.training_backlog.is_some_and(|b| b > 0) {
            self.fetch_training_backlog().await?;
        }
        Ok(())
    }

    /// One cycle: the cheap part (profile, list, overview), published at once, then the
    /// history details for up to one interval.
    pub async fn poll_once(&mut self) {
        let telemetry = self.state.telemetry.clone();
        telemetry.poll_started();
        let started = Instant::now();
        let mut result = self.poll().await;
        if result.is_ok() {
            self.succeeded();
            self.publish();
            result = self.fetch_details().await;
        }
        if result.is_ok() && self.memory.pending.is_some_and(|p| p == 0) {
            result = self.fetch_training_backlog().await;
        }
        if result.is_ok()
            && self
                .memory
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
                    "poll succeeded"
                );
                self.push_remote().await;
            }
            Err(e) => {
                self.memory.failures += 1;
                self.memory.up = false;
                self.memory.last_error = Some(error_text(e));
                if let PollError::Api(api) = e
                    && let Some(after) = api.retry_after()
                {
                    let wait = self.capped_retry_after(after);
                    self.memory.not_before = Instant::now().checked_add(wait);
                }
                if self.memory.last_success.is_some() {
                    tracing::warn!(error = %e, "poll failed; serving the last good data");
                } else {
                    tracing::warn!(error = %e, "poll failed; no data yet");
                }
            }
        }
        self.publish();
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
        self.memory.failures = 0;
        self.memory.up = true;
        self.memory.last_error = None;
        self.memory.last_success = Some(now_unix() as f64);
    }

    fn publish(&mut self) {
        let snapshot = self.snapshot();
        self.state.publish(snapshot);
    }

    async fn poll(&mut self) -> Result<(), PollError> {
        if !self.memory.loaded {
            self.load()?;
        }
        let every = self.schedule.profile_interval;
        let due = move |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= every);
        if self.memory.profile.is_none() || due(self.memory.profile_at) {
            let me = self.client.me().await?;
            let profile = Profile::from_api(&me).ok_or_else(|| ApiError::InvalidResponse {
                endpoint: Endpoint::Me,
                detail: "no user id in /api/me".to_owned(),
            })?;
            self.check_account(&profile.user_id)?;
            self.memory.profile = Some(profile);
            self.memory.profile_at = Some(Instant::now());
        }
        let user_id = self
            .memory
            .profile
            .as_ref()
            .map(|p| p.user_id.clone())
            .unwrap_or_default();

        // The overview first, then the list: a workout seen completing on the list is added
        // to the overview's count only when the overview was not fetched in this same poll.
        // Peloton may count a workout in its overview before or after it lists it, and the
        // list moves while we page; in this order a race can only count a workout late (the
        // next overview has it), never twice.
        let overview_due = self.memory.overview.is_none() || due(self.memory.overview_at);
        if overview_due {
            let overview = self.client.overview(&user_id).await?;
            self.memory.overview = Some(AccountOverview::from_api(&overview));
            self.memory.overview_at = Some(Instant::now());
            self.memory.completed_since_overview.clear();
            // Until a list read succeeds after it, everything listed may be in this overview
            // (a poll can fail between the two).
            self.memory.overview_unlisted = true;
        }
        if self.memory.history_complete {
            let count_new = !self.memory.overview_unlisted;
            self.incremental(&user_id, count_new).await?;
        } else {
            self.full_history(&user_id).await?;
        }
        // A full history read counts as a list read too: without this, the first listing
        // after start-up would never count what completes next.
        self.memory.overview_unlisted = false;
        Ok(())
    }

    /// Totals and the latest workout from what earlier runs stored.
    fn load(&mut self) -> Result<(), PollError> {
        let mut totals = Totals::new(self.schedule.include_imported);
        let mut latest: Option<WorkoutSummary> = None;
        let now = now_unix() as f64;
        self.store.for_each(|w| {
            totals.update(None, &w.summary);
            if w.details_fetched
                && self.may_be_latest(&w.summary, now)
                && latest
                    .as_ref()
                    .is_none_or(|l| w.summary.created_at >= l.created_at)
            {
                latest = Some(w.summary);
            }
        })?;
        self.totals = totals;
        self.memory.latest = latest;
        self.memory.history_complete =
            self.store.meta(META_HISTORY_COMPLETE)?.as_deref() == Some("1");
        self.memory.pending = Some(self.store.pending_count()?);
        self.memory.training_backlog = Some(self.store.training_backlog_count()?);
        self.memory.latest_training = match &self.memory.latest {
            Some(latest) => self.store.training_of(&latest.id)?,
            None => None,
        };
        self.refresh_training()?;
        self.memory.loaded = true;
        Ok(())
    }

    /// A completed Peloton workout dated no later than now (plus skew); imports only with
    /// `--peloton.include-imported`.
    fn may_be_latest(&self, w: &WorkoutSummary, now: f64) -> bool {
        w.status == Status::Complete
            && (self.schedule.include_imported || !w.imported)
            && !plausible::is_future(w, now)
    }

    /// The account-wide training summary from every stored workout's analytics. Lifetime
    /// sums never step back, whatever order the workouts were added in.
    fn refresh_training(&mut self) -> Result<(), PollError> {
        let mut summary = summarize(&self.store.training_rows()?, now_unix());
        if let Some(before) = &self.memory.training {
            summary.effort_points = match (before.effort_points, summary.effort_points) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => b.or(a),
            };
            for (method, old) in &before.load_totals {
                let new = summary.load_totals.entry(*method).or_insert(*old);
                *new = new.max(*old);
            }
            if let (Some(old), Some(new)) = (
                before.power_zone_seconds,
                summary.power_zone_seconds.as_mut(),
            ) {
                for (n, o) in new.iter_mut().zip(old) {
                    *n = n.max(o);
                }
            }
        }
        self.memory.training = Some(summary);
        Ok(())
    }

    /// Fetches, at the rate limit and for at most one poll interval, the graphs of
    /// workouts whose details were stored before training analytics existed. Resumable:
    /// each workout's analytics are stored as they arrive.
    async fn fetch_training_backlog(&mut self) -> Result<(), PollError> {
        let Some(left) = self.memory.training_backlog.filter(|b| *b > 0) else {
            return Ok(());
        };
        tracing::info!(
            workouts = left,
            rate = self.schedule.max_request_rate,
            "fetching the graphs of workouts stored before training analytics, once"
        );
        let deadline = Instant::now() + self.schedule.interval;
        let mut done = 0_u64;
        while Instant::now() < deadline {
            let batch = self.store.training_backlog(32)?;
            if batch.is_empty() {
                break;
            }
            for w in batch {
                if Instant::now() >= deadline {
                    break;
                }
                let (training, trace) = self.training_of(&w).await?;
                self.store.set_training(&w, &training, trace.as_ref())?;
                done += 1;
                if done.is_multiple_of(100) {
                    tracing::info!(done, left = left.saturating_sub(done), "training backlog");
                }
            }
        }
        let left = self.store.training_backlog_count()?;
        self.memory.training_backlog = Some(left);
        tracing::info!(done, left, "training backlog");
        self.refresh_training()?;
        Ok(())
    }

    /// A stored workout's analytics from its graph (and detail for bike power).
    async fn training_of(
        &mut self,
        w: &WorkoutSummary,
    ) -> Result<(WorkoutTraining, Option<Trace>), PollError> {
        self.limiter.wait().await;
        let graph = match self.client.performance_graph(&w.id, GRAPH_EVERY_N).await {
            Ok(graph) => Some(graph),
            Err(ApiError::Client { status, .. }) => {
                tracing::warn!(workout = %w.id, status, "no performance graph; no power analytics");
                None
            }
            Err(e) => return Err(e.into()),
        };
        let detail = match &graph {
            Some(g) if needs_detail(w, g) => self.detail_of(w).await?,
            _ => None,
        };
        let (mut training, trace) = analyse(w, graph.as_ref(), detail.as_ref());
        if w.imported && !self.schedule.include_imported {
            training = WorkoutTraining::default();
        }
        Ok((training, trace))
    }

    async fn detail_of(
        &mut self,
        w: &WorkoutSummary,
    ) -> Result<Option<crate::peloton::model::Workout>, PollError> {
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

    /// Pages through the whole list once, resuming where a previous run stopped.
    async fn full_history(&mut self, user_id: &str) -> Result<(), PollError> {
        let mut page: u32 = self
            .store
            .meta(META_HISTORY_NEXT_PAGE)?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        tracing::info!(page, "syncing workout history");
        let mut seen = std::collections::BTreeSet::new();
        let mut bound = MAX_HISTORY_PAGES;
        loop {
            self.limiter.wait().await;
            let list = self
                .client
                .workouts(user_id, page, HISTORY_PAGE_LIMIT)
                .await?;
            if page == 0 {
                self.note_page_zero(&list);
            }
            bound = page_bound(list.total, HISTORY_PAGE_LIMIT).unwrap_or(bound);
            let fresh = list
                .data
                .iter()
                .filter_map(|w| w.id.clone())
                .filter(|id| seen.insert(id.clone()))
                .count();
            self.record(&list.data, false)?;
            page += 1;
            self.store
                .set_meta(META_HISTORY_NEXT_PAGE, &page.to_string())?;
            self.memory.pending = Some(self.store.pending_count()?);
            self.publish();
            let more = list.show_next.unwrap_or_else(|| {
                list.page_count
                    .map_or(list.data.len() as u32 >= HISTORY_PAGE_LIMIT, |n| {
                        i64::from(page) < n
                    })
            });
            if !more || list.data.is_empty() {
                break;
            }
            // A list that does not end: the page number ignored, `show_next` always true.
            if fresh == 0 {
                tracing::warn!(
                    page,
                    "a page of the workout list brought no new workouts; taking the history as complete"
                );
                break;
            }
            if page >= bound {
                tracing::warn!(page, total = ?list.total, "the workout list goes on past the pages its total needs; taking the history as complete");
                break;
            }
        }
        self.store.set_meta(META_HISTORY_COMPLETE, "1")?;
        self.memory.history_complete = true;
        tracing::info!(workouts = self.store.count()?, "workout history listed");
        Ok(())
    }

    /// Reads from page 0 until a workout already known as completed appears.
    async fn incremental(&mut self, user_id: &str, count_new: bool) -> Result<(), PollError> {
        let mut limit = STEADY_PAGE_LIMIT;
        let mut page = 0;
        let mut seen = std::collections::BTreeSet::new();
        let mut bound = MAX_HISTORY_PAGES;
        loop {
            if page > 0 || limit != STEADY_PAGE_LIMIT {
                // Past the one small request of a quiet poll, every page is paced.
                self.limiter.wait().await;
            }
            let list = self.client.workouts(user_id, page, limit).await?;
            if page == 0 {
                self.note_page_zero(&list);
            }
            if limit == HISTORY_PAGE_LIMIT {
                bound = page_bound(list.total, limit).unwrap_or(bound);
            }
            let fresh = list
                .data
                .iter()
                .filter_map(|w| w.id.clone())
                .filter(|id| seen.insert(id.clone()))
                .count();
            let known = self.record(&list.data, count_new)?;
            let more = list.show_next.unwrap_or(list.data.len() as u32 >= limit);
            if known || !more || list.data.is_empty() {
                return Ok(());
            }
            if fresh == 0 || page + 1 >= bound {
                tracing::warn!(page, total = ?list.total, "the workout list does not end where it should; stopping here until the next poll");
                return Ok(());
            }
            if limit == STEADY_PAGE_LIMIT {
                // More happened than one small page shows: continue with large pages
                // (page 0 again, as page numbers depend on the size).
                limit = HISTORY_PAGE_LIMIT;
                page = 0;
            } else {
                page += 1;
            }
        }
    }

    fn note_page_zero(&mut self, list: &crate::peloton::model::WorkoutPage) {
        self.memory.workouts_by_month = convert::workouts_by_month(&list.summary, now_unix());
        self.memory.newest = list.data.first().and_then(WorkoutSummary::from_list_item);
    }

    /// Stores list items and updates the totals. Returns whether any item was already
    /// known as completed.
    fn record(
        &mut self,
        items: &[crate::peloton::model::Workout],
        count_new: bool,
    ) -> Result<bool, PollError> {
        let summaries: Vec<WorkoutSummary> = items
            .iter()
            .filter_map(WorkoutSummary::from_list_item)
            .collect();
        let listed = self.store.upsert_listed(&summaries)?;
        let mut known = false;
        for l in &listed {
            let was_complete = l
                .before
                .as_ref()
                .is_some_and(|b| b.summary.status == Status::Complete);
            known |= was_complete;
            if l.before.as_ref().is_some_and(|b| b.details_fetched) {
                continue;
            }
            self.totals
                .update(l.before.as_ref().map(|b| &b.summary), &l.now);
            let counted = self.schedule.include_imported || !l.now.imported;
            if count_new && counted && !was_complete && l.now.status == Status::Complete {
                self.memory
                    .completed_since_overview
                    .insert(l.now.id.clone(), l.now.discipline.clone());
            }
        }
        Ok(known)
    }

    /// Fetches the details of pending completed workouts, newest first, at the rate
    /// limit, for at most one poll interval.
    async fn fetch_details(&mut self) -> Result<(), PollError> {
        let deadline = Instant::now() + self.schedule.interval;
        self.log_progress();
        let newest_id = self.store.newest_complete()?.map(|w| w.summary.id);
        let mut published = Instant::now();
        let mut stored = false;
        while Instant::now() < deadline {
            let batch = self.store.pending(32)?;
            if batch.is_empty() {
                break;
            }
            for listed in batch {
                if Instant::now() >= deadline {
                    break;
                }
                let (enriched, training, trace) = match self.memory.unsaved.remove(&listed.id) {
                    Some(fetched) => fetched,
                    None => {
                        self.details_of(&listed, newest_id.as_deref() == Some(&listed.id))
                            .await?
                    }
                };
                if let Err(e) =
                    self.store
                        .set_details_with_training(&enriched, &training, trace.as_ref())
                {
                    // Kept (a few at most: the poll stops here) so the next try only writes.
                    self.memory
                        .unsaved
                        .insert(listed.id.clone(), (enriched, training, trace));
                    return Err(e.into());
                }
                stored = true;
                self.totals.update(Some(&listed), &enriched);
                let newer = self.may_be_latest(&enriched, now_unix() as f64)
                    && self
                        .memory
                        .latest
                        .as_ref()
                        .is_none_or(|l| enriched.created_at >= l.created_at);
                if newer {
                    self.memory.latest = Some(enriched);
                    self.memory.latest_training = Some(training);
                }
                self.memory.pending = self.memory.pending.map(|p| p.saturating_sub(1));
                if let (Some(report), Some(p)) = (self.progress.as_mut(), self.memory.pending) {
                    report(p);
                }
                self.log_progress();
                if published.elapsed() >= Duration::from_secs(1) {
                    self.publish();
                    published = Instant::now();
                }
            }
        }
        self.memory.pending = Some(self.store.pending_count()?);
        if stored {
            self.refresh_training()?;
        }
        self.log_progress();
        Ok(())
    }

    /// The first sync's progress in the server log (the subcommands draw a bar instead).
    fn log_progress(&mut self) {
        let Some(pending) = self.memory.pending else {
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

    /// The workout enriched by its graph (and its detail when it is the newest, or when
    /// bike power needs its FTP), with its training analytics.
    async fn details_of(
        &mut self,
        w: &WorkoutSummary,
        newest: bool,
    ) -> Result<(WorkoutSummary, WorkoutTraining, Option<Trace>), PollError> {
        self.limiter.wait().await;
        let graph = match self.client.performance_graph(&w.id, GRAPH_EVERY_N).await {
            Ok(graph) => Some(graph),
            // Peloton will not serve this workout's graph (deleted, third-party import):
            // keep what the list said rather than asking again on every poll.
            Err(ApiError::Client { status, .. }) => {
                tracing::warn!(workout = %w.id, status, "no performance graph; keeping the list values");
                None
            }
            Err(e) => return Err(e.into()),
        };
        let mut enriched = match &graph {
            Some(g) => w.clone().with_graph(g),
            None => w.clone(),
        };
        let wanted = newest || graph.as_ref().is_some_and(|g| needs_detail(w, g));
        let detail = if wanted {
            self.detail_of(w).await?
        } else {
            None
        };
        if let Some(detail) = &detail {
            enriched = enriched.with_detail(detail);
        }
        let (mut training, trace) = analyse(&enriched, graph.as_ref(), detail.as_ref());
        if enriched.imported && !self.schedule.include_imported {
            // Imports stay out of the training values as they stay out of the totals; the
            // trace is kept.
            training = WorkoutTraining::default();
        }
        Ok((enriched, training, trace))
    }

    fn snapshot(&mut self) -> Snapshot {
        let mut workout_counts = self
            .memory
            .overview
            .as_ref()
            .map(|o| o.workout_counts.clone())
            .unwrap_or_default();
        if self.memory.overview.is_some() {
            for discipline in self.memory.completed_since_overview.values() {
                *workout_counts.entry(discipline.clone()).or_insert(0.0) += 1.0;
            }
        }
        for (discipline, published) in &self.memory.published_counts {
            let count = workout_counts.entry(discipline.clone()).or_insert(0.0);
            if *count < *published {
                tracing::debug!(%discipline, from = published, to = *count, "workout count would step back; keeping it");
                *count = *published;
            }
        }
        self.memory.published_counts.clone_from(&workout_counts);
        let m = &self.memory;
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
            totals: self.totals.clone(),
            up: m.up,
            last_success: m.last_success,
            last_error: m.last_error.clone(),
            history_pending: m
                .pending
                .map(|p| (p + m.training_backlog.unwrap_or(0)) as f64),
            history_progress: self.progress_log.current(),
            training: m.training.clone(),
            latest_training: m.latest_training.clone(),
        }
    }
}

/// The pages a list of `total` workouts needs at `limit` per page, with some slack for a
/// list that grows while we page; `None` when Peloton gave no usable total.
fn page_bound(total: Option<i64>, limit: u32) -> Option<u32> {
    let total = u32::try_from(total?).ok()?;
    Some(
        total
            .div_ceil(limit.max(1))
            .saturating_add(PAGE_SLACK)
            .min(MAX_HISTORY_PAGES),
    )
}
