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

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header;
use serde_json::{Map, Value};
use url::Url;

use super::auth_backoff::capped_retry_after;
use super::auth0::{AUTH0_CLIENT, Auth0Client, BROWSER_USER_AGENT, CONNECTION, TENANT};
mod cookies;
pub mod error;
mod form;
mod pkce;
#[cfg(test)]
mod tests;

pub use error::LoginError;
pub use pkce::{Callback, Pkce, authorize_url, parse_callback};

use super::error::ApiError;
use super::model::{OAuthError, TokenResponse};
use super::transport::Transport;
use super::wire::{transport_error, user_agent};
use crate::logging::error_chain;
use crate::secret::Secret;
use crate::state::labels::{Endpoint, ErrorReason};
use crate::state::telemetry::Telemetry;
use cookies::Jar;
use error::{classify_refusal, looks_like_verification, looks_like_verification_text, safe_code};
use form::{forms, injected_config};

/// HB saw about six hops live; anything far beyond is a loop.
const MAX_HOPS: usize = 15;
/// Sign-in pages are a few kB; a bigger answer is not one of them.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Tokens from a sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<i64>,
}

/// Signs in to one Auth0 tenant.
#[derive(Debug, Clone)]
pub struct Signer {
    auth_url: Url,
    client: Auth0Client,
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
        // The token exchange identifies the exporter honestly; the pages get a browser's
        // User-Agent per request (`Session::send_as`).
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
            client: Auth0Client::default(),
            http,
        })
    }

    /// Presents `client` instead of today's web client (`--peloton.auth0.*`).
    #[must_use]
    pub fn with_client(mut self, client: Auth0Client) -> Self {
        self.client = client;
        self
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
        let start = authorize_url(&self.auth_url, &self.client, &pkce)?;
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
            redirect_uri: &self.client.redirect_uri,
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
        // The page's own token goes in the body; the cookie, when the page set one, also
        // goes back as `x-csrf-token`. The cookie is sometimes missing (P2G #820, "Missing
        // CSRF token"), and the page's injected config still carries the token then.
        let cookie_csrf = session.jar.get(&post_url, "_csrf").map(str::to_owned);
        let page_csrf = options
            .and_then(|o| o.get("_csrf"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let Some(csrf) = page_csrf.or_else(|| cookie_csrf.clone()) else {
            return Err(LoginError::changed(
                "the login page has neither a _csrf cookie nor a _csrf in its injected config",
            ));
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
            ("client_id", self.client.client_id.as_str()),
            ("redirect_uri", self.client.redirect_uri.as_str()),
            ("tenant", TENANT),
            ("response_type", "code"),
            ("scope", self.client.scope.as_str()),
            ("audience", self.client.audience.as_str()),
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
        let mut request = self
            .http
            .post(post_url.clone())
            .header(header::ORIGIN, origin)
            .header(header::REFERER, page.url.as_str())
            .header("Auth0-Client", URL_SAFE_NO_PAD.encode(AUTH0_CLIENT))
            .header(header::ACCEPT, "text/html,application/json;q=0.9,*/*;q=0.8")
            .json(&Value::Object(body));
        if let Some(cookie) = &cookie_csrf {
            request = request.header("x-csrf-token", cookie.as_str());
        }
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
            "client_id": self.client.client_id,
            "code_verifier": verifier.expose(),
            "code": code.expose(),
            "redirect_uri": self.client.redirect_uri,
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
            redirect_uri: &self.client.redirect_uri,
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
    /// Where the flow ends: a redirect here carries the code.
    redirect_uri: &'a str,
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
        let request = match endpoint {
            Endpoint::Login => request.header(header::USER_AGENT, BROWSER_USER_AGENT),
            _ => request,
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
        let retry_after = capped_retry_after(response.headers(), endpoint);
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
            // Auth0 also answers 429 to an account it blocked (`too_many_attempts`): the
            // body says which.
            429 => Err(classify_refusal(status, &body).with_retry_after(retry_after)),
            // A WAF or bot-check page (Cloudflare's 1020 "Access denied", a challenge) in
            // place of a sign-in page: Peloton's edge judged the request, not Auth0.
            403 if endpoint == Endpoint::Login
                && !body.trim_start().starts_with('{')
                && !looks_like_verification_text(&body) =>
            {
                Err(LoginError::BotCheck {
                    detail: "HTTP 403 with a block page from Peloton's edge, a WAF or bot check"
                        .to_owned(),
                })
            }
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
            if is_callback(&next, self.redirect_uri) {
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
fn is_callback(url: &Url, redirect_uri: &str) -> bool {
    let base = url.as_str().split(['?', '#']).next().unwrap_or_default();
    base == redirect_uri
        || url
            .query_pairs()
            .any(|(k, _)| k == "code" || (k == "error" && url.path().ends_with("/callback")))
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

impl LoginError {
    pub(super) fn from_api(e: &ApiError) -> Self {
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
