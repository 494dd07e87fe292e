//! One account's stack, built from its settings: store, token manager, client and poller.
//! The supervisor and the subcommands build accounts here; nothing here starts them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::history::remote_write::RemoteWriter;
use crate::metrics::collectors::{Collector, Collectors};
use crate::peloton::PelotonClient;
use crate::peloton::auth::{CredentialError, Credentials, Origin, PasswordLogin, TokenManager};
use crate::peloton::client::{ClientSettings, RetryPolicy};
use crate::peloton::jwt;
use crate::peloton::transport::Transport;
use crate::peloton::wire;
use crate::poll::poller::{Poller, STEADY_PAGE_LIMIT, Schedule};
use crate::settings::resolved::{AccountSettings, PelotonSettings, PollSettings, Settings};
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
    let http = peloton_http(&settings.peloton)?;
    let labelled = settings.accounts.len() > 1;
    settings
        .accounts
        .iter()
        .map(|a| account_stack_when_busy(settings, a, &http, labelled, None, WhenBusy::ReadOnly))
        .collect()
}

/// The HTTP client for Peloton's API and Auth0, shared by all accounts.
pub fn peloton_http(peloton: &PelotonSettings) -> anyhow::Result<reqwest::Client> {
    Ok(wire::http_client(
        peloton.timeout,
        CONNECT_TIMEOUT,
        &peloton.transport,
    )?)
}

