//! Fault injection, systematically: every failure Peloton (or the path to it) can produce,
//! on the endpoint where it hurts. For each one the exporter must
//!
//! - stay up and keep serving the last good data, with `peloton_up 0`;
//! - count the failed poll under the right `peloton_poll_errors_total{reason}` (and no
//!   other reason);
//! - recover on the next poll once the fault is gone;
//! - lose no workout and count none twice: `peloton_workouts_total` and
//!   `peloton_output_joules_total` per discipline equal the fake's own truth, including
//!   a workout that completed while the fault lasted, whose details are fetched once.
//!
//! Polls run every second with one retry (`--peloton.max-retries=1`), so a fault queued
//! twice fails exactly one poll and a non-retryable fault queued once does too.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::truth::{assert_exact, exact};
use common::*;
use peloton_exporter::peloton::wire::MAX_BODY_BYTES;
use peloton_exporter::run::Running;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, Fault};

const REASONS: [&str; 6] = [
    "network",
    "timeout",
    "auth",
    "rate_limited",
    "server",
    "invalid_response",
];

/// The exporter's own health series; everything else is the member's data.
const TELEMETRY: [&str; 10] = [
    "process_",
    "peloton_up",
    "peloton_exporter_",
    "peloton_poll",
    "peloton_last_successful_poll",
    "peloton_api_",
    "peloton_auth_",
    "peloton_history_",
    "peloton_login",
    "peloton_token",
];

fn data(s: &Samples) -> Samples {
    s.iter()
        .filter(|(k, _)| !TELEMETRY.iter().any(|p| k.starts_with(p)))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

fn metric_names(s: &Samples) -> BTreeSet<String> {
    s.keys()
        .map(|k| k.split('{').next().unwrap().to_owned())
        .collect()
}

fn reasons(s: &Samples) -> BTreeMap<&'static str, f64> {
    REASONS
        .iter()
        .map(|r| {
            let v = value(s, &format!("peloton_poll_errors_total{{reason=\"{r}\"}}"))
                .unwrap_or_else(|| panic!("reason {r} is always exported"));
            (*r, v)
        })
        .collect()
}

struct Rig {
    fake: FakePeloton,
    exporter: Option<Running>,
    dir: tempfile::TempDir,
    args: Vec<String>,
}

impl Rig {
    /// A small member, synced; `overrides` replace flags of `common::args` by name.
    async fn start(overrides: &[&str]) -> Rig {
        let fake = fake(FakeOptions {
            workouts: 24,
            history_days: 60,
            ..FakeOptions::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let mut a: Vec<String> = args(&fake, dir.path())
            .into_iter()
            .filter(|a| {
                let name = a.split('=').next().unwrap();
                !overrides.iter().any(|o| o.split('=').next() == Some(name))
            })
            .collect();
        a.extend(overrides.iter().map(|o| (*o).to_owned()));
        if !overrides
            .iter()
            .any(|o| o.starts_with("--peloton.max-retries"))
        {
            a.push("--peloton.max-retries=1".to_owned());
        }
        let mut with_token = a.clone();
        with_token.push(format!("--peloton.refresh-token={}", fake.refresh_token()));
        let exporter = start(&with_token).await;
        let rig = Rig {
            fake,
            exporter: Some(exporter),
            dir,
            args: a,
        };
        let synced = wait_synced(rig.addr()).await;
        assert_exact(&synced, &rig.fake, "after the first sync");
        rig
    }

    fn addr(&self) -> SocketAddr {
        self.exporter.as_ref().unwrap().addr
    }

    async fn scrape(&self) -> Samples {
        samples(&scrape(self.addr(), None).await.1)
    }

    async fn wait(&self, what: &str, cond: impl Fn(&Samples) -> bool) -> Samples {
        wait_for_samples_within(self.addr(), Duration::from_secs(60), what, cond).await
    }

    async fn ready_status(&self) -> u16 {
        reqwest::get(format!("http://{}/readyz", self.addr()))
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// Successful performance-graph fetches of `id`.
    fn graph_fetches(&self, id: &str) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| {
                r.endpoint == Endpoint::PerformanceGraph && r.status == 200 && r.path.contains(id)
            })
            .count()
    }

    async fn stop(mut self) {
        if let Some(e) = self.exporter.take() {
            e.stop().await.unwrap();
        }
    }
}

/// Where the fault strikes relative to reading the workout list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strikes {
    /// Before the list is read (or on the list itself): the served data must not change.
    BeforeList,
    /// After the list recorded the new workout: its list values may show, nothing may
    /// vanish or go backwards.
    AfterList,
}

