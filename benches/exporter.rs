//! In-process benchmarks against the fake Peloton (`cargo bench --bench exporter`).
//!
//! For a member with 100, 2,000 and 20,000 workouts (`PELOTON_BENCH_SIZES=100,2000`
//! to choose), each size in a fresh temporary store:
//!
//! - the first full history sync: wall time and the Peloton requests and response bytes
//!   per endpoint, checked against ceil(N/100) list pages + one graph per workout;
//! - steady-state polls (nothing new): requests, bytes and wall time per poll;
//! - one new workout: requests and bytes of the poll that picks it up;
//! - `/metrics` rendering (families + writer, what the handler does) in both formats:
//!   p50/p99 time and body size;
//! - the restart load (every stored workout read back into the lifetime totals);
//! - backfill file generation (`backfill::write` into a sink) per 1,000 workouts.
//!
//! It ends with a scaling check: a per-workout cost (sync, restart load, backfill) that
//! grows by more than 1.5x from one size to the next is printed as SUPER-LINEAR, and a
//! per-poll or per-scrape cost that grows with the size as GROWS WITH N. Results are also
//! written as JSON to `target/bench/in_process.json`
//! (or `PELOTON_BENCH_JSON`). Whole-process figures (RSS, CPU, wrk, the Python peer) come
//! from `bench/run.sh`; see docs/benchmarks.md.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser as _;
use peloton_exporter::domain::totals::Totals;
use peloton_exporter::exposition::{self, Format};
use peloton_exporter::history::backfill::{self, AccountHistory};
use peloton_exporter::http::render_cache::Registry;
use peloton_exporter::metrics::collectors::Collectors;
use peloton_exporter::metrics::{self, AccountView, BuildInfo};
use peloton_exporter::run;
use peloton_exporter::settings::flags::Cli;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, RecordedRequest};
use serde_json::{Value, json};

/// Request count and response body bytes per endpoint.
#[derive(Debug, Default, Clone)]
struct Traffic {
    by_endpoint: BTreeMap<String, (u64, u64)>,
}

impl Traffic {
    fn of(requests: &[RecordedRequest]) -> Self {
        let mut t = Traffic::default();
        for r in requests {
            let e = t.by_endpoint.entry(name(r.endpoint)).or_default();
            e.0 += 1;
            e.1 += r.response_bytes as u64;
        }
        t
    }

    fn requests(&self) -> u64 {
        self.by_endpoint.values().map(|v| v.0).sum()
    }

    fn bytes(&self) -> u64 {
        self.by_endpoint.values().map(|v| v.1).sum()
    }

    fn count(&self, endpoint: Endpoint) -> u64 {
        self.by_endpoint.get(&name(endpoint)).map_or(0, |v| v.0)
    }

    fn describe(&self) -> String {
        self.by_endpoint
            .iter()
            .map(|(k, (n, b))| format!("{k} {n} ({})", human_bytes(*b)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests(),
            "bytes": self.bytes(),
            "by_endpoint": self.by_endpoint.iter()
                .map(|(k, (n, b))| (k.clone(), json!({"requests": n, "bytes": b})))
                .collect::<serde_json::Map<_, _>>(),
        })
    }
}

fn name(e: Endpoint) -> String {
    format!("{e:?}")
}

