//! Access tokens (API.md §2): a static token, or one obtained from a refresh token at
//! `<auth-url>/oauth/token`, renewed before its JWT `exp` and after a 401. Rotated refresh
//! tokens are persisted at once, so a restart never presents a token Peloton has retired.
//! With an email and password configured, a missing or dead token is replaced by a headless
//! sign-in (`login.rs`), once, with backoff after a failure; from then on only refreshes.
//!
//! Only an OAuth error that says so (`invalid_grant`) retires a refresh token: a block page,
//! a rate limit or an outage keeps it, and the refresh backs off (`auth_backoff.rs`). The
//! stored token is read again before every refresh, because `login` or another process may
//! have rotated it, and presenting a rotated-away token can revoke the whole family.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tracing::Instrument as _;
use url::Url;

use super::auth_backoff::{
    LOGIN_BACKOFF_MAX, LOGIN_BACKOFF_MEMBER, LOGIN_BACKOFF_TRANSIENT, REFRESH_BACKOFF_FIRST_MAX,
    deadline, exponential, refresh_backoff,
};
use super::auth0::Auth0Client;
pub use super::credentials::{Credentials, Origin, PasswordLogin};
use super::error::ApiError;
use super::login::{LoginError, SignedIn, Signer};
use super::model::TokenResponse;
use super::token_exchange::{AccessToken, Refusal, exchange};
use super::token_vault::{TokenVault, VaultError};
use super::transport::Transport;
use crate::clock::now_unix;
use crate::secret::Secret;
use crate::secret::StoredTokens;
use crate::state::labels::{Endpoint, ErrorReason};
use crate::state::telemetry::{AuthResult, Telemetry};

/// How long to wait after the `failures`-th failed sign-in in a row: exponential from 5 min
/// (1 h for a failure the member must fix), capped at 6 h, with ±20 % jitter, and never
/// shorter than the server's (capped) Retry-After.
pub fn login_backoff(failures: u32, error: &LoginError) -> Duration {
    let first = if error.needs_member() {
        LOGIN_BACKOFF_MEMBER
    } else {
        LOGIN_BACKOFF_TRANSIENT
    };
    exponential(first, failures, LOGIN_BACKOFF_MAX).max(error.retry_after().unwrap_or_default())
}

/// Timeout of one request of the sign-in flow.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
/// The first wait after a refresh failed without retiring the token, unless the poll
/// interval is given (`with_refresh_backoff`).
const REFRESH_BACKOFF_FIRST: Duration = Duration::from_secs(60);
/// Refresh tokens known to be dead or rotated away, remembered so that the store's copy of
/// one is never adopted again.
const MAX_RETIRED: usize = 8;

#[derive(Debug)]
struct State {
    access: Option<AccessToken>,
    /// Refresh tokens to try, best first: the newest persisted one, then the configured one.
    refresh: Vec<Secret>,
    /// Refresh tokens that must not be presented again (rejected, or rotated away).
    retired: Vec<Secret>,
    /// Rate limits, block pages and outages of the auth server are not retried before
    /// this time; failures in a row and the last one's reason and message.
    not_before: Option<SystemTime>,
    refresh_failures: u32,
    refresh_error: Option<(ErrorReason, String)>,
    /// Failed sign-ins in a row, the last one's error, and when the next may start.
    login_failures: u32,
    login_error: Option<LoginError>,
    login_not_before: Option<SystemTime>,
    /// A refresh-token exchange still running. It runs in its own task and persists a
    /// rotated token itself: Peloton retires the old token as soon as it answers, so a
    /// caller that goes away (a reload, a shutdown) must not lose the new one.
    inflight: Option<JoinHandle<Result<TokenResponse, Refusal>>>,
}

#[derive(Debug)]
struct LoginSetup {
    signer: Signer,
    credentials: PasswordLogin,
}

