//! The hosted login of the fake Auth0 tenant, as the headless PKCE clients drive it
//! (API.md §2.2 steps 2–5):
//!
//! `GET /authorize` → 302 `/login?state=TX…` (sets `did`/`auth0` cookies) → login page with the
//! `_csrf` cookie (path `/usernamepassword/login`; absent with [`LoginBehavior::NoCsrfCookie`])
//! and `window.injectedConfig` →
//! `POST /usernamepassword/login` (JSON) → auto-submitting form (`wa`, `wresult`, `wctx`) →
//! `POST /login/callback` → 302 `/authorize/resume?state=TX` (relative) → 302
//! `https://members.onepeloton.com/callback?code=…&state=<client state>`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::faults::{LoginBehavior, json, respond};
use super::server::Shared;
use super::tokens::{AUDIENCE, LoginTx, REQUEST_SCOPE};
use super::util::{body_fields, html_escape, lock};

type Params = Query<HashMap<String, String>>;

const CONNECTION: &str = "pelo-user-password";
const TENANT: &str = "peloton-prod";

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/authorize", get(authorize))
        .route("/authorize/resume", get(resume))
        .route("/login", get(login_page))
        .route("/u/login", get(login_page))
        .route("/usernamepassword/login", post(credentials))
        .route("/login/callback", post(callback))
        .route("/u/email-verification", get(verification_page))
}

fn html(status: StatusCode, body: String) -> Response {
    respond(status, "text/html; charset=utf-8", body)
}

/// Auth0's generic error page (used where Auth0 cannot redirect back to the client).
fn error_page(error: &str, description: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        format!(
            "<!DOCTYPE html><html><head><title>Error</title></head><body>\
<h1>Oops!, something went wrong</h1><p class=\"error\">{}</p><p class=\"error-description\">{}</p>\
</body></html>",
            html_escape(error),
            html_escape(description)
        ),
    )
}

fn anomaly() -> Response {
    json(
        StatusCode::FORBIDDEN,
        &json!({
            "statusCode": 403,
            "description": "Invalid state",
            "name": "AnomalyDetected",
            "code": "access_denied",
        }),
    )
}

