//! Access tokens (API.md §2): a static token, or one obtained from a refresh token at
//! `<auth-url>/oauth/token`, renewed before its JWT `exp` and after a 401. Rotated refresh
//! tokens are persisted at once, so a restart never presents a token Peloton has retired.
//! With an email and password configured, a missing or dead token is replaced by a headless
//! sign-in (`login.rs`), once, with backoff after a failure; from then on only refreshes.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use url::Url;

use super::auth0::Auth0Client;
use super::error::ApiError;
use super::jwt;
use super::login::{LoginError, SignedIn, Signer};
use super::model::{OAuthError, TokenResponse};
use super::transport::Transport;
use super::wire::parse_json;
use crate::clock::now_unix;
use crate::secret::Secret;
use crate::state::labels::Endpoint;
use crate::state::telemetry::{AuthResult, Telemetry};
use crate::store::stored_tokens::StoredTokens;
use crate::store::token_store::TokenStore;

/// Refresh this long before expiry at most (API.md: 1–6 h before `exp`).
const MAX_REFRESH_MARGIN: i64 = 3600;

/// After a failed sign-in: the first wait for a transient failure, and for one the member
/// must fix (wrong password, verification, changed pages); both double up to the cap.
const LOGIN_BACKOFF_TRANSIENT: Duration = Duration::from_secs(5 * 60);
const LOGIN_BACKOFF_MEMBER: Duration = Duration::from_secs(60 * 60);
const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(6 * 60 * 60);
/// Timeout of one request of the sign-in flow.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait after the `failures`-th failed sign-in in a row: exponential, capped at
/// 6 h, with ±20 % jitter, and never shorter than the server's Retry-After.
pub fn login_backoff(failures: u32, error: &LoginError) -> Duration {
    let first = if error.needs_member() {
        LOGIN_BACKOFF_MEMBER
    } else {
        LOGIN_BACKOFF_TRANSIENT
    };
    let exp = first
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(LOGIN_BACKOFF_MAX);
    let jittered = exp.mul_f64(0.8 + 0.4 * fastrand::f64());
    jittered.max(error.retry_after().unwrap_or_default())
}

#[derive(Debug, Clone)]
struct AccessToken {
    token: Secret,
    /// Unix seconds; `None` for an opaque token of unknown lifetime.
    expires_at: Option<i64>,
    issued_at: Option<i64>,
}

impl AccessToken {
    fn new(token: Secret, expires_in: Option<i64>) -> Self {
        let claims = jwt::claims(token.expose()).unwrap_or_default();
        let now = now_unix();
        Self {
            expires_at: claims.exp.or_else(|| expires_in.map(|s| now + s)),
            issued_at: claims.iat.or(expires_in.map(|_| now)),
            token,
        }
    }

    /// Due for renewal: expired, or within a tenth of its lifetime (at most an hour) of
    /// expiring, so short-lived tokens are renewed too.
    fn needs_refresh(&self, now: i64) -> bool {
        let Some(exp) = self.expires_at else {
            return false;
        };
        let lifetime = self
            .issued_at
            .map_or(MAX_REFRESH_MARGIN * 10, |iat| exp - iat);
        let margin = (lifetime / 10).clamp(0, MAX_REFRESH_MARGIN);
        now >= exp - margin
    }
}

#[derive(Debug)]
struct State {
    access: Option<AccessToken>,
    /// Refresh tokens to try, best first: the newest persisted one, then the configured one.
    refresh: Vec<Secret>,
    /// Rate limits and outages of the auth server are not retried before this time.
    not_before: Option<SystemTime>,
    /// Failed sign-ins in a row, the last one's error, and when the next may start.
    login_failures: u32,
    login_error: Option<LoginError>,
    login_not_before: Option<SystemTime>,
    /// A refresh-token exchange still running. It runs in its own task and persists a
    /// rotated token itself: Peloton retires the old token as soon as it answers, so a
    /// caller that goes away (a reload, a shutdown) must not lose the new one.
    inflight: Option<JoinHandle<Result<TokenResponse, Refusal>>>,
}

