//! Start, stop and reloads: settings in, a running exporter out.

pub mod accounts;
pub mod supervisor;
mod token_vault;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::http::listener;
use crate::http::render_cache::Registry;
use crate::http::routes::{self, AppState};
use crate::http::web_config::{LiveWebConfig, RELOAD_INTERVAL};
use crate::run::supervisor::{SettingsSource, Supervisor};
use crate::settings::resolved::Settings;
use crate::state::account::AccountState;

/// A started exporter: its address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
    /// `--web.config.file` in force, when given.
    pub web: Option<Arc<LiveWebConfig>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// The accounts running now.
    pub fn accounts(&self) -> Arc<[Arc<AccountState>]> {
        self.registry.accounts()
    }

    /// Stops polling and serving, waiting for in-flight scrapes.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        self.server
            .await
            .context("server task")?
            .context("server")?;
        Ok(())
    }

    /// Resolves when `signal` fires, then stops.
    pub async fn stop_on(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        signal.await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

/// Starts the server and one poller per account; a reload re-reads nothing but the web
/// config.
pub async fn start(settings: &Settings) -> anyhow::Result<Running> {
    start_reloadable(settings, None).await
}

/// Starts the server and one poller per account; SIGHUP and `POST /-/reload` (with
/// `--web.enable-lifecycle`) take new settings from `source`.
pub async fn start_reloadable(
    settings: &Settings,
    source: Option<SettingsSource>,
) -> anyhow::Result<Running> {
    let web = match &settings.http.web_config_file {
        Some(path) => Some(Arc::new(LiveWebConfig::load(path).map_err(|e| {
            anyhow::anyhow!("--web.config.file: {}: {e}", path.display())
        })?)),
        None => None,
    };
    let http = accounts::peloton_http(&settings.peloton)?;
    let parts = accounts::accounts_with(settings, &http)?;
    let registry = Arc::new(
        Registry::new(Arc::from(Vec::new()), settings.collectors.clone()).with_process_metrics(),
    );

    let listener = tokio::net::TcpListener::bind(settings.http.listen_address)
        .await
        .with_context(|| {
            format!(
                "--web.listen-address: cannot listen on {}",
                settings.http.listen_address
            )
        })?;
    let addr = listener.local_addr()?;
    if let Some(web) = &web {
        web.listening_on(addr);
    }
    let (shutdown, rx) = watch::channel(false);
    let (reload_tx, reload_rx) = mpsc::channel(4);
    // Each account polls on its own: one failing never delays another.
    let supervisor = Supervisor::start(
        settings.clone(),
        source,
        http,
        parts,
        registry.clone(),
        web.clone(),
    );
    let state = AppState {
        registry: registry.clone(),
        telemetry_path: Arc::from(settings.http.telemetry_path.as_str()),
        web: web.clone(),
        reload: settings.http.enable_lifecycle.then_some(reload_tx),
    };
    let scrapes = routes::Scrapes::of(&state);
    let app = routes::router(state);
    let server = tokio::spawn(listener::serve(
        listener,
        app,
        scrapes,
        web.clone(),
        rx.clone(),
    ));
    let mut tasks = vec![tokio::spawn(supervisor.run(reload_rx, rx.clone()))];
    let (tls, basic_auth) = web.as_ref().map_or((false, false), |w| {
        let c = w.current();
        (c.tls().is_some(), c.requires_auth())
    });
    if let Some(web) = web.clone() {
        let status = registry.clone();
        tasks.push(tokio::spawn(web.watch(
            RELOAD_INTERVAL,
            rx.clone(),
            move |in_force| status.reload.web_config_in_force(in_force),
        )));
    }
    tracing::info!(%addr, path = %settings.http.telemetry_path, accounts = settings.accounts.len(), tls, basic_auth, lifecycle = settings.http.enable_lifecycle, "serving metrics");
    Ok(Running {
        addr,
        registry,
        web,
        shutdown,
        tasks,
        server,
    })
}

pub use accounts::{AccountParts, accounts, credentials, peloton_http};

/// SIGTERM or SIGINT, listened for from the call on: a signal during start-up (the demo's
/// fake, the first bind) is kept and ends the process cleanly once it serves, instead of
/// killing it before its clean-up. Call it inside the runtime, before starting anything.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let (term, interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {}
                () = wait(interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
