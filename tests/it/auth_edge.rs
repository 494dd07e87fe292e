//! Sign-in and tokens against the shapes of Peloton's real edge (issue #15 points 1-6 and 14,
//! #16 points 1-2 at the token endpoint): a login page without the `_csrf` cookie, captcha
//! and bot-detection answers, block pages and rate limits at the token endpoint, a token
//! rotated behind the exporter's back, another Auth0 client id, the User-Agent per kind of
//! request, a Retry-After no clock can add, and log lines that name their account.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use peloton_exporter::peloton::login::Signer;
use peloton_exporter::secret::Secret;
use peloton_exporter::state::telemetry::Telemetry;
use peloton_exporter::store::database::Store;
use peloton_exporter::store::stored_tokens::StoredTokens;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, Fault, LoginBehavior};

fn with_password(fake: &FakePeloton, storage: &Path) -> Vec<String> {
    let mut a = args(fake, storage);
    a.push(format!("--peloton.username={}", user()));
    a.push(format!("--peloton.password={}", password()));
    a
}

fn result(s: &BTreeMap<String, f64>, r: &str) -> f64 {
    value(
        s,
        &format!("peloton_auth_refreshes_total{{result=\"{r}\"}}"),
    )
    .unwrap_or(0.0)
}

fn errors(s: &BTreeMap<String, f64>, reason: &str) -> f64 {
    value(
        s,
        &format!("peloton_poll_errors_total{{reason=\"{reason}\"}}"),
    )
    .unwrap_or(0.0)
}

fn token_calls(fake: &FakePeloton, status: u16) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Token && r.status == status)
        .count()
}

fn credential_posts(fake: &FakePeloton) -> Vec<peloton_fake::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/usernamepassword/login")
        .collect()
}

fn stored(dir: &Path) -> StoredTokens {
    Store::open(dir).unwrap().0.tokens().unwrap()
}

async fn sign_in(fake: &FakePeloton) -> Result<(), String> {
    let signer = Signer::new(
        &url::Url::parse(&fake.auth_url()).unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    signer
        .sign_in(
            &Secret::new(user()),
            &Secret::new(password()),
            &Telemetry::default(),
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Point 1: the `_csrf` comes from the page's injected config when the cookie is missing,
/// and goes back as `x-csrf-token` when it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_page_without_the_csrf_cookie_still_signs_in() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    fake.faults()
        .set_login_behavior(LoginBehavior::NoCsrfCookie);
    sign_in(&fake).await.unwrap();
    let posts = credential_posts(&fake);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].status, 200);
    assert!(!posts[0].csrf_header, "no cookie, so no x-csrf-token");

    fake.faults().clear();
    fake.clear_requests();
    sign_in(&fake).await.unwrap();
    let posts = credential_posts(&fake);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].csrf_header, "the cookie goes back as x-csrf-token");
}

/// Point 6: Auth0's pages see a browser; the API and the token endpoint see the exporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_pages_get_a_browser_user_agent_and_the_api_keeps_the_exporters() {
    let fake = small_fake(Duration::from_secs(4)).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&with_password(&fake, dir.path())).await;
    wait_for_samples(exporter.addr, "signed in and refreshed", |s| {
        value(s, "peloton_up") == Some(1.0) && result(s, "success") >= 2.0
    })
    .await;
    exporter.stop().await.unwrap();
    let requests = fake.requests();
    let ours = format!("peloton-exporter/{}", env!("CARGO_PKG_VERSION"));
    let mut kinds = std::collections::BTreeSet::new();
    for r in &requests {
        let ua = r.user_agent.as_deref().unwrap_or_default();
        match r.endpoint {
            Endpoint::Authorize | Endpoint::Login | Endpoint::LoginCallback => {
                assert!(
                    ua.starts_with("Mozilla/5.0 ") && ua.contains("Firefox/"),
                    "{} {}: {ua}",
                    r.method,
                    r.path
                );
            }
            _ => assert_eq!(ua, ours, "{} {}", r.method, r.path),
        }
        kinds.insert(format!("{:?}", r.endpoint));
    }
    for kind in [
        "Authorize",
        "Login",
        "LoginCallback",
        "Token",
        "Me",
        "Workouts",
    ] {
        assert!(kinds.contains(kind), "no {kind} request: {kinds:?}");
    }
}

