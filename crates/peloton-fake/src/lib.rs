//! A fake Peloton: the member API (`api.onepeloton.com`) and the Auth0 tenant
//! (`auth.onepeloton.com`) on two loopback listeners, serving a generated member.
//!
//! It is an independent implementation of `shared/peloton-api/API.md` — real paths, shapes,
//! field names and units — used by the tests, the benchmarks and `--demo`. It shares no code
//! with the exporter, so the exporter's parsing is checked against a second reading of the
//! API rather than against itself.
//!
//! Where API.md is silent the fake chooses, and tests should not rely on more than this:
//! streak days and weeks are the member's local time (fixed UTC offset, weeks start on
//! Monday) and start dates are the first workout's `start_time`; the list `summary` groups by
//! UTC month of `created_at`; `next` is the first workout of the next page (null on the last);
//! the API's default `limit` is 20 and `every_n` 5; `from`/`to` are ignored; cookies are set
//! without `Secure` because the fake speaks plain HTTP.
//!
//! Challenges, the achievements page, strength rep tracking, cycling targets and splits are
//! rendered from truths tests can read: [`MemberData::current_challenges`],
//! [`MemberData::find_challenge`], [`MemberData::achievement_categories`] and the workout
//! fields `strength`, `muscle_groups`, `targets` and `best_split_seconds`. The current
//! challenges are the annual one of the UTC year, the month's cycling challenge (both
//! joined) and the month's yoga challenge (listed unless `has_joined=true`); achievements
//! need `Peloton-Platform: web` like the overview.
//!
//! Live rides ([`FakePeloton::start_live_ride`], [`FakeOptions::live_ride`]) are workouts in
//! progress in real time: their performance graph grows by one sample per second from a
//! deterministic trace ([`FakePeloton::live_sample`], [`FakePeloton::live_totals`] give the
//! truth) until the ride completes by itself or is completed.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use peloton_fake::{FakeOptions, FakePeloton};
//! let fake = FakePeloton::start(FakeOptions::default()).await?;
//! let token = fake.mint_access_token(std::time::Duration::from_secs(3600));
//! // GET {fake.api_url()}/api/me with "Authorization: Bearer {token}"
//! fake.shutdown().await;
//! # Ok(()) }
//! ```

// The fake builds its big JSON answers with `serde_json::json!`.
#![recursion_limit = "256"]

mod api;
mod auth;
mod catalog;
mod challenges;
mod drift;
mod endpoint;
mod faults;
mod generator;
mod graph;
mod jwt;
mod live;
mod live_graph;
mod login;
mod model;
mod render;
mod server;
mod splits;
mod stats;
mod strength;
mod targets;
mod tokens;
mod trace;
mod util;

#[cfg(test)]
mod issue25_tests;
#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use endpoint::Endpoint;
pub use faults::{Fault, FaultControl, LoginBehavior};
pub use generator::generate_member;
pub use jwt::decode_claims;
pub use model::{
    Challenge, GeneratedWorkout, MemberData, MuscleGroupScore, PersonalRecord, Stat, Streaks,
    StrengthTruth, Units, WorkoutStatus, WorkoutType,
};
pub use server::RecordedRequest;
pub use tokens::{AUDIENCE, CLIENT_ID, REDIRECT_URI};
pub use trace::{LiveRide, LiveSample, LiveTotals};

use server::{KillableListener, Shared};
use tokens::TokenBook;
use util::{lock, mix, now_unix};

const LIVE_SALT: u64 = 0x11fe_0000_0000_0000;
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// Default [`FakeOptions::live_ride_gap`].
const LIVE_RIDE_GAP: Duration = Duration::from_secs(30);

/// What to generate and how the fake behaves.
#[derive(Clone, PartialEq, Eq)]
pub struct FakeOptions {
    pub seed: u64,
    /// Completed workouts in the history.
    pub workouts: usize,
    /// The history spreads over this many days back from now.
    pub history_days: u32,
    pub units: Units,
    /// `expires_in` of tokens from `/oauth/token`.
    pub access_token_ttl: Duration,
    /// Demo mode: every interval the running workout completes and a new one starts (skipped
    /// while a live ride is in progress, so the live ride stays the newest workout).
    pub live_interval: Option<Duration>,
    /// Demo mode: this ride starts in real time when the fake starts. When it has completed by
    /// itself (its `ride_for`) and [`Self::live_ride_gap`] has passed, the next one starts (same
    /// spec, a new workout, `started_ago` zero), and so on. See [`LiveRide::demo`].
    pub live_ride: Option<LiveRide>,
    /// The break between two rides of [`Self::live_ride`].
    pub live_ride_gap: Duration,
    /// Credentials for the hosted login (the username or the member's email is accepted).
    pub username: String,
    pub password: String,
    /// The only Auth0 client id the tenant knows (`/authorize`, the credentials POST and
    /// `/oauth/token` refuse others); Peloton's web client by default.
    pub client_id: String,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            seed: 42,
            workouts: 300,
            history_days: 730,
            units: Units::Imperial,
            access_token_ttl: Duration::from_secs(172_800),
            live_interval: None,
            live_ride: None,
            live_ride_gap: LIVE_RIDE_GAP,
            username: "rider@example.invalid".to_owned(),
            password: "correct horse battery staple".to_owned(),
            client_id: CLIENT_ID.to_owned(),
        }
    }
}