struct Scenario {
    endpoint: Endpoint,
    fault: Fault,
    /// How many requests get the fault: enough to fail exactly one poll.
    times: usize,
    reason: &'static str,
    strikes: Strikes,
    overrides: &'static [&'static str],
    /// The fault clears no sooner than this after it was queued (Retry-After honoured).
    at_least: Duration,
    /// Successful performance-graph requests for the new workout.
    graph_fetches: usize,
}

impl Scenario {
    fn on_list(fault: Fault, times: usize, reason: &'static str) -> Self {
        Scenario {
            endpoint: Endpoint::Workouts,
            fault,
            times,
            reason,
            strikes: Strikes::BeforeList,
            overrides: &[],
            at_least: Duration::ZERO,
            graph_fetches: 1,
        }
    }
}

async fn run(s: Scenario) {
    let rig = Rig::start(s.overrides).await;
    let good = rig.scrape().await;
    let before = reasons(&good);

    let queued = Instant::now();
    rig.fake.faults().push(s.endpoint, s.fault.clone(), s.times);
    // New data arrives while the fault lasts: it must be counted once, after recovery.
    let id = rig.fake.add_workout("cycling");

    let down = rig
        .wait("the poll to fail", |x| value(x, "peloton_up") == Some(0.0))
        .await;
    let failed_poll = value(&down, "peloton_polls_total").unwrap();
    let after = reasons(&down);
    for r in REASONS {
        let grew = after[r] - before[r];
        if r == s.reason {
            assert!(grew >= 1.0, "{r} not counted: {after:?}");
        } else {
            assert_eq!(
                grew, 0.0,
                "counted as {r} instead of {}: {after:?}",
                s.reason
            );
        }
    }
    match s.strikes {
        Strikes::BeforeList => assert_eq!(data(&down), data(&good), "the last good data"),
        Strikes::AfterList => {
            let (was, is) = (data(&good), data(&down));
            let missing: Vec<_> = metric_names(&was)
                .difference(&metric_names(&is))
                .cloned()
                .collect();
            assert!(missing.is_empty(), "vanished while down: {missing:?}");
            for (k, v) in was.iter().filter(|(k, _)| k.contains("_total")) {
                assert!(
                    is.get(k).is_some_and(|n| n >= v),
                    "{k} went back or vanished"
                );
            }
        }
    }
    assert_eq!(rig.ready_status().await, 200, "ready: it has data to serve");

    let up = rig
        .wait("recovery", |x| value(x, "peloton_up") == Some(1.0))
        .await;
    let recovered_poll = value(&up, "peloton_polls_total").unwrap();
    assert!(
        recovered_poll - failed_poll <= 1.0,
        "recovered on poll {recovered_poll}, the fault failed poll {failed_poll}"
    );
    assert!(
        queued.elapsed() >= s.at_least,
        "recovered after {:?}, before Peloton allowed it ({:?})",
        queued.elapsed(),
        s.at_least
    );
    assert_eq!(rig.fake.faults().pending(s.endpoint), 0);
    let end = rig
        .wait("the new workout counted", |x| {
            value(x, "peloton_history_workouts_pending") == Some(0.0) && exact(x, &rig.fake)
        })
        .await;
    assert_exact(&end, &rig.fake, "after recovery");
    // A few more polls change nothing: nothing is counted twice later either.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = rig.scrape().await;
    assert_eq!(value(&later, "peloton_up"), Some(1.0));
    assert_exact(&later, &rig.fake, "polls after recovery");
    assert_eq!(
        rig.graph_fetches(&id),
        s.graph_fetches,
        "details of the new workout fetched once"
    );
    rig.stop().await;
}

macro_rules! scenarios {
    ($($name:ident: $scenario:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            run($scenario).await;
        }
    )*};
}

