//! The real binary: start-up errors, and secrets kept out of every log line.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_fake::FakeOptions;

fn run_to_exit(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_clear().stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn missing_credentials_stop_startup_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    // Private already: an open one would add a warning line as it is made private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let storage = format!("--storage.path={}", dir.path().display());
    let (code, err) = run_to_exit(&["--web.listen-address=127.0.0.1:0", &storage], &[]);
    assert_ne!(code, 0);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--peloton.refresh-token"), "{err}");
}

#[test]
fn bad_flags_name_the_flag() {
    for (args, flag) in [
        (vec!["--poll.interval=often"], "--poll.interval"),
        (vec!["--peloton.api-url=::nope"], "--peloton.api-url"),
        (
            vec!["--peloton.refresh-token-file=/nonexistent/secret"],
            "--peloton.refresh-token-file",
        ),
        (
            vec!["--web.listen-address=256.0.0.1:80"],
            "--web.listen-address",
        ),
    ] {
        let (code, err) = run_to_exit(&args, &[]);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn usage_errors_show_clap_in_full() {
    for (args, says) in [
        (
            vec!["backfill", "--demo"],
            vec!["--out <FILE>", "try '--help'"],
        ),
        (
            vec!["--log.level", "verbose"],
            vec!["possible values: error, warn, info, debug, trace"],
        ),
        (
            vec!["--web.listen-adress=:1"],
            vec![
                "similar argument exists: '--web.listen-address'",
                "try '--help'",
            ],
        ),
        (
            vec!["--collector.montly"],
            vec!["similar argument exists: '--collector.monthly'"],
        ),
        (
            vec!["lgoin"],
            vec!["similar subcommand exists: 'login'", "try '--help'"],
        ),
        (
            vec!["export", "--web.listen-address=:1"],
            vec!["`export` does not use it"],
        ),
    ] {
        let (code, err) = run_to_exit(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {err}");
        for s in says {
            assert!(err.contains(s), "{args:?} does not say {s:?}: {err}");
        }
    }
}

#[test]
fn version_names_revision_build_date_and_rust_like_prometheus() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&format!(
            "peloton-exporter, version {} (revision: ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let revision = first
        .split("revision: ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')');
    for field in ["build date:", "rust version:", "platform:"] {
        assert!(
            lines.clone().any(|l| l.trim_start().starts_with(field)),
            "{field} missing: {text}"
        );
    }
    // Built from a git checkout, the revision is the commit, in --version and in
    // peloton_exporter_build_info alike (both read BuildInfo::CURRENT).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    match (head, std::env::var("PELOTON_EXPORTER_REVISION")) {
        (Some(head), Err(_)) => {
            assert_eq!(revision, String::from_utf8_lossy(&head.stdout).trim());
            assert_eq!(
                revision,
                peloton_exporter::metrics::BuildInfo::CURRENT.revision
            );
        }
        _ => eprintln!("SKIP revision check: no git checkout, or PELOTON_EXPORTER_REVISION set"),
    }
}

#[test]
fn secrets_from_env_are_not_echoed_by_help_or_errors() {
    let secret = "v1.super-secret-refresh-value";
    let (code, out) = {
        let o = Command::new(BIN)
            .arg("--help")
            .env_clear()
            .env("PELOTON_REFRESH_TOKEN", secret)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    assert_eq!(code, Some(0));
    assert!(out.contains("PELOTON_REFRESH_TOKEN"));
    assert!(!out.contains(secret));
    let (code, err) = run_to_exit(
        &["--poll.interval=bad"],
        &[("PELOTON_REFRESH_TOKEN", secret)],
    );
    assert_ne!(code, 0);
    assert!(!err.contains(secret));
}

/// A private CA and a server certificate for 127.0.0.1: (CA PEM, cert PEM, key PEM).
fn test_pki() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (issuer.pem(), cert.pem(), key.serialize_pem())
}

/// A full run at trace level, over TLS with basic auth, with token refreshes, a revoked
/// access token, wrong passwords and a broken web config reload: no secret value reaches
/// the logs (panic output included: it goes to the same stderr), `/metrics`, or an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_metrics_or_errors_of_a_full_run() {
    let fake = fake(FakeOptions {
        access_token_ttl: Duration::from_secs(2),
        ..FakeOptions::default()
    })
    .await;
    let initial = fake.refresh_token();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_pki();
    std::fs::write(dir.path().join("server.crt"), &cert).unwrap();
    std::fs::write(dir.path().join("server.key"), &key).unwrap();
    let password = "scrape-password-7c1d0e55";
    let wrong_password = "wrong-password-5b9e2f11";
    let hash = bcrypt::hash(password, 4).unwrap();
    let web_config = dir.path().join("web.yml");
    let web_yaml = format!(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: {hash}\n"
    );
    std::fs::write(&web_config, &web_yaml).unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(
            args(&fake, dir.path())
                .iter()
                .filter(|a| !a.starts_with("--web.listen-address")),
        )
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", web_config.display()))
        .args(["--log.level=trace", "--log.format=json"])
        .env_clear()
        .env("RUST_BACKTRACE", "1")
        .env("PELOTON_REFRESH_TOKEN", &initial)
        // A file, not a pipe: trace output is large and a full pipe would stall the process.
        .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let url = format!("https://127.0.0.1:{port}/metrics");
    let scrape_tls = |pw: &'static str| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let resp = client
                .get(url)
                .basic_auth("prometheus", Some(pw))
                .send()
                .await
                .ok()?;
            Some((resp.status().as_u16(), resp.text().await.ok()?))
        }
    };
    // At least two refreshes (tokens live 2 s), so rotated refresh tokens and several
    // access tokens have passed through the process.
    eventually(Duration::from_secs(30), "refreshes", || async {
        let (_, body) = scrape_tls(password).await?;
        let s = samples(&body);
        (value(&s, "peloton_auth_refreshes_total{result=\"success\"}") >= Some(2.0)).then_some(())
    })
    .await;
    // Error paths: a revoked access token (401, refresh), wrong passwords, a broken
    // reload that quotes nothing.
    fake.expire_access_tokens();
    for _ in 0..3 {
        let (status, body) = scrape_tls(wrong_password).await.unwrap();
        assert_eq!(status, 401);
        assert!(!body.contains("peloton_"));
    }
    std::fs::write(
        &web_config,
        format!(
            "{web_yaml}tls_server_config_typo: [\"{}\"]\n",
            key.lines().nth(1).unwrap()
        ),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (status, metrics_text) = scrape_tls(password).await.unwrap();
    assert_eq!(status, 200, "the running web config stayed in force");
    let (store, _) = peloton_exporter::store::database::Store::open(dir.path()).unwrap();
    let stored = store.tokens().unwrap();
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let logs = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap()
        + &std::fs::read_to_string(dir.path().join("stdout.log")).unwrap();
    assert!(
        logs.contains("access token refreshed"),
        "trace logs were captured"
    );
    assert!(logs.lines().count() > 20, "trace level is verbose");
    assert!(
        logs.contains("invalid web config"),
        "the broken reload was logged"
    );
    assert!(!logs.contains("panicked"), "no panic:\n{logs}");
    let mut secrets = vec![
        initial.clone(),
        fake.refresh_token(),
        stored.refresh_token.unwrap().expose().to_owned(),
        stored.access_token.unwrap().expose().to_owned(),
        password.to_owned(),
        wrong_password.to_owned(),
        hash.clone(),
    ];
    // Every base64 line of the private key.
    secrets.extend(
        key.lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_owned),
    );
    for secret in &secrets {
        assert!(secret.len() > 8);
        assert!(
            !logs.contains(secret.as_str()),
            "a secret leaked into the logs"
        );
        assert!(
            !metrics_text.contains(secret.as_str()),
            "a secret leaked into /metrics"
        );
        // JWT payloads are distinctive enough to catch partial leaks too.
        if let Some(payload) = secret.split('.').nth(1).filter(|p| p.len() > 16) {
            assert!(
                !logs.contains(payload),
                "a token payload leaked into the logs"
            );
        }
    }
    // The Authorization header of a scrape is never logged, not even base64-encoded.
    for pw in [password, wrong_password] {
        let header = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("prometheus:{pw}"),
        );
        assert!(!logs.contains(&header));
    }
}

