//! The real binary: start-up errors, and secrets kept out of every log line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use peloton_exporter::fake::FakeOptions;

const BIN: &str = env!("CARGO_BIN_EXE_peloton-exporter");

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_reaches_the_log_at_trace_level() {
    let fake = fake(FakeOptions {
        access_token_ttl: Duration::from_secs(2),
        ..FakeOptions::default()
    })
    .await;
    let initial = fake.refresh_token();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .args(
            args(&fake, dir.path())
                .iter()
                .filter(|a| !a.starts_with("--web.listen-address")),
        )
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(["--log.level=trace", "--log.format=json"])
        .env_clear()
        .env("PELOTON_REFRESH_TOKEN", &initial)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    // Wait until at least two refreshes happened (tokens live 2 s), so rotated tokens
    // and several access tokens have passed through the process.
    eventually(Duration::from_secs(30), "refreshes", || async {
        let Ok(resp) = reqwest::get(format!("http://{addr}/metrics")).await else {
            return None;
        };
        let s = samples(&resp.text().await.ok()?);
        (value(&s, "peloton_auth_refreshes_total{result=\"success\"}") >= Some(2.0)).then_some(())
    })
    .await;
    let (_, metrics_text) = scrape(addr, None).await;
    let (store, _) = peloton_exporter::store::Store::open(dir.path()).unwrap();
    let stored = store.tokens().unwrap();
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("access token refreshed"),
        "trace logs were captured"
    );
    assert!(logs.lines().count() > 20, "trace level is verbose");
    let secrets = [
        initial.clone(),
        fake.refresh_token(),
        stored.refresh_token.unwrap().expose().to_owned(),
        stored.access_token.unwrap().expose().to_owned(),
    ];
    for secret in &secrets {
        assert!(secret.len() > 8);
        assert!(
            !logs.contains(secret.as_str()),
            "a token leaked into the logs"
        );
        assert!(
            !metrics_text.contains(secret.as_str()),
            "a token leaked into /metrics"
        );
        // JWT payloads are distinctive enough to catch partial leaks too.
        if let Some(payload) = secret.split('.').nth(1).filter(|p| p.len() > 16) {
            assert!(
                !logs.contains(payload),
                "a token payload leaked into the logs"
            );
        }
    }
}