#[derive(Debug)]
pub struct TokenManager {
    token_url: Url,
    client_id: String,
    origin: Origin,
    /// The first wait after a refresh failed and kept the token.
    refresh_backoff: Duration,
    http: reqwest::Client,
    state: Mutex<State>,
    store: Option<Arc<dyn TokenVault>>,
    telemetry: Arc<Telemetry>,
    login: Option<LoginSetup>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no Peloton credentials: sign in once with `peloton-exporter login`, or set --peloton.refresh-token-file (or --peloton.refresh-token, --peloton.access-token[-file], --peloton.username with --peloton.password[-file]); to try it without an account: --demo"
    )]
    Missing,
    #[error("{0}")]
    Store(VaultError),
    #[error("invalid --peloton.auth-url: {0}")]
    AuthUrl(url::ParseError),
    #[error("cannot prepare the sign-in: {0}")]
    Login(LoginError),
}

impl TokenManager {
    /// Combines the configured credentials with what an earlier run stored. Fails when
    /// there is nothing to authenticate with.
    pub fn new(
        auth_url: &Url,
        client: &Auth0Client,
        http: reqwest::Client,
        transport: &Transport,
        configured: Credentials,
        store: Option<Arc<dyn TokenVault>>,
        telemetry: Arc<Telemetry>,
    ) -> Result<Self, CredentialError> {
        let stored = match &store {
            Some(s) => s.load().map_err(CredentialError::Store)?,
            None => StoredTokens::default(),
        };
        if !configured.is_usable() && !stored.has_token() {
            return Err(CredentialError::Missing);
        }
        let mut refresh = Vec::new();
        for candidate in [
            stored.refresh_token.clone(),
            configured.refresh_token.clone(),
        ]
        .into_iter()
        .flatten()
        {
            if !candidate.is_empty() && !refresh.contains(&candidate) {
                refresh.push(candidate);
            }
        }
        // Of a configured and a stored access token, the one that lives longer wins: the
        // stored one is usually a refreshed successor of the configured one.
        let configured_access = configured
            .access_token
            .filter(|t| !t.is_empty())
            .map(|t| AccessToken::new(t, None));
        let stored_access = stored.access_token.map(|t| {
            let mut a = AccessToken::new(t, None);
            a.expires_at = a.expires_at.or(stored.access_token_expires_at);
            a
        });
        let access = match (configured_access, stored_access) {
            (Some(c), Some(s)) => Some(
                if s.expires_at.unwrap_or(0) > c.expires_at.unwrap_or(i64::MAX) {
                    s
                } else {
                    c
                },
            ),
            (c, s) => c.or(s),
        };
        let login = match configured.login {
            Some(credentials) if !credentials.password.is_empty() => Some(LoginSetup {
                signer: Signer::with_transport(auth_url, LOGIN_TIMEOUT, transport)
                    .map_err(CredentialError::Login)?
                    .with_client(client.clone()),
                credentials,
            }),
            _ => None,
        };
        let token_url = auth_url
            .join("/oauth/token")
            .map_err(CredentialError::AuthUrl)?;
        telemetry.set_token_expiry(access.as_ref().and_then(|a| a.expires_at));
        Ok(Self {
            token_url,
            client_id: client.client_id.clone(),
            origin: configured.origin,
            refresh_backoff: REFRESH_BACKOFF_FIRST,
            http,
            state: Mutex::new(State {
                access,
                refresh,
                retired: Vec::new(),
                not_before: None,
                refresh_failures: 0,
                refresh_error: None,
                login_failures: 0,
                login_error: None,
                login_not_before: None,
                inflight: None,
            }),
            store,
            telemetry,
            login,
        })
    }

    /// Starts the backoff of failed refreshes at `first` (the poll interval: a refresh is
    /// only tried when a poll needs a token), at most five minutes.
    #[must_use]
    pub fn with_refresh_backoff(mut self, first: Duration) -> Self {
        self.refresh_backoff = first.min(REFRESH_BACKOFF_FIRST_MAX);
        self
    }

    /// A rejected token can be replaced: by a refresh, or by signing in again.
    pub async fn can_refresh(&self) -> bool {
        self.login.is_some() || !self.state.lock().await.refresh.is_empty()
    }

    /// Forgets `rejected` (Peloton answered 401 to it) so the next `bearer` refreshes.
    pub async fn invalidate(&self, rejected: &Secret) {
        let mut state = self.state.lock().await;
        if state.access.as_ref().is_some_and(|a| &a.token == rejected) {
            state.access = None;
        }
    }

