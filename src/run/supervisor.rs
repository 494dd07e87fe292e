//! Runs one poller per account and applies reloads: SIGHUP or `POST /-/reload` re-reads
//! the config file and the secret files, then restarts exactly the accounts whose
//! settings changed. Untouched accounts keep polling and keep their telemetry; an invalid
//! new configuration changes nothing.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument as _;

use super::accounts::{self, AccountParts};
use crate::http::render_cache::Registry;
use crate::http::routes::ReloadRequest;
use crate::http::web_config::LiveWebConfig;
use crate::settings::resolved::{AccountSettings, ConfigError, Settings};
use crate::state::account::AccountState;

/// Re-reads the configuration: flags stay as started, files are read again.
pub type SettingsSource = Box<dyn Fn() -> Result<Settings, ConfigError> + Send + Sync>;

struct RunningAccount {
    settings: AccountSettings,
    state: Arc<AccountState>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningAccount {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

pub struct Supervisor {
    settings: Settings,
    source: Option<SettingsSource>,
    http: reqwest::Client,
    registry: Arc<Registry>,
    web: Option<Arc<LiveWebConfig>>,
    running: Vec<RunningAccount>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("accounts", &self.running.len())
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// Starts every account's poller and publishes them in the registry.
    pub fn start(
        settings: Settings,
        source: Option<SettingsSource>,
        http: reqwest::Client,
        parts: Vec<AccountParts>,
        registry: Arc<Registry>,
        web: Option<Arc<LiveWebConfig>>,
    ) -> Self {
        let running = settings
            .accounts
            .iter()
            .cloned()
            .zip(parts)
            .map(|(account, parts)| {
                let rebuild = rebuilder(&settings, &account, &http);
                spawn(account, parts, rebuild)
            })
            .collect();
        let this = Self {
            settings,
            source,
            http,
            registry,
            web,
            running,
        };
        this.publish();
        this
    }

    fn publish(&self) {
        let states: Vec<_> = self.running.iter().map(|r| r.state.clone()).collect();
        self.registry.replace_accounts(Arc::from(states));
    }

    /// Serves reload requests (and SIGHUP) until `shutdown`, then stops every poller.
    pub async fn run(
        mut self,
        mut requests: mpsc::Receiver<ReloadRequest>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut hangup = hangup_signal();
        // Without the lifecycle API (or once the server is gone) no request comes.
        let mut open = true;
        loop {
            let reply = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => break,
                r = requests.recv(), if open => {
                    if r.is_none() {
                        open = false;
                        continue;
                    }
                    r
                }
                () = next(&mut hangup) => None,
            };
            tracing::info!(
                trigger = if reply.is_some() { "http" } else { "sighup" },
                "reloading configuration"
            );
            let result = self.reload().await;
            match &result {
                Ok(()) => {
                    self.registry.reload.succeeded();
                    tracing::info!(accounts = self.running.len(), "configuration reloaded");
                }
                Err(e) => {
                    self.registry.reload.failed();
                    tracing::error!(error = %e, "reload failed; the running configuration stays in force");
                }
            }
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
        }
        for r in self.running {
            r.stop().await;
        }
    }

    async fn reload(&mut self) -> Result<(), String> {
        if let Some(web) = &self.web {
            web.reload()
                .map_err(|e| format!("--web.config.file: {e}"))?;
        }
        let Some(source) = &self.source else {
            return Ok(());
        };
        let new = source().map_err(|e| e.to_string())?;
        self.apply(new).await.map_err(|e| format!("{e:#}"))
    }

    /// Restarts the accounts whose settings changed, stops removed ones, starts new ones.
    async fn apply(&mut self, new: Settings) -> anyhow::Result<()> {
        // The `account` label appears with the second account: every series changes.
        let relabel = (new.accounts.len() > 1) != (self.settings.accounts.len() > 1);
        // A new proxy or CA bundle needs a new client, and every account uses it.
        let transport_changed = new.peloton.transport != self.settings.peloton.transport;
        if transport_changed {
            self.http = accounts::peloton_http(&new.peloton)?;
        }
        let mut keep = Vec::new();
        let mut retire = Vec::new();
        for r in std::mem::take(&mut self.running) {
            let unchanged = !relabel && !transport_changed && new.accounts.contains(&r.settings);
            if unchanged {
                keep.push(r);
            } else {
                retire.push(r);
            }
        }
        // A restarted account keeps its series and counters unless its labels change.
        let mut carried: Vec<(Option<String>, Arc<AccountState>)> = Vec::new();
        // Stopped before the new ones start: a restarted account reopens the same store.
        for r in retire {
            if !relabel {
                carried.push((r.settings.name.clone(), r.state.clone()));
            }
            tracing::info!(
                account = r.settings.name.as_deref().unwrap_or("default"),
                "stopping account"
            );
            r.stop().await;
        }
        let labelled = new.accounts.len() > 1;
        let mut failed = Vec::new();
        let mut running = Vec::new();
        for account in &new.accounts {
            if let Some(pos) = keep.iter().position(|r| r.settings == *account) {
                running.push(keep.swap_remove(pos));
                continue;
            }
            let state = carried
                .iter()
                .position(|(name, _)| *name == account.name)
                .map(|pos| carried.swap_remove(pos).1);
            match accounts::account_stack(&new, account, &self.http, labelled, state) {
                Ok(parts) => {
                    tracing::info!(
                        account = account.name.as_deref().unwrap_or("default"),
                        "starting account"
                    );
                    let rebuild = rebuilder(&new, account, &self.http);
                    running.push(spawn(account.clone(), parts, rebuild));
                }
                Err(e) => failed.push(format!(
                    "account {}: {e:#}",
                    account.name.as_deref().unwrap_or("default")
                )),
            }
        }
        self.running = running;
        self.settings = new;
        self.publish();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(failed.join("; "))).context("starting accounts")
        }
    }
}

