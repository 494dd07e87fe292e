//! What Peloton (or whatever answers in its name) may send, injected one case at a time:
//! Retry-After no clock can add, a list that never ends, 200 answers that are not a list
//! page, a flood of month keys, values that cannot be true, workouts from other services,
//! a list that moves while we page, a workout listed late, a storage path two processes
//! want, and a store that cannot be written. Each test bounds its counts and waits.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::truth::{by_discipline, exact, truth};
use common::*;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, Fault};

fn small() -> FakeOptions {
    FakeOptions {
        workouts: 24,
        history_days: 60,
        ..FakeOptions::default()
    }
}

fn args_plus(fake: &FakePeloton, dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args_with_token(fake, dir);
    a.push("--peloton.max-retries=1".to_owned());
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a
}

fn reason(s: &Samples, r: &str) -> f64 {
    value(s, &format!("peloton_poll_errors_total{{reason=\"{r}\"}}")).unwrap_or(0.0)
}

async fn spawn_binary(fake: &FakePeloton, dir: &Path, extra: &[&str]) -> ExporterProcess {
    let mut a = args_plus(fake, dir, extra);
    a.retain(|x| !x.starts_with("--web.listen-address"));
    a.push(format!("--web.listen-address=127.0.0.1:{}", free_port()));
    let log = dir.with_extension(format!("{}.log", free_port()));
    let p = ExporterProcess::spawn(&a, &[], log);
    wait_synced(p.addr).await;
    p
}

/// `Retry-After: 18446744073709551615` used to panic the poller ("overflow when adding
/// duration to instant") behind a healthy `peloton_up`; an HTTP date in the year 9999 used
/// to stop polling for millennia. Both are capped (an hour here) and logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_beyond_any_clock_is_capped_and_nothing_dies() {
    for (what, fault) in [
        (
            "u64::MAX seconds",
            Fault::RateLimited {
                retry_after: Some(u64::MAX),
            },
        ),
        (
            "a date in 9999",
            Fault::RateLimitedUntil("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        ),
    ] {
        let fake = fake(small()).await;
        let dir = tempfile::tempdir().unwrap();
        let exporter = spawn_binary(&fake, dir.path(), &[]).await;
        fake.faults().push(Endpoint::Workouts, fault, 2);
        let s = wait_for_samples(exporter.addr, "rate limited", |s| {
            reason(s, "rate_limited") >= 1.0
        })
        .await;
        assert_eq!(value(&s, "peloton_up"), Some(0.0), "{what}");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let (_, body) = scrape(exporter.addr, None).await;
        let s = samples(&body);
        assert_eq!(
            reason(&s, "internal"),
            0.0,
            "{what}: the poller did not die"
        );
        assert_eq!(value(&s, "peloton_up"), Some(0.0), "{what}");
        let log = exporter.stop();
        assert!(log.contains("capped_seconds=3600"), "{what}: {log}");
        // The poll-failure line itself says the wait kept, not only what was asked.
        let failed = log
            .lines()
            .find(|l| l.contains("poll failed") && l.contains("rate limited"))
            .unwrap_or_else(|| panic!("{what}: no poll-failure line: {log}"));
        assert!(
            failed.contains("waiting_seconds=3600") && failed.contains("next try in 3600s"),
            "{what}: {failed}"
        );
        assert!(!log.contains("panicked"), "{what}: {log}");
    }
}

/// A cursor that never ends (the page number ignored, `show_next` always true) used to page
/// forever during the first sync. The sync stops when a page brings nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_list_ends_the_first_sync_after_a_page_of_nothing_new() {
    let fake = fake(FakeOptions {
        workouts: 40,
        ..small()
    })
    .await;
    fake.faults().set_endless_list(true);
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(&fake, dir.path(), &[])).await;
    wait_synced(exporter.addr).await;
    let list_requests = fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Workouts)
        .count();
    // Page 0 (new), page "1" (page 0 again: nothing new, stop), then page 0 per poll.
    assert!(list_requests <= 6, "{list_requests} list requests");
    let s = samples(&scrape(exporter.addr, None).await.1);
    assert!(exact(&s, &fake), "all 40 workouts counted once");
    exporter.stop().await.unwrap();
}

