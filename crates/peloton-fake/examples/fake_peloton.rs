//! The fake Peloton (API + Auth0) in a process of its own, for whole-process benchmarks
//! (`bench/run.sh`), so its CPU and memory are never counted as the exporter's.
//!
//! ```sh
//! cargo run --release --example fake_peloton -- --workouts 20000 --port 0
//! cargo run --example fake_peloton -- --live-ride
//! ```
//!
//! `--live-ride` runs the live-ride demo (`FakeOptions::demo_live`): a 5-minute cycling class
//! in real time from start, then every 30 s after one ends, the next.
//!
//! Prints one JSON line on stdout once serving, then serves until killed (SIGTERM/SIGINT):
//! `{"api_url", "auth_url", "refresh_token", "access_token", "user_id", "workouts",
//! "control_url"}`. `access_token` is valid for 7 days (for clients that take a bearer
//! token, like the Python peer).
//!
//! The control server (loopback, `--port`, 0 = any free port) belongs to this example, not
//! to the fake:
//!
//! | request | answer |
//! |---|---|
//! | `GET /requests` | request count and response body bytes, total and per endpoint, since the last clear |
//! | `GET /requests?log=1` | the same plus every request (method, path, query, status, bytes) |
//! | `POST /clear` | forgets the request log |
//! | `POST /add_workout?discipline=cycling` | adds a workout that completed now; answers its id |
//! | `POST /start_live_ride?discipline=cycling&class_s=1200&ride_for_s=1200&started_ago_s=0` | starts a live ride (all optional; `ride_for_s=none`: until completed); answers its id |
//! | `POST /complete_workout?id=ID` | completes an in-progress workout now |
//! | `GET /refresh_token` | a currently valid refresh token |
//!
//! SIGUSR1 prints the `/requests` summary to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use peloton_fake::{FakeOptions, FakePeloton, LiveRide, RecordedRequest};
use serde_json::{Value, json};

const USAGE: &str =
    "usage: fake_peloton [--workouts N] [--port PORT] [--seed N] [--history-days N] [--live-ride]";

struct Args {
    workouts: usize,
    port: u16,
    seed: u64,
    history_days: u32,
    live_ride: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        workouts: FakeOptions::default().workouts,
        port: 0,
        seed: FakeOptions::default().seed,
        history_days: FakeOptions::default().history_days,
        live_ride: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(USAGE.to_owned());
        }
        if name == "--live-ride" && inline.is_none() {
            args.live_ride = true;
            continue;
        }
        let value = inline
            .or_else(|| it.next())
            .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
        let bad = |e: std::num::ParseIntError| format!("{name}: {e}\n{USAGE}");
        match name.as_str() {
            "--workouts" => args.workouts = value.parse().map_err(bad)?,
            "--port" => args.port = value.parse().map_err(bad)?,
            "--seed" => args.seed = value.parse().map_err(bad)?,
            "--history-days" => args.history_days = value.parse().map_err(bad)?,
            _ => return Err(format!("unknown flag {name}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn summary(requests: &[RecordedRequest], with_log: bool) -> Value {
    let mut by_endpoint: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in requests {
        let e = by_endpoint.entry(format!("{:?}", r.endpoint)).or_default();
        e.0 += 1;
        e.1 += r.response_bytes as u64;
    }
    let mut out = json!({
        "requests": requests.len(),
        "bytes": requests.iter().map(|r| r.response_bytes as u64).sum::<u64>(),
        "by_endpoint": by_endpoint
            .into_iter()
            .map(|(k, (n, b))| (k, json!({"requests": n, "bytes": b})))
            .collect::<serde_json::Map<_, _>>(),
    });
    if with_log && let Some(obj) = out.as_object_mut() {
        let log: Vec<Value> = requests
            .iter()
            .map(|r| {
                json!({
                    "method": r.method, "path": r.path, "query": r.query,
                    "endpoint": format!("{:?}", r.endpoint), "status": r.status,
                    "bytes": r.response_bytes,
                })
            })
            .collect();
        obj.insert("log".to_owned(), Value::Array(log));
    }
    out
}

type Fake = Arc<FakePeloton>;

async fn requests(State(fake): State<Fake>, Query(q): Query<HashMap<String, String>>) -> String {
    let with_log = q.get("log").is_some_and(|v| v == "1");
    summary(&fake.requests(), with_log).to_string()
}

async fn clear(State(fake): State<Fake>) -> &'static str {
    fake.clear_requests();
    "cleared\n"
}

async fn add_workout(State(fake): State<Fake>, Query(q): Query<HashMap<String, String>>) -> String {
    let discipline = q.get("discipline").map_or("cycling", String::as_str);
    fake.add_workout(discipline) + "\n"
}

/// `name` of the query in whole seconds; `Err` names the bad value.
fn seconds(q: &HashMap<String, String>, name: &str) -> Result<Option<Duration>, String> {
    q.get(name)
        .map(|v| {
            v.parse()
                .map(Duration::from_secs)
                .map_err(|e| format!("{name}: {e}\n"))
        })
        .transpose()
}

async fn start_live_ride(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<String, (axum::http::StatusCode, String)> {
    let bad = |e| (axum::http::StatusCode::BAD_REQUEST, e);
    let mut spec = LiveRide::default();
    if let Some(d) = q.get("discipline") {
        spec.discipline.clone_from(d);
    }
    if let Some(class) = seconds(&q, "class_s").map_err(bad)? {
        spec.class_length = class;
        spec.ride_for = Some(class);
    }
    if q.get("ride_for_s").is_some_and(|v| v == "none") {
        spec.ride_for = None;
    } else if let Some(r) = seconds(&q, "ride_for_s").map_err(bad)? {
        spec.ride_for = Some(r);
    }
    spec.started_ago = seconds(&q, "started_ago_s")
        .map_err(bad)?
        .unwrap_or_default();
    Ok(fake.start_live_ride(spec) + "\n")
}

async fn complete_workout(
    State(fake): State<Fake>,
    Query(q): Query<HashMap<String, String>>,
) -> &'static str {
    if let Some(id) = q.get("id") {
        fake.complete_workout(id);
    }
    "ok\n"
}

async fn refresh_token(State(fake): State<Fake>) -> String {
    fake.refresh_token() + "\n"
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::io::Result<()> {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let fake = Arc::new(
        FakePeloton::start(FakeOptions {
            seed: args.seed,
            workouts: args.workouts,
            history_days: args.history_days,
            live_ride: args.live_ride.then(LiveRide::demo),
            ..FakeOptions::default()
        })
        .await?,
    );
    let control = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let control_url = format!("http://{}", control.local_addr()?);
    let app = Router::new()
        .route("/requests", get(requests))
        .route("/clear", post(clear))
        .route("/add_workout", post(add_workout))
        .route("/start_live_ride", post(start_live_ride))
        .route("/complete_workout", post(complete_workout))
        .route("/refresh_token", get(refresh_token))
        .with_state(fake.clone());
    let server = tokio::spawn(async move { axum::serve(control, app).await });

    let ready = json!({
        "api_url": fake.api_url(),
        "auth_url": fake.auth_url(),
        "refresh_token": fake.refresh_token(),
        "access_token": fake.mint_access_token(Duration::from_secs(7 * 86_400)),
        "user_id": fake.user_id(),
        "workouts": args.workouts,
        "control_url": control_url,
    });
    println!("{ready}");

    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = usr1.recv() => eprintln!("{}", summary(&fake.requests(), false)),
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    server.abort();
    Ok(())
}