/// How long a connection to Peloton (or to remote write) may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    // Before the lock and the store: a start that cannot work leaves no empty directory.
    check_credentials(account)?;
    let (lock, busy) = match StorageLock::acquire(&account.storage_path) {
        Ok(lock) => (Some(lock), None),
        Err(LockError::Busy { holder, .. }) if when_busy == WhenBusy::ReadOnly => {
            (None, Some(holder))
        }
        Err(e) => return Err(e.into()),
    };
    let (store, note) = open_store(&account.storage_path)?;
    log_open(&store, &note);
    let store = Arc::new(store);
    let telemetry = state
        .as_ref()
        .map_or_else(|| Arc::new(Telemetry::default()), |s| s.telemetry.clone());
    let peloton = &settings.peloton;
    let tokens = TokenManager::new(
        &peloton.auth_url,
        &peloton.auth0,
        http.clone(),
        &peloton.transport,
        credentials(account),
        Some(Arc::new(TokenStore::new(
            store.clone(),
            &account.storage_path,
        ))),
        telemetry.clone(),
    )?
    .with_refresh_backoff(settings.poll.interval);
    let client = PelotonClient::new(
        http.clone(),
        client_settings(peloton),
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
        schedule(&settings.poll, &settings.collectors),
    );
    let poller = match remote_writer(settings)? {
        Some(writer) => poller.with_remote_write(writer),
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

/// The API client's part of the Peloton settings (the token manager takes the rest).
fn client_settings(peloton: &PelotonSettings) -> ClientSettings {
    ClientSettings {
        api_url: peloton.api_url.clone(),
        timeout: peloton.timeout,
        connect_timeout: CONNECT_TIMEOUT,
        retry: RetryPolicy {
            max_retries: peloton.retry.max_retries,
            initial_backoff: peloton.retry.retry_backoff,
            ..RetryPolicy::default()
        },
        page_limit: STEADY_PAGE_LIMIT,
    }
}

/// The poller's schedule. `settings` sits below `poll` in the import order, so the poller
/// keeps its own struct and it is filled in here.
fn schedule(poll: &PollSettings, collectors: &Collectors) -> Schedule {
    Schedule {
        interval: poll.interval,
        profile_interval: poll.profile_interval,
        max_request_rate: poll.max_request_rate,
        include_imported: poll.include_imported,
        live_interval: poll.live_interval,
        // Nothing shows them: the requests are not sent.
        profile_extras: collectors.is_enabled(Collector::Challenges),
    }
}

/// The remote writer, when `--remote-write.url` is set.
fn remote_writer(settings: &Settings) -> anyhow::Result<Option<RemoteWriter>> {
    let remote = &settings.remote_write;
    let Some(url) = &remote.url else {
        return Ok(None);
    };
    // The user's own Prometheus: environment proxies apply as usual, but not Peloton's
    // proxy or CA.
    let http = wire::http_client(
        settings.peloton.timeout,
        CONNECT_TIMEOUT,
        &Transport::default(),
    )?;
    Ok(Some(
        RemoteWriter::new(
            http,
            url.clone(),
            remote.labels.clone(),
            settings.collectors.clone(),
        )
        .including_imported(settings.poll.include_imported)
        .with_traces(remote.traces),
    ))
}

/// Opens an account's store. The error is one line: the store's message already names
/// its cause, so the cause is not chained a second time.
pub fn open_store(path: &std::path::Path) -> anyhow::Result<(Store, OpenNote)> {
    Store::open(path).map_err(|e| {
        anyhow::anyhow!(
            "--storage.path: {e}; point --storage.path at a directory this user can write"
        )
    })
}

/// What start-up can tell without Peloton: there is a credential (configured, or stored
/// by an earlier run or `login`), and a configured access token is a JWT that has not
/// expired unless something else can renew it. Errors are one line that says what to do.
pub fn check_credentials(account: &AccountSettings) -> anyhow::Result<()> {
    let checked = check_account_credentials(account, crate::clock::now_unix());
    match &account.name {
        Some(name) => checked.with_context(|| format!("account {name}")),
        None => checked,
    }
}

fn check_account_credentials(account: &AccountSettings, now: i64) -> anyhow::Result<()> {
    let configured = credentials(account);
    let stored = || Store::has_stored_token(&account.storage_path);
    if !configured.is_usable() && !stored() {
        return Err(CredentialError::Missing.into());
    }
    let Some(access) = &account.access_token else {
        return Ok(());
    };
    let which = if account.name.is_some() {
        "access_token"
    } else {
        "--peloton.access-token"
    };
    let fix = "use a refresh token (--peloton.refresh-token-file), or sign in once with `peloton-exporter login`";
    let Some(claims) = jwt::claims(access.expose()) else {
        anyhow::bail!(
            "{which}: not a JWT (Peloton's access tokens are three dot-separated parts, eyJ…); {fix}"
        );
    };
    let renewable = configured.refresh_token.is_some() || configured.login.is_some() || stored();
    match claims.exp {
        Some(exp) if exp <= now && !renewable => {
            let when = u64::try_from(exp).map_or_else(
                |_| exp.to_string(),
                |secs| {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + Duration::from_secs(secs),
                    )
                    .to_string()
                },
            );
            anyhow::bail!(
                "{which}: expired on {when}, and an access token alone cannot be renewed; {fix}"
            )
        }
        _ => Ok(()),
    }
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
        origin: Origin {
            account: account.name.clone(),
            storage: Some(account.storage_path.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use base64::Engine as _;

    fn jwt_with_exp(exp: i64) -> Secret {
        let part = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        Secret::new(format!(
            "{}.{}.sig",
            part(serde_json::json!({"alg": "RS256"})),
            part(serde_json::json!({"exp": exp}))
        ))
    }

    fn account(dir: &std::path::Path, access: Option<Secret>, refresh: bool) -> AccountSettings {
        AccountSettings {
            name: None,
            access_token: access,
            refresh_token: refresh.then(|| Secret::new("v1.refresh")),
            username: None,
            password: None,
            storage_path: dir.join("state"),
        }
    }

    #[test]
    fn start_up_refuses_tokens_that_cannot_work_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let now = 1_700_000_000;
        let check =
            |a: &AccountSettings| check_account_credentials(a, now).map_err(|e| format!("{e:#}"));
        let expired = jwt_with_exp(now - 3600);
        let err = check(&account(dir.path(), Some(expired.clone()), false)).unwrap_err();
        assert!(
            err.starts_with("--peloton.access-token: expired on 2023-11-14T21:13:20Z"),
            "{err}"
        );
        assert!(
            err.contains("refresh token") && err.contains("login"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1);
        assert!(!err.contains(expired.expose()));
        // A refresh token renews it.
        check(&account(dir.path(), Some(expired), true)).unwrap();
        check(&account(dir.path(), Some(jwt_with_exp(now + 3600)), false)).unwrap();
        // Not a JWT at all: a paste of the wrong thing.
        let err = check(&account(
            dir.path(),
            Some(Secret::new("v1.not-a-jwt")),
            true,
        ))
        .unwrap_err();
        assert!(
            err.contains("not a JWT") && !err.contains("v1.not-a-jwt"),
            "{err}"
        );
        let err = check(&account(dir.path(), None, false)).unwrap_err();
        assert!(err.contains("--demo") && err.contains("login"), "{err}");
        // Nothing was created on the way.
        assert!(!dir.path().join("state").exists());
    }
}