/// Start-up errors about secrets name the flag or field, never the value.
#[test]
fn start_up_errors_never_quote_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let token = "v1.start-up-secret-token-9d8c7b6a";
    let (_, _, key) = test_pki();
    let key_line = key.lines().nth(1).unwrap().to_owned();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!("tls_server_config:\n  cert_file: nope.crt\n  key: \"{key_line}\"\nbasic_auth_users: [\"{key_line}\"]\n"),
    )
    .unwrap();
    for args in [
        vec![
            format!("--peloton.refresh-token={token}"),
            format!("--web.config.file={}", web.display()),
            format!("--storage.path={}", dir.path().display()),
        ],
        vec![
            format!("--peloton.refresh-token={token}"),
            "--poll.interval=soon".to_owned(),
        ],
        vec![
            format!("--peloton.access-token={token}"),
            format!("--peloton.refresh-token={token}"),
            "--peloton.refresh-token-file=/nonexistent".to_owned(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, err) = run_to_exit(&args, &[("RUST_BACKTRACE", "1")]);
        assert_ne!(code, 0, "{args:?}");
        assert!(!err.contains(token), "{err}");
        assert!(!err.contains(&key_line), "{err}");
    }
}

/// `Debug` of everything that holds a secret prints `***` or nothing, so a `{:?}` in a
/// log line or a panic message cannot leak one.
#[test]
fn debug_and_panic_messages_redact_every_secret() {
    use clap::Parser as _;
    use peloton_exporter::settings::flags::Cli;
    let token = "v1.debug-secret-token-1f2e3d4c";
    let password = "debug-password-8a7b6c5d";
    let hash = bcrypt::hash(password, 4).unwrap();
    let cli = Cli::try_parse_from([
        "peloton-exporter",
        &format!("--peloton.refresh-token={token}"),
        &format!("--peloton.access-token={token}x"),
    ])
    .unwrap();
    let settings = cli.settings().unwrap();
    let web = peloton_exporter::http::web_config::WebConfig::parse(
        &format!("basic_auth_users:\n  prometheus: {hash}\n"),
        std::path::Path::new("/web.yml"),
    )
    .unwrap();
    let secret = peloton_exporter::secret::Secret::new(password);
    let everything = format!("{cli:?} {settings:?} {web:?} {secret:?} {secret}");
    let captured = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = captured.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        *sink.lock().unwrap() = info.to_string();
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        panic!("{cli:?} {settings:?} {web:?} {secret:?}");
    }));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let panic_text = captured.lock().unwrap().clone();
    assert!(panic_text.contains("Cli"), "{panic_text}");
    for text in [&everything, &panic_text] {
        for value in [token, password, hash.as_str()] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }
}

/// `export --demo 2>&1 | head -c 10`: the reader goes away after ten bytes. The command
/// must end quietly (0, or 141 as a shell reports SIGPIPE), never with a panic (101), with
/// stdout and stderr both closed, or stderr alone.
#[test]
fn a_closed_stdout_or_stderr_ends_the_command_quietly() {
    use std::io::Read as _;
    for (what, args) in [
        ("export", &["export", "--demo"][..]),
        ("backfill", &["backfill", "--demo", "--out", "-"][..]),
    ] {
        // Both closed after ten bytes of stdout.
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 10];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert!(
            matches!(status.code(), Some(0 | 141)),
            "{what} with both closed: {status:?}"
        );
        // stderr closed from the start; stdout read to the end.
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{what} with stderr closed");
        assert!(
            out.len() > 1000,
            "{what} wrote its output: {} bytes",
            out.len()
        );
    }
}
