use super::cookies::*;
use super::error::*;
use super::form::*;
use super::*;
use crate::peloton::auth0::REDIRECT_URI;
use crate::state::telemetry::AuthResult;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

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
    // The form HB's SPEC quotes from the live page, decoded by a later line.
    let html = format!(
        "<script>var config = window.injectedConfig = window.injectedConfig || \"{cfg}\";\n\
         config = JSON.parse(decodeURIComponent(escape(window.atob(window.injectedConfig))));</script>"
    );
    let v = injected_config(&html).unwrap();
    assert_eq!(v["internalOptions"]["_csrf"], "c");
    // Quoted text that is not base64 JSON is skipped, not taken.
    let html = format!(
        "<script>window.injectedConfig = window.injectedConfig || 'x' || '{cfg}';</script>"
    );
    assert_eq!(
        injected_config(&html).unwrap()["internalOptions"]["state"],
        "TX"
    );
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
    assert!(is_callback(&ok, REDIRECT_URI));
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
    assert!(!is_callback(&login_page, REDIRECT_URI));
}

#[test]
fn refusals_are_told_apart() {
    let wrong = r#"{"name":"ValidationError","code":"invalid_user_password","description":"Wrong email or password.","statusCode":400}"#;
    assert!(matches!(
        classify_refusal(401, wrong),
        LoginError::WrongPassword
    ));
    // Captcha and bot detection are named, with what to do; never "pages changed".
    let anomaly = r#"{"statusCode":403,"description":"Invalid state","name":"AnomalyDetected","code":"access_denied"}"#;
    let brute = r#"{"statusCode":429,"description":"Your account has been blocked after multiple consecutive login attempts.","name":"AnomalyDetected","code":"too_many_attempts"}"#;
    let captcha = r#"{"name":"ValidationError","code":"invalid_captcha","description":"Solve the challenge question to verify you are not a robot.","statusCode":401}"#;
    for (status, body, says) in [
        (403, anomaly, "AnomalyDetected: Invalid state"),
        (429, brute, "too_many_attempts"),
        (401, r#"{"code":"too_many_attempts"}"#, "too_many_attempts"),
        (401, r#"{"code":"blocked_user"}"#, "blocked_user"),
        (401, captcha, "invalid_captcha"),
        (400, r#"{"code":"invalid_recaptcha"}"#, "invalid_recaptcha"),
    ] {
        let e = classify_refusal(status, body);
        let text = e.to_string();
        assert!(!matches!(e, LoginError::PagesChanged { .. }), "{text}");
        assert!(text.contains(says), "{text}");
        assert!(text.contains("login --browser"), "{text}");
        assert!(e.needs_member(), "{text}: retried in hours, not minutes");
    }
    assert!(matches!(
        classify_refusal(403, anomaly),
        LoginError::BotCheck { .. }
    ));
    assert!(matches!(
        classify_refusal(429, brute),
        LoginError::Blocked { .. }
    ));
    assert!(matches!(
        classify_refusal(401, captcha),
        LoginError::Captcha { .. }
    ));
    // A plain 429 stays a rate limit, with the server's (capped) wait.
    assert!(matches!(
        classify_refusal(429, r#"{"error":"too_many_requests"}"#)
            .with_retry_after(Some(Duration::from_secs(30))),
        LoginError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(30)
    ));
    assert!(matches!(
        classify_refusal(429, "error code: 1015"),
        LoginError::RateLimited { .. }
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
        (
            LoginError::Captcha {
                code: "invalid_captcha".to_owned(),
            },
            AuthResult::VerificationRequired,
            ErrorReason::Blocked,
        ),
        (
            LoginError::BotCheck {
                detail: "HTTP 403, AnomalyDetected".to_owned(),
            },
            AuthResult::RateLimited,
            ErrorReason::Blocked,
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
    assert_eq!(messages.len(), 6);
}