scenarios! {
    http_500_is_a_server_error: Scenario::on_list(Fault::Status(500), 2, "server");
    http_502_is_a_server_error: Scenario::on_list(Fault::Status(502), 2, "server");
    http_503_is_a_server_error: Scenario::on_list(Fault::Status(503), 2, "server");
    rate_limit_with_retry_after_is_waited_out: Scenario {
        // 2 s inside the poll before the retry, then no call for 2 s more.
        at_least: Duration::from_secs(4),
        ..Scenario::on_list(Fault::RateLimited { retry_after: Some(2) }, 2, "rate_limited")
    };
    rate_limit_without_retry_after_backs_off: Scenario::on_list(
        Fault::RateLimited { retry_after: None }, 2, "rate_limited"
    );
    a_hung_request_times_out: Scenario {
        overrides: &["--peloton.timeout=1s"],
        ..Scenario::on_list(Fault::Delay(Duration::from_secs(3)), 2, "timeout")
    };
    a_connection_reset_is_a_network_error: Scenario::on_list(Fault::Reset, 2, "network");
    truncated_json_is_an_invalid_response: Scenario::on_list(Fault::TruncatedJson, 1, "invalid_response");
    a_cloudflare_error_page_is_a_server_error: Scenario::on_list(Fault::Html(502), 2, "server");
    an_html_page_with_200_is_an_invalid_response: Scenario::on_list(Fault::Html(200), 1, "invalid_response");
    an_empty_body_is_an_invalid_response: Scenario::on_list(Fault::EmptyBody, 1, "invalid_response");
    a_body_over_the_size_limit_is_refused: Scenario::on_list(
        Fault::Oversized { bytes: MAX_BODY_BYTES + 1, chunked: false }, 1, "invalid_response"
    );
    a_chunked_body_over_the_size_limit_is_refused: Scenario::on_list(
        Fault::Oversized { bytes: MAX_BODY_BYTES + 4096, chunked: true }, 1, "invalid_response"
    );
    a_failed_performance_graph_is_fetched_once_later: Scenario {
        endpoint: Endpoint::PerformanceGraph,
        strikes: Strikes::AfterList,
        ..Scenario::on_list(Fault::Status(503), 2, "server")
    };
    a_truncated_workout_detail_is_fetched_once_later: Scenario {
        endpoint: Endpoint::Workout,
        strikes: Strikes::AfterList,
        // The graph and the detail of the newest workout are stored together, so the
        // graph fetched before the detail failed is fetched again with it: one extra
        // request, nothing counted twice.
        graph_fetches: 2,
        ..Scenario::on_list(Fault::TruncatedJson, 1, "invalid_response")
    };
    an_overview_outage_keeps_the_counts: Scenario {
        endpoint: Endpoint::Overview,
        strikes: Strikes::AfterList,
        overrides: &["--poll.profile-interval=1s"],
        ..Scenario::on_list(Fault::Status(500), 2, "server")
    };
    a_reset_on_the_profile_is_a_network_error: Scenario {
        endpoint: Endpoint::Me,
        overrides: &["--poll.profile-interval=1s"],
        ..Scenario::on_list(Fault::Reset, 2, "network")
    };
}

