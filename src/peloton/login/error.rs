//! Why a sign-in failed, and how Auth0's refusals map to those reasons.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::state::labels::ErrorReason;
use crate::state::telemetry::AuthResult;

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
        "Peloton blocked this account's sign-in ({code}), usually after too many attempts: follow the email Peloton sent (or reset the password at https://members.onepeloton.com) and wait until it is unblocked, then restart or use `peloton-exporter login --browser`; meanwhile the exporter retries only every few hours"
    )]
    Blocked { code: String },
    #[error(
        "Peloton's sign-in asks for a captcha ({code}), which a headless sign-in cannot solve: sign in once with `peloton-exporter login --browser`, or wait (the exporter tries again in an hour or more)"
    )]
    Captcha { code: String },
    #[error(
        "Peloton's sign-in refused this attempt as automated or anomalous ({detail}): wait (the exporter tries again in an hour or more) or sign in once with `peloton-exporter login --browser`"
    )]
    BotCheck { detail: String },
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

pub(crate) fn retry_after_text(d: Option<Duration>) -> String {
    d.map(|d| format!(", retry after {}s", d.as_secs()))
        .unwrap_or_default()
}

impl LoginError {
    /// The `result` label of `peloton_auth_refreshes_total` for this attempt.
    pub fn result(&self) -> AuthResult {
        match self {
            LoginError::WrongPassword => AuthResult::WrongPassword,
            LoginError::VerificationRequired | LoginError::Captcha { .. } => {
                AuthResult::VerificationRequired
            }
            LoginError::PagesChanged { .. } => AuthResult::UnexpectedPage,
            LoginError::RateLimited { .. }
            | LoginError::Blocked { .. }
            | LoginError::BotCheck { .. } => AuthResult::RateLimited,
            LoginError::CodeRejected | LoginError::Unavailable { .. } => AuthResult::Failure,
            LoginError::BackingOff { last, .. } => last.result(),
        }
    }

    /// The `reason` label of a poll that failed with this error.
    pub fn reason(&self) -> ErrorReason {
        match self {
            LoginError::RateLimited { .. } => ErrorReason::RateLimited,
            LoginError::Captcha { .. } | LoginError::BotCheck { .. } => ErrorReason::Blocked,
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
            | LoginError::Blocked { .. }
            | LoginError::Captcha { .. }
            | LoginError::BotCheck { .. } => true,
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

    /// The server's (capped) Retry-After, on a refusal that is a rate limit.
    pub(super) fn with_retry_after(self, retry_after: Option<Duration>) -> Self {
        match self {
            LoginError::RateLimited { retry_after: None } => {
                LoginError::RateLimited { retry_after }
            }
            other => other,
        }
    }

    pub(super) fn changed(detail: impl Into<String>) -> Self {
        LoginError::PagesChanged {
            detail: detail.into(),
        }
    }
}

/// An Auth0 error identifier, or a placeholder when it is not one (never free text).
pub(super) fn safe_code(code: &str) -> String {
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
pub(super) fn classify_refusal(status: u16, body: &str) -> LoginError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let code = [field("code"), field("error")]
        .into_iter()
        .find(|c| !c.is_empty())
        .unwrap_or_default();
    let name = field("name");
    let description = field("description");
    let named = classify_code(code, description);
    if !matches!(named, LoginError::PagesChanged { .. }) {
        return named;
    }
    if status == 429 {
        return LoginError::RateLimited { retry_after: None };
    }
    // Auth0's anomaly detection. "Invalid state" is also what a wrong state or _csrf gets,
    // but the flow sends the page's own; live, it has come with bot detection.
    if name == "AnomalyDetected" || description.contains("Invalid state") {
        return LoginError::BotCheck {
            detail: format!(
                "HTTP {status}, {}{}",
                safe_code(if name.is_empty() { code } else { name }),
                if description.contains("Invalid state") {
                    ": Invalid state"
                } else {
                    ""
                }
            ),
        };
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
pub(super) fn classify_code(code: &str, description: &str) -> LoginError {
    let d = description.to_ascii_lowercase();
    match code {
        "invalid_user_password"
        | "invalid_grant"
        | "wrong_email_or_password"
        | "invalid_password" => LoginError::WrongPassword,
        "too_many_requests" => LoginError::RateLimited { retry_after: None },
        // Auth0's brute-force protection blocks the account itself and emails its owner.
        "too_many_attempts"
        | "blocked_user"
        | "user_blocked"
        | "password_leaked"
        | "password_change_required" => LoginError::Blocked {
            code: code.to_owned(),
        },
        "invalid_captcha" | "invalid_recaptcha" | "captcha_required" => LoginError::Captcha {
            code: code.to_owned(),
        },
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

pub(super) fn looks_like_verification(url: &Url, body: &str) -> bool {
    let path = url.path().to_ascii_lowercase();
    ["verif", "mfa", "challenge", "/u/email", "otp"]
        .iter()
        .any(|m| path.contains(m))
        || looks_like_verification_text(body)
}

pub(super) fn looks_like_verification_text(body: &str) -> bool {
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