/// `{}` or `[]` with a 200 where a list page is expected used to read as "no workouts":
/// the monthly series vanished for a poll. Now it is a failed poll and nothing vanishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_that_is_not_a_list_page_is_an_invalid_response() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(&fake, dir.path(), &[])).await;
    let good = wait_synced(exporter.addr).await;
    let months = series(&good, "peloton_workouts_by_month").len();
    assert!(months > 0);
    for (n, body) in ["{}", "[]"].into_iter().enumerate() {
        fake.faults()
            .push(Endpoint::Workouts, Fault::Json(body.to_owned()), 2);
        let s = wait_for_samples(exporter.addr, body, |s| {
            reason(s, "invalid_response") >= (n + 1) as f64
        })
        .await;
        assert_eq!(
            series(&s, "peloton_workouts_by_month").len(),
            months,
            "{body}"
        );
        assert_eq!(value(&s, "peloton_up"), Some(0.0));
    }
    wait_for_samples(exporter.addr, "recovered", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    exporter.stop().await.unwrap();
}

/// One answer with 600,000 month keys used to make 600,000 series. Only keys that are a
/// month of Peloton's life count: at most one per month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_month_keys_makes_no_series() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(&fake, dir.path(), &[])).await;
    let good = wait_synced(exporter.addr).await;
    let real = series(&good, "peloton_workouts_by_month").len();
    let mut summary = serde_json::Map::new();
    for i in 0..600_000u32 {
        let key = match i % 4 {
            0 => format!("k{i}"),
            1 => format!("{}-{:02}", 1000 + i % 9000, 13 + (i / 9000) % 87),
            2 => format!("{}-{:02}", 3000 + i, 1 + i % 12),
            _ => format!("2019-{:02}-{i}", 1 + i % 12),
        };
        summary.insert(key, serde_json::Value::from(1));
    }
    summary.insert("2020-05".to_owned(), serde_json::Value::from(7));
    assert!(summary.len() > 590_000);
    let body = serde_json::json!({"data": [], "total": 24, "summary": summary}).to_string();
    // Every poll gets the flood until the test has looked.
    fake.faults()
        .push(Endpoint::Workouts, Fault::Json(body), 100);
    eventually(Duration::from_secs(60), "two floods served", || async {
        let floods = fake
            .requests()
            .iter()
            .filter(|r| r.endpoint == Endpoint::Workouts && r.response_bytes > 5_000_000)
            .count();
        (floods >= 2).then_some(())
    })
    .await;
    let (_, text) = scrape(exporter.addr, None).await;
    let months = series(&samples(&text), "peloton_workouts_by_month").len();
    assert!(
        months <= 1,
        "{months} month series (the real list had {real})"
    );
    assert!(text.len() < 200_000, "/metrics is {} bytes", text.len());
    fake.faults().clear();
    exporter.stop().await.unwrap();
}