impl FakeOptions {
    /// The default member with a live workout every 30 s, for `--demo`.
    pub fn demo() -> Self {
        Self {
            live_interval: Some(Duration::from_secs(30)),
            ..Self::default()
        }
    }

    /// The default member riding live, for `--demo --demo.live`: a 5-minute cycling class
    /// starts when the fake starts, its graph grows every second (output, cadence, resistance,
    /// speed, heart rate moving through warm-up, efforts, sprints and cool-down), it completes
    /// at 5:00 (the list, counts and records change), and 30 s later the next one starts.
    pub fn demo_live() -> Self {
        Self {
            live_ride: Some(LiveRide::demo()),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for FakeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeOptions")
            .field("seed", &self.seed)
            .field("workouts", &self.workouts)
            .field("history_days", &self.history_days)
            .field("units", &self.units)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("live_interval", &self.live_interval)
            .field("live_ride", &self.live_ride)
            .field("live_ride_gap", &self.live_ride_gap)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("client_id", &self.client_id)
            .finish()
    }
}

/// A running fake. Dropping it stops its tasks; [`FakePeloton::shutdown`] does so gracefully.
pub struct FakePeloton {
    shared: Arc<Shared>,
    api_addr: SocketAddr,
    auth_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for FakePeloton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakePeloton")
            .field("api_url", &self.api_url())
            .field("auth_url", &self.auth_url())
            .field("user_id", &self.user_id())
            .field("workouts", &lock(&self.shared.member).workouts.len())
            .finish_non_exhaustive()
    }
}

impl FakePeloton {
    /// Generates the member and serves the API and the auth server on two `127.0.0.1:0`
    /// listeners. Must run inside a tokio runtime.
    pub async fn start(opts: FakeOptions) -> std::io::Result<FakePeloton> {
        let api_listener = KillableListener::bind().await?;
        let auth_listener = KillableListener::bind().await?;
        let api_addr = tokio_local_addr(&api_listener)?;
        let auth_addr = tokio_local_addr(&auth_listener)?;
        let member = generate_member(&opts, now_unix());
        let mut tokens = TokenBook::new(&opts.client_id);
        tokens.issue_refresh(None);
        let live_interval = opts.live_interval;
        let live_ride = opts.live_ride.clone();
        let live_ride_gap = opts.live_ride_gap;
        let shared = Arc::new(Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(mix(opts.seed ^ LIVE_SALT))),
            opts,
            member: Mutex::new(member),
            tokens: Mutex::new(tokens),
            faults: FaultControl::default(),
            requests: Mutex::new(VecDeque::new()),
            auth_url: format!("http://{auth_addr}"),
            live: Mutex::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![
            tokio::spawn(server::serve(
                api_listener,
                api::router(Arc::clone(&shared)),
                stopped.clone(),
            )),
            tokio::spawn(server::serve(
                auth_listener,
                auth::router(Arc::clone(&shared)),
                stopped.clone(),
            )),
        ];
        if let Some(spec) = live_ride {
            // Started before returning, so the ride is there on the first request.
            let (_, due) = live::start_live_ride(&shared, &spec);
            if due.is_some() {
                let next = LiveRide {
                    started_ago: Duration::ZERO,
                    ..spec
                };
                tasks.push(tokio::spawn(live::run_rides(
                    Arc::clone(&shared),
                    next,
                    due,
                    live_ride_gap,
                    stopped.clone(),
                )));
            }
        }
        if let Some(every) = live_interval {
            tasks.push(tokio::spawn(live::run(Arc::clone(&shared), every, stopped)));
        }
        Ok(FakePeloton {
            shared,
            api_addr,
            auth_addr,
            stop,
            tasks,
        })
    }

    /// `http://127.0.0.1:PORT` of the API (no trailing slash).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }

    /// `http://127.0.0.1:PORT` of the auth server, a different listener.
    pub fn auth_url(&self) -> String {
        format!("http://{}", self.auth_addr)
    }

    pub fn user_id(&self) -> String {
        lock(&self.shared.member).user_id.clone()
    }