/// How long a dead poller waits before it is built again and restarted: a bug that kills
/// it at once must not turn into a tight loop of requests to Peloton.
const RESTART_PAUSE: Duration = Duration::from_secs(30);

/// Starts the account's poller under a watchdog. `rebuild` makes a fresh poller for a
/// restart (same store, same account state).
fn spawn(
    settings: AccountSettings,
    parts: AccountParts,
    rebuild: impl Fn(Arc<AccountState>) -> anyhow::Result<AccountParts> + Send + 'static,
) -> RunningAccount {
    let (stop, rx) = watch::channel(false);
    let state = parts.state.clone();
    let name = settings.name.clone();
    // Every line an account logs carries its name: with several, "refresh token rejected"
    // alone does not say whose.
    let span = match &settings.name {
        Some(name) => tracing::info_span!("account", account = %name),
        None => tracing::Span::none(),
    };
    let mut first = Some(parts.poller);
    let task = tokio::spawn(watchdog(
        state.clone(),
        move |state: &Arc<AccountState>, stop: watch::Receiver<bool>| {
            let poller = match first.take() {
                Some(p) => p,
                None => match rebuild(state.clone()) {
                    Ok(parts) => parts.poller,
                    Err(e) => {
                        tracing::error!(account = name.as_deref().unwrap_or("default"), error = %format!("{e:#}"), "cannot rebuild the account's poller");
                        return None;
                    }
                },
            };
            Some(poller.run(stop).instrument(span.clone()))
        },
        rx,
        RESTART_PAUSE,
    ));
    RunningAccount {
        settings,
        state,
        stop,
        task,
    }
}

/// Runs what `start` makes until `stop`. When it dies (a panic), the account says so
/// (`peloton_up` 0, not ready, a poll error `internal`) and, after `pause`, `start` is
/// asked for a new one: no task may die behind a healthy status.
async fn watchdog<F, Fut>(
    state: Arc<AccountState>,
    mut start: F,
    mut stop: watch::Receiver<bool>,
    pause: Duration,
) where
    F: FnMut(&Arc<AccountState>, watch::Receiver<bool>) -> Option<Fut>,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        if let Some(run) = start(&state, stop.clone()) {
            state.restarted();
            match tokio::spawn(run).await {
                Err(e) if e.is_panic() => {
                    state.crashed();
                    tracing::error!(
                        account = state.name.as_deref().unwrap_or("default"),
                        restart_in_seconds = pause.as_secs(),
                        "the account's poller died; it is restarted"
                    );
                }
                // Stopped, or cancelled with the runtime.
                Ok(()) | Err(_) => return,
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// Builds the account's stack again from the settings it runs with, keeping its state.
fn rebuilder(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
) -> impl Fn(Arc<AccountState>) -> anyhow::Result<AccountParts> + Send + 'static {
    let (settings, account, http) = (settings.clone(), account.clone(), http.clone());
    let labelled = settings.accounts.len() > 1;
    move |state| accounts::account_stack(&settings, &account, &http, labelled, Some(state))
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reload with POST /-/reload");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signal() -> Hangup {}

#[cfg(unix)]
async fn next(hangup: &mut Hangup) {
    match hangup {
        Some(s) => {
            if s.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn next(_: &mut Hangup) {
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::state::labels::ErrorReason;
    use crate::state::snapshot::Snapshot;
    use crate::state::telemetry::Telemetry;

    #[tokio::test(start_paused = true)]
    async fn a_dead_poller_shows_down_then_is_restarted() {
        let state = Arc::new(AccountState::new(None, Arc::new(Telemetry::default())));
        state.publish(Snapshot {
            up: true,
            ..Snapshot::default()
        });
        assert!(state.is_ready());
        let starts = Arc::new(AtomicU32::new(0));
        let (stop_tx, stop_rx) = watch::channel(false);
        let counted = starts.clone();
        let published = state.clone();
        let task = tokio::spawn(watchdog(
            state.clone(),
            move |_: &Arc<AccountState>, mut stop: watch::Receiver<bool>| {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let published = published.clone();
                Some(async move {
                    #[allow(clippy::manual_assert, clippy::panic)]
                    if n == 0 {
                        panic!("injected");
                    }
                    published.publish(Snapshot {
                        up: true,
                        ..Snapshot::default()
                    });
                    let _ = stop.wait_for(|s| *s).await;
                })
            },
            stop_rx,
            Duration::from_secs(30),
        ));
        // The first run dies at once: down, not ready, counted.
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        assert!(!state.snapshot().up);
        assert!(!state.is_ready());
        assert_eq!(
            state
                .telemetry
                .values()
                .poll_errors
                .get(&ErrorReason::Internal),
            Some(&1)
        );
        // After the pause it runs again and is up and ready.
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        assert!(state.snapshot().up);
        assert!(state.is_ready());
        stop_tx.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 2, "a stop is not a death");
    }
}