    /// A token to send now, refreshed first when it is missing or about to expire.
    pub async fn bearer(&self) -> Result<Secret, ApiError> {
        let mut state = self.state.lock().await;
        let now = now_unix();
        if let Some(access) = &state.access
            && !access.needs_refresh(now)
        {
            return Ok(access.token.clone());
        }
        if let Some(token) = self.reread_store(&mut state, now) {
            return Ok(token);
        }
        if let Some(access) = &state.access
            && state.refresh.is_empty()
            && self.login.is_none()
        {
            // A static token past its expiry is still sent: Peloton is the judge, and its
            // 401 tells the user more than a guess of ours.
            return Ok(access.token.clone());
        }
        if let Some(when) = state.not_before
            && !state.refresh.is_empty()
            && let Ok(wait) = when.duration_since(SystemTime::now())
            && !wait.is_zero()
        {
            if let Some(access) = &state.access
                && access.expires_at.is_some_and(|exp| exp > now)
            {
                return Ok(access.token.clone());
            }
            let (reason, last) = state
                .refresh_error
                .clone()
                .unwrap_or((ErrorReason::Auth, "an auth server error".to_owned()));
            return Err(ApiError::Deferred {
                reason,
                wait_s: wait.as_secs(),
                last,
            });
        }
        if !state.refresh.is_empty() {
            match self.refresh_locked(&mut state).await {
                Ok(token) => return Ok(token),
                // The refresh token was kept: the access token serves until it expires.
                Err(_)
                    if !state.refresh.is_empty()
                        && let Some(access) = &state.access
                        && access.expires_at.is_some_and(|exp| exp > now) =>
                {
                    return Ok(access.token.clone());
                }
                // A dead refresh token falls back to signing in; an unreachable auth
                // server does not (the token is likely fine).
                Err(e) if self.login.is_none() || !state.refresh.is_empty() => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, "no refresh token works; signing in with email and password");
                }
            }
        }
        match &self.login {
            Some(login) => self.login_locked(&mut state, login, now).await,
            None => Err(ApiError::Auth {
                detail: format!(
                    "no valid refresh token left; {}",
                    self.origin.renew_advice()
                ),
            }),
        }
    }

    /// Adopts the stored refresh token when it is not the one in use: `login`, or another
    /// process on the same storage, rotated it, so the one in memory is retired. Returns
    /// the stored access token when it came with it and is good for a while.
    fn reread_store(&self, state: &mut State, now: i64) -> Option<Secret> {
        let store = self.store.as_ref()?;
        let stored = match store.load() {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the stored tokens; using the ones in memory");
                return None;
            }
        };
        let fresh = stored.refresh_token.filter(|t| !t.is_empty())?;
        if state.refresh.first() == Some(&fresh) || state.retired.contains(&fresh) {
            return None;
        }
        tracing::info!(
            "the stored refresh token changed (rotated by `peloton-exporter login` or another process); using it"
        );
        if let Some(old) = state.refresh.first().cloned() {
            state.refresh.retain(|r| r != &old);
            retire(state, old);
        }
        state.refresh.retain(|r| r != &fresh);
        state.refresh.insert(0, fresh);
        // Someone renewed the tokens: a backoff or a dead token of ours says nothing about
        // the new one.
        state.not_before = None;
        state.refresh_failures = 0;
        state.refresh_error = None;
        state.login_not_before = None;
        let access = stored.access_token.filter(|t| !t.is_empty()).map(|t| {
            let mut a = AccessToken::new(t, None);
            a.expires_at = a.expires_at.or(stored.access_token_expires_at);
            a
        })?;
        if access.needs_refresh(now) {
            return None;
        }
        self.telemetry.set_token_expiry(access.expires_at);
        let token = access.token.clone();
        state.access = Some(access);
        Some(token)
    }

    /// One sign-in, unless an earlier one failed recently.
    async fn login_locked(
        &self,
        state: &mut State,
        login: &LoginSetup,
        now: i64,
    ) -> Result<Secret, ApiError> {
        if let Some(when) = state.login_not_before
            && let Ok(wait) = when.duration_since(SystemTime::now())
            && !wait.is_zero()
        {
            if let Some(access) = &state.access
                && access.expires_at.is_none_or(|exp| exp > now)
            {
                return Ok(access.token.clone());
            }
            return Err(match state.login_error.clone() {
                Some(last) => ApiError::Login(LoginError::BackingOff {
                    wait,
                    last: Box::new(last),
                }),
                None => ApiError::Auth {
                    detail: format!(
                        "Peloton does not accept the tokens of a sign-in minutes ago; not signing in again for another {}s",
                        wait.as_secs()
                    ),
                },
            });
        }
        tracing::info!("signing in to Peloton with email and password");
        let result = login
            .signer
            .sign_in(
                &login.credentials.username,
                &login.credentials.password,
                &self.telemetry,
            )
            .await;
        match result {
            Ok(signed_in) => {
                self.telemetry.auth_result(AuthResult::Success);
                state.login_failures = 0;
                state.login_error = None;
                // Even a successful sign-in is not repeated within minutes: if Peloton
                // rejects its tokens, signing in again at once would not help.
                state.login_not_before = Some(deadline(LOGIN_BACKOFF_TRANSIENT));
                state.not_before = None;
                state.refresh_failures = 0;
                state.refresh_error = None;
                let token = self.adopt(state, signed_in);
                tracing::info!("signed in; from now on the refresh token is used");
                Ok(token)
            }
            Err(e) => {
                self.telemetry.auth_result(e.result());
                state.login_failures = state.login_failures.saturating_add(1);
                let wait = login_backoff(state.login_failures, &e);
                state.login_not_before = Some(deadline(wait));
                tracing::error!(error = %e, retry_in_s = wait.as_secs(), "sign-in failed");
                state.login_error = Some(e.clone());
                Err(ApiError::Login(e))
            }
        }
    }

    /// Takes the tokens of a sign-in: in use at once, persisted for the next start.
    fn adopt(&self, state: &mut State, signed_in: SignedIn) -> Secret {
        let access = AccessToken::new(signed_in.access_token, signed_in.expires_in);
        for old in std::mem::take(&mut state.refresh) {
            retire(state, old);
        }
        state.refresh = signed_in.refresh_token.clone().into_iter().collect();
        self.telemetry.set_token_expiry(access.expires_at);
        self.persist(signed_in.refresh_token.as_ref(), &access);
        let token = access.token.clone();
        state.access = Some(access);
        token
    }

    async fn refresh_locked(&self, state: &mut State) -> Result<Secret, ApiError> {
        let mut last_error = None;
        while let Some(refresh) = state.refresh.first().cloned() {
            let exchange = state
                .inflight
                .get_or_insert_with(|| self.spawn_exchange(refresh.clone()));
            let outcome = exchange.await.unwrap_or_else(|e| {
                Err(Refusal::Transient(ApiError::Network {
                    endpoint: Endpoint::Token,
                    detail: format!("token exchange task failed: {e}"),
                }))
            });
            state.inflight = None;
            match outcome {
                Ok(response) => {
                    self.telemetry.refresh(true);
                    let Some(access) = response.access_token.filter(|t| !t.is_empty()) else {
                        return Err(ApiError::InvalidResponse {
                            endpoint: Endpoint::Token,
                            detail: "token response has no access_token".to_owned(),
                        });
                    };
                    let access = AccessToken::new(Secret::new(access), response.expires_in);
                    let rotated = response
                        .refresh_token
                        .filter(|t| !t.is_empty())
                        .map_or_else(|| refresh.clone(), Secret::new);
                    if rotated != refresh {
                        retire(state, refresh);
                    }
                    state.refresh.retain(|r| r != &rotated);
                    state.refresh.insert(0, rotated.clone());
                    // Every older token is dead once Peloton rotated; keep only the
                    // newest so a restart never tries a retired one first.
                    state.refresh.truncate(1);
                    self.telemetry.set_token_expiry(access.expires_at);
                    let token = access.token.clone();
                    state.access = Some(access);
                    state.not_before = None;
                    state.refresh_failures = 0;
                    state.refresh_error = None;
                    tracing::info!("access token refreshed");
                    return Ok(token);
                }
                Err(Refusal::Dead(e)) => {
                    self.telemetry.refresh(false);
                    tracing::warn!(error = %e, "refresh token rejected; trying the next one if any");
                    state.refresh.remove(0);
                    retire(state, refresh);
                    last_error = Some(e);
                }
                Err(Refusal::Transient(e)) => {
                    self.telemetry.refresh(false);
                    state.refresh_failures = state.refresh_failures.saturating_add(1);
                    let wait = refresh_backoff(
                        state.refresh_failures,
                        self.refresh_backoff,
                        e.retry_after(),
                    );
                    state.not_before = Some(deadline(wait));
                    state.refresh_error = Some((e.reason(), e.to_string()));
                    tracing::warn!(
                        error = %e,
                        retry_in_s = wait.as_secs(),
                        failures = state.refresh_failures,
                        "token refresh failed; the refresh token is kept"
                    );
                    return Err(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| ApiError::Auth {
            detail: format!(
                "no valid refresh token left; {}",
                self.origin.renew_advice()
            ),
        }))
    }

    /// Waits for a token exchange a dropped caller left running, so its rotated token is
    /// in the store before this account's store is reopened or the process exits.
    pub async fn settle(&self) {
        let mut state = self.state.lock().await;
        if let Some(exchange) = state.inflight.take() {
            let _ = exchange.await;
        }
    }

    fn spawn_exchange(&self, refresh: Secret) -> JoinHandle<Result<TokenResponse, Refusal>> {
        let http = self.http.clone();
        let token_url = self.token_url.clone();
        let client_id = self.client_id.clone();
        let advice = self.origin.renew_advice();
        let telemetry = self.telemetry.clone();
        let store = self.store.clone();
        let exchange_task = async move {
            let response =
                exchange(&http, token_url, &client_id, &refresh, &telemetry, &advice).await?;
            if let Some(access) = response.access_token.as_deref().filter(|t| !t.is_empty()) {
                let access = AccessToken::new(Secret::new(access), response.expires_in);
                let rotated = response
                    .refresh_token
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .map_or(refresh, Secret::new);
                persist(store.as_ref(), Some(&rotated), &access);
            }
            Ok(response)
        };
        // In the caller's span, so its lines carry the account's name.
        tokio::spawn(exchange_task.in_current_span())
    }

    fn persist(&self, refresh: Option<&Secret>, access: &AccessToken) {
        persist(self.store.as_ref(), refresh, access);
    }
}

/// Remembers a token that must never be presented again (a bounded list).
fn retire(state: &mut State, token: Secret) {
    if state.retired.contains(&token) {
        return;
    }
    if state.retired.len() >= MAX_RETIRED {
        state.retired.remove(0);
    }
    state.retired.push(token);
}

fn persist(store: Option<&Arc<dyn TokenVault>>, refresh: Option<&Secret>, access: &AccessToken) {
    let Some(store) = store else { return };
    let tokens = StoredTokens {
        refresh_token: refresh.cloned(),
        access_token: Some(access.token.clone()),
        access_token_expires_at: access.expires_at,
    };
    if let Err(e) = store.save(&tokens) {
        // Not fatal for this run, but the next start may present a retired token.
        tracing::error!(error = %e, "cannot persist the rotated refresh token");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peloton::token_exchange::classify_refusal;
    use std::path::PathBuf;

    #[test]
    fn refresh_margin_scales_with_lifetime() {
        let t = AccessToken {
            token: Secret::new("x"),
            expires_at: Some(1000),
            issued_at: Some(900),
        };
        assert!(!t.needs_refresh(985));
        assert!(t.needs_refresh(991));
        let long = AccessToken {
            token: Secret::new("x"),
            expires_at: Some(172_800),
            issued_at: Some(0),
        };
        assert!(!long.needs_refresh(172_800 - 3601));
        assert!(long.needs_refresh(172_800 - 3599));
        let opaque = AccessToken {
            token: Secret::new("x"),
            expires_at: None,
            issued_at: None,
        };
        assert!(!opaque.needs_refresh(i64::MAX));
    }

    #[test]
    fn failed_sign_ins_back_off_for_minutes_to_hours() {
        let within = |d: Duration, lo: u64, hi: u64| {
            assert!(
                d >= Duration::from_secs(lo) && d <= Duration::from_secs(hi),
                "{d:?} not in {lo}..={hi}"
            );
        };
        let transient = LoginError::Unavailable {
            detail: "x".to_owned(),
            reason: crate::state::labels::ErrorReason::Network,
        };
        for _ in 0..50 {
            within(login_backoff(1, &transient), 240, 360);
            within(login_backoff(2, &transient), 480, 720);
            within(login_backoff(30, &transient), 17_280, 25_920);
            // The member must act: start at an hour, so a wrong password is tried a few
            // times a day at most and the account is not locked.
            within(login_backoff(1, &LoginError::WrongPassword), 2880, 4320);
            within(login_backoff(5, &LoginError::WrongPassword), 17_280, 25_920);
            let limited = LoginError::RateLimited {
                retry_after: Some(super::super::auth_backoff::MAX_RETRY_AFTER),
            };
            within(login_backoff(1, &limited), 3600, 3600);
        }
    }

    fn refused(status: u16, body: &str) -> Refusal {
        let e = ApiError::Client {
            endpoint: Endpoint::Token,
            status,
        };
        classify_refusal(Some(status), body.as_bytes(), e, "CID", "ADVICE")
    }

    #[test]
    fn only_an_oauth_error_that_says_so_retires_the_refresh_token() {
        let dead = [
            (
                403,
                r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#,
            ),
            (400, r#"{"error":"invalid_grant"}"#),
            (
                401,
                r#"{"error":"unauthorized_client","error_description":"The refresh token is revoked"}"#,
            ),
            (
                403,
                r#"{"error":"access_denied","error_description":"Refresh token expired"}"#,
            ),
        ];
        for (status, body) in dead {
            match refused(status, body) {
                Refusal::Dead(e) => assert!(e.to_string().contains("ADVICE"), "{e}"),
                Refusal::Transient(e) => panic!("{status} {body}: kept ({e})"),
            }
        }
        let kept = [
            // A WAF or Cloudflare block page, a bot check, a non-OAuth JSON.
            (
                403,
                "<!DOCTYPE html><title>Access denied | Error 1020</title>",
                "blocked",
            ),
            (401, "error code: 1015", "blocked"),
            (400, r#"{"message":"Bad Request"}"#, "blocked"),
            (403, "", "blocked"),
            // The client, not the token, is refused.
            (
                401,
                r#"{"error":"access_denied","error_description":"Unauthorized"}"#,
                "auth",
            ),
            (
                403,
                r#"{"error":"unauthorized_client","error_description":"Grant type 'refresh_token' not allowed for the client."}"#,
                "auth",
            ),
            (400, r#"{"error":"invalid_request"}"#, "auth"),
            (429, r#"{"error":"invalid_grant"}"#, "invalid_response"),
            (503, "<html>Service Unavailable</html>", "invalid_response"),
        ];
        for (status, body, reason) in kept {
            match refused(status, body) {
                Refusal::Transient(e) => assert_eq!(e.reason().as_str(), reason, "{status} {body}"),
                Refusal::Dead(e) => panic!("{status} {body}: retired ({e})"),
            }
        }
        let Refusal::Transient(e) = refused(401, r#"{"error":"access_denied"}"#) else {
            panic!("kept")
        };
        assert!(
            e.to_string()
                .contains("--peloton.auth0.client-id (now CID)"),
            "{e}"
        );
        let Refusal::Transient(e) = refused(403, r#"{"error":"<script>x</script>"}"#) else {
            panic!("kept")
        };
        assert!(!e.to_string().contains("script"), "{e}");
    }

    #[test]
    fn renewal_advice_fits_where_the_account_is_configured() {
        let flags = Origin {
            account: None,
            storage: Some(PathBuf::from("/var/lib/pe")),
        }
        .renew_advice();
        assert!(
            flags.contains("login --storage.path /var/lib/pe"),
            "{flags}"
        );
        assert!(flags.contains("--peloton.refresh-token"), "{flags}");
        let file = Origin {
            account: Some("bob".to_owned()),
            storage: Some(PathBuf::from("/var/lib/pe/bob")),
        }
        .renew_advice();
        assert!(
            file.contains("login --storage.path /var/lib/pe/bob"),
            "{file}"
        );
        assert!(file.contains("account bob"), "{file}");
        assert!(file.contains("--config.file"), "{file}");
        assert!(!file.contains("--peloton.refresh-token"), "{file}");
    }
}