fn redirect(location: &str, body_note: bool) -> Response {
    let body = if body_note {
        format!("Found. Redirecting to {location}")
    } else {
        String::new()
    };
    let mut r = respond(StatusCode::FOUND, "text/plain; charset=utf-8", body);
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn add_cookie(r: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn authorize(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or_default();
    let client_id = shared.opts.client_id.as_str();
    if get("client_id") != client_id {
        return error_page(
            "invalid_request",
            &format!("Unknown client: {}", get("client_id")),
        );
    }
    if get("redirect_uri") != super::tokens::REDIRECT_URI {
        return error_page(
            "invalid_request",
            &format!(
                "Callback URL mismatch. {} is not in the list of allowed callback URLs",
                get("redirect_uri")
            ),
        );
    }
    if get("response_type") != "code" {
        return error_page(
            "unsupported_response_type",
            &format!("Unsupported response type: {}", get("response_type")),
        );
    }
    if get("audience") != AUDIENCE {
        return error_page(
            "access_denied",
            &format!("Service not found: {}", get("audience")),
        );
    }
    let challenge = get("code_challenge");
    if get("code_challenge_method") != "S256" || !(43..=128).contains(&challenge.len()) {
        return error_page(
            "invalid_request",
            "code_challenge (S256, 43-128 characters) and code_challenge_method=S256 are required",
        );
    }
    if get("state").is_empty() {
        return error_page("invalid_request", "state is required");
    }
    let scope = Some(get("scope"))
        .filter(|s| !s.is_empty())
        .unwrap_or(REQUEST_SCOPE);
    let (tx_state, did, session) = {
        let mut book = lock(&shared.tokens);
        let tx_state = format!("hKFo2SB{}", book.random(40));
        let did = format!("s%3Av0%3A{}", book.random(24));
        let session = book.random(32);
        book.logins.insert(
            tx_state.clone(),
            LoginTx {
                client_state: get("state").to_owned(),
                nonce: get("nonce").to_owned(),
                code_challenge: challenge.to_owned(),
                redirect_uri: get("redirect_uri").to_owned(),
                csrf: None,
                csrf_cookie: false,
                authenticated: false,
            },
        );
        (tx_state, did, session)
    };
    let location = format!(
        "/login?{}",
        query(&[
            ("state", &tx_state),
            ("client", client_id),
            ("protocol", "oauth2"),
            ("audience", AUDIENCE),
            ("scope", scope),
            ("response_type", "code"),
            ("response_mode", "query"),
            ("redirect_uri", get("redirect_uri")),
            ("nonce", get("nonce")),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
    );
    let mut r = redirect(&location, true);
    add_cookie(
        &mut r,
        &format!("did={did}; Path=/; HttpOnly; SameSite=None"),
    );
    add_cookie(
        &mut r,
        &format!("auth0={session}; Path=/; HttpOnly; SameSite=None"),
    );
    r
}

async fn login_page(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let state = p.get("state").cloned().unwrap_or_default();
    let behavior = shared.faults.login_behavior();
    let (csrf, nonce) = {
        let mut book = lock(&shared.tokens);
        // A fresh token per page load, as Auth0 does; the last page served wins.
        let csrf = book.random(36);
        let Some(tx) = book.logins.get_mut(&state) else {
            return error_page(
                "invalid_request",
                "Invalid state (unknown login transaction)",
            );
        };
        if behavior != LoginBehavior::PagesChanged {
            tx.csrf = Some(csrf.clone());
            tx.csrf_cookie = behavior != LoginBehavior::NoCsrfCookie;
        }
        (csrf, tx.nonce.clone())
    };
    if behavior == LoginBehavior::PagesChanged {
        return html(
            StatusCode::OK,
            "<!DOCTYPE html><html><head><title>Sign in | Peloton</title></head><body>\
<div id=\"root\" data-new-experience=\"true\"><noscript>Please enable JavaScript to continue.</noscript></div>\
<script src=\"/static/js/main.4f3c2a.js\"></script></body></html>"
                .to_owned(),
        );
    }
    let config = json!({
        "icon": "https://members.onepeloton.com/favicon.ico",
        "assetsUrl": "",
        "auth0Domain": "auth.onepeloton.com",
        "auth0Tenant": TENANT,
        "clientConfigurationBaseUrl": "https://cdn.auth0.com/",
        "callbackOnLocationHash": false,
        "callbackURL": super::tokens::REDIRECT_URI,
        "cdn": "https://cdn.auth0.com/",
        "clientID": shared.opts.client_id,
        "dict": {"signin": {"title": "Peloton"}},
        "extraParams": {
            "protocol": "oauth2",
            "scope": REQUEST_SCOPE,
            "audience": AUDIENCE,
            "response_type": "code",
            "response_mode": "query",
            "nonce": nonce,
            "code_challenge_method": "S256",
            "_csrf": csrf,
            "_intstate": "deprecated",
            "state": state,
        },
        "internalOptions": {
            "protocol": "oauth2",
            "scope": REQUEST_SCOPE,
            "audience": AUDIENCE,
            "response_type": "code",
            "response_mode": "query",
            "nonce": nonce,
            "code_challenge_method": "S256",
            "_csrf": csrf,
            "_intstate": "deprecated",
            "state": state,
        },
        "widgetUrl": "https://cdn.auth0.com/w2/auth0-widget-5.1.min.js",
        "isThirdPartyClient": false,
        "authorizationServer": {"url": "https://auth.onepeloton.com", "issuer": super::tokens::ISSUER},
    });
    let encoded = STANDARD.encode(config.to_string());
    // Two ways Auth0's classic page is seen to carry its config; the second without the
    // cookie, as HB's SPEC quotes the live page.
    let script = if behavior == LoginBehavior::NoCsrfCookie {
        format!(
            "var config = window.injectedConfig = window.injectedConfig || \"{encoded}\";\n\
config = JSON.parse(decodeURIComponent(escape(window.atob(window.injectedConfig))));"
        )
    } else {
        format!(
            "window.injectedConfig = JSON.parse(decodeURIComponent(escape(window.atob('{encoded}'))));"
        )
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<title>Sign in | Peloton</title>\n</head>\n<body>\n\
<form id=\"login-form\" method=\"post\" action=\"/usernamepassword/login\">\n\
<input type=\"hidden\" name=\"state\" value=\"{state}\">\n\
<input type=\"hidden\" name=\"_csrf\" value=\"{csrf}\">\n\
<label>Email or Username <input type=\"text\" name=\"username\"></label>\n\
<label>Password <input type=\"password\" name=\"password\"></label>\n\
<button type=\"submit\">Log In</button>\n</form>\n\
<script>\n{script}\n</script>\n\
</body>\n</html>\n",
        state = html_escape(&state),
        csrf = html_escape(&csrf),
    );
    let mut r = html(StatusCode::OK, body);
    if behavior != LoginBehavior::NoCsrfCookie {
        add_cookie(
            &mut r,
            &format!("_csrf={csrf}; Path=/usernamepassword/login; HttpOnly; SameSite=None"),
        );
    }
    r
}

fn auth0_error(
    status: StatusCode,
    name: &str,
    code: &str,
    description: &str,
    status_code: u16,
) -> Response {
    json(
        status,
        &json!({"name": name, "code": code, "description": description, "statusCode": status_code}),
    )
}

async fn credentials(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(b) = body_fields(&headers, &body) else {
        return auth0_error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "invalid_body",
            "Invalid request body",
            400,
        );
    };
    let get = |k: &str| b.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != shared.opts.client_id {
        return auth0_error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "invalid_request",
            "Unknown client",
            400,
        );
    }
    let state = get("state").to_owned();
    let cookie_csrf = cookie(&headers, "_csrf");
    {
        let book = lock(&shared.tokens);
        let Some(tx) = book.logins.get(&state) else {
            return anomaly();
        };
        // The page's token in the body; the cookie, when the page set one, must come back
        // with the same value, in the Cookie header and in `x-csrf-token` if that is sent.
        let body_csrf = get("_csrf");
        let header_csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        let csrf_ok = !body_csrf.is_empty()
            && tx.csrf.as_deref() == Some(body_csrf)
            && (!tx.csrf_cookie || cookie_csrf.as_deref() == Some(body_csrf))
            && header_csrf.is_none_or(|h| cookie_csrf.as_deref() == Some(h));
        if !csrf_ok {
            return anomaly();
        }
    }
    match shared.faults.login_behavior() {
        LoginBehavior::Captcha => {
            return auth0_error(
                StatusCode::UNAUTHORIZED,
                "ValidationError",
                "invalid_captcha",
                "Solve the challenge question to verify you are not a robot.",
                401,
            );
        }
        LoginBehavior::TooManyAttempts => {
            return auth0_error(
                StatusCode::TOO_MANY_REQUESTS,
                "AnomalyDetected",
                "too_many_attempts",
                "Your account has been blocked after multiple consecutive login attempts. We've sent you an email with instructions on how to unblock it.",
                429,
            );
        }
        LoginBehavior::BlockedUser => {
            return auth0_error(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedError",
                "blocked_user",
                "user is blocked",
                401,
            );
        }
        LoginBehavior::AnomalyDetected => return anomaly(),
        LoginBehavior::Normal
        | LoginBehavior::VerificationRequired
        | LoginBehavior::PagesChanged
        | LoginBehavior::NoCsrfCookie => {}
    }
    if get("connection") != CONNECTION {
        return auth0_error(
            StatusCode::BAD_REQUEST,
            "BadRequestError",
            "invalid_connection",
            "the connection was not found",
            400,
        );
    }
    let user_ok = {
        let m = lock(&shared.member);
        let u = get("username");
        u.eq_ignore_ascii_case(&shared.opts.username) || u.eq_ignore_ascii_case(&m.email)
    };
    if !user_ok || get("password") != shared.opts.password {
        return auth0_error(
            StatusCode::UNAUTHORIZED,
            "ValidationError",
            "invalid_user_password",
            "Wrong email or password.",
            400,
        );
    }
    let (wresult, sid) = {
        let mut book = lock(&shared.tokens);
        let wresult = format!(
            "eyJ{}.{}.{}",
            book.random(60),
            book.random(120),
            book.random(43)
        );
        let sid = book.random(32);
        book.callbacks.insert(wresult.clone(), state.clone());
        (wresult, sid)
    };
    let wctx = json!({
        "strategy": "auth0",
        "auth0Client": "",
        "tenant": TENANT,
        "connection": CONNECTION,
        "client_id": shared.opts.client_id,
        "response_type": "code",
        "response_mode": "query",
        "scope": get("scope"),
        "protocol": "oauth2",
        "redirect_uri": get("redirect_uri"),
        "state": state,
        "nonce": get("nonce"),
        "sid": sid,
        "audience": get("audience"),
        "code_challenge_method": get("code_challenge_method"),
        "code_challenge": get("code_challenge"),
        "realm": CONNECTION,
    });
    let body = format!(
        "<form method=\"post\" name=\"hiddenform\" action=\"{action}\">\n\
    <input type=\"hidden\" name=\"wa\" value=\"wsignin1.0\">\n\
    <input type=\"hidden\" \n           name=\"wresult\" \n           value=\"{wresult}\">\n\
    <input type=\"hidden\" name=\"wctx\" value=\"{wctx}\">\n\
    <noscript>\n        <p>\n            Script is disabled. Click Submit to continue.\n        </p><input type=\"submit\" value=\"Submit\">\n    </noscript>\n\
</form>\n<script type=\"text/javascript\">window.setTimeout('document.forms[0].submit()', 0);</script>\n",
        action = html_escape(&format!("{}/login/callback", shared.auth_url)),
        wresult = html_escape(&wresult),
        wctx = html_escape(&wctx.to_string()),
    );
    html(StatusCode::OK, body)
}

async fn callback(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = body_fields(&headers, &body).unwrap_or_default();
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("wa") != "wsignin1.0" || get("wresult").is_empty() {
        return error_page("invalid_request", "Missing wa/wresult");
    }
    let ctx_state = serde_json::from_str::<Value>(get("wctx"))
        .ok()
        .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_owned));
    let session = {
        let mut book = lock(&shared.tokens);
        let Some(tx_state) = book.callbacks.remove(get("wresult")) else {
            return error_page("invalid_request", "Invalid or expired wresult");
        };
        if ctx_state.as_deref() != Some(tx_state.as_str()) {
            return anomaly();
        }
        let Some(tx) = book.logins.get_mut(&tx_state) else {
            return anomaly();
        };
        tx.authenticated = true;
        (tx_state, book.random(32))
    };
    let (tx_state, sid) = session;
    let mut r = redirect(
        &format!("/authorize/resume?{}", query(&[("state", &tx_state)])),
        true,
    );
    add_cookie(
        &mut r,
        &format!("auth0={sid}; Path=/; HttpOnly; SameSite=None"),
    );
    r
}

