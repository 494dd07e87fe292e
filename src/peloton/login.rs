//! Headless sign-in with email and password: Auth0's authorization-code + PKCE flow as
//! Peloton's web app drives it (API.md §2.2):
//!
//! `GET /authorize` → redirects to the hosted login page (keep its cookies; read the
//! `_csrf` cookie and the transaction `state`) → `POST /usernamepassword/login` (JSON) →
//! an auto-submitting hidden form → `POST` it → redirects until a `Location` carries
//! `code=` for Peloton's own callback page (never loaded) → `POST /oauth/token` with the
//! code and the PKCE verifier.
//!
//! Redirects are followed by hand with a small cookie jar, so every hop is counted in
//! `peloton_api_requests_total{endpoint="login"}` and no URL with a code is ever loaded.
//! Nothing here logs or formats a password, a token, a code or a cookie value.

use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::{self, HeaderMap};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::auth::CLIENT_ID;
use super::client::{Endpoint, error_chain, transport_error, user_agent};
use super::error::{ApiError, ErrorReason};
use super::model::{OAuthError, TokenResponse};
use super::transport::Transport;
use crate::secret::Secret;
use crate::telemetry::{AuthResult, Telemetry};

/// Peloton's own callback page, the only redirect URI registered for the web client.
pub const REDIRECT_URI: &str = "https://members.onepeloton.com/callback";
pub const AUDIENCE: &str = "https://api.onepeloton.com/";
pub const SCOPE: &str = "offline_access openid peloton-api.members:default";
const CONNECTION: &str = "pelo-user-password";
const TENANT: &str = "peloton-prod";
const AUTH0_CLIENT: &str = r#"{"name":"auth0.js-ulp","version":"9.14.3"}"#;
/// HB saw about six hops live; anything far beyond is a loop.
const MAX_HOPS: usize = 15;
/// Sign-in pages are a few kB; a bigger answer is not one of them.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Why a sign-in failed. Each message says what the member can do next; none contains the
/// password, a token, a code or an answer's body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoginError {
    #[error(
        "wrong email or password: Peloton rejected the sign-in. Check --peloton.username and --peloton.password (try them at https://members.onepeloton.com), then restart the exporter; repeated failures can get the account blocked, so it retries only every few hours"
    )]
    WrongPassword,
    #[error(
        "the account needs an extra verification step (email code or MFA) that a headless sign-in cannot complete: run `peloton-exporter login --browser` and follow its steps, or set --peloton.refresh-token"
    )]
    VerificationRequired,
    #[error(
        "Peloton's sign-in pages changed ({detail}), so the headless sign-in cannot follow them: sign in with `peloton-exporter login --browser` or set --peloton.refresh-token (docs/login.md), and please report it"
    )]
    PagesChanged { detail: String },
    #[error(
        "Peloton's sign-in is rate limiting this address (HTTP 429{}); the exporter waits before trying again. If it persists, wait an hour or use `peloton-exporter login --browser`",
        retry_after_text(*.retry_after)
    )]
    RateLimited { retry_after: Option<Duration> },
    #[error(
        "Peloton blocked this sign-in ({code}), usually after too many attempts: follow the email Peloton sent or reset the password at https://members.onepeloton.com, then restart"
    )]
    Blocked { code: String },
    #[error(
        "the authorization code was rejected (expired, already used, or from another sign-in): run `peloton-exporter login --browser` again and paste the new URL at once"
    )]
    CodeRejected,
    #[error("Peloton's sign-in could not be reached ({detail}); trying again later")]
    Unavailable { detail: String, reason: ErrorReason },
    #[error("not signing in again for another {}s; the last attempt failed: {last}", .wait.as_secs())]
    BackingOff {
        wait: Duration,
        last: Box<LoginError>,
    },
}

fn retry_after_text(d: Option<Duration>) -> String {
    d.map(|d| format!(", retry after {}s", d.as_secs()))
        .unwrap_or_default()
}

impl LoginError {
    /// The `result` label of `peloton_auth_refreshes_total` for this attempt.
    pub fn result(&self) -> AuthResult {
        match self {
            LoginError::WrongPassword => AuthResult::WrongPassword,
            LoginError::VerificationRequired => AuthResult::VerificationRequired,
            LoginError::PagesChanged { .. } => AuthResult::UnexpectedPage,
            LoginError::RateLimited { .. } | LoginError::Blocked { .. } => AuthResult::RateLimited,
            LoginError::CodeRejected | LoginError::Unavailable { .. } => AuthResult::Failure,
            LoginError::BackingOff { last, .. } => last.result(),
        }
    }

