//! End-to-end tests of the fake over real HTTP, plus generator properties.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::util::b64url;
use super::*;

pub(crate) const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

thread_local! {
    // Building a client loads TLS roots, which is slow in debug builds. Each test runs on
    // its own thread with its own runtime, so a per-thread client never crosses runtimes.
    static CLIENT: reqwest::Client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
}

fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

pub(crate) async fn fake(opts: FakeOptions) -> (FakePeloton, String) {
    let pel = FakePeloton::start(opts).await.unwrap();
    let token = pel.mint_access_token(Duration::from_secs(3600));
    (pel, token)
}

pub(crate) async fn get(url: &str, token: &str) -> (StatusCode, Value) {
    let r = client()
        .get(url)
        .bearer_auth(token)
        .header("Peloton-Platform", "web")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// A fixture of the repository's own copy; a missing one is a test failure, not a skip.
pub(crate) fn fixture(name: &str) -> Value {
    // The workspace's one copy of the real samples, shared with the exporter's tests.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every key of the real sample exists in ours (we may add more).
pub(crate) fn assert_has_fixture_keys(ours: &Value, fixture_value: &Value, what: &str) {
    let missing: Vec<String> = keys(fixture_value)
        .difference(&keys(ours))
        .cloned()
        .collect();
    assert!(missing.is_empty(), "{what} lacks fixture keys {missing:?}");
}

#[test]
fn generator_is_deterministic_and_realistic() {
    let opts = FakeOptions::default();
    let a = generate_member(&opts, NOW);
    let b = generate_member(&opts, NOW);
    assert_eq!(a, b);
    let c = generate_member(
        &FakeOptions {
            seed: 7,
            ..FakeOptions::default()
        },
        NOW,
    );
    assert_ne!(a.user_id, c.user_id);

    assert_eq!(a.workouts.len(), 300);
    assert!(
        a.workouts
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at)
    );
    let oldest = a.workouts.last().unwrap().created_at;
    assert!(oldest >= NOW - 731 * 86_400, "history spans the window");
    let counts = a.workout_counts();
    for slug in [
        "cycling",
        "strength",
        "stretching",
        "running",
        "walking",
        "yoga",
        "meditation",
        "caesar",
        "cardio",
        "bike_bootcamp",
        "circuit",
    ] {
        let n = counts.iter().find(|(s, _)| s == slug).unwrap().1;
        assert!(n > 0, "{slug} has workouts");
    }
    let cycling = counts.iter().find(|(s, _)| s == "cycling").unwrap().1;
    assert!(counts.iter().all(|(_, n)| *n <= cycling), "cycling leads");
    assert_eq!(
        counts
            .iter()
            .find(|(s, _)| s == "caesar_bootcamp")
            .unwrap()
            .1,
        0
    );
    let instructors: BTreeSet<&str> = a
        .workouts
        .iter()
        .filter_map(|w| w.instructor.as_deref())
        .collect();
    assert!(instructors.len() >= 12, "{instructors:?}");
    let types: std::collections::HashSet<WorkoutType> =
        a.workouts.iter().map(|w| w.workout_type).collect();
    assert_eq!(types.len(), 3);
    let streaks = a.streaks(NOW);
    assert!(streaks.current_weekly >= 1 && streaks.current_daily >= 2);
    assert!(streaks.start_date_of_current_weekly.is_some());
    assert!(!a.personal_records().is_empty());
    let null_efforts = a.workouts.iter().filter(|w| w.effort_zones_null).count();
    assert!((60..200).contains(&null_efforts), "{null_efforts}");

    for w in &a.workouts {
        let dur = f64::from(w.duration_class_s);
        assert!((300..=3600).contains(&w.duration_class_s), "{}", w.title);
        if let Some(z) = w.hr_zone_seconds {
            let sum: f64 = z.iter().sum();
            assert!(sum <= dur && sum >= dur - 8.0, "zones {sum} vs {dur}");
        }
        if let (Some(j), Some(o)) = (w.total_work_joules, w.output_watts) {
            assert!((j / dur - o.avg).abs() <= 0.5, "avg output = work / time");
        }
        if let (Some(d), Some(s)) = (w.distance_meters, w.speed_mps)
            && !w.discipline.starts_with("caesar")
        {
            let expected = s.avg * dur;
            assert!(
                (d - expected).abs() <= 0.01 * expected + 20.0,
                "{d} vs {expected}"
            );
        }
    }
}

#[tokio::test]
async fn huge_history_pages_correctly() {
    let started = Instant::now();
    let opts = FakeOptions {
        workouts: 20_000,
        ..FakeOptions::default()
    };
    let (pel, token) = fake(opts).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let base = format!("{}/api/user/{}/workouts", pel.api_url(), pel.user_id());
    let (s, v) = get(
        &format!("{base}?joins=ride,ride.instructor&limit=100&page=0&sort_by=-created"),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 20_000);
    assert_eq!(v["page_count"], 200);
    assert_eq!(v["count"], 100);
    assert_eq!(v["show_previous"], false);
    assert_eq!(v["show_next"], true);
    assert_eq!(v["sort_by"], "-created_at,-pk");
    let summed: u64 = v["summary"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(summed, 20_000);
    let m = pel.member();
    assert_eq!(v["data"][0]["id"], m.workouts[0].id);
    assert_eq!(v["next"]["workout_id"], m.workouts[100].id);

    let (_, last) = get(&format!("{base}?limit=100&page=199"), &token).await;
    assert_eq!(last["count"], 100);
    assert_eq!(last["show_next"], false);
    assert_eq!(last["show_previous"], true);
    assert_eq!(last["next"], Value::Null);
    assert_eq!(last["data"][99]["id"], m.workouts[19_999].id);
    assert!(last["data"][0].get("ride").is_none(), "no joins, no ride");

    let (_, beyond) = get(&format!("{base}?limit=100&page=200"), &token).await;
    assert_eq!(beyond["count"], 0);
    let (_, clamped) = get(&format!("{base}?limit=1000&page=3"), &token).await;
    assert_eq!(clamped["limit"], 100);
    assert_eq!(clamped["data"][0]["id"], m.workouts[300].id);
    let (_, odd) = get(&format!("{base}?limit=7&page=0"), &token).await;
    assert_eq!(odd["page_count"], 2858);
    pel.shutdown().await;
}

#[tokio::test]
async fn expired_missing_and_revoked_tokens_get_401() {
    let (pel, good) = fake(FakeOptions {
        workouts: 20,
        ..FakeOptions::default()
    })
    .await;
    let url = format!("{}/api/me", pel.api_url());
    let expired = pel.mint_access_token(Duration::ZERO);
    let not_logged_in = json!({"status":401,"error_code":3020,"subcode":null,"message":"Not logged in","details":null});
    for t in [expired.as_str(), "not-a-token", ""] {
        let (s, v) = get(&url, t).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(v, not_logged_in);
    }
    let (s, _) = get(&url, &good).await;
    assert_eq!(s, StatusCode::OK);
    pel.expire_access_tokens();
    let (s, _) = get(&url, &good).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let reqs = pel.requests();
    assert_eq!(reqs.len(), 5);
    assert!(reqs.iter().all(|r| r.endpoint == Endpoint::Me));
    assert_eq!(reqs.iter().filter(|r| r.authorized).count(), 1);
    assert_eq!(reqs[3].status, 200);
    assert_eq!(reqs[3].peloton_platform.as_deref(), Some("web"));
}

#[tokio::test]
async fn refresh_rotates_and_revocation_kills() {
    let (pel, _) = fake(FakeOptions {
        workouts: 5,
        access_token_ttl: Duration::from_secs(600),
        ..FakeOptions::default()
    })
    .await;
    let token_url = format!("{}/oauth/token", pel.auth_url());
    let first = pel.refresh_token();
    let r = client()
        .post(&token_url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT_ID),
            ("refresh_token", first.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(second.starts_with("v1.") && second != first);
    let access = body["access_token"].as_str().unwrap();
    let claims = decode_claims(access).unwrap();
    assert_eq!(claims["iss"], "https://auth.onepeloton.com/");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    let (s, me) = get(&format!("{}/api/me", pel.api_url()), access).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["id"], pel.user_id());
    assert_eq!(pel.refresh_token(), second);

    // The old token is dead; JSON bodies work too.
    let again = client()
        .post(&token_url)
        .json(
            &json!({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": first}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"error":"invalid_grant","error_description":"Unknown or invalid refresh token."})
    );
    let missing = client()
        .post(&token_url)
        .json(&json!({"grant_type": "refresh_token", "client_id": CLIENT_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    pel.revoke_refresh_tokens();
    let revoked = client()
        .post(&token_url)
        .json(&json!({"grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": second}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::FORBIDDEN);
    let tokens = pel.requests();
    assert!(
        tokens
            .iter()
            .filter(|r| r.endpoint == Endpoint::Token)
            .count()
            == 4
    );
}

#[tokio::test]
async fn overview_needs_platform_header_and_matches_truth() {
    let (pel, token) = fake(FakeOptions::default()).await;
    let url = format!(
        "{}/api/user/{}/overview?version=1",
        pel.api_url(),
        pel.user_id()
    );
    let r = client().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let wrong = format!("{}/api/user/{}/overview", pel.api_url(), "0".repeat(32));
    assert_eq!(get(&wrong, &token).await.0, StatusCode::NOT_FOUND);

    let (s, v) = get(&url, &token).await;
    assert_eq!(s, StatusCode::OK);
    let m = pel.member();
    assert_eq!(v["workout_counts"]["total_workouts"], m.total_workouts());
    let listed: u64 = v["workout_counts"]["workouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["count"].as_u64().unwrap())
        .sum();
    assert_eq!(listed, m.total_workouts());
    assert_eq!(v["workout_counts"]["workouts"][0]["slug"], "cycling");
    let prs = &v["personal_records"][0]["records"];
    let truth = m.personal_records();
    assert_eq!(prs.as_array().unwrap().len(), truth.len());
    assert_eq!(prs[0]["slug"], truth[0].duration_s.to_string());
    assert!((prs[0]["raw_value"].as_f64().unwrap() - truth[0].joules).abs() < 1e-6);
    let streaks = &v["streaks"];
    assert!(streaks["current_weekly"].as_u64().unwrap() >= 1);
    assert!(streaks["start_date_of_current_weekly"].is_i64());
    let total: u64 = v["achievement_counts"]["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    assert_eq!(v["achievement_counts"]["total_count"], total);
    {
        let fx = fixture("overview_2024_RECONSTRUCTED.json");
        assert_has_fixture_keys(&v, &fx, "overview");
        assert_has_fixture_keys(&v["streaks"], &fx["streaks"], "streaks");
        assert_has_fixture_keys(&prs[0], &fx["personal_records"][0]["records"][0], "record");
        assert_has_fixture_keys(
            &v["achievement_counts"]["achievements"][0]["template"],
            &fx["achievement_counts"]["achievements"][0]["template"],
            "achievement template",
        );
    }
    pel.shutdown().await;
}

#[tokio::test]
async fn shapes_follow_the_fixtures() {
    let (pel, token) = fake(FakeOptions::default()).await;
    let api = pel.api_url();
    let uid = pel.user_id();
    let (_, me) = get(&format!("{api}/api/me"), &token).await;
    assert_eq!(me["workout_counts"].as_array().unwrap().len(), 12);
    let (_, page) = get(
        &format!("{api}/api/user/{uid}/workouts?joins=ride,ride.instructor&limit=50&page=0"),
        &token,
    )
    .await;
    let m = pel.member();
    let class_idx = m
        .workouts
        .iter()
        .position(|w| w.instructor.is_some())
        .unwrap();
    let item = &page["data"][class_idx];
    assert_eq!(
        item["ride"]["instructor"]["name"].as_str(),
        m.workouts[class_idx].instructor.as_deref()
    );
    let id = item["id"].as_str().unwrap();
    let (_, detail) = get(&format!("{api}/api/workout/{id}"), &token).await;
    assert!(detail["ride"].is_object() && detail["ride"].get("instructor").is_none());
    assert!(detail.get("effort_zones").is_none());
    let (_, graph) = get(
        &format!("{api}/api/workout/{id}/performance_graph?every_n=5"),
        &token,
    )
    .await;
    {
        let fx = fixture("me.json");
        assert_has_fixture_keys(&me, &fx, "me");
    }
    {
        let fx = fixture("workouts_page0.json");
        assert_has_fixture_keys(&page, &fx, "envelope");
        assert_has_fixture_keys(item, &fx["data"][0], "list item");
        assert_has_fixture_keys(&item["ride"], &fx["data"][0]["ride"], "ride");
    }
    {
        let fx = fixture("workout_detail_cycling_2024.json");
        let mut fx = fx;
        fx.as_object_mut().unwrap().remove("ride");
        assert_has_fixture_keys(&detail, &fx, "detail");
    }
    {
        let fx = fixture("instructor_object_2020.json");
        assert_has_fixture_keys(&item["ride"]["instructor"], &fx, "instructor");
    }
    {
        let fx = fixture("performance_graph_cycling_2024.json");
        assert_has_fixture_keys(&graph, &fx, "performance graph");
    }
    // A Just Ride, if the history has one, has the zero ride id and no instructor.
    if let Some(i) = m
        .workouts
        .iter()
        .take(50)
        .position(|w| w.workout_type == WorkoutType::Freestyle)
    {
        assert_eq!(page["data"][i]["ride"]["id"], "0".repeat(32));
        assert_eq!(page["data"][i]["peloton_id"], Value::Null);
        assert_eq!(page["data"][i]["ride"]["instructor"], Value::Null);
    }
    pel.shutdown().await;
}

pub(crate) fn summary(graph: &Value, key: &str, slug: &str) -> Option<Value> {
    graph[key]
        .as_array()?
        .iter()
        .find(|s| s["slug"] == slug)
        .cloned()
}

#[tokio::test]
async fn performance_graphs_are_consistent_with_the_truth() {
    for units in [Units::Imperial, Units::Metric] {
        let (pel, token) = fake(FakeOptions {
            units,
            workouts: 120,
            ..FakeOptions::default()
        })
        .await;
        let m = pel.member();
        let mut seen = BTreeSet::new();
        for w in &m.workouts {
            if !seen.insert(w.discipline.clone()) && w.discipline != "cycling" {
                continue;
            }
            let url = format!(
                "{}/api/workout/{}/performance_graph?every_n=5",
                pel.api_url(),
                w.id
            );
            let (s, g) = get(&url, &token).await;
            assert_eq!(s, StatusCode::OK);
            let dur = w.duration_class_s;
            assert_eq!(g["duration"], dur);
            let points = g["seconds_since_pedaling_start"].as_array().unwrap().len();
            assert_eq!(points as u32, dur / 5 + 1);
            for metric in g["metrics"].as_array().unwrap() {
                assert_eq!(metric["values"].as_array().unwrap().len(), points);
            }
            if let Some(j) = w.total_work_joules {
                let s = summary(&g, "summaries", "total_output").unwrap();
                assert_eq!(s["value"], (j / 1000.0).round() as i64);
            }
            if let Some(d) = w.distance_meters {
                let s = summary(&g, "summaries", "distance").unwrap();
                let factor = match s["display_unit"].as_str().unwrap() {
                    "mi" => 1609.344,
                    "km" => 1000.0,
                    "m" => 1.0,
                    other => panic!("unit {other}"),
                };
                assert!((s["value"].as_f64().unwrap() * factor - d).abs() < 1e-6);
            }
            match (units, kind_unit(&g)) {
                (_, None) => {}
                (Units::Imperial, Some(u)) => assert_eq!(u, "mph"),
                (Units::Metric, Some(u)) => assert_eq!(u, "kph"),
            }
            if let Some(c) = w.calories_kcal {
                let s = summary(&g, "summaries", "calories").unwrap();
                assert!((s["value"].as_f64().unwrap() - c).abs() < 1e-9);
            } else {
                assert!(summary(&g, "summaries", "calories").is_none());
            }
            let hr = g["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["slug"] == "heart_rate");
            match (w.hr_zone_seconds, hr) {
                (Some(z), Some(hr)) => {
                    let durations: Vec<f64> = hr["zones"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|z| z["duration"].as_f64().unwrap())
                        .collect();
                    assert_eq!(durations, z.to_vec());
                }
                (None, None) => {}
                other => panic!("heart rate mismatch {other:?}"),
            }
            assert_eq!(g["effort_zones"].is_null(), w.effort_zones_null);
            if let Some(o) = w.output_watts {
                let metric = g["metrics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["slug"] == "output")
                    .unwrap();
                assert!((metric["average_value"].as_f64().unwrap() - o.avg).abs() < 1e-9);
                let vals: Vec<f64> = metric["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                assert!(
                    (mean - o.avg).abs() <= 0.05 * o.avg + 1.0,
                    "{mean} vs {}",
                    o.avg
                );
            }
        }
        assert!(seen.len() >= 8);
        pel.shutdown().await;
    }
}

fn kind_unit(g: &Value) -> Option<String> {
    summary(g, "average_summaries", "avg_speed")
        .and_then(|s| s["display_unit"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn faults_are_served_in_order() {
    let (pel, token) = fake(FakeOptions {
        workouts: 10,
        ..FakeOptions::default()
    })
    .await;
    let url = format!("{}/api/me", pel.api_url());
    let faults = pel.faults();
    faults.push(Endpoint::Me, Fault::Status(503), 1);
    faults.push(
        Endpoint::Me,
        Fault::RateLimited {
            retry_after: Some(7),
        },
        1,
    );
    faults.push(Endpoint::Me, Fault::Html(502), 1);
    faults.push(Endpoint::Me, Fault::EmptyBody, 1);
    faults.push(Endpoint::Me, Fault::TruncatedJson, 1);
    faults.push(Endpoint::Me, Fault::Reset, 1);
    faults.push(Endpoint::Me, Fault::Delay(Duration::from_millis(200)), 1);
    faults.push(Endpoint::Me, Fault::Status(500), 1);
    let c = client();
    let send = || c.get(&url).bearer_auth(&token).send();

    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Cloudflare"));
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().is_empty());
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.starts_with('{') && serde_json::from_str::<Value>(&text).is_err());
    assert!(send().await.is_err(), "reset");
    let started = Instant::now();
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], 500);
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(faults.pending(Endpoint::Me), 0);
    let statuses: Vec<u16> = pel.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 502, 200, 200, 0, 200, 500, 200]);

    faults.set_schema_drift(true);
    let (_, me) = get(&url, &token).await;
    assert_eq!(me["x_fake_new_flag"], true);
    assert!(me.get("cycling_ftp_workout_id").is_none());
    faults.clear();
    let (_, me) = get(&url, &token).await;
    assert!(me.get("x_fake_new_flag").is_none());
}

#[tokio::test]
async fn workouts_can_be_added_started_and_completed() {
    let (pel, token) = fake(FakeOptions {
        workouts: 30,
        ..FakeOptions::default()
    })
    .await;
    let list = format!(
        "{}/api/user/{}/workouts?joins=ride&limit=5&page=0",
        pel.api_url(),
        pel.user_id()
    );
    let boxing = pel.add_workout("boxing");
    let (_, v) = get(&list, &token).await;
    assert_eq!(v["data"][0]["id"], boxing.as_str());
    assert_eq!(v["data"][0]["fitness_discipline"], "boxing");
    assert_eq!(v["data"][0]["status"], "COMPLETE");
    assert_eq!(v["total"], 31);
    let ride = pel.add_workout("cycling");
    let running = pel.start_workout("running");
    let (_, v) = get(&list, &token).await;
    assert_eq!(v["data"][0]["id"], running.as_str());
    assert_eq!(v["data"][0]["status"], "IN_PROGRESS");
    assert_eq!(v["data"][0]["end_time"], Value::Null);
    assert_eq!(v["data"][1]["id"], ride.as_str());
    let detail = format!("{}/api/workout/{running}", pel.api_url());
    assert_eq!(get(&detail, &token).await.1["status"], "IN_PROGRESS");
    let (status, graph) = get(&format!("{detail}/performance_graph?every_n=5"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        graph["seconds_since_pedaling_start"]
            .as_array()
            .unwrap()
            .len()
            <= 2
    );
    pel.complete_workout(&running);
    let (_, d) = get(&detail, &token).await;
    assert_eq!(d["status"], "COMPLETE");
    assert!(d["end_time"].as_i64().unwrap() >= d["start_time"].as_i64().unwrap());
    let overview = format!("{}/api/user/{}/overview", pel.api_url(), pel.user_id());
    let (_, ov) = get(&overview, &token).await;
    let boxing_count = ov["workout_counts"]["workouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["slug"] == "boxing")
        .unwrap()["count"]
        .clone();
    assert_eq!(boxing_count, 1);
    assert_eq!(ov["workout_counts"]["total_workouts"], 33);
}

#[tokio::test]
async fn an_empty_history_is_served() {
    let (pel, token) = fake(FakeOptions {
        workouts: 0,
        ..FakeOptions::default()
    })
    .await;
    let api = pel.api_url();
    let uid = pel.user_id();
    let (status, page) = get(
        &format!("{api}/api/user/{uid}/workouts?limit=10&page=0"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 0);
    assert_eq!(page["page_count"], 0);
    assert_eq!(page["show_next"], false);
    let (status, ov) = get(&format!("{api}/api/user/{uid}/overview"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ov["personal_records"], json!([]));
    assert_eq!(ov["streaks"]["current_weekly"], 0);
    assert_eq!(ov["streaks"]["start_date_of_current_weekly"], Value::Null);
    let (status, me) = get(&format!("{api}/api/me"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["total_workouts"], 0);
    pel.shutdown().await;
}

#[tokio::test]
async fn live_demo_moves() {
    let (pel, _) = fake(FakeOptions {
        workouts: 10,
        live_interval: Some(Duration::from_millis(40)),
        ..FakeOptions::default()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = pel.member();
    assert!(m.workouts.len() >= 13, "{}", m.workouts.len());
    assert_eq!(m.workouts[0].status, WorkoutStatus::InProgress);
    assert!(m.workouts[1..].iter().all(GeneratedWorkout::is_complete));
    pel.shutdown().await;
}

/// The value of the hidden input `name` in an Auth0 form, HTML entities decoded.
fn hidden_input(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).unwrap();
    let rest = &html[at..];
    let v = rest.find("value=\"").unwrap() + 7;
    let end = rest[v..].find('"').unwrap();
    rest[v..v + end]
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

struct Login {
    page_url: url::Url,
    csrf: Option<String>,
}

async fn start_login(pel: &FakePeloton, challenge: &str) -> Login {
    let c = client();
    let auth = url::Url::parse(&pel.auth_url()).unwrap();
    let mut authorize = auth.join("/authorize").unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("audience", AUDIENCE)
        .append_pair("scope", "offline_access openid peloton-api.members:default")
        .append_pair("response_type", "code")
        .append_pair("response_mode", "query")
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("state", "client-state-123")
        .append_pair("nonce", "nonce-456")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair(
            "auth0Client",
            &b64url(br#"{"name":"auth0.js-ulp","version":"9.14.3"}"#),
        );
    let r = c.get(authorize).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let page_url = auth.join(&location(&r)).unwrap();
    let r = c.get(page_url.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csrf = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned());
    Login { page_url, csrf }
}

async fn post_credentials(
    pel: &FakePeloton,
    login: &Login,
    password: &str,
    csrf: &str,
) -> reqwest::Response {
    let state = login
        .page_url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    client()
        .post(format!("{}/usernamepassword/login", pel.auth_url()))
        .header("Cookie", format!("_csrf={csrf}"))
        .header("Origin", "https://auth.onepeloton.com")
        .header("Referer", login.page_url.as_str())
        .json(&json!({
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "tenant": "peloton-prod",
            "response_type": "code",
            "scope": "offline_access openid peloton-api.members:default",
            "audience": AUDIENCE,
            "_csrf": csrf,
            "state": state,
            "_intstate": "deprecated",
            "nonce": "nonce-456",
            "username": FakeOptions::default().username,
            "password": password,
            "connection": "pelo-user-password",
            "code_challenge": "ignored-here",
            "code_challenge_method": "S256",
        }))
        .send()
        .await
        .unwrap()
}

/// Posts the hidden form and follows redirects by hand; returns the last response.
async fn submit_callback(pel: &FakePeloton, html: &str) -> (reqwest::Response, Vec<String>) {
    let c = client();
    let action_at = html.find("action=\"").unwrap() + 8;
    let action = &html[action_at..action_at + html[action_at..].find('"').unwrap()];
    let mut r = c
        .post(action)
        .form(&[
            ("wa", hidden_input(html, "wa")),
            ("wresult", hidden_input(html, "wresult")),
            ("wctx", hidden_input(html, "wctx")),
        ])
        .send()
        .await
        .unwrap();
    let base = url::Url::parse(&pel.auth_url()).unwrap();
    let mut hops = Vec::new();
    while r.status() == StatusCode::FOUND {
        let next = base.join(&location(&r)).unwrap();
        hops.push(next.to_string());
        if next.host_str() != base.host_str() || next.port() != base.port() {
            break;
        }
        r = c.get(next).send().await.unwrap();
    }
    (r, hops)
}

#[tokio::test]
async fn pkce_login_end_to_end() {
    let (pel, _) = fake(FakeOptions {
        workouts: 5,
        ..FakeOptions::default()
    })
    .await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-fake-verifier";
    let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
    let login = start_login(&pel, &challenge).await;
    let csrf = login.csrf.clone().unwrap();
    let r = post_credentials(&pel, &login, "correct horse battery staple", &csrf).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("{}/login/callback", pel.auth_url())));
    assert!(
        html.contains("&#34;"),
        "wctx is entity-encoded like Auth0's"
    );
    let (_, hops) = submit_callback(&pel, &html).await;
    assert_eq!(hops.len(), 2, "{hops:?}");
    let final_url = url::Url::parse(hops.last().unwrap()).unwrap();
    assert!(final_url.as_str().starts_with(REDIRECT_URI));
    let q: std::collections::HashMap<_, _> = final_url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "client-state-123");
    let code = &q["code"];

    let token_url = format!("{}/oauth/token", pel.auth_url());
    let bad = client()
        .post(&token_url)
        .json(
            &json!({"grant_type": "authorization_code", "client_id": CLIENT_ID,
            "code_verifier": "wrong", "code": code, "redirect_uri": REDIRECT_URI}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);

    // Codes are single-use: run the flow again for the successful exchange.
    let login = start_login(&pel, &challenge).await;
    let csrf = login.csrf.clone().unwrap();
    let html = post_credentials(&pel, &login, "correct horse battery staple", &csrf)
        .await
        .text()
        .await
        .unwrap();
    let (_, hops) = submit_callback(&pel, &html).await;
    let final_url = url::Url::parse(hops.last().unwrap()).unwrap();
    let code = final_url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let r = client()
        .post(&token_url)
        .json(
            &json!({"grant_type": "authorization_code", "client_id": CLIENT_ID,
            "code_verifier": verifier, "code": code, "redirect_uri": REDIRECT_URI}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 172_800);
    assert!(tokens["refresh_token"].as_str().unwrap().starts_with("v1."));
    assert_eq!(
        decode_claims(tokens["id_token"].as_str().unwrap()).unwrap()["nonce"],
        "nonce-456"
    );
    let (s, me) = get(
        &format!("{}/api/me", pel.api_url()),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["id"], pel.user_id());
    let endpoints: BTreeSet<String> = pel
        .requests()
        .iter()
        .map(|r| format!("{:?}", r.endpoint))
        .collect();
    for e in ["Authorize", "Login", "LoginCallback", "Token", "Me"] {
        assert!(endpoints.contains(e), "{e} recorded");
    }
    pel.shutdown().await;
}

#[tokio::test]
async fn pkce_login_failures() {
    let (pel, _) = fake(FakeOptions {
        workouts: 5,
        ..FakeOptions::default()
    })
    .await;
    let challenge = b64url(&Sha256::digest(
        b"some-verifier-some-verifier-some-verifier",
    ));

    let login = start_login(&pel, &challenge).await;
    let csrf = login.csrf.clone().unwrap();
    let r = post_credentials(&pel, &login, "wrong password", &csrf).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"name":"ValidationError","code":"invalid_user_password","description":"Wrong email or password.","statusCode":400})
    );
    let r = post_credentials(&pel, &login, "correct horse battery staple", "forged").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["name"], "AnomalyDetected");

    pel.faults()
        .set_login_behavior(LoginBehavior::VerificationRequired);
    let login = start_login(&pel, &challenge).await;
    let csrf = login.csrf.clone().unwrap();
    let html = post_credentials(&pel, &login, "correct horse battery staple", &csrf)
        .await
        .text()
        .await
        .unwrap();
    let (r, hops) = submit_callback(&pel, &html).await;
    assert!(hops.iter().all(|h| !h.contains("code=")));
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Verify Your Identity"));

    pel.faults().set_login_behavior(LoginBehavior::PagesChanged);
    let login = start_login(&pel, &challenge).await;
    assert!(login.csrf.is_none());

    pel.faults().clear();
    pel.faults().push(
        Endpoint::Authorize,
        Fault::RateLimited { retry_after: None },
        1,
    );
    let r = client()
        .get(format!(
            "{}/authorize?client_id={CLIENT_ID}",
            pel.auth_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let password_grant = client()
        .post(format!("{}/oauth/token", pel.auth_url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("username", "x"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(password_grant.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        password_grant.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    pel.shutdown().await;
}