async fn resume(State(shared): State<Arc<Shared>>, Query(p): Params) -> Response {
    let state = p.get("state").cloned().unwrap_or_default();
    let behavior = shared.faults.login_behavior();
    let mut book = lock(&shared.tokens);
    let Some(tx) = book
        .logins
        .get(&state)
        .filter(|tx| tx.authenticated)
        .cloned()
    else {
        return error_page(
            "invalid_request",
            "Invalid state (no authenticated login transaction)",
        );
    };
    if behavior == LoginBehavior::VerificationRequired {
        return redirect(
            &format!("/u/email-verification?{}", query(&[("state", &state)])),
            true,
        );
    }
    book.logins.remove(&state);
    let code = book.new_code(&tx);
    redirect(
        &format!(
            "{}?{}",
            tx.redirect_uri,
            query(&[("code", &code), ("state", &tx.client_state)])
        ),
        true,
    )
}

async fn verification_page(Query(p): Params) -> Response {
    let state = p.get("state").cloned().unwrap_or_default();
    html(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html><html><head><title>Verify Your Identity | Peloton</title></head><body>\
<main><h1>Verify Your Identity</h1><p>We've sent an email with your code to r***@example.invalid</p>\
<form method=\"post\" action=\"/u/email-verification?state={}\">\
<input type=\"text\" name=\"code\" placeholder=\"Enter the code\"><button type=\"submit\">Continue</button>\
</form></main></body></html>",
            html_escape(&state)
        ),
    )
}
