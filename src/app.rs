//! Wiring: settings in, a running exporter out.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::account::AccountState;
use crate::config::{AccountSettings, Settings};
use crate::peloton::PelotonClient;
use crate::peloton::auth::{Credentials, PasswordLogin, TokenManager};
use crate::peloton::client::{self, ClientSettings, RetryPolicy};
use crate::peloton::transport::Transport;
use crate::poller::{Poller, STEADY_PAGE_LIMIT, Schedule};
use crate::registry::Registry;
use crate::remote_write::RemoteWriter;
use crate::serve;
use crate::server::{self, AppState};
use crate::store::{OpenNote, Store};
use crate::supervisor::{SettingsSource, Supervisor};
use crate::telemetry::Telemetry;
use crate::token_store::TokenStore;
use crate::web_config::{LiveWebConfig, RELOAD_INTERVAL};

/// A started exporter: its address, and how to stop it.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub registry: Arc<Registry>,
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
    let web = match &settings.web_config_file {
        Some(path) => Some(Arc::new(LiveWebConfig::load(path).map_err(|e| {
            anyhow::anyhow!("--web.config.file: {}: {e}", path.display())
        })?)),
        None => None,
    };
    let http = peloton_http(settings)?;
    let parts = accounts_with(settings, &http)?;
    let registry = Arc::new(Registry::new(
        Arc::from(Vec::new()),
        settings.collectors.clone(),
    ));

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
    let app = server::router(AppState {
        registry: registry.clone(),
        telemetry_path: Arc::from(settings.telemetry_path.as_str()),
        web: web.clone(),
        reload: settings.enable_lifecycle.then_some(reload_tx),
    });
    let server = tokio::spawn(serve::serve(listener, app, web.clone(), rx.clone()));
    let mut tasks = vec![tokio::spawn(supervisor.run(reload_rx, rx.clone()))];
    let (tls, basic_auth) = web.as_ref().map_or((false, false), |w| {
        let c = w.current();
        (c.tls().is_some(), c.requires_auth())
    });
    if let Some(web) = web {
        tasks.push(tokio::spawn(web.watch(RELOAD_INTERVAL, rx.clone())));
    }
    tracing::info!(%addr, path = %settings.telemetry_path, accounts = settings.accounts.len(), tls, basic_auth, lifecycle = settings.enable_lifecycle, "serving metrics");
    Ok(Running {
        addr,
        registry,
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
    accounts_with(settings, &peloton_http(settings)?)
}

/// The HTTP client for Peloton's API and Auth0, shared by all accounts.
pub fn peloton_http(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    Ok(client::http_client(
        settings.timeout,
        Duration::from_secs(10),
        &settings.transport,
    )?)
}

fn accounts_with(settings: &Settings, http: &reqwest::Client) -> anyhow::Result<Vec<AccountParts>> {
    let labelled = settings.accounts.len() > 1;
    settings
        .accounts
        .iter()
        .map(|account| account_stack(settings, account, http, labelled, None))
        .collect()
}

/// One account's store, token manager, client and poller; errors name the account.
/// `state` carries an account's series and telemetry over a restart (a reload), so its
/// counters do not reset and its series do not blink.
pub(crate) fn account_stack(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
    state: Option<Arc<AccountState>>,
) -> anyhow::Result<AccountParts> {
    let built = build_account(settings, account, http, labelled, state);
    match &account.name {
        Some(name) => built.with_context(|| format!("account {name}")),
        None => built,
    }
}

fn build_account(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
    state: Option<Arc<AccountState>>,
) -> anyhow::Result<AccountParts> {
    let (store, note) = Store::open(&account.storage_path).context("--storage.path")?;
    log_open(&store, &note);
    let store = Arc::new(store);
    let telemetry = state
        .as_ref()
        .map_or_else(|| Arc::new(Telemetry::default()), |s| s.telemetry.clone());
    let tokens = TokenManager::new(
        &settings.auth_url,
        http.clone(),
        &settings.transport,
        credentials(account),
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
    let state = state.unwrap_or_else(|| {
        let name = if labelled { account.name.clone() } else { None };
        Arc::new(AccountState::new(name, telemetry.clone()))
    });
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
            // The user's own Prometheus: environment proxies apply as usual, but not
            // Peloton's proxy or CA.
            client::http_client(
                settings.timeout,
                Duration::from_secs(10),
                &Transport::default(),
            )?,
            url.clone(),
            settings.remote_write_labels.clone(),
            settings.collectors.clone(),
        )),
        None => poller,
    };
    Ok(AccountParts {
        state,
        poller,
        store,
    })
}

/// What an account's settings give its token manager to sign in with.
pub fn credentials(account: &AccountSettings) -> Credentials {
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
    }
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