/// A page of the real list with extra items: two workouts of 1.5e308 J (their sum used to
/// make `peloton_output_joules_total` +Inf, persisted), and one dated ten years ahead (it
/// used to pin every `peloton_latest_workout_*` series).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_cannot_be_true_are_dropped_and_the_future_is_never_latest() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(&fake, dir.path(), &[])).await;
    let good = wait_synced(exporter.addr).await;
    let latest_end = value(&good, "peloton_latest_workout_end_timestamp_seconds").unwrap();
    let output_before = by_discipline(&good, "peloton_output_joules_total");

    let mut page = peloton_json(
        &fake,
        &format!(
            "/api/user/{}/workouts?joins=ride,ride.instructor&limit=10&page=0&sort_by=-created",
            fake.user_id()
        ),
    )
    .await;
    let template = page["data"][0].clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut extra = Vec::new();
    for (i, work) in [1.5e308, 1.5e308].into_iter().enumerate() {
        let mut w = template.clone();
        w["id"] = format!("{:032x}", 0xabc0 + i).into();
        w["status"] = "COMPLETE".into();
        w["fitness_discipline"] = "cycling".into();
        w["total_work"] = work.into();
        w["created_at"] = (now - 60).into();
        w["start_time"] = (now - 1860).into();
        w["end_time"] = (now - 60).into();
        extra.push(w);
    }
    let mut future = template.clone();
    future["id"] = format!("{:032x}", 0xf0f0).into();
    future["status"] = "COMPLETE".into();
    let ahead = now + 10 * 365 * 86_400;
    future["created_at"] = ahead.into();
    future["start_time"] = ahead.into();
    future["end_time"] = (ahead + 1800).into();
    future["total_work"] = 0.0.into();
    extra.insert(0, future);
    let data = page["data"].as_array_mut().unwrap();
    for (i, w) in extra.into_iter().enumerate() {
        data.insert(i, w);
    }
    fake.faults()
        .push(Endpoint::Workouts, Fault::Json(page.to_string()), 3);
    let s = wait_for_samples(exporter.addr, "the odd page read", |s| {
        fake.faults().pending(Endpoint::Workouts) == 0
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    let output = by_discipline(&s, "peloton_output_joules_total");
    for (d, v) in &output {
        assert!(v.is_finite(), "{d}: {v}");
        assert_eq!(
            Some(v),
            output_before.get(d),
            "{d}: the absurd output added nothing"
        );
    }
    assert!(!s.values().any(|v| v.is_infinite()), "no +Inf anywhere");
    let end = value(&s, "peloton_latest_workout_end_timestamp_seconds").unwrap();
    assert!(end < (now + 3600) as f64, "latest is not the future one");
    assert!(end >= latest_end);
    exporter.stop().await.unwrap();
}

/// Imports from Apple Health count apart by default and as workouts with the switch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_workouts_count_apart_unless_included() {
    for include in [false, true] {
        let fake = fake(small()).await;
        let dir = tempfile::tempdir().unwrap();
        let extra: &[&str] = if include {
            &["--peloton.include-imported"]
        } else {
            &[]
        };
        let exporter = start(&args_plus(&fake, dir.path(), extra)).await;
        let before = wait_synced(exporter.addr).await;
        let latest_before = value(&before, "peloton_latest_workout_end_timestamp_seconds");
        let id = fake.add_imported_workout("running", Duration::from_secs(600));
        let imported = fake.member().find_workout(&id).unwrap().clone();
        let s = wait_for_samples(exporter.addr, "import counted", |s| {
            value(s, "peloton_imported_workouts_total{discipline=\"running\"}") == Some(1.0)
                && value(s, "peloton_history_workouts_pending") == Some(0.0)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let s2 = samples(&scrape(exporter.addr, None).await.1);
        let duration = |s: &Samples| {
            value(
                s,
                "peloton_workout_duration_seconds_total{discipline=\"running\"}",
            )
            .unwrap_or(0.0)
        };
        let latest = value(&s2, "peloton_latest_workout_end_timestamp_seconds");
        if include {
            assert!(duration(&s2) > duration(&before), "included in the totals");
            assert_eq!(
                latest,
                imported.end_time.map(|t| t as f64),
                "and the latest"
            );
        } else {
            assert!(
                exact(&s, &fake) && exact(&s2, &fake),
                "totals without the import"
            );
            assert_eq!(duration(&s2), duration(&before));
            assert_eq!(latest, latest_before, "an import is never the latest");
        }
        exporter.stop().await.unwrap();
    }
}

/// Workouts inserted at the head of the list while the first sync pages (and more between
/// polls, with the overview refreshed every poll): `peloton_workouts_total` never counts
/// one twice and never steps back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_stay_exact_while_the_list_moves() {
    let fake = Arc::new(
        fake(FakeOptions {
            workouts: 250,
            ..FakeOptions::default()
        })
        .await,
    );
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(
        &fake,
        dir.path(),
        &[
            "--peloton.max-request-rate=20",
            "--poll.profile-interval=1s",
        ],
    ))
    .await;
    let addr = exporter.addr;
    let seen: Arc<Mutex<Vec<Samples>>> = Arc::default();
    let watcher = {
        let seen = seen.clone();
        tokio::spawn(async move {
            for _ in 0..400 {
                let (_, body) = scrape(addr, None).await;
                seen.lock().unwrap().push(samples(&body));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // While the list pages (3 pages of 100 at 20 requests/s, then details).
    for _ in 0..12 {
        fake.add_workout("cycling");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    wait_synced(addr).await;
    for _ in 0..5 {
        fake.add_workout("running");
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let end = wait_for_samples_within(addr, Duration::from_secs(90), "exact", |s| {
        exact(s, &fake) && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    watcher.abort();
    let seen = seen.lock().unwrap().clone();
    let (truth_counts, _) = truth(&fake);
    for d in truth_counts.keys() {
        let name = format!("peloton_workouts_total{{discipline=\"{d}\"}}");
        let values: Vec<f64> = seen.iter().filter_map(|s| value(s, &name)).collect();
        for pair in values.windows(2) {
            assert!(pair[1] >= pair[0], "{d} stepped back: {values:?}");
        }
        let max = values.iter().copied().fold(0.0, f64::max);
        assert!(
            max <= truth_counts[d],
            "{d} counted {max}, truth {}",
            truth_counts[d]
        );
    }
    assert!(exact(&end, &fake));
    exporter.stop().await.unwrap();
}

/// Two `serve` on one storage path: the second refuses at once, naming the path and the
/// first one's pid (both running used to rotate the one refresh token until the first was
/// signed out for good). `export` meanwhile reads the store without syncing: no token
/// refresh, no request, exact rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_storage_path_and_export_reads_beside_it() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let first = spawn_binary(&fake, &state, &[]).await;
    let pid = std::fs::read_to_string(state.join("peloton-exporter.lock")).unwrap();

    let mut a = args_plus(&fake, &state, &[]);
    a.retain(|x| !x.starts_with("--web.listen-address"));
    a.push(format!("--web.listen-address=127.0.0.1:{}", free_port()));
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_peloton-exporter"))
        .args(&a)
        .env_clear()
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let refusal = lines.last().unwrap();
    assert!(
        refusal.contains(&state.display().to_string()) && refusal.contains(pid.trim()),
        "{err}"
    );

    fake.clear_requests();
    let out = dir.path().join("w.csv");
    let export = std::process::Command::new(env!("CARGO_BIN_EXE_peloton-exporter"))
        .args([
            "export".to_owned(),
            format!("--out={}", out.display()),
            format!("--storage.path={}", state.display()),
            format!("--peloton.api-url={}", fake.api_url()),
            format!("--peloton.auth-url={}", fake.auth_url()),
        ])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(String::from_utf8_lossy(&export.stderr).contains("without syncing"));
    let rows = std::fs::read_to_string(&out).unwrap().lines().count() - 1;
    let complete = fake
        .member()
        .workouts
        .iter()
        .filter(|w| w.is_complete())
        .count();
    assert_eq!(rows, complete);
    let asked: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| matches!(r.endpoint, Endpoint::Token | Endpoint::Login))
        .collect();
    assert!(asked.is_empty(), "export refreshed a token: {asked:?}");
    first.stop();
}

/// Against Peloton's own API the poll interval is at least a minute; a test double or the
/// demo may go faster.
#[test]
fn the_real_api_gets_one_poll_a_minute_at_most() {
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_peloton-exporter"))
            .args([
                "check-config",
                "--peloton.refresh-token=r",
                "--poll.interval=10s",
            ])
            .args(extra)
            .env_clear()
            .output()
            .unwrap()
    };
    let real = run(&[]);
    assert!(!real.status.success());
    let err = String::from_utf8_lossy(&real.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("--poll.interval") && err.contains("1m"),
        "{err}"
    );
    let double = run(&["--peloton.api-url=http://127.0.0.1:9"]);
    assert!(
        double.status.success(),
        "{}",
        String::from_utf8_lossy(&double.stderr)
    );
}

/// A store that cannot be written (here: another connection holds it exclusively, as a
/// full disk would refuse) is a `storage` failure, not `invalid_response`; the new
/// workout's graph is fetched once, and stored once the store can be written again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_written_is_a_storage_error_and_costs_no_refetch() {
    let fake = fake(small()).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(&fake, dir.path(), &[])).await;
    wait_synced(exporter.addr).await;
    let db = dir
        .path()
        .join(peloton_exporter::store::database::FILE_NAME);
    let blocker = rusqlite::Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let id = fake.add_workout("rowing");
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(60),
        "storage failure",
        |s| reason(s, "storage") >= 1.0,
    )
    .await;
    assert_eq!(reason(&s, "invalid_response"), 0.0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    wait_for_samples_within(exporter.addr, Duration::from_secs(60), "stored", |s| {
        exact(s, &fake) && value(s, "peloton_up") == Some(1.0)
    })
    .await;
    let graphs = fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::PerformanceGraph && r.path.contains(&id))
        .count();
    assert_eq!(graphs, 1, "the graph of {id} fetched once");
    exporter.stop().await.unwrap();
}

/// Samples a remote-write receiver got: (`__name__` and labels, timestamp ms, value).
type Received = Arc<Mutex<Vec<(BTreeMap<String, String>, i64, f64)>>>;

async fn receiver() -> (String, Received) {
    let (url, got, _) = receiver_refusing(0).await;
    (url, got)
}

/// A receiver that answers 400 to its first `refuse` requests (what they held is the third
/// value) and keeps the rest.
async fn receiver_refusing(refuse: usize) -> (String, Received, Received) {
    use peloton_exporter::history::remote_write::WriteRequest;
    use prost::Message as _;
    let got: Received = Arc::default();
    let refused: Received = Arc::default();
    let (store, refused_store) = (got.clone(), refused.clone());
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/write",
        axum::routing::post(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            let refuse_it = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < refuse;
            let store = if refuse_it {
                refused_store.clone()
            } else {
                store.clone()
            };
            async move {
                let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                let request = WriteRequest::decode(raw.as_slice()).unwrap();
                let mut got = store.lock().unwrap();
                for ts in request.timeseries {
                    let labels: BTreeMap<String, String> =
                        ts.labels.into_iter().map(|l| (l.name, l.value)).collect();
                    for s in ts.samples {
                        got.push((labels.clone(), s.timestamp, s.value));
                    }
                }
                if refuse_it {
                    axum::http::StatusCode::BAD_REQUEST
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/write", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got, refused)
}

/// Peloton lists some workouts minutes to hours after they end. One listed 35 minutes
/// late used to wait for the next workout and be stamped at that one's end; it is pushed
/// at its own end time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workout_listed_late_is_pushed_at_its_end_time() {
    let fake = fake(small()).await;
    let (url, got) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(
        &fake,
        dir.path(),
        &[&format!("--remote-write.url={url}")],
    ))
    .await;
    wait_synced(exporter.addr).await;
    let count_samples = |got: &Received, name: &str| {
        got.lock()
            .unwrap()
            .iter()
            .filter(|(l, _, _)| {
                l.get("__name__").map(String::as_str) == Some(name)
                    && l.get("discipline").map(String::as_str) == Some("cycling")
            })
            .map(|(_, ts, v)| (*ts, *v))
            .collect::<Vec<_>>()
    };
    eventually(Duration::from_secs(30), "history pushed", || async {
        (!count_samples(&got, "peloton_workouts_total").is_empty()).then_some(())
    })
    .await;
    let pushed_until = count_samples(&got, "peloton_workouts_total")
        .iter()
        .map(|(ts, _)| *ts)
        .max()
        .unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // 35 minutes ago, or halfway to the newest pushed workout if that is more recent.
    let ago_ms = (35 * 60 * 1000).min((now_ms - pushed_until) / 2);
    assert!(ago_ms > 1000, "the fake's newest workout is too recent");
    let id = fake.add_late_workout("cycling", Duration::from_millis(ago_ms as u64));
    let end_ms = fake.member().find_workout(&id).unwrap().end_time.unwrap() * 1000;
    assert!(end_ms > pushed_until && end_ms < now_ms);
    let before = count_samples(&got, "peloton_workouts_total")
        .iter()
        .max_by_key(|(ts, _)| *ts)
        .unwrap()
        .1;
    eventually(
        Duration::from_secs(30),
        "the late workout pushed",
        || async {
            count_samples(&got, "peloton_workouts_total")
                .contains(&(end_ms, before + 1.0))
                .then_some(())
        },
    )
    .await;
    let after: Vec<_> = count_samples(&got, "peloton_workouts_total")
        .into_iter()
        .filter(|(ts, _)| *ts > pushed_until)
        .collect();
    assert_eq!(after, [(end_ms, before + 1.0)], "one step, at its end");
    exporter.stop().await.unwrap();
}

/// A receiver refusing a request (400: out of order, too old) cannot be helped by sending
/// it again: it is passed over and counted as a failure, and the rest of the history is
/// still pushed, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_is_passed_over_and_the_rest_still_pushed_once() {
    let fake = fake(small()).await;
    let (url, got, refused) = receiver_refusing(1).await;
    let dir = tempfile::tempdir().unwrap();
    let exporter = start(&args_plus(
        &fake,
        dir.path(),
        &[&format!("--remote-write.url={url}")],
    ))
    .await;
    let s = wait_for_samples(exporter.addr, "the push ran", |s| {
        value(s, "peloton_remote_write_failures_total") >= Some(1.0)
            && value(s, "peloton_remote_write_samples_total") > Some(0.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_remote_write_failures_total"), Some(1.0));
    let accepted = value(&s, "peloton_remote_write_samples_total").unwrap();
    let received = got.lock().unwrap().len() as f64;
    assert_eq!(accepted, received, "what was counted is what arrived");
    let first_kept = got.lock().unwrap().iter().map(|(_, ts, _)| *ts).min();
    // Polls later: the refused day is not sent again, nothing is sent twice.
    let polls = value(&s, "peloton_polls_total").unwrap();
    let later = wait_for_samples(exporter.addr, "three more polls", |s| {
        value(s, "peloton_polls_total") >= Some(polls + 3.0)
    })
    .await;
    assert_eq!(
        value(&later, "peloton_remote_write_failures_total"),
        Some(1.0)
    );
    assert_eq!(got.lock().unwrap().len() as f64, received);
    assert_eq!(
        got.lock().unwrap().iter().map(|(_, ts, _)| *ts).min(),
        first_kept
    );
    let refused = refused.lock().unwrap().clone();
    assert!(!refused.is_empty());
    let got = got.lock().unwrap().clone();
    let again: Vec<_> = refused.iter().filter(|r| got.contains(r)).collect();
    assert!(again.is_empty(), "refused samples sent again: {again:?}");
    exporter.stop().await.unwrap();
}