/// Where the token manager gets its credentials.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    /// Email (or username) and password for a headless sign-in when no token works.
    pub login: Option<PasswordLogin>,
}

impl Credentials {
    /// Whether these alone can authenticate: a token, or an email with a password.
    pub fn is_usable(&self) -> bool {
        let given = |s: &Option<Secret>| s.as_ref().is_some_and(|s| !s.is_empty());
        given(&self.access_token)
            || given(&self.refresh_token)
            || self.login.as_ref().is_some_and(|l| !l.password.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct PasswordLogin {
    pub username: Secret,
    pub password: Secret,
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
    http: reqwest::Client,
    state: Mutex<State>,
    store: Option<TokenStore>,
    telemetry: Arc<Telemetry>,
    login: Option<LoginSetup>,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "no Peloton credentials: sign in once with `peloton-exporter login`, or set --peloton.refresh-token-file (or --peloton.refresh-token, --peloton.access-token[-file], --peloton.username with --peloton.password[-file]); to try it without an account: --demo"
    )]
    Missing,
    #[error(transparent)]
    Store(#[from] crate::store::token_store::TokenStoreError),
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
        store: Option<TokenStore>,
        telemetry: Arc<Telemetry>,
    ) -> Result<Self, CredentialError> {
        let stored = match &store {
            Some(s) => s.load()?,
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
            http,
            state: Mutex::new(State {
                access,
                refresh,
                not_before: None,
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
            && (!access.needs_refresh(now) || (state.refresh.is_empty() && self.login.is_none()))
        {
            // A static token past its expiry is still sent: Peloton is the judge, and its
            // 401 tells the user more than a guess of ours.
            return Ok(access.token.clone());
        }
        if let Some(when) = state.not_before
            && SystemTime::now() < when
            && !state.refresh.is_empty()
        {
            if let Some(access) = &state.access
                && access.expires_at.is_some_and(|exp| exp > now)
            {
                return Ok(access.token.clone());
            }
            return Err(ApiError::Auth {
                detail: "token refresh is backing off after an auth server error".to_owned(),
            });
        }
        if !state.refresh.is_empty() {
            match self.refresh_locked(&mut state).await {
                Ok(token) => return Ok(token),
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
                detail: "no valid refresh token left; run `peloton-exporter login` or set --peloton.refresh-token".to_owned(),
            }),
        }
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
                state.login_not_before = Some(SystemTime::now() + LOGIN_BACKOFF_TRANSIENT);
                state.not_before = None;
                let token = self.adopt(state, signed_in);
                tracing::info!("signed in; from now on the refresh token is used");
                Ok(token)
            }
            Err(e) => {
                self.telemetry.auth_result(e.result());
                state.login_failures = state.login_failures.saturating_add(1);
                let wait = login_backoff(state.login_failures, &e);
                state.login_not_before = Some(SystemTime::now() + wait);
                tracing::error!(error = %e, retry_in_s = wait.as_secs(), "sign-in failed");
                state.login_error = Some(e.clone());
                Err(ApiError::Login(e))
            }
        }
    }

    /// Takes the tokens of a sign-in: in use at once, persisted for the next start.
    fn adopt(&self, state: &mut State, signed_in: SignedIn) -> Secret {
        let access = AccessToken::new(signed_in.access_token, signed_in.expires_in);
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
                        .map(Secret::new)
                        .unwrap_or(refresh);
                    state.refresh.retain(|r| r != &rotated);
                    state.refresh.insert(0, rotated.clone());
                    // Every older token is dead once Peloton rotated; keep only the
                    // newest so a restart never tries a retired one first.
                    state.refresh.truncate(1);
                    self.telemetry.set_token_expiry(access.expires_at);
                    let token = access.token.clone();
                    state.access = Some(access);
                    state.not_before = None;
                    tracing::info!("access token refreshed");
                    return Ok(token);
                }
                Err(Refusal::Dead(e)) => {
                    self.telemetry.refresh(false);
                    tracing::warn!(error = %e, "refresh token rejected; trying the next one if any");
                    state.refresh.remove(0);
                    last_error = Some(e);
                }
                Err(Refusal::Transient(e)) => {
                    self.telemetry.refresh(false);
                    let wait = e.retry_after().unwrap_or(Duration::from_secs(60));
                    state.not_before = Some(SystemTime::now() + wait);
                    return Err(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| ApiError::Auth {
            detail: "no valid refresh token left; sign in again and set --peloton.refresh-token"
                .to_owned(),
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
        let telemetry = self.telemetry.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            let response = exchange(&http, token_url, &client_id, &refresh, &telemetry).await?;
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
        })
    }

    fn persist(&self, refresh: Option<&Secret>, access: &AccessToken) {
        persist(self.store.as_ref(), refresh, access);
    }
}

fn persist(store: Option<&TokenStore>, refresh: Option<&Secret>, access: &AccessToken) {
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

async fn exchange(
    http: &reqwest::Client,
    token_url: Url,
    client_id: &str,
    refresh: &Secret,
    telemetry: &Telemetry,
) -> Result<TokenResponse, Refusal> {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("refresh_token", refresh.expose()),
    ];
    let request = http.post(token_url).form(&form);
    match send_token_request(request, telemetry).await {
        Ok(body) => parse_json(Endpoint::Token, &body).map_err(Refusal::Transient),
        Err((status, body, e)) => {
            let oauth: OAuthError = serde_json::from_slice(&body).unwrap_or_default();
            let dead = matches!(status, Some(400 | 401 | 403))
                && matches!(
                    oauth.error.as_deref(),
                    Some("invalid_grant" | "unauthorized_client" | "access_denied") | None
                );
            if dead {
                Err(Refusal::Dead(ApiError::Auth {
                    detail: format!(
                        "refresh token rejected by the auth server (HTTP {}, {}); sign in again and set a new --peloton.refresh-token",
                        status.unwrap_or(0),
                        oauth.error.as_deref().unwrap_or("no error code")
                    ),
                }))
            } else {
                Err(Refusal::Transient(e))
            }
        }
    }
}

#[derive(Debug)]
enum Refusal {
    /// The refresh token itself is no good (revoked, rotated away, expired).
    Dead(ApiError),
    /// The auth server could not answer now.
    Transient(ApiError),
}

/// Like `send`, but keeps the status and body of a refusal: an OAuth error code decides
/// whether the refresh token is dead.
async fn send_token_request(
    request: reqwest::RequestBuilder,
    telemetry: &Telemetry,
) -> Result<Vec<u8>, (Option<u16>, Vec<u8>, ApiError)> {
    let started = std::time::Instant::now();
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            telemetry.api_request(Endpoint::Token, None, started.elapsed());
            let err = super::wire::transport_error(Endpoint::Token, &e);
            return Err((None, Vec::new(), err));
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    telemetry.api_request(Endpoint::Token, Some(status), started.elapsed());
    match status {
        200..=299 => Ok(body),
        429 => Err((
            Some(status),
            body,
            ApiError::RateLimited {
                endpoint: Endpoint::Token,
                retry_after,
            },
        )),
        500..=599 => Err((
            Some(status),
            body,
            ApiError::Server {
                endpoint: Endpoint::Token,
                status,
            },
        )),
        _ => Err((
            Some(status),
            body,
            ApiError::Client {
                endpoint: Endpoint::Token,
                status,
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let transient = LoginError::Unavailable {
            detail: "x".to_owned(),
            reason: crate::state::labels::ErrorReason::Network,
        };
        let within = |d: Duration, lo: u64, hi: u64| {
            assert!(
                d >= Duration::from_secs(lo) && d <= Duration::from_secs(hi),
                "{d:?} not in {lo}..={hi}"
            );
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
                retry_after: Some(Duration::from_secs(40_000)),
            };
            within(login_backoff(1, &limited), 40_000, 40_000);
        }
    }
}
