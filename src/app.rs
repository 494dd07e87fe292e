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
use crate::peloton::auth::{Credentials, PasswordLogin, TokenManager};
use crate::peloton::client::{self, ClientSettings, RetryPolicy};
use crate::poller::{Poller, STEADY_PAGE_LIMIT, Schedule};
use crate::remote_write::RemoteWriter;
use crate::serve;
use crate::server::{self, AppState};
use crate::store::{OpenNote, Store};
use crate::telemetry::Telemetry;
use crate::token_store::TokenStore;
use crate::web_config::{LiveWebConfig, RELOAD_INTERVAL};

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
    let web = match &settings.web_config_file {
        Some(path) => Some(Arc::new(LiveWebConfig::load(path).map_err(|e| {
            anyhow::anyhow!("--web.config.file: {}: {e}", path.display())
        })?)),
        None => None,
    };
    let mut accounts = Vec::new();
    let mut pollers = Vec::new();
    for parts in self::accounts(settings)? {
        accounts.push(parts.state);
        pollers.push(parts.poller);
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
        web: web.clone(),
    });
    let server = tokio::spawn(serve::serve(listener, app, web.clone(), rx.clone()));
    // Each account polls on its own: one failing never delays another.
    let mut tasks: Vec<JoinHandle<()>> = pollers
        .into_iter()
        .map(|p| tokio::spawn(p.run(rx.clone())))
        .collect();
    let (tls, basic_auth) = web.as_ref().map_or((false, false), |w| {
        let c = w.current();
        (c.tls().is_some(), c.requires_auth())
    });
    if let Some(web) = web {
        tasks.push(tokio::spawn(web.watch(RELOAD_INTERVAL, rx.clone())));
    }
    tracing::info!(%addr, path = %settings.telemetry_path, accounts = settings.accounts.len(), tls, basic_auth, "serving metrics");
    Ok(Running {
        addr,
        accounts,
        shutdown,
        tasks,
        server,
    })
}

/// One account's pieces: its shared state, its poller, and its store.
#[derive(Debug)]
pub struct AccountParts {
    pub state: Arc<AccountState>,
    pub poller: Poller,
    pub store: Arc<Store>,
}

/// Builds every account's client stack without serving anything (subcommands use this).
pub fn accounts(settings: &Settings) -> anyhow::Result<Vec<AccountParts>> {
    let http = client::http_client(settings.timeout, Duration::from_secs(10))?;
    let labelled = settings.accounts.len() > 1;
    settings
        .accounts
        .iter()
        .map(|account| {
            let built = account_stack(settings, account, &http, labelled);
            match &account.name {
                Some(name) => built.with_context(|| format!("account {name}")),
                None => built,
            }
        })
        .collect()
}

fn account_stack(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
) -> anyhow::Result<AccountParts> {
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
            login: match (&account.username, &account.password) {
                (Some(username), Some(password)) => Some(PasswordLogin {
                    username: username.clone(),
                    password: password.clone(),
                }),
                _ => None,
            },
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
        store.clone(),
        Schedule {
            interval: settings.poll_interval,
            profile_interval: settings.profile_interval,
            max_request_rate: settings.max_request_rate,
        },
    );
    let poller = match &settings.remote_write_url {
        Some(url) => poller.with_remote_write(RemoteWriter::new(
            http.clone(),
            url.clone(),
            settings.remote_write_labels.clone(),
        )),
        None => poller,
    };
    Ok(AccountParts {
        state,
        poller,
        store,
    })
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
