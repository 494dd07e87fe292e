//! Signing in with email and password: the headless Auth0 PKCE flow inside the exporter,
//! the `login` command (piped stdin and a pseudo-terminal), the browser fallback, every
//! failure mode, and the password kept out of every output.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use peloton_exporter::peloton::login::Signer;
use peloton_exporter::secret::Secret;
use peloton_exporter::state::telemetry::Telemetry;
use peloton_exporter::store::database::Store;
use peloton_fake::{Endpoint, FakePeloton, Fault, LoginBehavior};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::process::Command;

fn with_password(fake: &FakePeloton, storage: &Path, password: &str) -> Vec<String> {
    let mut a = args(fake, storage);
    a.push(format!("--peloton.username={}", user()));
    a.push(format!("--peloton.password={password}"));
    a
}

/// Requests the fake's auth server got on the sign-in pages (not the token endpoint).
fn login_requests(fake: &FakePeloton) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            matches!(
                r.endpoint,
                Endpoint::Authorize | Endpoint::Login | Endpoint::LoginCallback
            )
        })
        .count()
}

fn credential_posts(fake: &FakePeloton) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/usernamepassword/login")
        .count()
}

fn sum_of(s: &BTreeMap<String, f64>, prefix: &str, needle: &str) -> f64 {
    s.iter()
        .filter(|(k, _)| k.starts_with(prefix) && k.contains(needle))
        .map(|(_, v)| v)
        .sum()
}

