//! Scrape latency while hostile clients hold connections or flood wrong passwords
//! (issue #16, points 7 and 8). Figures go to docs/benchmarks.md ("Under attack").
//!
//! ```sh
//! cargo run --release --example hostile_clients
//! ```
//!
//! Everything runs in this process on loopback: the fake Peloton, the exporter, the
//! attackers (from 127.0.1.x and 127.0.2.x, so the exporter sees them as other hosts) and
//! one scraper on 127.0.0.1. Each phase takes `HOSTILE_SCRAPES` scrapes (default 200)
//! and prints p50/p99/max:
//!
//! - baseline: a new connection per scrape, nobody else;
//! - 600 and 2,000 hostile connections (a third silent, a third trickling a request head,
//!   a third kept alive after one request), each reconnecting as soon as it is closed;
//! - basic auth at bcrypt cost 12 with 50 attackers from 50 addresses sending wrong
//!   passwords back to back, while the scraper (verified once before) scrapes; then the
//!   first request of a user never verified before.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser as _;
use peloton_exporter::run::{self, Running};
use peloton_exporter::settings::flags::Cli;
use peloton_fake::{FakeOptions, FakePeloton};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::task::JoinHandle;

async fn exporter(fake: &FakePeloton, storage: &Path, web_config: &Path) -> Running {
    let args = [
        "peloton-exporter".to_owned(),
        "--web.listen-address=127.0.0.1:0".to_owned(),
        format!("--peloton.api-url={}", fake.api_url()),
        format!("--peloton.auth-url={}", fake.auth_url()),
        format!("--peloton.refresh-token={}", fake.refresh_token()),
        format!("--storage.path={}", storage.display()),
        format!("--web.config.file={}", web_config.display()),
        "--peloton.max-request-rate=1000".to_owned(),
        "--log.level=error".to_owned(),
    ];
    let settings = Cli::try_parse_from(args).unwrap().settings().unwrap();
    run::start(&settings).await.unwrap()
}

/// Silent, trickling and kept-alive connections from ten addresses, reconnecting.
fn hostile(addr: SocketAddr, n: usize, opened: &Arc<AtomicUsize>) -> Vec<JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let opened = opened.clone();
            tokio::spawn(async move {
                let from = SocketAddr::from(([127, 0, 1, (i % 10) as u8 + 1], 0));
                loop {
                    let socket = tokio::net::TcpSocket::new_v4().unwrap();
                    let _ = socket.set_reuseaddr(true);
                    if socket.bind(from).is_err() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    let Ok(mut s) = socket.connect(addr).await else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    opened.fetch_add(1, Ordering::Relaxed);
                    let _ = match i % 3 {
                        0 => Ok(()),
                        1 => s.write_all(b"GET /metrics HTTP/1.1\r\n").await,
                        _ => {
                            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                                .await
                        }
                    };
                    let mut buf = [0u8; 512];
                    loop {
                        match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                            Ok(Ok(0) | Err(_)) => break,
                            Err(_)
                                if i % 3 == 1 && s.write_all(b"X-Slow: 1\r\n").await.is_err() =>
                            {
                                break;
                            }
                            _ => {}
                        }
                    }
                }
            })
        })
        .collect()
}

fn client(from: [u8; 4], keep_alive: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from(from))
        .timeout(Duration::from_secs(60));
    if !keep_alive {
        b = b.pool_max_idle_per_host(0);
    }
    b.build().unwrap()
}

/// `n` scrapes, 20 ms apart; (p50, p99, max, failures).
async fn scrapes(
    client: &reqwest::Client,
    url: &str,
    auth: Option<(&str, &str)>,
    n: usize,
) -> (Duration, Duration, Duration, usize) {
    let mut times = Vec::with_capacity(n);
    let mut failed = 0;
    for _ in 0..n {
        let t = Instant::now();
        let mut req = client.get(url);
        if let Some((u, p)) = auth {
            req = req.basic_auth(u, Some(p));
        }
        let ok = match req.send().await {
            Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
            Err(e) => {
                if failed < 3 {
                    println!("  failed: {e:?}");
                }
                false
            }
        };
        if !ok {
            failed += 1;
        }
        times.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    (at(0.5), at(0.99), times[times.len() - 1], failed)
}

fn report(what: &str, (p50, p99, max, failed): (Duration, Duration, Duration, usize), n: usize) {
    println!(
        "{what:<58} p50 {:>9.2} ms  p99 {:>9.2} ms  max {:>9.2} ms  failed {failed}/{n}",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("HOSTILE_SCRAPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let fake = FakePeloton::start(FakeOptions {
        workouts: 100,
        ..FakeOptions::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Idle and slow connections, no auth.
    let plain = dir.path().join("plain.yml");
    std::fs::write(&plain, "").unwrap();
    let running = exporter(&fake, &dir.path().join("a"), &plain).await;
    let url = format!("http://{}/metrics", running.addr);
    let scraper = client([127, 0, 0, 1], false);
    report(
        "baseline (new connection per scrape)",
        scrapes(&scraper, &url, None, n).await,
        n,
    );
    for count in [600, 2000] {
        let opened = Arc::new(AtomicUsize::new(0));
        let tasks = hostile(running.addr, count, &opened);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let r = scrapes(&scraper, &url, None, n).await;
        for t in &tasks {
            t.abort();
        }
        report(
            &format!(
                "{count} idle/slow connections ({} connects)",
                opened.load(Ordering::Relaxed)
            ),
            r,
            n,
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    running.stop().await.unwrap();

    // A wrong-password flood at cost 12.
    let password = "the-right-one";
    let auth = dir.path().join("auth.yml");
    std::fs::write(
        &auth,
        format!(
            "basic_auth_users:\n  prometheus: {}\n  grafana: {}\n",
            bcrypt::hash(password, 12).unwrap(),
            bcrypt::hash("grafana-password", 12).unwrap()
        ),
    )
    .unwrap();
    let running = exporter(&fake, &dir.path().join("b"), &auth).await;
    let url = format!("http://{}/metrics", running.addr);
    let prometheus = client([127, 0, 0, 1], true);
    let creds = Some(("prometheus", password));
    report(
        "basic auth cost 12, no attack (cached after the first)",
        scrapes(&prometheus, &url, creds, n).await,
        n,
    );
    let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let attackers: Vec<_> = (0..50u8)
        .map(|a| {
            let (url, statuses) = (url.clone(), statuses.clone());
            tokio::spawn(async move {
                let c = client([127, 0, 2, a + 1], true);
                for i in 0.. {
                    let pw = format!("guess-{a}-{i}");
                    let code = match c.get(&url).basic_auth("prometheus", Some(pw)).send().await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    *statuses.lock().unwrap().entry(code).or_insert(0u64) += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let r = scrapes(&prometheus, &url, creds, n).await;
    report("basic auth cost 12, 50 attackers from 50 addresses", r, n);
    // A user whose password was never verified needs a bcrypt, and waits its turn on the
    // pool behind the attackers' checks.
    let first = Instant::now();
    let fresh = client([127, 0, 0, 2], true);
    let ok = fresh
        .get(&url)
        .basic_auth("grafana", Some("grafana-password"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    println!(
        "a user never verified before, during the flood (one bcrypt): {ok:?} in {:.0} ms",
        first.elapsed().as_secs_f64() * 1e3
    );
    for a in &attackers {
        a.abort();
    }
    println!(
        "attackers' answers by status: {:?}",
        statuses.lock().unwrap()
    );
    let web = running.web.clone().unwrap();
    println!(
        "authorised credential still cached: {}",
        web.current().is_cached("prometheus", password)
    );
    running.stop().await.unwrap();
}