    /// The `reason` label of a poll that failed with this error.
    pub fn reason(&self) -> ErrorReason {
        match self {
            LoginError::RateLimited { .. } => ErrorReason::RateLimited,
            LoginError::Unavailable { reason, .. } => *reason,
            LoginError::BackingOff { last, .. } => last.reason(),
            _ => ErrorReason::Auth,
        }
    }

    /// Failures that need the member to act: retrying soon cannot help and may lock the
    /// account.
    pub fn needs_member(&self) -> bool {
        match self {
            LoginError::WrongPassword
            | LoginError::VerificationRequired
            | LoginError::PagesChanged { .. }
            | LoginError::Blocked { .. } => true,
            LoginError::BackingOff { last, .. } => last.needs_member(),
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LoginError::RateLimited { retry_after } => *retry_after,
            LoginError::BackingOff { wait, .. } => Some(*wait),
            _ => None,
        }
    }

    fn changed(detail: impl Into<String>) -> Self {
        LoginError::PagesChanged {
            detail: detail.into(),
        }
    }

    fn from_api(e: &ApiError) -> Self {
        match e {
            ApiError::RateLimited { retry_after, .. } => LoginError::RateLimited {
                retry_after: *retry_after,
            },
            other => LoginError::Unavailable {
                detail: other.to_string(),
                reason: other.reason(),
            },
        }
    }
}

/// Tokens from a sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<i64>,
}

/// One PKCE transaction: the verifier stays here, the challenge goes to `/authorize`.
#[derive(Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub state: String,
    pub nonce: String,
}

impl fmt::Debug for Pkce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkce").finish_non_exhaustive()
    }
}

impl Pkce {
    /// A new verifier (32 random bytes, base64url: 43 characters), state and nonce from
    /// the operating system's random source.
    pub fn new() -> Result<Self, LoginError> {
        Ok(Self {
            verifier: Secret::new(random_b64(32)?),
            state: random_b64(24)?,
            nonce: random_b64(24)?,
        })
    }

    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.expose().as_bytes()))
    }
}

fn random_b64(bytes: usize) -> Result<String, LoginError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| LoginError::Unavailable {
        detail: format!("no random numbers from the operating system: {e}"),
        reason: ErrorReason::Auth,
    })?;
    Ok(URL_SAFE_NO_PAD.encode(&buf))
}

