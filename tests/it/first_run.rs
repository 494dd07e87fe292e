//! A new user's first run: what the binary does when output goes nowhere, when an argument
//! is wrong, and what the demo leaves behind.

use crate::common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use peloton_fake::{FakeOptions, FakePeloton};

fn small() -> FakeOptions {
    FakeOptions {
        workouts: 60,
        ..FakeOptions::default()
    }
}

fn command(fake: &FakePeloton, storage: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args([
            format!("--peloton.api-url={}", fake.api_url()),
            format!("--peloton.auth-url={}", fake.auth_url()),
            format!("--storage.path={}", storage.display()),
            "--peloton.max-request-rate=1000".to_owned(),
        ])
        .env_clear()
        .env("PELOTON_REFRESH_TOKEN", fake.refresh_token())
        .stdin(Stdio::null());
    cmd
}

/// Waits for the child, killing it after a minute.
fn finish(mut child: std::process::Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("did not exit within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_pipes_end_quietly_and_never_panic() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("state");

    // `export | head -0`: the CSV has nowhere to go. A non-zero code, no panic.
    let mut child = command(&fake, &storage, &["export", "--out", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = finish(child);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("error:"), "quietly: {err}");

    // `export --out x.csv 2>&1 | head -1`: progress and messages are lost, the file is not.
    let csv = dir.path().join("x.csv");
    let mut child = command(&fake, &storage, &["export", "--out", csv.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let out = finish(child);
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() > 10);
}

#[test]
fn arguments_are_checked_before_the_sync() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: a sync would fail with a network error, so these
    // messages prove that nothing was fetched first.
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .args([
                "--peloton.api-url=http://127.0.0.1:1",
                "--peloton.auth-url=http://127.0.0.1:1",
                "--peloton.refresh-token=v1.x",
                "--peloton.max-retries=0",
            ])
            .arg(format!(
                "--storage.path={}",
                dir.path().join("state").display()
            ))
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    };
    let (code, err) = run(&["export", "--out", "/nonexistent/dir/x.csv"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--out: cannot create /nonexistent/dir/x.csv: No such file or directory"),
        "{err}"
    );
    let out = dir.path().join("h.om");
    let (code, err) = run(&[
        "backfill",
        "--out",
        out.to_str().unwrap(),
        "--from",
        "2024-02-01",
        "--to",
        "2024-01-01",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--from 2024-02-01 is after --to 2024-01-01"),
        "{err}"
    );
    assert!(!out.exists(), "a refused run leaves no file");
    let (code, err) = run(&["backfill", "--split", "month", "--out", "-"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--split month writes one file per month: give --out a file name"),
        "{err}"
    );
    // A sync that fails leaves no empty file behind either.
    let (code, _) = run(&["backfill", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(!out.exists());
}

#[test]
fn a_failed_start_creates_no_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--demo") && err.contains("login"), "{err}");
    assert!(!dir.path().join("data").exists());
}

/// SIGTERM to `child`, then its output once it has exited.
fn terminate(child: std::process::Child) -> Output {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    finish(child)
}

fn assert_demo_dir_removed(pid: u32) {
    assert!(
        !demo_dir(pid).exists(),
        "{} left behind",
        demo_dir(pid).display()
    );
}

fn demo_dir(pid: u32) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("peloton-exporter-demo-{pid}"))
}

#[test]
fn the_demo_removes_its_directory_on_exit() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("demo.csv");
    let child = Command::new(BIN)
        .args([
            "export",
            "--demo",
            "--peloton.max-request-rate=1000",
            "--out",
        ])
        .arg(&csv)
        .env_clear()
        .env("TMPDIR", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = finish(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(csv.exists());
    assert_demo_dir_removed(pid);

    // The server, stopped by SIGTERM once it serves, too.
    let log = dir.path().join("demo.log");
    let mut child = Command::new(BIN)
        .args(["--demo", "--web.listen-address=127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let said = || std::fs::read_to_string(&log).unwrap_or_default();
    let start = Instant::now();
    while !said().contains("serving metrics") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "demo never started: {}",
            said()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "demo exited: {}",
            said()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(demo_dir(pid).join("peloton.db").exists());
    let out = terminate(child);
    assert!(out.status.success(), "{}: {}", out.status, said());
    assert_demo_dir_removed(pid);
}

/// SIGTERM during start-up (the store exists, the rest is still starting) is kept and ends
/// the server cleanly once it can, instead of killing it before its clean-up.
#[test]
fn a_sigterm_during_start_up_still_removes_the_demo_directory() {
    let mut child = Command::new(BIN)
        .args(["--demo", "--web.listen-address=127.0.0.1:0"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !demo_dir(pid).join("peloton.db").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "demo never started"
        );
        assert!(child.try_wait().unwrap().is_none(), "demo exited");
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = terminate(child);
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        text(&out.stderr)
    );
    assert_demo_dir_removed(pid);
}

#[test]
fn login_on_the_demo_prints_a_next_step_that_works_and_the_docs_name_its_member() {
    let member = FakeOptions::default();
    let mut child = Command::new(BIN)
        .args(["login", "--demo"])
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n{}\n", member.username, member.password).as_bytes())
        .unwrap();
    let out = finish(child);
    let said = text(&out.stdout);
    assert!(out.status.success(), "{said}{}", text(&out.stderr));
    assert!(said.contains("   peloton-exporter --demo\n"), "{said}");
    assert!(!said.contains("127.0.0.1"), "a dead port: {said}");
    assert!(!demo_dir(pid).exists());

    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/login.md")).unwrap();
    assert!(
        docs.contains(&format!("`{}`", member.username)),
        "docs/login.md"
    );
    assert!(
        docs.contains(&format!("`{}`", member.password)),
        "docs/login.md"
    );
}
