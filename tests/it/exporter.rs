//! The exporter against the fake Peloton: numbers, tokens, faults and recovery.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use peloton_fake::{Endpoint, FakeOptions};

fn exported_counts(s: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    series(s, "peloton_workouts_total")
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(k, v)| {
            let d = k
                .split("discipline=\"")
                .nth(1)
                .unwrap()
                .trim_end_matches("\"}");
            (d.to_owned(), v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_members_numbers_in_both_formats() {
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = args_with_token(&fake, dir.path());
    let exporter = start(&a).await;

    let s = wait_synced(exporter.addr).await;
    assert_eq!(exported_counts(&s), truth::completed_counts(&fake));
    let member = fake.member();
    let latest = member.workouts.iter().find(|w| w.is_complete()).unwrap();
    let info = series(&s, "peloton_latest_workout_info");
    assert_eq!(info.len(), 1);
    assert!(
        info[0]
            .0
            .contains(&format!("discipline=\"{}\"", latest.discipline)),
        "{info:?}"
    );
    assert!(value(&s, "peloton_latest_workout_duration_seconds").is_some());
    assert!(
        value(
            &s,
            &format!(
                "peloton_user_info{{username=\"{}\",user_id=\"{}\"}}",
                member.username, member.user_id
            )
        )
        .is_some()
    );
    assert!(value(&s, "peloton_weekly_streak").is_some());

    let (ct, om) = scrape(exporter.addr, Some(OPENMETRICS)).await;
    assert_eq!(
        ct,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(om.ends_with("# EOF\n"));
    assert!(om.contains("# TYPE peloton_workouts counter"));
    let (ct, classic) = scrape(exporter.addr, None).await;
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert!(classic.contains("# TYPE peloton_workouts_total counter"));
    assert!(!classic.contains("# EOF"));

    // Prometheus asks for gzip: the same text, compressed.
    for (accept, plain) in [(Some(OPENMETRICS), &om), (None, &classic)] {
        let mut req = reqwest::Client::new()
            .get(format!("http://{}/metrics", exporter.addr))
            .header("Accept-Encoding", "gzip");
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        let zipped = resp.bytes().await.unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut text)
            .unwrap();
        // Counters may have moved between the two scrapes; the families may not.
        let types = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| l.starts_with("# TYPE"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(types(&text), types(plain));
        assert!(zipped.len() * 3 < text.len());
    }

    // Steady state: with nothing new, a poll is one request.
    fake.clear_requests();
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let requests = fake.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.endpoint == Endpoint::Workouts),
        "steady state asked for more than the workout list: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    for r in &requests {
        assert_eq!(r.peloton_platform.as_deref(), Some("web"));
        assert_eq!(
            r.user_agent.as_deref(),
            Some(concat!("peloton-exporter/", env!("CARGO_PKG_VERSION")))
        );
        assert!(r.query.contains("page=0"), "{}", r.query);
    }
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_workout_is_counted_once_and_costs_three_requests() {
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let a = args_with_token(&fake, dir.path());
    let exporter = start(&a).await;
    let before = wait_synced(exporter.addr).await;
    let cycling = |s: &BTreeMap<String, f64>| {
        value(s, "peloton_workouts_total{discipline=\"cycling\"}").unwrap_or(0.0)
    };
    let n = cycling(&before);

    let id = fake.start_workout("cycling");
    wait_for_samples(exporter.addr, "in progress", |s| {
        value(s, "peloton_workout_in_progress{discipline=\"cycling\"}") == Some(1.0)
    })
    .await;
    assert_eq!(cycling(&before), n, "an in-progress workout is not counted");
    fake.clear_requests();
    fake.complete_workout(&id);
    let after = wait_for_samples(exporter.addr, "counted", |s| cycling(s) == n + 1.0).await;
    assert_eq!(
        value(
            &after,
            "peloton_workout_in_progress{discipline=\"cycling\"}"
        ),
        Some(0.0)
    );
    // Several more polls: the count stays, the details are not fetched again.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, body) = scrape(exporter.addr, None).await;
    assert_eq!(cycling(&samples(&body)), n + 1.0);
    let detail_fetches = fake
        .requests()
        .iter()
        .filter(|r| matches!(r.endpoint, Endpoint::Workout | Endpoint::PerformanceGraph))
        .count();
    assert_eq!(detail_fetches, 2, "graph and detail once each");
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| matches!(r.endpoint, Endpoint::Overview | Endpoint::Me)),
        "a new workout does not need the overview"
    );
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_refreshed_before_expiry_and_after_a_401_and_rotation_is_persisted() {
    let fake = fake(FakeOptions {
        access_token_ttl: Duration::from_secs(3),
        ..FakeOptions::default()
    })
    .await;
    let initial = fake.refresh_token();
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(&fake, dir.path());
    a.push(format!("--peloton.refresh-token={initial}"));
    let exporter = start(&a).await;
    wait_for_samples(exporter.addr, "up", |s| value(s, "peloton_up") == Some(1.0)).await;

    // Tokens live 3 s; after a few seconds the exporter must have refreshed on its own.
    let s = wait_for_samples(exporter.addr, "two refreshes", |s| {
        value(s, "peloton_auth_refreshes_total{result=\"success\"}") >= Some(2.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    assert!(value(&s, "peloton_auth_token_expiry_timestamp_seconds").is_some());

    // Revoked access tokens: a 401, one refresh, and the poll still succeeds.
    let refreshes = value(&s, "peloton_auth_refreshes_total{result=\"success\"}").unwrap();
    fake.expire_access_tokens();
    wait_for_samples(exporter.addr, "refresh after 401", |s| {
        value(s, "peloton_auth_refreshes_total{result=\"success\"}") > Some(refreshes)
            && s.iter().any(|(k, _)| {
                k.starts_with("peloton_api_requests_total{") && k.contains("code=\"401\"")
            })
    })
    .await;
    exporter.stop().await.unwrap();

    // The rotated refresh token is on disk, private, and it is not the configured one.
    let (store, _) = peloton_exporter::store::database::Store::open(dir.path()).unwrap();
    let rotated = store
        .tokens()
        .unwrap()
        .refresh_token
        .unwrap()
        .expose()
        .to_owned();
    assert_ne!(rotated, initial);
    assert_eq!(
        rotated,
        fake.refresh_token(),
        "the newest token Peloton issued"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(store);

    // A restart configured with the long-dead initial token still works: the stored
    // token is preferred.
    fake.clear_requests();
    let exporter = start(&a).await;
    wait_for_samples(exporter.addr, "up after restart", |s| {
        value(s, "peloton_up") == Some(1.0)
    })
    .await;
    let token_calls: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Token)
        .collect();
    assert!(
        token_calls.iter().all(|r| r.status == 200),
        "no rejected refresh: {token_calls:?}"
    );
    exporter.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_is_an_auth_error() {
    let fake = fake(FakeOptions::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = args(&fake, dir.path());
    a.push("--peloton.refresh-token=v1.not-a-token-the-fake-issued".into());
    let exporter = start(&a).await;
    let s = wait_for_samples(exporter.addr, "auth failure", |s| {
        value(s, "peloton_poll_errors_total{reason=\"auth\"}") >= Some(1.0)
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(0.0));
    assert!(value(&s, "peloton_auth_refreshes_total{result=\"failure\"}") >= Some(1.0));
    let ready = reqwest::get(format!("http://{}/readyz", exporter.addr))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    exporter.stop().await.unwrap();
}