/// The limit is on size, not on large answers: a body of exactly `MAX_BODY_BYTES` is read.
/// (On the overview: a workout list page must hold a `data` list, which the padding lacks.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_at_the_size_limit_is_read() {
    let rig = Rig::start(&["--poll.profile-interval=1s"]).await;
    let good = rig.scrape().await;
    for chunked in [false, true] {
        rig.fake.faults().push(
            Endpoint::Overview,
            Fault::Oversized {
                bytes: MAX_BODY_BYTES,
                chunked,
            },
            1,
        );
        rig.wait("the large page read", |_| {
            rig.fake.faults().pending(Endpoint::Overview) == 0
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s = rig.scrape().await;
    assert_eq!(reasons(&s), reasons(&good), "no poll failed");
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    let big = rig
        .fake
        .requests()
        .iter()
        .filter(|r| r.response_bytes == MAX_BODY_BYTES)
        .count();
    assert_eq!(big, 2);
    rig.stop().await;
}

/// A 401 with a live refresh token is not an error: one refresh, one retry, same poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_with_a_live_refresh_token_costs_one_refresh_and_no_error() {
    let rig = Rig::start(&[]).await;
    let good = rig.scrape().await;
    let refreshes = value(&good, "peloton_auth_refreshes_total{result=\"success\"}").unwrap();
    rig.fake
        .faults()
        .push(Endpoint::Workouts, Fault::Status(401), 1);
    let id = rig.fake.add_workout("rowing");
    let s = rig
        .wait("refreshed and counted", |x| {
            value(x, "peloton_auth_refreshes_total{result=\"success\"}") > Some(refreshes)
                && value(x, "peloton_history_workouts_pending") == Some(0.0)
                && exact(x, &rig.fake)
        })
        .await;
    assert_eq!(reasons(&s), reasons(&good), "no poll failed");
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    assert_eq!(rig.graph_fetches(&id), 1);
    rig.stop().await;
}

/// A dead refresh token (`invalid_grant`) cannot heal by itself: the exporter keeps
/// serving, says `auth`, and a restart with a new token picks up exactly where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_is_an_auth_error_until_a_new_token_is_given() {
    let mut rig = Rig::start(&[]).await;
    let good = rig.scrape().await;
    let before = reasons(&good);
    rig.fake.revoke_refresh_tokens();
    rig.fake.expire_access_tokens();
    let id = rig.fake.add_workout("strength");
    let down = rig
        .wait("auth failure", |x| value(x, "peloton_up") == Some(0.0))
        .await;
    let after = reasons(&down);
    for r in REASONS {
        let grew = after[r] - before[r];
        assert!(
            if r == "auth" {
                grew >= 1.0
            } else {
                grew == 0.0
            },
            "{r}: {after:?}"
        );
    }
    assert!(value(&down, "peloton_auth_refreshes_total{result=\"failure\"}") >= Some(1.0));
    assert_eq!(data(&down), data(&good), "the last good data");
    // It keeps polling and keeps failing the same way, never hammering the auth server.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let still = rig.scrape().await;
    assert_eq!(value(&still, "peloton_up"), Some(0.0));
    assert_eq!(data(&still), data(&good));
    let token_calls = rig
        .fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Token && r.status != 200)
        .count();
    assert!(
        token_calls <= 2,
        "{token_calls} refused refreshes: the dead token is not retried"
    );
    assert_eq!(rig.ready_status().await, 200);

    // The member signs in again: a new refresh token, same storage.
    rig.exporter.take().unwrap().stop().await.unwrap();
    let mut a = rig.args.clone();
    a.push(format!(
        "--peloton.refresh-token={}",
        rig.fake.refresh_token()
    ));
    rig.exporter = Some(start(&a).await);
    // The restarted exporter's first overview already counts the new workout, before its
    // list read finds it: wait for its graph too, or this could pass before that read.
    let end = rig
        .wait("recovered with the new token", |x| {
            value(x, "peloton_up") == Some(1.0)
                && value(x, "peloton_history_workouts_pending") == Some(0.0)
                && exact(x, &rig.fake)
                && rig.graph_fetches(&id) > 0
        })
        .await;
    assert_exact(&end, &rig.fake, "after the restart");
    assert_eq!(rig.graph_fetches(&id), 1);
    let _ = &rig.dir;
    rig.stop().await;
}

/// Schema drift is no fault: new fields, missing fields, nulls and a discipline no one
/// has seen are absorbed without a failed poll, and counted exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_drift_and_an_unknown_discipline_are_absorbed() {
    let rig = Rig::start(&["--poll.profile-interval=2s"]).await;
    let good = rig.scrape().await;
    rig.fake.faults().set_schema_drift(true);
    let boxing = rig.fake.add_workout("boxing");
    let cycling = rig.fake.add_workout("cycling");
    let drifted = rig
        .wait("new workouts counted under drift", |x| {
            value(x, "peloton_history_workouts_pending") == Some(0.0)
                && value(x, "peloton_workouts_total{discipline=\"boxing\"}") == Some(1.0)
                && exact(x, &rig.fake)
        })
        .await;
    // Several polls under drift, profile and overview included.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let drifted_later = rig.scrape().await;
    for s in [&drifted, &drifted_later] {
        assert_eq!(value(s, "peloton_up"), Some(1.0));
        assert_eq!(reasons(s), reasons(&good), "no poll failed under drift");
        assert_exact(s, &rig.fake, "under drift");
    }
    assert!(
        series(&drifted_later, "peloton_latest_workout_info")[0]
            .0
            .contains("discipline=\"cycling\"")
    );
    rig.fake.faults().set_schema_drift(false);
    let rowing = rig.fake.add_workout("a-discipline-from-2030");
    let end = rig
        .wait("counted after drift", |x| {
            value(x, "peloton_history_workouts_pending") == Some(0.0) && exact(x, &rig.fake)
        })
        .await;
    assert_eq!(reasons(&end), reasons(&good));
    for id in [&boxing, &cycling, &rowing] {
        assert_eq!(rig.graph_fetches(id), 1, "{id}");
    }
    rig.stop().await;
}
