//! Wiring: settings in, a running exporter out.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::account::AccountState;
use crate::config::{AccountSettings, Settings};
use crate::peloton::PelotonClient;
use crate::peloton::auth::{Credentials, TokenManager};
use crate::peloton::client::{self, ClientSettings, RetryPolicy};
use crate::poller::{Poller, STEADY_PAGE_LIMIT, Schedule};
use crate::server::{self, AppState};
use crate::store::{OpenNote, Store};
use crate::telemetry::Telemetry;
use crate::token_store::TokenStore;

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

/// Starts the server and one poller per account.
pub async fn start(settings: &Settings) -> anyhow::Result<Running> {
    let http = client::http_client(settings.timeout, Duration::from_secs(10))?;
    let labelled = settings.accounts.len() > 1;
    let mut accounts = Vec::new();
    let mut pollers = Vec::new();
    for account in &settings.accounts {
        let built = account_stack(settings, account, &http, labelled);
        let (state, poller) = match &account.name {
            Some(name) => built.with_context(|| format!("account {name}"))?,
            None => built?,
        };
        accounts.push(state);
        pollers.push(poller);
    }
    let accounts: Arc<[Arc<AccountState>]> = Arc::from(accounts);

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
    // Each account polls on its own: one failing never delays another.
    let tasks = pollers
        .into_iter()
        .map(|p| tokio::spawn(p.run(rx.clone())))
        .collect();
    tracing::info!(%addr, path = %settings.telemetry_path, accounts = settings.accounts.len(), "serving metrics");
    Ok(Running {
        addr,
        accounts,
        shutdown,
        tasks,
        server,
    })
}

fn account_stack(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
) -> anyhow::Result<(Arc<AccountState>, Poller)> {
    let (store, note) = Store::open(&account.storage_path).context("--storage.path")?;
    log_open(&store, &note);
    let store = Arc::new(store);
    let telemetry = Arc::new(Telemetry::default());
    let tokens = TokenManager::new(
        &settings.auth_url,
        http.clone(),
        Credentials {
            access_token: account.access_token.clone(),
            refresh_token: account.refresh_token.clone(),
        },
        Some(TokenStore::new(store.clone(), &account.storage_path)),
        telemetry.clone(),
    )?;
    let client = PelotonClient::new(
        http.clone(),
        ClientSettings {
            api_url: settings.api_url.clone(),
            timeout: settings.timeout,
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy {
                max_retries: settings.max_retries,
                initial_backoff: settings.retry_backoff,
                ..RetryPolicy::default()
            },
            page_limit: STEADY_PAGE_LIMIT,
        },
        Arc::new(tokens),
        telemetry.clone(),
    );
    let name = if labelled { account.name.clone() } else { None };
    let state = Arc::new(AccountState::new(name, telemetry));
    let poller = Poller::new(
        client,
        state.clone(),
        store,
        Schedule {
            interval: settings.poll_interval,
            profile_interval: settings.profile_interval,
            max_request_rate: settings.max_request_rate,
        },
    );
    Ok((state, poller))
}

fn log_open(store: &Store, note: &OpenNote) {
    let path = store.path().display().to_string();
    match note {
        OpenNote::Created => tracing::debug!(%path, "created state database"),
        OpenNote::Opened => tracing::debug!(%path, "opened state database"),
        OpenNote::Migrated { from } => tracing::info!(%path, from, "migrated state database"),
        OpenNote::Rebuilt { moved_to } => tracing::error!(
            %path,
            moved_to = %moved_to.display(),
            "state database was corrupt; moved it aside and starting over (history is fetched again)"
        ),
    }
}
