//! Operator configuration: metric-group switches, `check-config`, and reloads (SIGHUP and
//! `POST /-/reload`) of the config file and the secret files.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use peloton_exporter::metrics::catalogue;
use peloton_exporter::metrics::collectors::GROUPS;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, Fault};

fn small() -> FakeOptions {
    FakeOptions {
        workouts: 60,
        history_days: 120,
        ..FakeOptions::default()
    }
}

/// Family names declared by `# TYPE` in an OpenMetrics scrape.
async fn declared_families(addr: SocketAddr) -> BTreeSet<String> {
    let (_, body) = scrape(addr, Some(OPENMETRICS)).await;
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect()
}

async fn synced_families(fake: &FakePeloton, extra: &[String]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut a = args_with_token(fake, dir.path());
    a.extend_from_slice(extra);
    let exporter = start(&a).await;
    // Not wait_synced: it looks for a latest-workout series, which a switch may remove.
    wait_for_samples(exporter.addr, "history synced", |s| {
        value(s, "peloton_up") == Some(1.0)
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    let families = declared_families(exporter.addr).await;
    exporter.stop().await.unwrap();
    families
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_collector_switch_removes_exactly_its_families() {
    let fake = fake(small()).await;
    let all = synced_families(&fake, &[]).await;
    for group in GROUPS.iter().map(|g| g.collector) {
        let own: BTreeSet<String> = catalogue::ALL
            .iter()
            .filter(|d| d.group == Some(group))
            .map(peloton_exporter::metrics::family::Def::family_name)
            .filter(|name| all.contains(name))
            .collect();
        assert!(!own.is_empty(), "{} shows nothing by default", group.name());
        let off = synced_families(&fake, &[format!("--no-collector.{}", group.name())]).await;
        let removed: BTreeSet<String> = all.difference(&off).cloned().collect();
        assert_eq!(removed, own, "--no-collector.{}", group.name());
        assert!(off.is_subset(&all), "{:?}", off.difference(&all));
        // The explicit form switches it off too, and the last flag wins.
        let explicit = synced_families(
            &fake,
            &[
                format!("--collector.{}", group.name()),
                format!("--collector.{}=false", group.name()),
            ],
        )
        .await;
        assert_eq!(explicit, off, "--collector.{}=false", group.name());
    }
}

// ---- check-config ----------------------------------------------------------------------

fn run_with_deadline(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("{cmd:?} did not exit within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn exporter(args: &[String], envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().envs(envs.iter().copied());
    cmd
}

fn check_config(args: &[String], envs: &[(&str, &str)]) -> Output {
    let mut a = vec!["check-config".to_owned()];
    a.extend_from_slice(args);
    run_with_deadline(exporter(&a, envs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_shows_what_would_run_without_contacting_peloton() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let refresh = fake.refresh_token();
    let access = fake.mint_access_token(Duration::from_secs(3600));
    std::fs::write(dir.path().join("alice.token"), &refresh).unwrap();
    std::fs::write(dir.path().join("carol.password"), "correct horse\n").unwrap();
    let config = dir.path().join("accounts.yml");
    std::fs::write(
        &config,
        format!(
            "accounts:\n  - name: alice\n    refresh_token_file: {}\n  - name: bob\n    access_token: \"{access}\"\n  - name: carol\n    username: carol@example.com\n    password_file: {}\n",
            dir.path().join("alice.token").display(),
            dir.path().join("carol.password").display()
        ),
    )
    .unwrap();
    let storage = dir.path().join("state");
    let args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", storage.display()),
        format!("--peloton.api-url={}", fake.api_url()),
        format!("--peloton.auth-url={}", fake.auth_url()),
        "--no-collector.monthly".to_owned(),
        "--poll.interval=2m".to_owned(),
    ];
    let out = check_config(&args, &[("PELOTON_COLLECTOR_INSTRUCTOR", "false")]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for want in [
        "configuration is valid",
        "alice: refresh token ***",
        "bob: refresh token -, access token ***",
        "carol: refresh token -, access token -, sign-in *** / ***",
        "instructor off, monthly off, latest-workout on, personal-records on",
        "2m",
        &fake.api_url(),
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    for secret in [&refresh, &access, "correct horse", "carol@example.com"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "a secret was printed:\n{stdout}\n{stderr}"
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(
        !storage.exists(),
        "check-config created {}",
        storage.display()
    );

    // No credential in the flags, but one stored by `login` (or an earlier run): valid.
    let stored = dir.path().join("stored");
    {
        let (store, _) = peloton_exporter::store::database::Store::open(&stored).unwrap();
        store
            .save_tokens(&peloton_exporter::store::stored_tokens::StoredTokens {
                refresh_token: Some(peloton_exporter::secret::Secret::new(refresh.clone())),
                access_token: None,
                access_token_expires_at: None,
            })
            .unwrap();
    }
    let out = check_config(&[format!("--storage.path={}", stored.display())], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = check_config(&["--demo".to_owned()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn check_config_fails_with_the_start_up_messages() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let missing_secret = write(
        "missing.yml",
        &format!(
            "accounts:\n  - name: alice\n    refresh_token_file: {}\n",
            dir.path().join("nope").display()
        ),
    );
    let unknown_key = write(
        "typo.yml",
        "accounts:\n  - name: alice\n    refresh_tokn: abc\n",
    );
    let empty = write("empty.token", "\n");
    let bad_web = write("web.yml", "basic_auth_users:\n  bob: not-a-bcrypt-hash\n");
    let storage = format!("--storage.path={}", dir.path().join("state").display());
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![format!("--config.file={}", missing_secret.display())],
            "refresh_token_file",
        ),
        (
            vec![format!("--config.file={}", unknown_key.display())],
            "--config.file",
        ),
        (
            vec![format!("--peloton.refresh-token-file={}", empty.display())],
            "--peloton.refresh-token-file",
        ),
        (
            vec![
                "--poll.interval=soon".to_owned(),
                "--peloton.refresh-token=x".to_owned(),
            ],
            "--poll.interval",
        ),
        (
            vec![
                "--peloton.refresh-token=x".to_owned(),
                format!("--web.config.file={}", bad_web.display()),
                "--web.listen-address=127.0.0.1:0".to_owned(),
            ],
            "--web.config.file",
        ),
        (
            vec![
                "--collector.monthly=maybe".to_owned(),
                "--peloton.refresh-token=x".to_owned(),
            ],
            "--collector.monthly",
        ),
        // No credential given and none stored by `login`.
        (vec![], "no Peloton credentials"),
    ];
    for (mut args, flag) in cases {
        args.push(storage.clone());
        let checked = check_config(&args, &[]);
        let started = run_with_deadline(exporter(&args, &[]));
        let message = text(&checked.stderr);
        assert!(!checked.status.success(), "check-config accepted {args:?}");
        assert!(message.contains(flag), "{args:?}: {message}");
        if flag == "--collector.monthly" {
            // A usage error: clap's whole message, with the accepted values.
            assert!(
                message.contains("[possible values: true, false]"),
                "{message}"
            );
        } else {
            assert_eq!(message.lines().count(), 1, "one line: {message}");
        }
        assert_eq!(checked.status.code(), started.status.code(), "{args:?}");
        assert_eq!(message, text(&started.stderr), "{args:?}");
        assert!(checked.stdout.is_empty(), "{}", text(&checked.stdout));
    }
}

// ---- reload ----------------------------------------------------------------------------

fn accounts_yaml(accounts: &[(&str, &Path)]) -> String {
    let mut yaml = String::from("accounts:\n");
    for (name, token_file) in accounts {
        let _ = write!(
            yaml,
            "  - name: {name}\n    access_token_file: {}\n",
            token_file.display()
        );
    }
    yaml
}

fn up_of(s: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    series(s, "peloton_up")
        .into_iter()
        .map(|(k, v)| {
            let name = k
                .split("account=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (name.to_owned(), v)
        })
        .collect()
}

fn polls(s: &BTreeMap<String, f64>, account: &str) -> f64 {
    value(s, &format!("peloton_polls_total{{account=\"{account}\"}}")).unwrap_or(-1.0)
}

/// Accounts stopped and started by reloads so far, from the log.
fn restarts(log: &str) -> (usize, usize) {
    (
        log.matches("stopping account").count(),
        log.matches("starting account").count(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rereads_the_config_file_and_secret_files() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = |name: &str, ttl_days: u64| {
        let p = dir.path().join(format!("{name}.token"));
        std::fs::write(
            &p,
            fake.mint_access_token(Duration::from_secs(ttl_days * 86_400)),
        )
        .unwrap();
        p
    };
    let (a, b, c) = (token("a", 1), token("b", 1), token("c", 1));
    let config = dir.path().join("accounts.yml");
    std::fs::write(&config, accounts_yaml(&[("a", &a), ("b", &b)])).unwrap();
    let log = dir.path().join("exporter.log");
    let child = ExporterProcess::spawn(
        &[
            format!("--web.listen-address=127.0.0.1:{}", free_port()),
            format!("--peloton.api-url={}", fake.api_url()),
            format!("--peloton.auth-url={}", fake.auth_url()),
            format!("--storage.path={}", dir.path().join("state").display()),
            format!("--config.file={}", config.display()),
            "--poll.interval=1s".to_owned(),
            "--peloton.retry-backoff=50ms".to_owned(),
            "--peloton.max-retries=0".to_owned(),
            "--peloton.max-request-rate=1000".to_owned(),
        ],
        &[],
        log.clone(),
    );
    let addr = child.addr;
    let first = wait_for_samples(addr, "a and b up", |s| {
        up_of(s) == BTreeMap::from([("a".into(), 1.0), ("b".into(), 1.0)])
    })
    .await;
    assert_eq!(
        value(&first, "peloton_config_last_reload_successful"),
        Some(1.0)
    );
    let loaded_at = value(
        &first,
        "peloton_config_last_reload_success_timestamp_seconds",
    )
    .unwrap();

    // A new account: it starts; a and b keep running (their counters do not reset).
    std::fs::write(&config, accounts_yaml(&[("a", &a), ("b", &b), ("c", &c)])).unwrap();
    let before = wait_for_samples(addr, "a polled", |_| true).await;
    // c's first poll is slow: meanwhile the exporter stays ready (it has data to serve).
    fake.faults()
        .push(Endpoint::Me, Fault::Delay(Duration::from_secs(3)), 1);
    child.hangup();
    eventually(Duration::from_secs(10), "c started", || async {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("starting account")
            .then_some(())
    })
    .await;
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    let (_, body) = scrape(addr, None).await;
    assert!(
        !body.contains("peloton_last_successful_poll_timestamp_seconds{account=\"c\"}"),
        "c already polled: {body}"
    );
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    let after = wait_for_samples(addr, "c up", |s| up_of(s).get("c") == Some(&1.0)).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(restarts(&logged), (0, 1), "{logged}");
    assert!(polls(&after, "a") >= polls(&before, "a"));
    assert_eq!(
        value(&after, "peloton_config_last_reload_successful"),
        Some(1.0)
    );
    assert!(
        value(
            &after,
            "peloton_config_last_reload_success_timestamp_seconds"
        )
        .unwrap()
            > loaded_at
    );

    // A broken file is refused: the running accounts keep polling, the metric says 0.
    std::fs::write(&config, "accounts:\n  - name: a\n    acces_token_file: x\n").unwrap();
    child.hangup();
    let refused = wait_for_samples(addr, "reload refused", |s| {
        value(s, "peloton_config_last_reload_successful") == Some(0.0)
    })
    .await;
    let polls_c = polls(&refused, "c");
    wait_for_samples(addr, "c still polling", |s| {
        polls(s, "c") > polls_c && up_of(s).len() == 3
    })
    .await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("reload failed") && logged.contains("acces_token_file"),
        "{logged}"
    );

    // A secret file changes: Peloton stops taking a's token, a new one goes into its file,
    // and a reload brings a back without touching the others.
    fake.expire_access_tokens();
    std::fs::write(&config, accounts_yaml(&[("a", &a), ("c", &c)])).unwrap();
    wait_for_samples(addr, "a refused", |s| up_of(s).get("a") == Some(&0.0)).await;
    token("a", 2);
    token("c", 2);
    child.hangup();
    let recovered = wait_for_samples(addr, "a and c up again, b gone", |s| {
        up_of(s) == BTreeMap::from([("a".into(), 1.0), ("c".into(), 1.0)])
    })
    .await;
    assert_eq!(
        value(&recovered, "peloton_config_last_reload_successful"),
        Some(1.0)
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    // a and c restarted with their new tokens, b stopped; the refused reload did nothing.
    assert_eq!(restarts(&logged), (3, 3), "{logged}");
    assert!(!logged.contains("panicked"), "{logged}");
    for token in [&a, &b, &c] {
        let value = std::fs::read_to_string(token).unwrap();
        assert!(!logged.contains(value.trim()), "a token reached the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_reload_needs_the_lifecycle_flag_and_reports_refusals() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("refresh.token");
    std::fs::write(&token_file, fake.refresh_token()).unwrap();
    let mut a = args(&fake, dir.path());
    a.push(format!(
        "--peloton.refresh-token-file={}",
        token_file.display()
    ));
    let http = reqwest::Client::new();

    let closed = start(&a).await;
    // Stopped only once signed in: a stop in the middle of a token rotation would leave
    // the second exporter with a spent refresh token.
    wait_for_samples(closed.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;
    let url = format!("http://{}/-/reload", closed.addr);
    assert_eq!(http.post(&url).send().await.unwrap().status(), 403);
    closed.stop().await.unwrap();

    a.push("--web.enable-lifecycle".to_owned());
    let open = start(&a).await;
    let url = format!("http://{}/-/reload", open.addr);
    wait_for_samples(open.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;
    assert_eq!(http.get(&url).send().await.unwrap().status(), 405);
    let ok = http.post(&url).send().await.unwrap();
    assert_eq!(ok.status(), 200);

    std::fs::write(&token_file, "\n").unwrap();
    let refused = http.post(&url).send().await.unwrap();
    assert_eq!(refused.status(), 500);
    let body = refused.text().await.unwrap();
    assert!(body.contains("--peloton.refresh-token-file"), "{body}");
    let s = wait_for_samples(open.addr, "refusal reported", |s| {
        value(s, "peloton_config_last_reload_successful") == Some(0.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    open.stop().await.unwrap();
}

/// Stopping an account (a reload restarts it, SIGTERM stops it) while Peloton is rotating
/// its refresh token: the rotated token is still stored, and the next start signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_token_rotation_keeps_the_rotated_token() {
    use peloton_exporter::store::database::Store;

    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = args_with_token(&fake, dir.path());
    fake.faults()
        .push(Endpoint::Token, Fault::Delay(Duration::from_secs(2)), 1);
    let exporter = start(&a).await;
    eventually(
        Duration::from_secs(10),
        "the exchange under way",
        || async { (fake.faults().pending(Endpoint::Token) == 0).then_some(()) },
    )
    .await;
    exporter.stop().await.unwrap();

    let (store, _) = Store::open(dir.path()).unwrap();
    let stored = store
        .tokens()
        .unwrap()
        .refresh_token
        .expect("no refresh token stored: the rotated token was lost");
    assert_eq!(
        stored.expose(),
        fake.refresh_token(),
        "the rotated token was lost"
    );
    drop(store);
    // The configured token is spent; only the stored one can sign in.
    let again = start(&a).await;
    wait_for_samples(again.addr, "signed in again", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    again.stop().await.unwrap();
}