/// Point 5: captcha and bot detection are named with what to do, never "pages changed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captcha_and_bot_detection_answers_are_named_with_what_to_do() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    let cases = [
        (LoginBehavior::Captcha, "invalid_captcha", "captcha"),
        (
            LoginBehavior::TooManyAttempts,
            "too_many_attempts",
            "blocked",
        ),
        (LoginBehavior::BlockedUser, "blocked_user", "blocked"),
        (
            LoginBehavior::AnomalyDetected,
            "AnomalyDetected: Invalid state",
            "automated",
        ),
    ];
    for (behavior, code, says) in cases {
        fake.faults().set_login_behavior(behavior);
        let text = sign_in(&fake).await.unwrap_err();
        assert!(text.contains(code), "{behavior:?}: {text}");
        assert!(text.contains(says), "{behavior:?}: {text}");
        assert!(text.contains("login --browser"), "{behavior:?}: {text}");
        assert!(text.contains("wait"), "{behavior:?}: {text}");
        assert!(!text.contains("pages changed"), "{behavior:?}: {text}");
        assert!(!text.contains(&password()));
    }

    // The exporter shows bot detection as its own bounded reason and does not retry soon.
    fake.faults()
        .set_login_behavior(LoginBehavior::AnomalyDetected);
    fake.clear_requests();
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&with_password(&fake, dir.path())).await;
    let s = wait_for_samples(exporter.addr, "a blocked sign-in", |s| {
        errors(s, "blocked") >= 1.0
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(0.0));
    assert_eq!(result(&s, "rate_limited"), 1.0);
    assert_eq!(result(&s, "unexpected_page"), 0.0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        credential_posts(&fake).len(),
        1,
        "not retried within the hour"
    );
    exporter.stop().await.unwrap();
}

