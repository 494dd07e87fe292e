//! Soak: the real binary polls the fake Peloton for several accounts at once while random
//! faults are injected and `/metrics` is scraped concurrently. Bounded in time (it stops by
//! itself) and in traffic (loopback only).
//!
//! It checks that the process never dies, no scrape fails, RSS stays flat after warm-up,
//! and that once the faults stop every account is up with exact totals (no workout lost
//! or counted twice).
//!
//! CI runs a short form. `bench/soak.sh` runs the long one (release build) and prints the
//! numbers recorded in docs/reliability.md. Knobs: `PELOTON_SOAK_SECONDS` (default 30),
//! `PELOTON_SOAK_ACCOUNTS` (8), `PELOTON_SOAK_SCRAPERS` (4).

use crate::common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use peloton_exporter::peloton::wire::MAX_BODY_BYTES;
use peloton_fake::{Endpoint, FakeOptions, Fault};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// A random fault for a random endpoint; oversized bodies are rare (they cost 16 MiB).
fn random_fault(rng: &mut fastrand::Rng) -> (Endpoint, Fault) {
    let endpoint = match rng.u8(0..10) {
        0..=4 => Endpoint::Workouts,
        5 => Endpoint::Me,
        6 => Endpoint::Overview,
        7 | 8 => Endpoint::PerformanceGraph,
        _ => Endpoint::Workout,
    };
    let fault = match rng.u8(0..100) {
        0..=14 => Fault::Status(503),
        15..=24 => Fault::Status(500),
        25..=32 => Fault::Status(502),
        33..=42 => Fault::RateLimited { retry_after: None },
        43..=47 => Fault::RateLimited {
            retry_after: Some(1),
        },
        48..=55 => Fault::Delay(Duration::from_secs(3)),
        56..=67 => Fault::Reset,
        68..=77 => Fault::TruncatedJson,
        78..=84 => Fault::Html(502),
        85..=89 => Fault::Html(200),
        90..=95 => Fault::EmptyBody,
        96..=97 => Fault::Status(401),
        _ => Fault::Oversized {
            bytes: MAX_BODY_BYTES + 1,
            chunked: rng.bool(),
        },
    };
    (endpoint, fault)
}

fn account_counts(s: &BTreeMap<String, f64>, account: &str) -> BTreeMap<String, f64> {
    let prefix = format!("peloton_workouts_total{{account=\"{account}\",discipline=\"");
    s.iter()
        .filter_map(|(k, v)| {
            let d = k.strip_prefix(&prefix)?.strip_suffix("\"}")?;
            (*v > 0.0).then(|| (d.to_owned(), *v))
        })
        .collect()
}