fn human_bytes(b: u64) -> String {
    match b {
        0..1_000 => format!("{b} B"),
        1_000..1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        _ => format!("{:.1} MB", b as f64 / 1e6),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 of `samples` (sorted in place).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

struct Render {
    p50: Duration,
    p99: Duration,
    bytes: usize,
    iterations: usize,
}

/// What `/metrics` does for one account after a change (a cache miss): build the families
/// from the snapshot and telemetry, then write them.
fn render_once(view: &AccountView, format: Format) -> usize {
    let families = metrics::families(
        BuildInfo::CURRENT,
        std::slice::from_ref(view),
        &peloton_exporter::metrics::collectors::Collectors::default(),
    );
    let (body, _) = exposition::render(format, &families).expect("renders");
    body.len()
}

fn bench_render(mut render: impl FnMut() -> usize) -> Render {
    for _ in 0..50 {
        std::hint::black_box(render());
    }
    let mut samples = Vec::new();
    let mut bytes = 0;
    let started = Instant::now();
    while samples.len() < 500
        || (started.elapsed() < Duration::from_secs(1) && samples.len() < 20_000)
    {
        let t = Instant::now();
        bytes = std::hint::black_box(render());
        samples.push(t.elapsed());
    }
    let (p50, p99) = percentiles(&mut samples);
    Render {
        p50,
        p99,
        bytes,
        iterations: samples.len(),
    }
}

struct SizeResult {
    n: usize,
    json: Value,
    /// Per-workout costs, for the scaling check: (what, seconds or bytes per workout).
    per_workout: Vec<(&'static str, f64)>,
    /// Costs that should not depend on the workout count at all.
    constant: Vec<(&'static str, f64)>,
}

async fn bench_size(n: usize) -> SizeResult {
    println!("\n## {n} workouts\n");
    let fake = FakePeloton::start(FakeOptions {
        workouts: n,
        ..FakeOptions::default()
    })
    .await
    .expect("fake starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let cli = Cli::try_parse_from([
        "peloton-exporter".to_owned(),
        format!("--peloton.api-url={}", fake.api_url()),
        format!("--peloton.auth-url={}", fake.auth_url()),
        format!("--peloton.refresh-token={}", fake.refresh_token()),
        format!("--storage.path={}", dir.path().display()),
        "--poll.interval=1h".to_owned(),
        "--peloton.max-request-rate=1000".to_owned(),
        "--log.level=error".to_owned(),
    ])
    .expect("flags parse");
    let settings = cli.settings().expect("settings");
    let mut parts = run::accounts(&settings)
        .expect("account")
        .pop()
        .expect("one account");

    // First full sync.
    fake.clear_requests();
    let t = Instant::now();
    parts.poller.sync().await.expect("sync");
    let sync_time = t.elapsed();
    let sync = Traffic::of(&fake.requests());
    let completed = fake
        .member()
        .workouts
        .iter()
        .filter(|w| w.end_time.is_some())
        .count() as u64;
    let pages = sync.count(Endpoint::Workouts);
    let graphs = sync.count(Endpoint::PerformanceGraph);
    let details = sync.count(Endpoint::Workout);
    let page_budget = (n as u64).div_ceil(100);
    let sync_ok = pages <= page_budget && graphs <= completed && details <= 1;
    println!(
        "first sync: {:.2} s ({:.3} ms/workout), {} requests, {}: {}",
        sync_time.as_secs_f64(),
        ms(sync_time) / n as f64,
        sync.requests(),
        human_bytes(sync.bytes()),
        sync.describe()
    );
    println!(
        "  list pages {pages} (budget ceil(N/100) = {page_budget}), graphs {graphs} (completed {completed}), details {details}: {}",
        if sync_ok { "OK" } else { "OVER BUDGET" }
    );

    // Steady state: nothing new.
    parts.poller.poll_once().await;
    fake.clear_requests();
    let polls: u32 = 20;
    let mut poll_times = Vec::new();
    for _ in 0..polls {
        let t = Instant::now();
        parts.poller.poll_once().await;
        poll_times.push(t.elapsed());
    }
    let steady = Traffic::of(&fake.requests());
    let (poll_p50, poll_p99) = percentiles(&mut poll_times);
    println!(
        "steady poll: {:.2} requests, {} per poll ({}); wall p50 {:.3} ms, p99 {:.3} ms",
        steady.requests() as f64 / f64::from(polls),
        human_bytes(steady.bytes() / u64::from(polls)),
        steady.describe(),
        ms(poll_p50),
        ms(poll_p99)
    );

    // One new workout.
    fake.add_workout("cycling");
    fake.clear_requests();
    let t = Instant::now();
    parts.poller.poll_once().await;
    let new_time = t.elapsed();
    let new_workout = Traffic::of(&fake.requests());
    println!(
        "new workout: {} requests, {} ({}); {:.3} ms",
        new_workout.requests(),
        human_bytes(new_workout.bytes()),
        new_workout.describe(),
        ms(new_time)
    );

    // /metrics rendering.
    let view = peloton_exporter::metrics::AccountView::of(&parts.state);
    let classic = bench_render(|| render_once(&view, Format::Classic));
    let om = bench_render(|| render_once(&view, Format::OpenMetrics));
    // Between polls nothing changes: the handler serves the body cached in the registry.
    let registry = Registry::new(
        std::sync::Arc::from(vec![parts.state.clone()]),
        Collectors::default(),
    );
    let cached = |format| bench_render(|| registry.render(format).expect("renders").0.len());
    let classic_cached = cached(Format::Classic);
    let om_cached = cached(Format::OpenMetrics);
    for (label, r) in [
        ("classic 0.0.4 after a change", &classic),
        ("OpenMetrics after a change", &om),
        ("classic 0.0.4 between polls (cached)", &classic_cached),
        ("OpenMetrics between polls (cached)", &om_cached),
    ] {
        println!(
            "render {label}: p50 {:.1} µs, p99 {:.1} µs, {} bytes ({} iterations)",
            r.p50.as_secs_f64() * 1e6,
            r.p99.as_secs_f64() * 1e6,
            r.bytes,
            r.iterations
        );
    }

    // The split: building the families alone (the rest of a render is the writer).
    let mut fam_times = Vec::new();
    let t = Instant::now();
    while fam_times.len() < 2_000 || t.elapsed() < Duration::from_millis(500) {
        let s = Instant::now();
        std::hint::black_box(metrics::families(
            BuildInfo::CURRENT,
            std::slice::from_ref(&view),
            &peloton_exporter::metrics::collectors::Collectors::default(),
        ));
        fam_times.push(s.elapsed());
        if fam_times.len() >= 20_000 {
            break;
        }
    }
    let (fam_p50, _) = percentiles(&mut fam_times);
    let series: usize = metrics::families(
        BuildInfo::CURRENT,
        std::slice::from_ref(&view),
        &peloton_exporter::metrics::collectors::Collectors::default(),
    )
    .iter()
    .map(|f| f.series.len())
    .sum();
    println!(
        "  of which families alone: p50 {:.1} µs ({series} series)",
        fam_p50.as_secs_f64() * 1e6
    );

    // Restart: every stored workout read back into the totals (what Poller::load does).
    let t = Instant::now();
    let mut totals = Totals::default();
    parts
        .store
        .for_each(|w| totals.update(None, &w.summary))
        .expect("read store");
    let load_time = t.elapsed();
    std::hint::black_box(&totals);
    println!(
        "restart load (totals from the store): {:.1} ms ({:.2} µs/workout)",
        ms(load_time),
        load_time.as_secs_f64() * 1e6 / n as f64
    );

    // Backfill file generation.
    let mut workouts = Vec::new();
    parts
        .store
        .for_each(|w| workouts.push(w.summary))
        .expect("read store");
    let histories = [AccountHistory {
        account: None,
        workouts,
        training: parts.store.training_rows().expect("read store"),
        traces: None,
    }];
    let options = backfill::Options {
        from: None,
        to: i64::MAX,
        labels: vec![("job".to_owned(), "peloton".to_owned())],
        collectors: peloton_exporter::metrics::collectors::Collectors::default(),
        include_imported: false,
        traces: false,
    };
    let mut backfill_best = Duration::MAX;
    let mut backfill_stats = None;
    let mut counter = CountingSink::default();
    for round in 0..3 {
        let t = Instant::now();
        let stats = if round == 0 {
            backfill::write(&histories, &options, &mut counter).expect("backfill")
        } else {
            backfill::write(&histories, &options, &mut std::io::sink()).expect("backfill")
        };
        backfill_best = backfill_best.min(t.elapsed());
        backfill_stats = Some(stats);
    }
    let stats = backfill_stats.expect("ran");
    let per_1000 = backfill_best.as_secs_f64() * 1e3 * 1000.0 / stats.workouts.max(1) as f64;
    println!(
        "backfill: {:.1} ms for {} workouts ({per_1000:.1} ms per 1,000), {} series, {} samples, {}",
        ms(backfill_best),
        stats.workouts,
        stats.series,
        stats.samples,
        human_bytes(counter.0)
    );

    let json = json!({
        "workouts": n,
        "completed": completed,
        "first_sync": {
            "seconds": sync_time.as_secs_f64(),
            "traffic": sync.json(),
            "list_pages": pages, "list_page_budget": page_budget,
            "graphs": graphs, "details": details, "within_budget": sync_ok,
        },
        "steady_poll": {
            "polls": polls,
            "requests_per_poll": steady.requests() as f64 / f64::from(polls),
            "bytes_per_poll": steady.bytes() as f64 / f64::from(polls),
            "traffic": steady.json(),
            "wall_ms_p50": ms(poll_p50), "wall_ms_p99": ms(poll_p99),
        },
        "new_workout": {"traffic": new_workout.json(), "wall_ms": ms(new_time)},
        "render": {
            "classic": {"p50_us": classic.p50.as_secs_f64() * 1e6, "p99_us": classic.p99.as_secs_f64() * 1e6, "bytes": classic.bytes},
            "openmetrics": {"p50_us": om.p50.as_secs_f64() * 1e6, "p99_us": om.p99.as_secs_f64() * 1e6, "bytes": om.bytes},
            "classic_cached": {"p50_us": classic_cached.p50.as_secs_f64() * 1e6, "p99_us": classic_cached.p99.as_secs_f64() * 1e6},
            "openmetrics_cached": {"p50_us": om_cached.p50.as_secs_f64() * 1e6, "p99_us": om_cached.p99.as_secs_f64() * 1e6},
            "families_only_p50_us": fam_p50.as_secs_f64() * 1e6,
            "series": series,
        },
        "restart_load_ms": ms(load_time),
        "backfill": {
            "ms": ms(backfill_best), "ms_per_1000": per_1000, "workouts": stats.workouts,
            "series": stats.series, "samples": stats.samples, "bytes": counter.0,
        },
    });
    fake.shutdown().await;
    SizeResult {
        n,
        json,
        per_workout: vec![
            ("first sync wall time", sync_time.as_secs_f64() / n as f64),
            ("restart load", load_time.as_secs_f64() / n as f64),
            ("backfill", backfill_best.as_secs_f64() / n as f64),
            ("backfill bytes", counter.0 as f64 / n as f64),
        ],
        constant: vec![
            ("steady poll wall time", poll_p50.as_secs_f64()),
            (
                "steady poll bytes",
                steady.bytes() as f64 / f64::from(polls),
            ),
            ("render classic", classic.p50.as_secs_f64()),
            ("render OpenMetrics", om.p50.as_secs_f64()),
            ("cached scrape classic", classic_cached.p50.as_secs_f64()),
            ("cached scrape OpenMetrics", om_cached.p50.as_secs_f64()),
        ],
    }
}

/// Counts what would be written.
#[derive(Default)]
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sizes() -> Vec<usize> {
    std::env::var("PELOTON_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![100, 2_000, 20_000])
}

/// Flags a per-workout cost that grows with N (linear work has a flat per-workout cost)
/// and a per-poll or per-scrape cost that grows with N (it should not depend on N).
fn scaling_check(results: &[SizeResult]) -> Vec<String> {
    let mut problems = Vec::new();
    for pair in results.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let growth = b.n as f64 / a.n as f64;
        // Small sizes carry fixed costs (start-up, the token exchange, the 730 days of
        // midnight samples), so per-workout costs usually fall; growth beyond 1.5x
        // means worse than linear.
        for ((what, cost_a), (_, cost_b)) in a.per_workout.iter().zip(&b.per_workout) {
            if *cost_a > 0.0 && cost_b / cost_a > 1.5 {
                problems.push(format!(
                    "SUPER-LINEAR: {what}: {cost_a:.3e}/workout at {} -> {cost_b:.3e}/workout at {} ({:.1}x)",
                    a.n,
                    b.n,
                    cost_b / cost_a
                ));
            }
        }
        // Constant costs may wobble with machine noise; growing with a sizeable share of
        // the size ratio means they scale with N.
        for ((what, cost_a), (_, cost_b)) in a.constant.iter().zip(&b.constant) {
            if *cost_a > 0.0 && cost_b / cost_a > 2.0_f64.max(growth.sqrt()) {
                problems.push(format!(
                    "GROWS WITH N: {what}: {cost_a:.3e} at {} -> {cost_b:.3e} at {} ({:.1}x for {growth:.0}x the workouts)",
                    a.n,
                    b.n,
                    cost_b / cost_a
                ));
            }
        }
    }
    problems
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let mut results = Vec::new();
    for n in sizes() {
        results.push(runtime.block_on(bench_size(n)));
    }
    println!("\n## scaling\n");
    let problems = scaling_check(&results);
    if problems.is_empty() {
        println!(
            "per-workout costs flat or falling, per-poll and per-scrape costs flat: nothing grows faster than linearly"
        );
    }
    for p in &problems {
        println!("{p}");
    }
    let out = json!({
        "sizes": results.iter().map(|r| r.json.clone()).collect::<Vec<_>>(),
        "scaling_problems": problems,
        "seconds": started.elapsed().as_secs_f64(),
    });
    let path = std::env::var("PELOTON_BENCH_JSON").unwrap_or_else(|_| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
        let _ = std::fs::create_dir_all(&dir);
        dir.join("in_process.json").display().to_string()
    });
    match std::fs::write(&path, format!("{out:#}\n")) {
        Ok(()) => println!(
            "\nresults: {path} ({:.0} s)",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!("cannot write {path}: {e}"),
    }
}