    /// The newest refresh token if it is still valid, else a newly issued one.
    pub fn refresh_token(&self) -> String {
        lock(&self.shared.tokens).current_refresh()
    }

    /// A JWT the API accepts until `ttl` from now (whole seconds, like its `exp`).
    pub fn mint_access_token(&self, ttl: Duration) -> String {
        let user_id = self.user_id();
        lock(&self.shared.tokens).mint_access(&user_id, ttl)
    }

    pub fn faults(&self) -> FaultControl {
        self.shared.faults.clone()
    }

    /// Requests to both servers, oldest first (the log keeps the latest 100 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// A copy of the current truth (live rides whose end has come are completed first).
    pub fn member(&self) -> MemberData {
        live::settle(&self.shared, now_unix());
        lock(&self.shared.member).clone()
    }

    /// Adds a completed workout that ended now (any slug, known or not) as the newest one.
    pub fn add_workout(&self, discipline: &str) -> String {
        live::add_workout(&self.shared, discipline)
    }

    /// Adds a completed workout that ended `ended_ago` ago but is listed only now, at the
    /// place its start time sorts it.
    pub fn add_late_workout(&self, discipline: &str, ended_ago: Duration) -> String {
        live::add_late_workout(&self.shared, discipline, ended_ago.as_secs() as i64)
    }

    /// Adds a workout imported from Apple Health that ended `ended_ago` ago and was synced
    /// now (newest in the list; not in the overview's counts).
    pub fn add_imported_workout(&self, discipline: &str, ended_ago: Duration) -> String {
        live::add_imported_workout(&self.shared, discipline, ended_ago.as_secs() as i64)
    }

    /// Adds a newest workout that is `IN_PROGRESS` (`end_time` null).
    pub fn start_workout(&self, discipline: &str) -> String {
        live::start_workout(&self.shared, discipline)
    }

    /// Completes an in-progress workout now (no-op for unknown or completed ids). A live
    /// ride's graph and totals become its trace up to now.
    pub fn complete_workout(&self, id: &str) {
        live::complete_workout(&self.shared, id);
    }

    /// Starts a ride in progress in real time as the newest workout (`IN_PROGRESS`,
    /// `end_time` null, `start_time` now minus `spec.started_ago`, title and instructor
    /// generated like other workouts unless `spec.title` is given) and returns its id.
    ///
    /// `GET /api/workout/{id}/performance_graph?every_n=N` then shows the samples of seconds
    /// `1..=elapsed` (elapsed = now − `start_time`, whole seconds): on the completed graphs'
    /// grid `1, 1+N, 1+2N, …` plus the elapsed second itself when off the grid, each value the
    /// sample at that second ([`Self::live_sample`]); averages, maxima, heart-rate zone
    /// seconds and summaries (`total_output`, `distance`, …) are running totals over every
    /// second so far ([`Self::live_totals`]). Once `start_time + ride_for` has come (checked on
    /// each request), the workout is `COMPLETE` with exactly that `end_time`, its graph the
    /// trace up to the end, its `total_work` the summed output, and it is counted and awarded
    /// like [`Self::complete_workout`]. Heart-rate zones follow the member's zones; power
    /// zones relate to the detail's `ftp_info.ftp`, which for a live ride is the member's
    /// `ftp`.
    // By value: callers build the spec in the call.
    #[allow(clippy::needless_pass_by_value)]
    pub fn start_live_ride(&self, spec: LiveRide) -> String {
        live::start_live_ride(&self.shared, &spec).0
    }

    /// The truth of live ride `id` at `at_second` (from 1): what its graph shows for that
    /// second. `None` for other workouts, second 0, and seconds after a completed ride's end;
    /// seconds not yet reached can be asked for (the trace is fixed in advance).
    pub fn live_sample(&self, id: &str, at_second: u64) -> Option<LiveSample> {
        live::sample(&self.shared, id, at_second)
    }

    /// Running totals of live ride `id` over seconds `1..=up_to_second` (capped at a completed
    /// ride's end); `None` for other workouts.
    pub fn live_totals(&self, id: &str, up_to_second: u64) -> Option<LiveTotals> {
        live::totals(&self.shared, id, up_to_second)
    }

    /// Every refresh token becomes `invalid_grant`.
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.shared.tokens).revoke_refresh();
    }

    /// Every access token issued so far now gets 401.
    pub fn expire_access_tokens(&self) {
        lock(&self.shared.tokens).expire_access();
    }

    /// Stops accepting, lets open requests finish (up to a few seconds), then stops.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for FakePeloton {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn tokio_local_addr(l: &KillableListener) -> std::io::Result<SocketAddr> {
    use axum::serve::Listener as _;
    l.local_addr()
}
