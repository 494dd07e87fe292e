//! Wiring: settings in, a running exporter out.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::account::AccountState;
use crate::config::Settings;
use crate::peloton::PelotonClient;
use crate::peloton::auth::{Credentials, TokenManager};
use crate::peloton::client::{self, ClientSettings, RetryPolicy};
use crate::poller::{Poller, Schedule};
use crate::server::{self, AppState};
use crate::telemetry::Telemetry;
use crate::token_store::{self, TokenStore};

/// Workouts per steady-state list request: enough to see every workout of a busy day.
pub const STEADY_PAGE_LIMIT: u32 = 10;

/// A started exporter: its address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub accounts: Arc<[Arc<AccountState>]>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Running {
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

/// Builds the client stack for one account and starts the server and the poller.
pub async fn start(settings: &Settings) -> anyhow::Result<Running> {
    token_store::create_private_dir(&settings.storage_path).with_context(|| {
        format!(
            "--storage.path: cannot create {}",
            settings.storage_path.display()
        )
    })?;
    let http = client::http_client(settings.timeout, Duration::from_secs(10))?;
    let telemetry = Arc::new(Telemetry::default());
    let tokens = TokenManager::new(
        &settings.auth_url,
        http.clone(),
        Credentials {
            access_token: settings.access_token.clone(),
            refresh_token: settings.refresh_token.clone(),
        },
        Some(TokenStore::new(&settings.storage_path)),
        telemetry.clone(),
    )?;
    let client = PelotonClient::new(
        http,
        ClientSettings {
            api_url: settings.api_url.clone(),
            timeout: settings.timeout,
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            page_limit: STEADY_PAGE_LIMIT,
        },
        Arc::new(tokens),
        telemetry.clone(),
    );
    let account = Arc::new(AccountState::new(None, telemetry));
    let accounts: Arc<[Arc<AccountState>]> = Arc::from(vec![account.clone()]);

    let listener = tokio::net::TcpListener::bind(settings.listen_address)
        .await
        .with_context(|| {
            format!(
                "--web.listen-address: cannot listen on {}",
                settings.listen_address
            )
        })?;
    let addr = listener.local_addr()?;
    let (shutdown, rx) = watch::channel(false);
    let app = server::router(AppState {
        accounts: accounts.clone(),
        telemetry_path: Arc::from(settings.telemetry_path.as_str()),
    });
    let mut server_rx = rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    let poller = Poller::new(
        client,
        account,
        Schedule {
            interval: settings.poll_interval,
            profile_interval: settings.profile_interval,
        },
    );
    let tasks = vec![tokio::spawn(poller.run(rx))];
    tracing::info!(%addr, path = %settings.telemetry_path, "serving metrics");
    Ok(Running {
        addr,
        accounts,
        shutdown,
        tasks,
        server,
    })
}