fn sum_of(s: &BTreeMap<String, f64>, name: &str) -> f64 {
    series(s, name).iter().map(|(_, v)| v).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_random_faults_and_concurrent_scrapes() {
    let seconds = knob("PELOTON_SOAK_SECONDS", 30);
    let accounts = knob("PELOTON_SOAK_ACCOUNTS", 8);
    let scrapers = knob("PELOTON_SOAK_SCRAPERS", 4);
    let fake = Arc::new(
        fake(FakeOptions {
            workouts: 60,
            history_days: 120,
            ..FakeOptions::default()
        })
        .await,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("accounts:\n");
    for i in 0..accounts {
        let token = fake.mint_access_token(Duration::from_secs(86_400));
        let _ = write!(yaml, "  - name: a{i}\n    access_token: \"{token}\"\n");
    }
    let config = dir.path().join("accounts.yml");
    std::fs::write(&config, yaml).unwrap();
    let port = free_port();
    let stderr_path = dir.path().join("exporter.log");
    let mut child = Command::new(BIN)
        .args([
            format!("--web.listen-address=127.0.0.1:{port}"),
            format!("--peloton.api-url={}", fake.api_url()),
            format!("--peloton.auth-url={}", fake.auth_url()),
            format!("--storage.path={}", dir.path().join("state").display()),
            format!("--config.file={}", config.display()),
            "--poll.interval=1s".to_owned(),
            "--poll.profile-interval=5s".to_owned(),
            "--peloton.retry-backoff=50ms".to_owned(),
            "--peloton.max-retries=1".to_owned(),
            "--peloton.timeout=2s".to_owned(),
            "--peloton.max-request-rate=1000".to_owned(),
            "--log.level=warn".to_owned(),
        ])
        .env_clear()
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let synced = wait_for_samples_within(addr, Duration::from_secs(120), "all synced", |s| {
        series(s, "peloton_up").len() == accounts as usize
            && series(s, "peloton_up").iter().all(|(_, v)| *v == 1.0)
            && series(s, "peloton_history_workouts_pending")
                .iter()
                .all(|(_, v)| *v == 0.0)
    })
    .await;
    let polls_at_start = sum_of(&synced, "peloton_polls_total");
    // The largest body the client ever buffers (a chunked one, refused at the limit) is
    // part of the steady-state footprint: reach it during warm-up, not in the measured
    // window. It takes several: glibc serves the first from mmap and returns it, then
    // raises its mmap threshold, and later ones stay in the heap of the arena of whichever
    // worker thread read them.
    fake.faults().push(
        Endpoint::Workouts,
        Fault::Oversized {
            bytes: MAX_BODY_BYTES + 1,
            chunked: true,
        },
        12,
    );
    eventually(Duration::from_secs(60), "large bodies refused", || async {
        (fake.faults().pending(Endpoint::Workouts) == 0).then_some(())
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(AtomicU64::new(0));
    let scrape_errors = Arc::new(AtomicU64::new(0));
    let slowest_ms = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for n in 0..scrapers {
        let (stop, scrapes, errors, slowest) = (
            stop.clone(),
            scrapes.clone(),
            scrape_errors.clone(),
            slowest_ms.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let openmetrics = n % 2 == 0;
            while !stop.load(Ordering::Relaxed) {
                let mut req = client.get(format!("http://{addr}/metrics"));
                if openmetrics {
                    req = req.header("Accept", OPENMETRICS);
                }
                let started = Instant::now();
                let ok = match req.send().await {
                    Ok(r) if r.status() == 200 => r.text().await.is_ok_and(|body| {
                        body.matches("peloton_up{").count() == accounts as usize
                            && (!openmetrics || body.ends_with("# EOF\n"))
                    }),
                    _ => false,
                };
                slowest.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                scrapes.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }
    let faults = Arc::new(AtomicU64::new(0));
    {
        let (stop, faults, fake) = (stop.clone(), faults.clone(), fake.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(7);
            let mut last_add = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                let (endpoint, fault) = random_fault(&mut rng);
                if fake.faults().pending(endpoint) < 2 {
                    fake.faults().push(endpoint, fault, 1);
                    faults.fetch_add(1, Ordering::Relaxed);
                }
                if last_add.elapsed() > Duration::from_secs(3) {
                    let discipline =
                        ["cycling", "running", "rowing", "boxing", "strength"][rng.usize(0..5)];
                    fake.add_workout(discipline);
                    last_add = Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(rng.u64(200..1400))).await;
            }
        }));
    }

    // RSS once a second; the first fifth of the run is warm-up.
    let started = Instant::now();
    let run = Duration::from_secs(seconds);
    let mut rss = Vec::new();
    while started.elapsed() < run {
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(
            child.try_wait().unwrap().is_none(),
            "the exporter died: {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        rss.push(rss_kib(pid).unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    fake.faults().clear();

    // Faults over: every account recovers with exact totals.
    let want = truth::completed_counts(&fake);
    let end = wait_for_samples_within(addr, Duration::from_secs(60), "all recovered", |s| {
        series(s, "peloton_up").iter().all(|(_, v)| *v == 1.0)
            && series(s, "peloton_history_workouts_pending")
                .iter()
                .all(|(_, v)| *v == 0.0)
            && (0..accounts).all(|i| account_counts(s, &format!("a{i}")) == want)
    })
    .await;
    let polls = sum_of(&end, "peloton_polls_total") - polls_at_start;
    let poll_errors = sum_of(&end, "peloton_poll_errors_total");
    let requests = sum_of(&end, "peloton_api_requests_total");
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let exit = child.wait().unwrap();
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();

    // Warm-up: the first fifth of the run, at least 10 s. The start value is the median
    // of the next tenth, the end value the median of the last tenth.
    let warm = (rss.len() / 5).max(10).min(rss.len().saturating_sub(2));
    let tenth = rss.len().div_ceil(10);
    let rss_start = median(rss[warm..(warm + tenth).min(rss.len())].to_vec());
    let rss_end = median(rss[rss.len() - tenth..].to_vec());
    let rss_max = rss.iter().copied().max().unwrap_or(0);
    let scrapes = scrapes.load(Ordering::Relaxed);
    let summary = format!(
        "soak: {seconds} s, {accounts} accounts, {polls} polls ({poll_errors} failed), {requests} API requests, {} faults injected, {scrapes} scrapes by {scrapers} scrapers ({} failed, slowest {} ms), RSS start {} KiB, end {} KiB, max {} KiB",
        faults.load(Ordering::Relaxed),
        scrape_errors.load(Ordering::Relaxed),
        slowest_ms.load(Ordering::Relaxed),
        rss_start,
        rss_end,
        rss_max,
    );
    println!("{summary}");
    println!("RSS every second (KiB): {rss:?}");
    assert_eq!(scrape_errors.load(Ordering::Relaxed), 0, "{summary}");
    assert!(
        polls >= (seconds * accounts / 3) as f64,
        "too few polls: {summary}"
    );
    assert!(poll_errors > 0.0, "the faults reached the polls: {summary}");
    assert!(
        !log.contains("panicked"),
        "a panic in the exporter's output:\n{log}"
    );
    assert!(exit.success(), "a clean exit on SIGTERM: {exit:?}\n{log}");
    // Flat: after warm-up, RSS grows by less than a quarter (and 16 MiB, the size of one
    // refused body, is within noise).
    assert!(
        rss_end <= rss_start + (rss_start / 4).max(16 * 1024),
        "RSS grew: {summary}"
    );
}