/// `<auth-url>/authorize` for this transaction, as the web app builds it. Also what a
/// member opens in a browser for `login --browser`.
pub fn authorize_url(auth_url: &Url, pkce: &Pkce) -> Result<Url, LoginError> {
    let mut url = auth_url
        .join("/authorize")
        .map_err(|e| LoginError::changed(format!("cannot build the authorize URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("audience", AUDIENCE)
        .append_pair("scope", SCOPE)
        .append_pair("response_type", "code")
        .append_pair("response_mode", "query")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("state", &pkce.state)
        .append_pair("nonce", &pkce.nonce)
        .append_pair("code_challenge", &pkce.challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("auth0Client", &URL_SAFE_NO_PAD.encode(AUTH0_CLIENT));
    Ok(url)
}

/// What the final redirect (or a URL pasted from a browser) says.
#[derive(Debug)]
pub enum Callback {
    Code(Secret),
    Error(LoginError),
}

/// Reads `code`/`error` and checks `state` of a callback URL.
pub fn parse_callback(url: &Url, expected_state: &str) -> Callback {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = String::new();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(Secret::new(v.into_owned())),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = v.into_owned(),
            _ => {}
        }
    }
    if let Some(error) = error {
        return Callback::Error(classify_code(&error, &description));
    }
    match (code, state) {
        (Some(code), Some(state)) if state == expected_state && !code.is_empty() => {
            Callback::Code(code)
        }
        (Some(_), _) => Callback::Error(LoginError::changed(
            "the callback's state does not match this sign-in",
        )),
        (None, _) => Callback::Error(LoginError::changed("the callback carries no code")),
    }
}

/// Signs in to one Auth0 tenant.
#[derive(Debug, Clone)]
pub struct Signer {
    auth_url: Url,
    http: reqwest::Client,
}

impl Signer {
    /// A client of its own: no default JSON headers, no automatic redirects; proxies from
    /// the environment.
    pub fn new(auth_url: &Url, timeout: Duration) -> Result<Self, LoginError> {
        Self::with_transport(auth_url, timeout, &Transport::default())
    }

    /// As `new`, through the proxy and with the extra roots of `--peloton.proxy-url` and
    /// `--peloton.ca-file`.
    pub fn with_transport(
        auth_url: &Url,
        timeout: Duration,
        transport: &Transport,
    ) -> Result<Self, LoginError> {
        let cannot = |detail: String| LoginError::Unavailable {
            detail: format!("cannot build HTTP client: {detail}"),
            reason: ErrorReason::Network,
        };
        let builder = reqwest::Client::builder()
            .user_agent(user_agent())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none());
        let http = transport
            .apply(builder)
            .map_err(cannot)?
            .build()
            .map_err(|e| cannot(error_chain(&e)))?;
        Ok(Self {
            auth_url: auth_url.clone(),
            http,
        })
    }

    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }

    /// The whole headless flow. Counts every request in the telemetry (the token exchange
    /// as `token`, the rest as `login`); the caller counts the attempt's result.
    pub async fn sign_in(
        &self,
        username: &Secret,
        password: &Secret,
        telemetry: &Telemetry,
    ) -> Result<SignedIn, LoginError> {
        let pkce = Pkce::new()?;
        let start = authorize_url(&self.auth_url, &pkce)?;
        let callback = self.browse(&start, username, password, telemetry).await?;
        match parse_callback(&callback, &pkce.state) {
            Callback::Code(code) => self.exchange_code(&code, &pkce.verifier, telemetry).await,
            Callback::Error(e) => Err(e),
        }
    }

    /// Does what a browser does with an authorize URL: loads the login page, posts the
    /// credentials and the hidden form, and follows redirects. Returns the callback URL
    /// (carrying the code or an error) without loading it.
    pub async fn browse(
        &self,
        start: &Url,
        username: &Secret,
        password: &Secret,
        telemetry: &Telemetry,
    ) -> Result<Url, LoginError> {
        let param = |k: &str| {
            start
                .query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let (nonce, challenge) = (param("nonce"), param("code_challenge"));
        let mut session = Session {
            http: &self.http,
            jar: Jar::default(),
            telemetry,
        };

        // 1. /authorize → the hosted login page.
        let first = session.get(start).await?;
        let page = match session.follow(first).await? {
            Hop::Page(p) => p,
            // An existing session could skip the page; Auth0 does that for browsers.
            Hop::Callback(url) => return Ok(url),
        };
        if page.status != 200 {
            return Err(LoginError::changed(format!(
                "the login page answered HTTP {}",
                page.status
            )));
        }
        let config = injected_config(&page.body);
        let options = config
            .as_ref()
            .and_then(|c| c.get("internalOptions").or_else(|| c.get("extraParams")))
            .and_then(Value::as_object);
        let post_url = self
            .auth_url
            .join("/usernamepassword/login")
            .map_err(|e| LoginError::changed(format!("cannot build the login URL: {e}")))?;
        let Some(csrf) = session.jar.get(&post_url, "_csrf").map(str::to_owned) else {
            return Err(LoginError::changed("the login page set no _csrf cookie"));
        };
        let tx_state = page
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .or_else(|| {
                options
                    .and_then(|o| o.get("state"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        let Some(tx_state) = tx_state.filter(|s| !s.is_empty()) else {
            return Err(LoginError::changed("the login page carries no state"));
        };

        // 2. The credentials, with what the page asked to be posted back.
        let mut body = Map::new();
        if let Some(options) = options {
            for (k, v) in options {
                if let Value::String(s) = v {
                    body.insert(k.clone(), Value::String(s.clone()));
                }
            }
        }
        let fields = [
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("tenant", TENANT),
            ("response_type", "code"),
            ("scope", SCOPE),
            ("audience", AUDIENCE),
            ("_csrf", csrf.as_str()),
            ("state", tx_state.as_str()),
            ("nonce", nonce.as_str()),
            ("connection", CONNECTION),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in fields {
            body.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        body.entry("_intstate")
            .or_insert_with(|| Value::String("deprecated".to_owned()));
        body.insert("code_challenge".to_owned(), Value::String(challenge));
        body.insert(
            "username".to_owned(),
            Value::String(username.expose().to_owned()),
        );
        body.insert(
            "password".to_owned(),
            Value::String(password.expose().to_owned()),
        );
        let origin = self.auth_url.origin().ascii_serialization();
        let request = self
            .http
            .post(post_url.clone())
            .header(header::ORIGIN, origin)
            .header(header::REFERER, page.url.as_str())
            .header("Auth0-Client", URL_SAFE_NO_PAD.encode(AUTH0_CLIENT))
            .header(header::ACCEPT, "text/html,application/json;q=0.9,*/*;q=0.8")
            .json(&Value::Object(body));
        let answer = session.send(request, &post_url).await?;
        let answer = match session.follow(answer).await? {
            Hop::Callback(url) => return Ok(url),
            Hop::Page(p) => p,
        };
        if !(200..300).contains(&answer.status) {
            return Err(classify_refusal(answer.status, &answer.body));
        }

        // 3. The hidden form, posted as a browser would.
        let Some(form) = forms(&answer.body)
            .into_iter()
            .find(|f| f.action.is_some() && !f.hidden.is_empty())
        else {
            return Err(if looks_like_verification(&answer.url, &answer.body) {
                LoginError::VerificationRequired
            } else {
                LoginError::changed("no hidden form after the credentials were accepted")
            });
        };
        let action = form.action.as_deref().unwrap_or_default();
        let action = answer
            .url
            .join(action)
            .map_err(|_| LoginError::changed("the hidden form's action is not a URL"))?;
        if !matches!(action.scheme(), "http" | "https") {
            return Err(LoginError::changed(
                "the hidden form's action is not http(s)",
            ));
        }
        let request = self
            .http
            .post(action.clone())
            .header(header::ORIGIN, self.auth_url.origin().ascii_serialization())
            .header(header::REFERER, answer.url.as_str())
            .header(header::ACCEPT, "text/html")
            .form(&form.hidden);
        let posted = session.send(request, &action).await?;

        // 4. Redirects until the code.
        match session.follow(posted).await? {
            Hop::Callback(url) => Ok(url),
            Hop::Page(p) if looks_like_verification(&p.url, &p.body) => {
                Err(LoginError::VerificationRequired)
            }
            Hop::Page(p) if p.status == 401 || p.status == 403 => {
                Err(classify_refusal(p.status, &p.body))
            }
            Hop::Page(p) => Err(LoginError::changed(format!(
                "the sign-in ended on a page (HTTP {} at {}) instead of a redirect with a code",
                p.status,
                p.url.path()
            ))),
        }
    }

    /// `POST /oauth/token` with `grant_type=authorization_code`: a code from the headless
    /// flow or from a URL pasted out of a browser (`login --callback-url`).
    pub async fn exchange_code(
        &self,
        code: &Secret,
        verifier: &Secret,
        telemetry: &Telemetry,
    ) -> Result<SignedIn, LoginError> {
        let url = self
            .auth_url
            .join("/oauth/token")
            .map_err(|e| LoginError::changed(format!("cannot build the token URL: {e}")))?;
        let body = serde_json::json!({
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "code_verifier": verifier.expose(),
            "code": code.expose(),
            "redirect_uri": REDIRECT_URI,
        });
        let request = self
            .http
            .post(url.clone())
            .header(header::ACCEPT, "application/json")
            .json(&body);
        let mut session = Session {
            http: &self.http,
            jar: Jar::default(),
            telemetry,
        };
        let answer = session.send_as(request, &url, Endpoint::Token).await?;
        if !(200..300).contains(&answer.status) {
            let oauth: OAuthError = serde_json::from_str(&answer.body).unwrap_or_default();
            return Err(match oauth.error.as_deref() {
                Some("invalid_grant") => LoginError::CodeRejected,
                other => LoginError::changed(format!(
                    "the token exchange answered HTTP {} ({})",
                    answer.status,
                    safe_code(other.unwrap_or("no error code"))
                )),
            });
        }
        let response: TokenResponse = serde_json::from_str(&answer.body)
            .map_err(|_| LoginError::changed("the token response is not the expected JSON"))?;
        let Some(access) = response.access_token.filter(|t| !t.is_empty()) else {
            return Err(LoginError::changed(
                "the token response has no access_token",
            ));
        };
        Ok(SignedIn {
            access_token: Secret::new(access),
            refresh_token: response
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_in: response.expires_in,
        })
    }
}

/// An Auth0 error identifier, or a placeholder when it is not one (never free text).
fn safe_code(code: &str) -> String {
    if !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
    {
        code.to_owned()
    } else {
        "unrecognised error".to_owned()
    }
}

/// An Auth0 refusal of the credentials (`{"name","code","description"}` or OAuth style).
fn classify_refusal(status: u16, body: &str) -> LoginError {
    if status == 429 {
        return LoginError::RateLimited { retry_after: None };
    }
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let code = [field("code"), field("error")]
        .into_iter()
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    let name = field("name");
    let description = field("description");
    if name == "AnomalyDetected" || description.contains("Invalid state") {
        return LoginError::changed(format!(
            "the auth server rejected the sign-in's state or _csrf (HTTP {status}, {})",
            safe_code(if name.is_empty() { code } else { name })
        ));
    }
    if code.is_empty() && v.is_null() {
        return if looks_like_verification_text(body) {
            LoginError::VerificationRequired
        } else {
            LoginError::changed(format!(
                "the credentials step answered HTTP {status} with an unexpected page"
            ))
        };
    }
    classify_code(code, description)
}

/// Maps an Auth0 error code (JSON body or `error=` of a redirect).
fn classify_code(code: &str, description: &str) -> LoginError {
    let d = description.to_ascii_lowercase();
    match code {
        "invalid_user_password"
        | "invalid_grant"
        | "wrong_email_or_password"
        | "invalid_password" => LoginError::WrongPassword,
        "too_many_attempts" | "too_many_requests" => LoginError::RateLimited { retry_after: None },
        "blocked_user" | "user_blocked" | "password_leaked" | "password_change_required" => {
            LoginError::Blocked {
                code: code.to_owned(),
            }
        }
        "mfa_required"
        | "mfa_registration_required"
        | "interaction_required"
        | "login_required"
        | "requires_verification"
        | "unverified_email"
        | "email_verification_required" => LoginError::VerificationRequired,
        "access_denied" if d.contains("verif") || d.contains("mfa") => {
            LoginError::VerificationRequired
        }
        "access_denied" if d.contains("password") => LoginError::WrongPassword,
        other => LoginError::changed(format!(
            "the auth server refused with an unknown error ({})",
            safe_code(other)
        )),
    }
}

fn looks_like_verification(url: &Url, body: &str) -> bool {
    let path = url.path().to_ascii_lowercase();
    ["verif", "mfa", "challenge", "/u/email", "otp"]
        .iter()
        .any(|m| path.contains(m))
        || looks_like_verification_text(body)
}

fn looks_like_verification_text(body: &str) -> bool {
    let b = body.to_ascii_lowercase();
    [
        "verify your identity",
        "verification code",
        "email verification",
        "multi-factor",
        "one-time code",
    ]
    .iter()
    .any(|m| b.contains(m))
}

/// A response of the flow, body read (bounded) as text.
struct Page {
    url: Url,
    status: u16,
    location: Option<String>,
    body: String,
}

enum Hop {
    /// The flow stopped on this page (not a redirect).
    Page(Page),
    /// A redirect to Peloton's callback page (not loaded): it carries the code or an error.
    Callback(Url),
}

struct Session<'a> {
    http: &'a reqwest::Client,
    jar: Jar,
    telemetry: &'a Telemetry,
}

impl Session<'_> {
    async fn get(&mut self, url: &Url) -> Result<Page, LoginError> {
        let request = self
            .http
            .get(url.clone())
            .header(header::ACCEPT, "text/html,application/xhtml+xml");
        self.send(request, url).await
    }

    async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<Page, LoginError> {
        self.send_as(request, url, Endpoint::Login).await
    }

    /// Sends with the jar's cookies, stores the answer's cookies, counts the request. A
    /// 429 and a 5xx end the flow here; other statuses are for the caller to judge.
    async fn send_as(
        &mut self,
        request: reqwest::RequestBuilder,
        url: &Url,
        endpoint: Endpoint,
    ) -> Result<Page, LoginError> {
        let request = match self.jar.header(url) {
            Some(cookies) => request.header(header::COOKIE, cookies),
            None => request,
        };
        let started = Instant::now();
        tracing::debug!(%endpoint, path = url.path(), "sign-in request");
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                self.telemetry
                    .api_request(endpoint, None, started.elapsed());
                return Err(LoginError::from_api(&transport_error(endpoint, &e)));
            }
        };
        let status = response.status().as_u16();
        let retry_after = retry_after_secs(response.headers());
        self.jar.store(url, response.headers());
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_page(response).await;
        self.telemetry
            .api_request(endpoint, Some(status), started.elapsed());
        let body = body.map_err(|detail| LoginError::Unavailable {
            detail,
            reason: ErrorReason::Network,
        })?;
        match status {
            429 => Err(LoginError::RateLimited { retry_after }),
            500..=599 => Err(LoginError::from_api(&ApiError::Server { endpoint, status })),
            _ => Ok(Page {
                url: url.clone(),
                status,
                location,
                body,
            }),
        }
    }

    /// Follows redirects (GET) until a page that is not one, or a redirect to the
    /// callback page.
    async fn follow(&mut self, mut page: Page) -> Result<Hop, LoginError> {
        for _ in 0..MAX_HOPS {
            if !(300..400).contains(&page.status) {
                return Ok(Hop::Page(page));
            }
            let Some(location) = page.location.as_deref() else {
                return Err(LoginError::changed(format!(
                    "HTTP {} without a Location",
                    page.status
                )));
            };
            let next = page
                .url
                .join(location)
                .map_err(|_| LoginError::changed("a redirect to something that is not a URL"))?;
            if is_callback(&next) {
                return Ok(Hop::Callback(next));
            }
            if !matches!(next.scheme(), "http" | "https") {
                return Err(LoginError::changed("a redirect to a non-http(s) URL"));
            }
            page = self.get(&next).await?;
        }
        Err(LoginError::changed(format!(
            "more than {MAX_HOPS} redirects"
        )))
    }
}

/// Peloton's callback page, or any URL that hands a code or an OAuth error back.
fn is_callback(url: &Url) -> bool {
    let base = url.as_str().split(['?', '#']).next().unwrap_or_default();
    base == REDIRECT_URI
        || url
            .query_pairs()
            .any(|(k, _)| k == "code" || (k == "error" && url.path().ends_with("/callback")))
}

fn retry_after_secs(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

async fn read_page(mut response: reqwest::Response) -> Result<String, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    return Err(format!("a sign-in page larger than {MAX_PAGE_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(String::from_utf8_lossy(&body).into_owned()),
            Err(e) => return Err(error_chain(&e)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cookies: just enough of RFC 6265 for one sign-in (host-only and Domain cookies, Path,
// deletion by Max-Age/Expires in the past). Values are never formatted.

#[derive(Clone)]
struct Cookie {
    name: String,
    value: String,
    /// Lower-case host, or domain when `host_only` is false.
    domain: String,
    host_only: bool,
    path: String,
}

#[derive(Default)]
struct Jar {
    cookies: Vec<Cookie>,
}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jar")
            .field("cookies", &self.cookies.len())
            .finish()
    }
}

impl Jar {
    fn store(&mut self, url: &Url, headers: &HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            if let Ok(text) = value.to_str() {
                self.store_one(url, text);
            }
        }
    }

    fn store_one(&mut self, url: &Url, text: &str) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        let mut parts = text.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let name = name.trim().to_owned();
        if name.is_empty() {
            return;
        }
        let mut cookie = Cookie {
            name,
            value: value.trim().trim_matches('"').to_owned(),
            domain: host.clone(),
            host_only: true,
            path: default_path(url),
        };
        let mut delete = false;
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "path" if v.starts_with('/') => v.clone_into(&mut cookie.path),
                "domain" if !v.is_empty() => {
                    let d = v.trim_start_matches('.').to_ascii_lowercase();
                    // A server may only set cookies for its own domain or a parent of it.
                    if !domain_matches(&host, &d) {
                        return;
                    }
                    cookie.domain = d;
                    cookie.host_only = false;
                }
                "max-age" => delete |= v.parse::<i64>().is_ok_and(|s| s <= 0),
                "expires" => {
                    delete |= humantime::parse_rfc3339_weak(v)
                        .is_ok_and(|t| t < std::time::SystemTime::now())
                        || v.contains("1970");
                }
                _ => {}
            }
        }
        self.cookies.retain(|c| {
            !(c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path)
        });
        if !delete {
            self.cookies.push(cookie);
        }
    }

    fn matching<'a>(&'a self, url: &'a Url) -> impl Iterator<Item = &'a Cookie> + 'a {
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let path = url.path().to_owned();
        self.cookies.iter().filter(move |c| {
            let host_ok = if c.host_only {
                c.domain == host
            } else {
                domain_matches(&host, &c.domain)
            };
            host_ok && path_matches(&path, &c.path)
        })
    }

    fn header(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .matching(url)
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn get<'a>(&'a self, url: &'a Url, name: &str) -> Option<&'a str> {
        self.matching(url)
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }
}

fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || request
            .strip_prefix(cookie)
            .is_some_and(|rest| cookie.ends_with('/') || rest.starts_with('/'))
}

fn default_path(url: &Url) -> String {
    let path = url.path();
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => path.get(..i).unwrap_or("/").to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// HTML: forms and their hidden inputs, and Auth0's `window.injectedConfig`. A tolerant
// scanner, not a parser: quoted, single-quoted and bare attributes, any case, tags over
// several lines, entities in values.

#[derive(Debug, Default)]
struct Form {
    action: Option<String>,
    /// Hidden inputs, in document order.
    hidden: Vec<(String, String)>,
}

fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower
        .get(at..)
        .and_then(|s| s.find("<form"))
        .map(|i| i + at)
    {
        let Some((attrs, after)) = tag_attributes(html, start) else {
            break;
        };
        let end = lower
            .get(after..)
            .and_then(|s| s.find("</form"))
            .map_or(html.len(), |i| i + after);
        let mut form = Form {
            action: attr(&attrs, "action").map(str::to_owned),
            hidden: Vec::new(),
        };
        let inner_lower = lower.get(after..end).unwrap_or_default();
        let mut i = 0;
        while let Some(pos) = inner_lower.get(i..).and_then(|s| s.find("<input")) {
            let input_at = after + i + pos;
            let Some((input, next)) = tag_attributes(html, input_at) else {
                break;
            };
            if attr(&input, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
                && let Some(name) = attr(&input, "name")
            {
                form.hidden.push((
                    name.to_owned(),
                    attr(&input, "value").unwrap_or_default().to_owned(),
                ));
            }
            i = next - after;
        }
        out.push(form);
        at = end.max(start + 5);
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The attributes of the tag starting at byte `start` (`<name …>`), names lower-cased and
/// values entity-decoded, and the byte after its `>`.
fn tag_attributes(html: &str, start: usize) -> Option<(Vec<(String, String)>, usize)> {
    let bytes = html.as_bytes();
    let mut i = start + 1;
    // Skip the tag name.
    while bytes
        .get(i)
        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>' && *b != b'/')
    {
        i += 1;
    }
    let mut attrs = Vec::new();
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => return Some((attrs, i + 1)),
            Some(_) => {}
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = html.get(name_start..i)?.to_ascii_lowercase();
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i) {
                Some(q @ (b'"' | b'\'')) => {
                    let close = html.get(i + 1..)?.find(char::from(*q))? + i + 1;
                    value = decode_entities(html.get(i + 1..close)?);
                    i = close + 1;
                }
                Some(_) => {
                    let v_start = i;
                    while bytes
                        .get(i)
                        .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                    {
                        i += 1;
                    }
                    value = decode_entities(html.get(v_start..i)?);
                }
                None => return None,
            }
        }
        if !name.is_empty() {
            attrs.push((name, value));
        }
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        let decoded = tail.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = tail.get(1..semi)?;
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                e if e.starts_with("#x") || e.starts_with("#X") => {
                    char::from_u32(u32::from_str_radix(e.get(2..)?, 16).ok()?)?
                }
                e if e.starts_with('#') => char::from_u32(e.get(1..)?.parse().ok()?)?,
                _ => return None,
            };
            Some((c, semi + 1))
        });
        if let Some((c, len)) = decoded {
            out.push(c);
            rest = tail.get(len..).unwrap_or_default();
        } else {
            out.push('&');
            rest = tail.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// Auth0's classic login page: `window.injectedConfig = JSON.parse(decodeURIComponent(
/// escape(window.atob('BASE64'))))`.
fn injected_config(html: &str) -> Option<Value> {
    let at = html.find("injectedConfig")?;
    let rest = html.get(at..)?;
    let open = rest.find("atob(")? + 5;
    let rest = rest.get(open..)?.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = rest.get(1..)?;
    let encoded = inner.get(..inner.find(quote)?)?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    serde_json::from_slice(&decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_is_random_and_s256() {
        let a = Pkce::new().unwrap();
        let b = Pkce::new().unwrap();
        assert_ne!(a.verifier, b.verifier);
        assert_ne!(a.state, b.state);
        assert_eq!(a.verifier.expose().len(), 43);
        assert_eq!(
            a.challenge(),
            URL_SAFE_NO_PAD.encode(Sha256::digest(a.verifier.expose().as_bytes()))
        );
        assert_eq!(format!("{a:?}"), "Pkce { .. }");
    }

    #[test]
    fn hidden_form_with_entities_and_line_breaks() {
        let html = "<p>x</p><FORM method=\"post\" name=\"hiddenform\" action=\"https://auth.example/login/callback\">\n\
            <input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\">\n\
            <input type=\"hidden\" \n   name=\"wresult\" \n   value=\"eyJ.a&amp;b\">\n\
            <input type='hidden' name='wctx' value='{&#34;state&#34;:&quot;s&quot;,&#x22;k&#x22;:1}'>\n\
            <input type=\"submit\" value=\"Submit\"><input type=hidden name=bare value=v1>\n\
            </form><form action=\"/other\"><input type=\"text\" name=\"code\"></form>";
        let f = forms(html);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].action.as_deref(),
            Some("https://auth.example/login/callback")
        );
        assert_eq!(
            f[0].hidden,
            vec![
                ("wa".to_owned(), "wsignin1.0".to_owned()),
                ("wresult".to_owned(), "eyJ.a&b".to_owned()),
                ("wctx".to_owned(), r#"{"state":"s","k":1}"#.to_owned()),
                ("bare".to_owned(), "v1".to_owned()),
            ]
        );
        assert!(f[1].hidden.is_empty());
        assert!(forms("<form action=\"x\"").is_empty(), "unterminated tag");
        assert_eq!(
            decode_entities("a &unknown; & b &#9999999;"),
            "a &unknown; & b &#9999999;"
        );
    }

    #[test]
    fn injected_config_is_decoded() {
        let cfg = STANDARD.encode(r#"{"internalOptions":{"state":"TX","_csrf":"c"}}"#);
        let html = format!(
            "<script>window.injectedConfig = JSON.parse(decodeURIComponent(escape(window.atob('{cfg}'))));</script>"
        );
        let v = injected_config(&html).unwrap();
        assert_eq!(v["internalOptions"]["state"], "TX");
        assert!(injected_config("<html></html>").is_none());
    }

    #[test]
    fn cookie_jar_scopes_by_host_and_path() {
        let login = Url::parse("https://auth.example.com/login?state=x").unwrap();
        let mut jar = Jar::default();
        jar.store_one(
            &login,
            "_csrf=abc; Path=/usernamepassword/login; HttpOnly; SameSite=None",
        );
        jar.store_one(&login, "did=d1; Path=/; Domain=.example.com");
        jar.store_one(&login, "evil=1; Domain=other.com");
        jar.store_one(&login, "auth0=s1; Path=/");
        let post = Url::parse("https://auth.example.com/usernamepassword/login").unwrap();
        assert_eq!(jar.get(&post, "_csrf"), Some("abc"));
        assert_eq!(jar.get(&login, "_csrf"), None, "path-scoped");
        let orca = Url::parse("https://auth-orca.example.com/x").unwrap();
        assert_eq!(jar.header(&orca).as_deref(), Some("did=d1"));
        assert_eq!(jar.get(&post, "evil"), None);
        jar.store_one(&login, "auth0=s2; Path=/");
        assert_eq!(jar.get(&login, "auth0"), Some("s2"), "replaced");
        jar.store_one(&login, "auth0=; Path=/; Max-Age=0");
        assert_eq!(jar.get(&login, "auth0"), None, "deleted");
        assert!(path_matches("/usernamepassword/login", "/usernamepassword"));
        assert!(!path_matches("/usernamepasswordx", "/usernamepassword"));
        assert_eq!(format!("{jar:?}"), "Jar { cookies: 2 }");
    }

    #[test]
    fn callbacks_are_checked() {
        let ok = Url::parse(&format!("{REDIRECT_URI}?code=C1&state=S")).unwrap();
        assert!(is_callback(&ok));
        assert!(matches!(parse_callback(&ok, "S"), Callback::Code(c) if c.expose() == "C1"));
        assert!(matches!(
            parse_callback(&ok, "other"),
            Callback::Error(LoginError::PagesChanged { .. })
        ));
        let denied = Url::parse(&format!(
            "{REDIRECT_URI}?error=access_denied&error_description=Please%20verify%20your%20email&state=S"
        ))
        .unwrap();
        assert!(matches!(
            parse_callback(&denied, "S"),
            Callback::Error(LoginError::VerificationRequired)
        ));
        let login_page = Url::parse("https://auth.example/login?state=x&code_challenge=y").unwrap();
        assert!(!is_callback(&login_page));
    }

    #[test]
    fn refusals_are_told_apart() {
        let wrong = r#"{"name":"ValidationError","code":"invalid_user_password","description":"Wrong email or password.","statusCode":400}"#;
        assert!(matches!(
            classify_refusal(401, wrong),
            LoginError::WrongPassword
        ));
        let anomaly = r#"{"statusCode":403,"description":"Invalid state","name":"AnomalyDetected","code":"access_denied"}"#;
        assert!(matches!(
            classify_refusal(403, anomaly),
            LoginError::PagesChanged { .. }
        ));
        assert!(matches!(
            classify_refusal(401, r#"{"code":"too_many_attempts"}"#),
            LoginError::RateLimited { .. }
        ));
        assert!(matches!(
            classify_refusal(401, r#"{"code":"blocked_user"}"#),
            LoginError::Blocked { .. }
        ));
        assert!(matches!(
            classify_refusal(401, r#"{"code":"mfa_required"}"#),
            LoginError::VerificationRequired
        ));
        let odd = classify_refusal(400, r#"{"code":"my password is hunter2!"}"#).to_string();
        assert!(!odd.contains("hunter2"), "{odd}");
        assert!(matches!(
            classify_refusal(400, "<html>Cloudflare</html>"),
            LoginError::PagesChanged { .. }
        ));
    }

    #[test]
    fn each_failure_has_its_own_result_and_reason() {
        let cases = [
            (
                LoginError::WrongPassword,
                AuthResult::WrongPassword,
                ErrorReason::Auth,
            ),
            (
                LoginError::VerificationRequired,
                AuthResult::VerificationRequired,
                ErrorReason::Auth,
            ),
            (
                LoginError::changed("x"),
                AuthResult::UnexpectedPage,
                ErrorReason::Auth,
            ),
            (
                LoginError::RateLimited { retry_after: None },
                AuthResult::RateLimited,
                ErrorReason::RateLimited,
            ),
        ];
        let mut messages = std::collections::BTreeSet::new();
        for (e, result, reason) in cases {
            assert_eq!(e.result(), result);
            assert_eq!(e.reason(), reason);
            messages.insert(e.to_string());
            let wrapped = LoginError::BackingOff {
                wait: Duration::from_secs(60),
                last: Box::new(e),
            };
            assert_eq!(wrapped.result(), result);
            assert_eq!(wrapped.reason(), reason);
        }
        assert_eq!(messages.len(), 4);
    }
}