/// Point 2: an HTML 403 at the token endpoint (a WAF or Cloudflare block page) keeps the
/// refresh token; refreshes back off, the poll says `blocked`, and the same token works
/// once the block lifts, with no sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_403_from_the_token_endpoint_keeps_the_token_until_the_block_lifts() {
    let fake = small_fake(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    wait_for_samples(exporter.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;
    let before = stored(dir.path()).refresh_token.unwrap();

    fake.faults().push(Endpoint::Token, Fault::Html(403), 1000);
    let s = wait_for_samples(exporter.addr, "blocked at the token endpoint", |s| {
        value(s, "peloton_up") == Some(0.0) && errors(s, "blocked") >= 1.0
    })
    .await;
    assert_eq!(errors(&s, "auth"), 0.0, "not an auth failure: {s:?}");
    // Polls run every second; refreshes back off from 1 s, doubling with jitter.
    let first = token_calls(&fake, 403);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let during = token_calls(&fake, 403) - first;
    assert!(
        (1..=4).contains(&during),
        "{during} refreshes in 6 s of polls every second"
    );
    let s = common::samples(&scrape(exporter.addr, None).await.1);
    assert_eq!(value(&s, "peloton_up"), Some(0.0));
    assert_eq!(stored(dir.path()).refresh_token.unwrap(), before, "kept");

    // The block lifts: the kept token is presented (it is the only live one) and works.
    fake.faults().clear();
    let s = wait_for_samples(exporter.addr, "up again on the kept token", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    assert_eq!(
        result(&s, "wrong_password") + result(&s, "unexpected_page"),
        0.0
    );
    assert!(token_calls(&fake, 200) >= 2);
    assert_ne!(stored(dir.path()).refresh_token.unwrap(), before, "rotated");
    assert!(credential_posts(&fake).is_empty(), "no sign-in");
    exporter.stop().await.unwrap();
}

/// Point 3: `login` (or another process) rotates the stored token while the exporter runs;
/// the exporter presents the new one. With Auth0's reuse detection on, presenting the one
/// it held would revoke the whole family.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_rotated_in_the_store_behind_the_exporters_back_is_the_one_presented() {
    let fake = small_fake(Duration::from_secs(6)).await;
    fake.faults().set_refresh_reuse_detection(true);
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    wait_for_samples(exporter.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;
    let held = stored(dir.path()).refresh_token.unwrap();

    // Rotate it as another process would, and store the result.
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.auth_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", peloton_exporter::peloton::auth0::CLIENT_ID),
            ("refresh_token", held.expose()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rotated = Secret::new(answer["refresh_token"].as_str().unwrap());
    let (store, _) = Store::open(dir.path()).unwrap();
    store
        .save_tokens(&StoredTokens {
            refresh_token: Some(rotated.clone()),
            access_token: Some(Secret::new(answer["access_token"].as_str().unwrap())),
            access_token_expires_at: None,
        })
        .unwrap();
    drop(store);
    let refused = token_calls(&fake, 403);
    let successes = token_calls(&fake, 200);

    // Two access-token lifetimes: the exporter renews from the rotated token, twice.
    eventually(
        Duration::from_secs(40),
        "two refreshes after the rotation",
        || async { (token_calls(&fake, 200) >= successes + 2).then_some(()) },
    )
    .await;
    assert_eq!(
        token_calls(&fake, 403),
        refused,
        "no retired token presented"
    );
    let now = stored(dir.path()).refresh_token.unwrap();
    assert_ne!(now, rotated, "the exporter rotated the new token on");
    let s = common::samples(&scrape(exporter.addr, None).await.1);
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    assert_eq!(result(&s, "failure"), 0.0);
    exporter.stop().await.unwrap();
}

/// Point 4: another client id reaches the sign-in and the token endpoint, and check-config
/// refuses empty or malformed Auth0 settings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_client_id_reaches_the_sign_in_and_the_token_endpoint() {
    let client_id = "Xq7TestClientForTheFakeTenant01";
    let fake = fake(FakeOptions {
        workouts: 5,
        access_token_ttl: Duration::from_secs(3),
        client_id: client_id.to_owned(),
        ..FakeOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = with_password(&fake, dir.path());
    a.push(format!("--peloton.auth0.client-id={client_id}"));
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "signed in and refreshed", |s| {
        value(s, "peloton_up") == Some(1.0) && result(s, "success") >= 3.0
    })
    .await;
    assert_eq!(result(&s, "failure"), 0.0);
    exporter.stop().await.unwrap();
    assert_eq!(credential_posts(&fake).len(), 1);
    assert!(token_calls(&fake, 200) >= 3, "code exchange and refreshes");
    assert_eq!(token_calls(&fake, 401), 0);

    // The fake knows only that client: today's default is refused at the token endpoint.
    let refused = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.auth_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", peloton_exporter::peloton::auth0::CLIENT_ID),
            ("refresh_token", fake.refresh_token().as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let check = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_peloton-exporter"));
        cmd.arg("check-config")
            .arg(format!("--storage.path={}", dir.path().display()))
            .arg("--peloton.refresh-token=v1.x")
            .args(extra)
            .env_clear();
        cmd.output().unwrap()
    };
    let ok = check(&[&format!("--peloton.auth0.client-id={client_id}")]);
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains(client_id));
    for (flag, bad) in [
        ("--peloton.auth0.client-id", ""),
        ("--peloton.auth0.audience", " "),
        ("--peloton.auth0.scope", ""),
        (
            "--peloton.auth0.redirect-uri",
            "members.onepeloton.com/callback",
        ),
        (
            "--peloton.auth0.redirect-uri",
            "ftp://members.onepeloton.com/callback",
        ),
    ] {
        let out = check(&[&format!("{flag}={bad}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flag}={bad:?} accepted");
        assert!(err.contains(flag), "{flag}: {err}");
    }
}

/// #16.1 and #16.2 at the token endpoint: a Retry-After no clock can add, or a date in the
/// year 9999, neither panics nor stops renewal for years: the wait is capped at an hour and
/// the capped wait is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_at_the_token_endpoint_is_capped_and_never_overflows() {
    for value_sent in ["18446744073709551615", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let fake = small_fake(Duration::from_secs(3)).await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut a: Vec<String> = args_with_token(&fake, dir.path())
            .into_iter()
            .filter(|a| !a.starts_with("--web.listen-address"))
            .collect();
        a.push(format!("--web.listen-address=127.0.0.1:{port}"));
        let exporter = ExporterProcess::spawn(&a, &[], dir.path().join("exporter.log"));
        wait_for_samples(exporter.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;
        fake.faults().push(
            Endpoint::Token,
            Fault::RateLimitedUntil(value_sent.to_owned()),
            1,
        );
        // The poll that met the 429 finishes (a panic would leave up at 1) and says why.
        let s = wait_for_samples(exporter.addr, "rate limited at the token endpoint", |s| {
            value(s, "peloton_up") == Some(0.0) && errors(s, "rate_limited") >= 1.0
        })
        .await;
        assert_eq!(value(&s, "peloton_up"), Some(0.0));
        let logs = exporter.logs();
        assert!(!logs.contains("panicked"), "{logs}");
        assert!(
            logs.contains("Retry-After beyond the ceiling") && logs.contains("wait_s=3600"),
            "{value_sent}: {logs}"
        );
        assert!(logs.contains("retry_in_s=3600"), "{value_sent}: {logs}");
        // Still serving, and not asking the token endpoint again within the hour.
        let calls = token_calls(&fake, 429);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let s = common::samples(&scrape(exporter.addr, None).await.1);
        assert_eq!(value(&s, "peloton_up"), Some(0.0));
        assert_eq!(token_calls(&fake, 429), calls);
        assert_eq!(calls, 1);
        exporter.stop();
    }
}

/// Point 14: with several accounts, a rejected refresh token is logged under the account's
/// name, with advice that fits an account of the config file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_account_log_line_names_the_account_and_fits_the_config_file() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("accounts.yml");
    std::fs::write(
        &config,
        format!(
            "accounts:\n  - name: alice\n    refresh_token: {}\n  - name: bob\n    refresh_token: v1.revoked-or-never-valid\n",
            fake.refresh_token()
        ),
    )
    .unwrap();
    let port = free_port();
    let mut a: Vec<String> = args(&fake, dir.path())
        .into_iter()
        .filter(|a| !a.starts_with("--web.listen-address"))
        .collect();
    a.push(format!("--web.listen-address=127.0.0.1:{port}"));
    a.push(format!("--config.file={}", config.display()));
    let exporter = ExporterProcess::spawn(&a, &[], dir.path().join("exporter.log"));
    wait_for_samples(exporter.addr, "alice up, bob failing", |s| {
        value(s, "peloton_up{account=\"alice\"}") == Some(1.0)
            && value(
                s,
                "peloton_poll_errors_total{account=\"bob\",reason=\"auth\"}",
            ) >= Some(1.0)
    })
    .await;
    let logs = exporter.stop();
    let rejected: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("refresh token rejected"))
        .collect();
    assert!(!rejected.is_empty(), "{logs}");
    for line in &rejected {
        assert!(line.contains("account=bob"), "{line}");
        assert!(line.contains("account bob"), "{line}");
        assert!(line.contains("--config.file"), "{line}");
        assert!(!line.contains("--peloton.refresh-token"), "{line}");
    }
    let failed: Vec<&str> = logs.lines().filter(|l| l.contains("poll failed")).collect();
    assert!(!failed.is_empty(), "{logs}");
    assert!(
        failed.iter().all(|l| l.contains("account=bob")),
        "{failed:?}"
    );
    assert!(
        logs.lines()
            .filter(|l| l.contains("account=alice"))
            .all(|l| !l.contains("rejected")),
        "{logs}"
    );
}
