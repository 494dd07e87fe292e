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
mod drift;
mod endpoint;
mod faults;
mod generator;
mod graph;
mod jwt;
mod live;
mod login;
mod model;
mod render;
mod server;
mod stats;
mod tokens;
mod util;

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
    GeneratedWorkout, MemberData, PersonalRecord, Stat, Streaks, Units, WorkoutStatus, WorkoutType,
};
pub use server::RecordedRequest;
pub use tokens::{AUDIENCE, CLIENT_ID, REDIRECT_URI};

use server::{KillableListener, Shared};
use tokens::TokenBook;
use util::{lock, mix, now_unix};

const LIVE_SALT: u64 = 0x11fe_0000_0000_0000;
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

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
    /// Demo mode: every interval the running workout completes and a new one starts.
    pub live_interval: Option<Duration>,
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
        let shared = Arc::new(Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(mix(opts.seed ^ LIVE_SALT))),
            opts,
            member: Mutex::new(member),
            tokens: Mutex::new(tokens),
            faults: FaultControl::default(),
            requests: Mutex::new(VecDeque::new()),
            auth_url: format!("http://{auth_addr}"),
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

    /// A copy of the current truth.
    pub fn member(&self) -> MemberData {
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

    /// Completes an in-progress workout now (no-op for unknown or completed ids).
    pub fn complete_workout(&self, id: &str) {
        live::complete_workout(&self.shared, id);
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