fn result(s: &BTreeMap<String, f64>, r: &str) -> Option<f64> {
    value(
        s,
        &format!("peloton_auth_refreshes_total{{result=\"{r}\"}}"),
    )
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_stores_tokens_then_refreshes_with_rotation_and_a_restart_does_not_log_in() {
    // Access tokens live 4 s, so the exporter has to renew them during the test.
    let fake = small_fake(Duration::from_secs(4)).await;
    let dir = tempfile::tempdir().unwrap();
    let a = with_password(&fake, dir.path(), &password());
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "up after signing in", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    // One sign-in, counted in both families.
    assert_eq!(credential_posts(&fake), 1);
    assert!(result(&s, "success") >= Some(1.0));
    assert!(sum_of(&s, "peloton_api_requests_total{", "endpoint=\"login\"") >= 4.0);
    assert!(
        value(
            &s,
            "peloton_api_requests_total{endpoint=\"login\",code=\"302\"}"
        ) >= Some(2.0),
        "redirects were followed by hand: {s:?}"
    );
    assert!(value(&s, "peloton_auth_token_expiry_timestamp_seconds").is_some());

    // Tokens stored, owner-only.
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join("peloton.db")), 0o600);
    let first = {
        let (store, _) = Store::open(dir.path()).unwrap();
        store.tokens().unwrap()
    };
    let first_refresh = first.refresh_token.clone().unwrap();
    assert!(first.access_token.is_some());

    // API calls carried the signed-in token.
    let api: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| {
            matches!(
                r.endpoint,
                Endpoint::Me | Endpoint::Workouts | Endpoint::Overview
            )
        })
        .collect();
    assert!(!api.is_empty());
    assert!(api.iter().all(|r| r.authorized), "{api:?}");

    // The access token expires; refreshes (with rotation) replace it, never a new sign-in.
    let s = wait_for_samples(exporter.addr, "two refreshes after the sign-in", |s| {
        result(s, "success") >= Some(3.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    assert_eq!(
        credential_posts(&fake),
        1,
        "only refreshes after the sign-in"
    );
    exporter.stop().await.unwrap();
    let rotated = {
        let (store, _) = Store::open(dir.path()).unwrap();
        store.tokens().unwrap().refresh_token.unwrap()
    };
    assert_ne!(
        rotated, first_refresh,
        "the rotated refresh token is stored"
    );
    let old = reqwest::Client::new()
        .post(format!("{}/oauth/token", fake.auth_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", peloton_exporter::peloton::auth0::CLIENT_ID),
            ("refresh_token", first_refresh.expose()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        403,
        "the first refresh token was rotated away"
    );

    // A restart uses the stored tokens: no sign-in at all.
    fake.clear_requests();
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "up after the restart", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    assert_eq!(login_requests(&fake), 0, "{:?}", fake.requests());
    assert_eq!(
        sum_of(&s, "peloton_api_requests_total{", "endpoint=\"login\""),
        0.0
    );
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_falls_back_to_signing_in() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = with_password(&fake, dir.path(), &password());
    a.push("--peloton.refresh-token=v1.revoked-long-ago-0123456789".to_owned());
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "up after signing in", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    assert_eq!(result(&s, "failure"), Some(1.0), "the dead refresh token");
    assert_eq!(result(&s, "success"), Some(1.0), "the sign-in");
    assert_eq!(credential_posts(&fake), 1);
    exporter.stop().await.unwrap();
}

struct Mode {
    name: &'static str,
    password: String,
    setup: fn(&FakePeloton),
    result: &'static str,
    reason: &'static str,
    says: &'static str,
}

fn modes() -> Vec<Mode> {
    vec![
        Mode {
            name: "wrong password",
            password: "not the password 7d1e".to_owned(),
            setup: |_| {},
            result: "wrong_password",
            reason: "auth",
            says: "wrong email or password",
        },
        Mode {
            name: "verification required",
            password: password(),
            setup: |f| {
                f.faults()
                    .set_login_behavior(LoginBehavior::VerificationRequired);
            },
            result: "verification_required",
            reason: "auth",
            says: "login --browser",
        },
        Mode {
            name: "pages changed",
            password: password(),
            setup: |f| f.faults().set_login_behavior(LoginBehavior::PagesChanged),
            result: "unexpected_page",
            reason: "auth",
            says: "sign-in pages changed",
        },
        Mode {
            name: "rate limited",
            password: password(),
            setup: |f| {
                f.faults().push(
                    Endpoint::Login,
                    Fault::RateLimited {
                        retry_after: Some(900),
                    },
                    1,
                );
            },
            result: "rate_limited",
            reason: "rate_limited",
            says: "HTTP 429, retry after 900s",
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_mode_has_its_own_message_and_metric_and_is_not_retried_at_once() {
    let mut messages = Vec::new();
    for mode in modes() {
        let fake = small_fake(Duration::from_secs(3600)).await;
        let auth = url::Url::parse(&fake.auth_url()).unwrap();

        // The message, from the sign-in itself.
        (mode.setup)(&fake);
        let signer = Signer::new(&auth, Duration::from_secs(5)).unwrap();
        let telemetry = Telemetry::default();
        let err = signer
            .sign_in(
                &Secret::new(user()),
                &Secret::new(mode.password.clone()),
                &telemetry,
            )
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(mode.says), "{}: {text}", mode.name);
        assert!(!text.contains(&mode.password), "{}: {text}", mode.name);
        assert_eq!(err.result().as_str(), mode.result, "{}", mode.name);
        messages.push(text);

        // The metrics, from an exporter that has nothing but the password.
        (mode.setup)(&fake);
        fake.clear_requests();
        let dir = tempfile::tempdir().unwrap();
        let exporter = start(&with_password(&fake, dir.path(), &mode.password)).await;
        let label = format!("peloton_poll_errors_total{{reason=\"{}\"}}", mode.reason);
        let s = wait_for_samples(exporter.addr, mode.name, |s| {
            result(s, mode.result) == Some(1.0) && value(s, &label) >= Some(1.0)
        })
        .await;
        assert_eq!(value(&s, "peloton_up"), Some(0.0), "{}", mode.name);
        assert_eq!(result(&s, "success"), Some(0.0), "{}", mode.name);
        let attempts = login_requests(&fake);
        assert!(attempts >= 1, "{}", mode.name);
        // Polls run every second; the sign-in is not tried again for minutes.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (_, text) = scrape(exporter.addr, None).await;
        let s = samples(&text);
        assert_eq!(result(&s, mode.result), Some(1.0), "{}", mode.name);
        assert_eq!(
            login_requests(&fake),
            attempts,
            "{}: no second try",
            mode.name
        );
        assert!(!text.contains(&mode.password));
        exporter.stop().await.unwrap();
    }
    messages.sort();
    messages.dedup();
    assert_eq!(messages.len(), 4, "four distinct messages");
}

/// Runs the binary with `input` on stdin; returns (exit code, stdout, stderr).
async fn run_bin(args: &[String], input: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("login finishes")
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn login_cmd(fake: &FakePeloton, storage: &Path) -> Vec<String> {
    vec![
        "login".to_owned(),
        format!("--storage.path={}", storage.display()),
        format!("--peloton.api-url={}", fake.api_url()),
        format!("--peloton.auth-url={}", fake.auth_url()),
        "--peloton.timeout=5s".to_owned(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_command_reads_piped_stdin_and_the_exporter_then_needs_no_password() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("state");
    let (code, out, err) = run_bin(
        &login_cmd(&fake, &storage),
        &format!("{}\n{}\n", user(), password()),
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let username = fake.member().username;
    assert!(out.contains(&format!("Signed in as {username}")), "{out}");
    assert!(out.contains("peloton-exporter --storage.path"), "{out}");
    assert!(
        out.contains(&format!("--peloton.auth-url {}", fake.auth_url())),
        "{out}"
    );
    for text in [&out, &err] {
        assert!(!text.contains(&password()), "{text}");
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&storage.join("peloton.db")), 0o600);
        assert_eq!(mode(&storage), 0o700);
    }
    let stored = Store::open(&storage).unwrap().0.tokens().unwrap();
    assert!(stored.refresh_token.is_some() && stored.access_token.is_some());

    // The exporter, with no credential flag at all, uses what `login` stored.
    fake.clear_requests();
    let exporter = start(&args(&fake, &storage)).await;
    wait_for_samples(exporter.addr, "up with stored tokens", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    assert_eq!(login_requests(&fake), 0);
    exporter.stop().await.unwrap();

    // With the username as a flag, the only stdin line is the password; a wrong one is
    // told apart and never echoed.
    let mut a = login_cmd(&fake, &dir.path().join("other"));
    a.push(format!("--peloton.username={}", user()));
    let (code, out, err) = run_bin(&a, "hunter2-wrong-5b8c\n").await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("wrong email or password"), "{err}");
    assert!(!err.contains("hunter2") && !out.contains("hunter2"));
    let (code, _, err) = run_bin(&a, "").await;
    assert_ne!(code, 0);
    assert!(err.contains("stdin ended"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_command_on_a_terminal_prompts_and_does_not_echo_the_password() {
    let Some(script) = tool("script") else { return };
    let fake = small_fake(Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("state");
    // `script` gives the command a pseudo-terminal; what we write to its stdin is typed
    // there, and its stdout is the terminal's screen.
    let command = std::iter::once(BIN.to_owned())
        .chain(login_cmd(&fake, &storage))
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new(script)
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut screen = String::new();
    let mut buf = [0u8; 4096];
    let mut wait_for = async |what: &str, screen: &mut String| {
        tokio::time::timeout(Duration::from_secs(30), async {
            while !screen.contains(what) {
                let n = stdout.read(&mut buf).await.unwrap();
                assert!(n > 0, "terminal closed before {what:?}: {screen}");
                screen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {what:?} on the terminal: {screen}"));
    };
    wait_for("email or username:", &mut screen).await;
    stdin
        .write_all(format!("{}\n", user()).as_bytes())
        .await
        .unwrap();
    wait_for("password (not shown):", &mut screen).await;
    // Echo is off only once the prompt is shown; typing before it would echo.
    stdin
        .write_all(format!("{}\n", password()).as_bytes())
        .await
        .unwrap();
    wait_for("Signed in", &mut screen).await;
    wait_for("--storage.path", &mut screen).await;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest).await;
    screen.push_str(&rest);
    assert!(status.success(), "{screen}");
    assert!(screen.contains(&user()), "the username is echoed: {screen}");
    assert!(
        !screen.contains(&password()),
        "the password was echoed: {screen}"
    );
    let stored = Store::open(&storage).unwrap().0.tokens().unwrap();
    assert!(stored.refresh_token.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_falls_back_to_a_browser_and_a_pasted_callback_url() {
    let fake = small_fake(Duration::from_secs(3600)).await;
    fake.faults()
        .set_login_behavior(LoginBehavior::VerificationRequired);
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("state");
    let mut a = login_cmd(&fake, &storage);
    a.push(format!("--peloton.username={}", user()));
    let (code, out, err) = run_bin(&a, &format!("{}\n", password())).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("extra verification"), "{err}");
    let authorize = out
        .lines()
        .map(str::trim)
        .find(|l| l.contains("/authorize?"))
        .unwrap_or_else(|| panic!("no sign-in address printed: {out}"));
    assert!(out.contains("--callback-url '<the address>'"), "{out}");
    let authorize = url::Url::parse(authorize).unwrap();

    // The member verifies in the browser and lands on Peloton's callback page.
    fake.faults().clear();
    let signer = Signer::new(
        &url::Url::parse(&fake.auth_url()).unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    let landed = signer
        .browse(
            &authorize,
            &Secret::new(user()),
            &Secret::new(password()),
            &Telemetry::default(),
        )
        .await
        .unwrap();
    assert!(
        landed
            .as_str()
            .starts_with("https://members.onepeloton.com/callback?")
    );

    // An address from another sign-in is refused without spending the code.
    let mut forged = landed.clone();
    let pairs: Vec<(String, String)> = landed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "someone-else".into()
            } else {
                v
            };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let mut b = login_cmd(&fake, &storage);
    b.push(format!("--callback-url={forged}"));
    let (code, _, err) = run_bin(&b, "").await;
    assert_eq!(code, 1);
    assert!(err.contains("does not belong"), "{err}");

    // The real one, read from stdin, is exchanged with the stored verifier.
    let mut c = login_cmd(&fake, &storage);
    c.push("--callback-url=-".to_owned());
    let (code, out, err) = run_bin(&c, &format!("{landed}\n")).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Signed in"), "{out}");
    let stored = Store::open(&storage).unwrap().0.tokens().unwrap();
    assert!(stored.refresh_token.is_some());

    // The verifier is used up.
    let (code, _, err) = run_bin(&c, &format!("{landed}\n")).await;
    assert_eq!(code, 1);
    assert!(err.contains("no browser sign-in was started"), "{err}");

    // A captcha also switches to the browser, and says so by name.
    fake.faults().set_login_behavior(LoginBehavior::Captcha);
    let (code, out, err) = run_bin(&a, &format!("{}\n", password())).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("invalid_captcha"), "{err}");
    assert!(out.contains("/authorize?"), "{out}");
    assert!(!err.contains("pages changed"), "{err}");
}

/// Runs the exporter binary at `--log.level=trace` with a password from the environment
/// until `done` holds for its metrics; returns (log output, last /metrics).
async fn traced_run(
    fake: &FakePeloton,
    storage: &Path,
    password: &str,
    what: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> (String, String) {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(
            args(fake, storage)
                .iter()
                .filter(|a| !a.starts_with("--web.listen-address")),
        )
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=trace")
        .env_clear()
        .env("PELOTON_USERNAME", user())
        .env("PELOTON_PASSWORD", password)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Drained while it runs: trace output would fill a pipe and stall the exporter.
    let drain = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = r.read_to_string(&mut text).await;
            text
        })
    };
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_for_samples(addr, what, done).await;
    let (_, metrics) = scrape(addr, None).await;
    let _ = std::process::Command::new("kill")
        .arg(child.id().unwrap().to_string())
        .status();
    let _ = child.wait().await;
    let logs = stderr.await.unwrap() + &stdout.await.unwrap();
    assert!(logs.lines().count() > 20, "trace level is verbose");
    (logs, metrics)
}

fn assert_absent(secret: &str, logs: &str, metrics: &str) {
    assert!(secret.len() > 8);
    assert!(!logs.contains(secret), "a secret leaked into the logs");
    assert!(!metrics.contains(secret), "a secret leaked into /metrics");
    // Nor form-encoded (as a request body would carry it).
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    assert!(
        !logs.contains(&encoded),
        "an encoded secret leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_password_nor_tokens_reach_the_log_at_trace_level() {
    // A sign-in and at least one refresh (tokens live 3 s).
    let fake = small_fake(Duration::from_secs(3)).await;
    let dir = tempfile::tempdir().unwrap();
    let (logs, metrics) = traced_run(
        &fake,
        dir.path(),
        &password(),
        "signed in and refreshed",
        |s| value(s, "peloton_up") == Some(1.0) && result(s, "success") >= Some(2.0),
    )
    .await;
    assert!(logs.contains("signing in"), "the sign-in was logged");
    let stored = Store::open(dir.path()).unwrap().0.tokens().unwrap();
    assert_absent(&password(), &logs, &metrics);
    assert_absent(stored.refresh_token.unwrap().expose(), &logs, &metrics);
    assert_absent(stored.access_token.unwrap().expose(), &logs, &metrics);

    // A refused password, where error paths log the most.
    let wrong = "wrong-horse-battery-4f9a";
    let dir = tempfile::tempdir().unwrap();
    let (logs, metrics) = traced_run(&fake, dir.path(), wrong, "refused", |s| {
        result(s, "wrong_password") == Some(1.0)
    })
    .await;
    assert!(
        logs.contains("wrong email or password"),
        "the refusal was logged"
    );
    assert_absent(wrong, &logs, &metrics);
}
