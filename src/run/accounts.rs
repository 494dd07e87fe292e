//! One account's stack, built from its settings: store, token manager, client and poller.
//! The supervisor and the subcommands build accounts here; nothing here starts them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::history::remote_write::RemoteWriter;
use crate::peloton::PelotonClient;
use crate::peloton::auth::{Credentials, PasswordLogin, TokenManager};
use crate::peloton::client::{ClientSettings, RetryPolicy};
use crate::peloton::transport::Transport;
use crate::peloton::wire;
use crate::poll::poller::{Poller, STEADY_PAGE_LIMIT, Schedule};
use crate::settings::resolved::{AccountSettings, Settings};
use crate::state::account::AccountState;
use crate::state::telemetry::Telemetry;
use crate::store::database::{OpenNote, Store};
use crate::store::lock::{LockError, StorageLock};
use crate::store::token_store::TokenStore;

/// One account's pieces: its shared state, its poller, and its store.
#[derive(Debug)]
pub struct AccountParts {
    pub state: Arc<AccountState>,
    pub poller: Poller,
    pub store: Arc<Store>,
    /// `Some(holder)` when another process writes this storage path (a running `serve`):
    /// these parts may read the store but must not sync (no request, no token refresh).
    pub busy: Option<String>,
}

/// What to do when another process holds an account's storage path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenBusy {
    /// `serve`: refuse to start.
    Refuse,
    /// `backfill`, `export`: read what the other process keeps current.
    ReadOnly,
}

/// Builds every account's client stack without serving anything (subcommands use this):
/// an account whose storage path a running exporter holds is read-only.
pub fn accounts(settings: &Settings) -> anyhow::Result<Vec<AccountParts>> {
    let http = peloton_http(settings)?;
    let labelled = settings.accounts.len() > 1;
    settings
        .accounts
        .iter()
        .map(|a| account_stack_when_busy(settings, a, &http, labelled, None, WhenBusy::ReadOnly))
        .collect()
}

/// The HTTP client for Peloton's API and Auth0, shared by all accounts.
pub fn peloton_http(settings: &Settings) -> anyhow::Result<reqwest::Client> {
    Ok(wire::http_client(
        settings.timeout,
        Duration::from_secs(10),
        &settings.transport,
    )?)
}

pub fn accounts_with(
    settings: &Settings,
    http: &reqwest::Client,
) -> anyhow::Result<Vec<AccountParts>> {
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
pub fn account_stack(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
    state: Option<Arc<AccountState>>,
) -> anyhow::Result<AccountParts> {
    account_stack_when_busy(settings, account, http, labelled, state, WhenBusy::Refuse)
}

fn account_stack_when_busy(
    settings: &Settings,
    account: &AccountSettings,
    http: &reqwest::Client,
    labelled: bool,
    state: Option<Arc<AccountState>>,
    when_busy: WhenBusy,
) -> anyhow::Result<AccountParts> {
    let built = build_account(settings, account, http, labelled, state, when_busy);
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
    when_busy: WhenBusy,
) -> anyhow::Result<AccountParts> {
    let (lock, busy) = match StorageLock::acquire(&account.storage_path) {
        Ok(lock) => (Some(lock), None),
        Err(LockError::Busy { holder, .. }) if when_busy == WhenBusy::ReadOnly => {
            (None, Some(holder))
        }
        Err(e) => return Err(e.into()),
    };
    let (store, note) = Store::open(&account.storage_path).context("--storage.path")?;
    log_open(&store, &note);
    let store = Arc::new(store);
    let telemetry = state
        .as_ref()
        .map_or_else(|| Arc::new(Telemetry::default()), |s| s.telemetry.clone());
    let tokens = TokenManager::new(
        &settings.auth_url,
        &settings.auth0,
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
            include_imported: settings.include_imported,
        },
    );
    let poller = match &settings.remote_write_url {
        Some(url) => poller.with_remote_write(
            RemoteWriter::new(
                // The user's own Prometheus: environment proxies apply as usual, but not
                // Peloton's proxy or CA.
                wire::http_client(
                    settings.timeout,
                    Duration::from_secs(10),
                    &Transport::default(),
                )?,
                url.clone(),
                settings.remote_write_labels.clone(),
                settings.collectors.clone(),
            )
            .including_imported(settings.include_imported),
        ),
        None => poller,
    };
    let poller = match lock {
        Some(lock) => poller.holding(lock),
        None => poller,
    };
    Ok(AccountParts {
        state,
        poller,
        store,
        busy,
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
