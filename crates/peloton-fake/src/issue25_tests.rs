//! Challenges, achievements, strength rep tracking, cycling targets and splits (issue 25):
//! the rendered JSON against the stored truth and the RECONSTRUCTED fixtures.

use reqwest::StatusCode;
use serde_json::Value;

use super::model::GeneratedWorkout;
use super::tests::{NOW, assert_has_fixture_keys, fake, fixture, get};
use super::util::{civil_from_days, now_unix};
use super::*;

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn items(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

#[tokio::test]
async fn challenges_follow_the_truth() {
    let (pel, token) = fake(FakeOptions::demo()).await;
    let (api, uid) = (pel.api_url(), pel.user_id());
    let m = pel.member();
    let now = now_unix();
    let year = civil_from_days(now.div_euclid(86_400)).0;

    let (s, joined) = get(
        &format!("{api}/api/user/{uid}/challenges/current?has_joined=true"),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let list = items(&joined["challenges"]);
    assert_eq!(list.len(), 2);
    let annual = &list[0]["challenge_summary"];
    assert_eq!(annual["title"], format!("The Annual {year}"));
    let start = annual["start_time"].as_i64().unwrap();
    let end = annual["end_time"].as_i64().unwrap();
    assert_eq!(start.rem_euclid(86_400), 0);
    assert_eq!(civil_from_days(start / 86_400), (year, 1, 1));
    assert_eq!(civil_from_days(end / 86_400), (year, 12, 31));
    assert_eq!(end.rem_euclid(86_400), 86_399);
    let id = annual["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(id, m.annual_challenge(year).id);
    assert_ne!(
        id,
        m.annual_challenge(year - 1).id,
        "the id changes every year"
    );
    assert!(
        list[1]["challenge_summary"]["title"]
            .as_str()
            .unwrap()
            .ends_with("Cycling Challenge")
    );
    {
        let fx = fixture("challenges_current_RECONSTRUCTED.json");
        assert_has_fixture_keys(&joined, &fx, "challenges");
        assert_has_fixture_keys(&list[0], &fx["challenges"][0], "challenge");
        assert_has_fixture_keys(annual, &fx["challenges"][0]["challenge_summary"], "summary");
        assert_has_fixture_keys(
            &list[0]["progress"]["current_tier"],
            &fx["challenges"][0]["progress"]["current_tier"],
            "current tier",
        );
    }
    let (_, all) = get(&format!("{api}/api/user/{uid}/challenges/current"), &token).await;
    assert_eq!(items(&all["challenges"]).len(), 3);

    let (s, detail) = get(&format!("{api}/api/user/{uid}/challenge/{id}"), &token).await;
    assert_eq!(s, StatusCode::OK);
    // Independent of the fake's own helper: whole minutes of the summed elapsed seconds.
    let secs: i64 = m
        .workouts
        .iter()
        .filter(|w| w.is_complete() && !w.imported && w.start_time >= start && w.start_time <= end)
        .map(|w| w.end_time.unwrap() - w.start_time)
        .sum();
    let minutes = (secs / 60) as f64;
    assert!(minutes > 0.0, "the demo member has worked out this year");
    assert_eq!(f(&detail["progress"]["metric_value"]), minutes);
    assert_eq!(m.annual_challenge(year).progress_minutes, minutes);
    assert_eq!(detail["progress"]["metric_display_unit"], "min");
    let tiers: Vec<f64> = items(&detail["challenge_detail"]["tiers"])
        .iter()
        .map(|t| f(&t["metric_value"]))
        .collect();
    assert_eq!(tiers, [0.0, 1000.0, 3000.0, 5000.0, 7500.0, 10_000.0]);
    assert_eq!(detail["challenge_detail"]["tiers"][0]["title"], "Joined");
    {
        let fx = fixture("challenge_detail_annual_RECONSTRUCTED.json");
        assert_has_fixture_keys(&detail, &fx, "challenge detail");
        assert_has_fixture_keys(
            &detail["challenge_detail"],
            &fx["challenge_detail"],
            "challenge_detail",
        );
        assert_has_fixture_keys(
            &detail["challenge_detail"]["tiers"][1],
            &fx["challenge_detail"]["tiers"][1],
            "tier",
        );
        assert_has_fixture_keys(&detail["progress"], &fx["progress"], "progress");
    }
    // The month's challenge counts cycling only.
    let monthly = &list[1]["challenge_summary"];
    let mid = monthly["id"].as_str().unwrap();
    let (_, md) = get(&format!("{api}/api/user/{uid}/challenge/{mid}"), &token).await;
    let (ms, me) = (
        monthly["start_time"].as_i64().unwrap(),
        monthly["end_time"].as_i64().unwrap(),
    );
    assert_eq!(
        f(&md["progress"]["metric_value"]),
        m.challenge_minutes(ms, me, Some("cycling"))
    );
    // Last year's annual challenge is still there; unknown ids are not.
    let last = m.annual_challenge(year - 1);
    let (s, old) = get(
        &format!("{api}/api/user/{uid}/challenge/{}", last.id),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(f(&old["progress"]["metric_value"]), last.progress_minutes);
    let (s, _) = get(
        &format!("{api}/api/user/{uid}/challenge/{}", "ab".repeat(16)),
        &token,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let other = "0".repeat(32);
    let (s, _) = get(&format!("{api}/api/user/{other}/challenge/{id}"), &token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    pel.shutdown().await;
}

#[tokio::test]
async fn achievements_need_the_web_header_and_add_up() {
    let (pel, token) = fake(FakeOptions::demo()).await;
    let (api, uid) = (pel.api_url(), pel.user_id());
    let url = format!("{api}/api/user/{uid}/achievements");
    let refused = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, v) = get(&url, &token).await;
    assert_eq!(status, StatusCode::OK);
    let cats = items(&v["categories"]);
    assert!(cats.len() >= 4, "{} categories", cats.len());
    let slugs: Vec<&str> = cats.iter().map(|c| c["slug"].as_str().unwrap()).collect();
    for want in [
        "workout_milestones",
        "streaks",
        "challenges",
        "personal_records",
    ] {
        assert!(slugs.contains(&want), "{want} missing from {slugs:?}");
    }
    let m = pel.member();
    let truth = m.achievement_categories();
    assert_eq!(truth.len(), cats.len());
    let mut sum = 0;
    for (c, (slug, list)) in cats.iter().zip(&truth) {
        assert_eq!(c["slug"], *slug);
        let got: Vec<(String, u64)> = items(&c["achievements"])
            .iter()
            .map(|a| {
                (
                    a["template"]["slug"].as_str().unwrap().to_owned(),
                    a["count"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(&got, list);
        sum += got.iter().map(|g| g.1).sum::<u64>();
    }
    let (_, overview) = get(&format!("{api}/api/user/{uid}/overview?version=1"), &token).await;
    assert_eq!(overview["achievement_counts"]["total_count"], sum);
    {
        let fx = fixture("achievements_RECONSTRUCTED.json");
        assert_has_fixture_keys(&v, &fx, "achievements");
        assert_has_fixture_keys(&cats[0], &fx["categories"][0], "category");
        assert_has_fixture_keys(
            &cats[0]["achievements"][0],
            &fx["categories"][0]["achievements"][0],
            "achievement",
        );
        assert_has_fixture_keys(
            &cats[0]["achievements"][0]["template"],
            &fx["categories"][0]["achievements"][0]["template"],
            "template",
        );
    }
    // Workouts with no, one and several badges, and the detail lists them.
    let badges = |n: fn(usize) -> bool| {
        m.workouts
            .iter()
            .filter(|w| n(w.achievements.len()))
            .count()
    };
    assert!(badges(|n| n == 0) > 0 && badges(|n| n == 1) > 0 && badges(|n| n >= 2) > 0);
    let several = m
        .workouts
        .iter()
        .find(|w| w.achievements.len() >= 2)
        .unwrap();
    let (_, detail) = get(&format!("{api}/api/workout/{}", several.id), &token).await;
    let listed: Vec<&str> = items(&detail["achievement_templates"])
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(listed, several.achievements);
    pel.shutdown().await;
}

fn strength_sets(detail: &Value) -> &Vec<Value> {
    items(
        &detail["movement_tracker_data"]["completed_movements_summary_data"]["repetition_summary_data"],
    )
}

/// The exporter-side reading of rep tracking: totals recomputed from the sets.
fn check_strength(detail: &Value, truth: &StrengthTruth) {
    let sum = &detail["movement_tracker_data"]["completed_movements_summary_data"];
    let sets = strength_sets(detail);
    assert!(!sets.is_empty() && sets.len() <= 12, "{} sets", sets.len());
    let (mut reps, mut volume, mut hold, mut rep_secs) = (0.0, 0.0, 0.0, 0.0);
    for s in sets {
        let done = f(&s["completed_number"]);
        let weight = f(&s["weight"][0]["weight_data"]["weight_value"]);
        assert_eq!(s["weight"][0]["weight_data"]["weight_unit"], "lb");
        assert_eq!(f(&s["total_volume"]), 2.0 * weight * done, "{s}");
        volume += f(&s["total_volume"]);
        if s["is_hold"] == true {
            assert_eq!(weight, 0.0);
            hold += done;
        } else {
            reps += done;
            if done > 0.0 {
                rep_secs += f(&s["length"]);
            }
        }
    }
    assert_eq!(f(&sum["total_volume"]), volume);
    assert_eq!(f(&sum["total_repetitions"]), reps);
    assert_eq!(sum["weight_unit"], "lb");
    assert_eq!(
        *truth,
        StrengthTruth {
            repetitions: reps,
            volume_lb: volume,
            hold_seconds: hold,
            rep_set_seconds: rep_secs,
        }
    );
}

#[tokio::test]
async fn strength_detail_and_graph_match_the_truth() {
    let (pel, token) = fake(FakeOptions::demo()).await;
    let api = pel.api_url();
    let m = pel.member();
    let strength: Vec<&GeneratedWorkout> = m
        .workouts
        .iter()
        .filter(|w| w.discipline == "strength" && w.is_complete())
        .take(6)
        .collect();
    assert!(strength.len() >= 3);
    let (mut holds, mut bodyweight, mut weighted) = (0, 0, 0);
    for w in &strength {
        let truth = w.strength.expect("strength truth");
        let (s, d) = get(&format!("{api}/api/workout/{}", w.id), &token).await;
        assert_eq!(s, StatusCode::OK);
        check_strength(&d, &truth);
        for s in strength_sets(&d) {
            let weight = f(&s["weight"][0]["weight_data"]["weight_value"]);
            if s["is_hold"] == true {
                holds += 1;
                assert_eq!(s["total_volume"], 0);
            } else if weight == 0.0 {
                bodyweight += 1;
            } else {
                weighted += 1;
                assert!((5.0..=30.0).contains(&weight));
            }
        }
        let (_, g) = get(
            &format!("{api}/api/workout/{}/performance_graph?every_n=5", w.id),
            &token,
        )
        .await;
        let groups = items(&g["muscle_group_score"]);
        assert_eq!(groups.len(), w.muscle_groups.len());
        assert_eq!(groups.len(), 6);
        for (j, t) in groups.iter().zip(&w.muscle_groups) {
            assert_eq!(j["muscle_group"], t.muscle_group.as_str());
            assert_eq!(f(&j["score"]), t.score);
            assert_eq!(j["percentage"], t.percentage);
            assert_eq!(j["bucket"], t.bucket);
            assert!(
                strength::MUSCLE_GROUPS
                    .iter()
                    .any(|(slug, _)| *slug == t.muscle_group)
            );
        }
        assert_eq!(
            g["target_metrics_performance_data"]["target_metrics"],
            serde_json::json!([])
        );
    }
    assert!(holds > 0 && bodyweight > 0 && weighted > 0);
    // Non-strength workouts have no rep tracking.
    let ride = m
        .workouts
        .iter()
        .find(|w| w.discipline == "cycling")
        .unwrap();
    assert!(ride.strength.is_none() && ride.muscle_groups.is_empty());
    let (_, d) = get(&format!("{api}/api/workout/{}", ride.id), &token).await;
    assert!(d.get("movement_tracker_data").is_none());
    {
        let fx = fixture("workout_detail_strength_2024_RECONSTRUCTED.json");
        let (_, d) = get(&format!("{api}/api/workout/{}", strength[0].id), &token).await;
        let ours = &d["movement_tracker_data"]["completed_movements_summary_data"];
        let theirs = &fx["movement_tracker_data"]["completed_movements_summary_data"];
        assert_has_fixture_keys(ours, theirs, "summary data");
        assert_has_fixture_keys(
            &ours["repetition_summary_data"][0],
            &theirs["repetition_summary_data"][0],
            "set",
        );
        assert_has_fixture_keys(
            &ours["repetition_summary_data"][0]["weight"][0],
            &theirs["repetition_summary_data"][0]["weight"][0],
            "weight",
        );
        let g = fixture("performance_graph_strength_2024_RECONSTRUCTED.json");
        let (_, ours) = get(
            &format!("{api}/api/workout/{}/performance_graph", strength[0].id),
            &token,
        )
        .await;
        let mut g = g;
        // Ours renders `splits_data` as the other graphs do (an empty list).
        g.as_object_mut().unwrap().remove("splits_data");
        assert_has_fixture_keys(&ours, &g, "strength graph");
        assert_has_fixture_keys(
            &ours["muscle_group_score"][0],
            &g["muscle_group_score"][0],
            "group",
        );
    }
    pel.shutdown().await;
}

#[test]
fn the_strength_fixture_is_consistent() {
    let fx = fixture("workout_detail_strength_2024_RECONSTRUCTED.json");
    check_strength(
        &fx,
        &StrengthTruth {
            repetitions: 59.0,
            volume_lb: 1750.0,
            hold_seconds: 80.0,
            rep_set_seconds: 255.0,
        },
    );
}

/// `(in range, targeted)` per metric as an exporter would read the new shape.
fn read_new_targets(t: &Value) -> Vec<(String, f64, f64)> {
    let segs = items(&t["target_metrics"]);
    let mut prev_end: Option<i64> = None;
    for s in segs {
        let start = s["offsets"]["start"].as_i64().unwrap();
        if let Some(p) = prev_end {
            assert_eq!(start, p + 1, "segments tile");
        }
        prev_end = s["offsets"]["end"].as_i64();
    }
    items(&t["time_in_metric"])
        .iter()
        .map(|x| {
            let name = x["name"].as_str().unwrap().to_owned();
            let targeted: i64 = segs
                .iter()
                .filter(|s| {
                    items(&s["metrics"])
                        .iter()
                        .any(|m| m["name"] == name.as_str())
                })
                .map(|s| {
                    s["offsets"]["end"].as_i64().unwrap() - s["offsets"]["start"].as_i64().unwrap()
                        + 1
                })
                .sum();
            (name, f(&x["value"]), targeted as f64)
        })
        .collect()
}

#[tokio::test]
async fn cycling_targets_match_the_truth() {
    let (pel, token) = fake(FakeOptions::demo()).await;
    let api = pel.api_url();
    let m = pel.member();
    let cycling: Vec<&GeneratedWorkout> = m
        .workouts
        .iter()
        .filter(|w| w.discipline == "cycling" && w.is_complete())
        .collect();
    let with: Vec<&&GeneratedWorkout> = cycling.iter().filter(|w| !w.targets.is_empty()).collect();
    assert!(!with.is_empty() && with.len() < cycling.len());
    for w in with.iter().take(4) {
        assert_eq!(w.workout_type, WorkoutType::Class);
        let (_, g) = get(
            &format!("{api}/api/workout/{}/performance_graph?every_n=5", w.id),
            &token,
        )
        .await;
        let got = read_new_targets(&g["target_metrics_performance_data"]);
        assert_eq!(got, w.targets);
        for (_, within, targeted) in &got {
            assert!(within < targeted);
        }
        assert_eq!(
            got[0].2,
            f64::from(w.duration_class_s) + 1.0,
            "cadence spans the class"
        );
    }
    let without = cycling.iter().find(|w| w.targets.is_empty()).unwrap();
    let (_, g) = get(
        &format!("{api}/api/workout/{}/performance_graph", without.id),
        &token,
    )
    .await;
    assert_eq!(
        g["target_metrics_performance_data"],
        serde_json::json!({"target_metrics": [], "time_in_metric": []})
    );
    assert!(
        m.workouts
            .iter()
            .filter(|w| w.workout_type != WorkoutType::Class || w.discipline != "cycling")
            .all(|w| w.targets.is_empty())
    );
    pel.shutdown().await;
}

#[test]
fn the_targets_fixture_reads_like_the_fake() {
    let fx = fixture("performance_graph_cycling_targets_2024_RECONSTRUCTED.json");
    let got = read_new_targets(&fx["target_metrics_performance_data"]);
    assert_eq!(
        got,
        [
            ("cadence".to_owned(), 816.0, 1201.0),
            ("resistance".to_owned(), 530.0, 931.0)
        ]
    );
}

#[test]
fn old_workouts_have_the_old_targets_shape() {
    let opts = FakeOptions {
        history_days: 2500,
        workouts: 400,
        ..FakeOptions::default()
    };
    let m = generate_member(&opts, NOW);
    let w = m
        .workouts
        .iter()
        .find(|w| !w.targets.is_empty() && w.start_time < targets::OLD_SHAPE_BEFORE)
        .expect("an old class with targets");
    let g = graph::performance_graph(&m.without_workouts(), w, 5, NOW);
    assert!(g.get("target_metrics_performance_data").is_none());
    let t = &g["target_performance_metrics"];
    for (i, kind) in ["cadence", "resistance"].iter().enumerate() {
        let metric = &t["target_graph_metrics"][i];
        assert_eq!(metric["type"], *kind);
        let upper = items(&metric["graph_data"]["upper"]);
        assert_eq!(upper.len(), w.duration_class_s as usize);
        assert_eq!(items(&metric["graph_data"]["lower"]).len(), upper.len());
        assert_eq!(items(&metric["graph_data"]["average"]).len(), upper.len());
        let targeted = upper.iter().filter(|u| f(u) > 0.0).count() as f64;
        let within = f(&t[format!("{kind}_time_in_range")]);
        assert_eq!(w.targets[i], ((*kind).to_owned(), within, targeted));
    }
    // Newer classes with targets use the new name.
    let new = m
        .workouts
        .iter()
        .find(|w| !w.targets.is_empty() && w.start_time >= targets::OLD_SHAPE_BEFORE)
        .unwrap();
    let g = graph::performance_graph(&m.without_workouts(), new, 5, NOW);
    assert!(g.get("target_performance_metrics").is_none());
    assert_eq!(
        read_new_targets(&g["target_metrics_performance_data"]),
        new.targets
    );
}

#[tokio::test]
async fn splits_vary_and_the_best_is_the_truth() {
    let (pel, token) = fake(FakeOptions::demo()).await;
    let api = pel.api_url();
    let m = pel.member();
    let rows: Vec<&GeneratedWorkout> = m
        .workouts
        .iter()
        .filter(|w| w.discipline == "caesar" && w.is_complete())
        .take(3)
        .collect();
    assert!(!rows.is_empty());
    for w in rows {
        let (_, g) = get(
            &format!("{api}/api/workout/{}/performance_graph?every_n=1", w.id),
            &token,
        )
        .await;
        let rows = items(&g["splits_metrics"]["metrics"]);
        let value = |r: &Value, slug: &str| {
            items(&r["data"])
                .iter()
                .find(|d| d["slug"] == slug)
                .map(|d| f(&d["value"]))
                .unwrap()
        };
        let distance = w.distance_meters.unwrap();
        let whole = (distance / 500.0).floor() as usize;
        assert!(rows.len() == whole || rows.len() == whole + 1);
        let paces: Vec<f64> = rows.iter().take(whole).map(|r| value(r, "pace")).collect();
        assert!(
            paces.iter().any(|p| *p != paces[0]),
            "paces vary: {paces:?}"
        );
        let mut last_time = 0.0;
        for (k, r) in rows.iter().enumerate() {
            let t = value(r, "total_time");
            assert!(t > last_time);
            last_time = t;
            if k < whole {
                assert_eq!(value(r, "meter"), (k + 1) as f64 * 500.0);
            } else {
                assert!(value(r, "meter") < 500.0);
                assert!((t - f64::from(w.duration_class_s) / 60.0).abs() < 0.02);
            }
        }
        let best: Vec<&Value> = rows.iter().filter(|r| r["is_best"] == true).collect();
        assert_eq!(best.len(), 1);
        let fastest = paces.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(value(best[0], "pace"), fastest);
        assert_eq!(w.best_split_seconds, Some(fastest * 60.0));
    }
    // Rides, runs and walks: the fastest whole mile, the same at every `every_n`.
    for slug in ["cycling", "running", "walking"] {
        let w = m
            .workouts
            .iter()
            .find(|w| {
                w.discipline == slug && w.is_complete() && w.distance_meters.unwrap_or(0.0) > 1700.0
            })
            .unwrap();
        let mut seen = Vec::new();
        for every_n in [1, 5] {
            let (_, g) = get(
                &format!(
                    "{api}/api/workout/{}/performance_graph?every_n={every_n}",
                    w.id
                ),
                &token,
            )
            .await;
            assert_eq!(g["splits_data"]["distance_marker_display_unit"], "mi");
            let splits = items(&g["splits_data"]["splits"]);
            let best: Vec<&Value> = splits.iter().filter(|s| s["is_best"] == true).collect();
            assert_eq!(best.len(), 1);
            assert!(f(&best[0]["distance_marker"]) >= 1.0);
            assert_eq!(Some(f(&best[0]["seconds"])), w.best_split_seconds);
            seen.push(g["splits_data"].clone());
        }
        assert_eq!(seen[0], seen[1]);
    }
    pel.shutdown().await;
}

#[test]
fn schema_drift_covers_the_new_shapes() {
    let m = generate_member(&FakeOptions::default(), NOW);
    let strength = m
        .workouts
        .iter()
        .find(|w| w.discipline == "strength" && w.is_complete())
        .unwrap();
    let mut g = graph::performance_graph(&m.without_workouts(), strength, 5, NOW);
    drift::apply(Endpoint::PerformanceGraph, &mut g);
    assert!(g.get("target_metrics_performance_data").is_none());
    assert!(g["target_performance_metrics"].is_object());
    assert!(
        items(&g["muscle_group_score"])
            .iter()
            .any(|x| x["muscle_group"] == "x_fake_rotator_cuff")
    );
    let ride = m
        .workouts
        .iter()
        .find(|w| w.discipline == "cycling")
        .unwrap();
    let mut g = graph::performance_graph(&m.without_workouts(), ride, 5, NOW);
    drift::apply(Endpoint::PerformanceGraph, &mut g);
    assert!(g["muscle_group_score"].is_null());

    let mut d = render::detail(&m, strength, render::Joins::default());
    drift::apply(Endpoint::Workout, &mut d);
    let sum = &d["movement_tracker_data"]["completed_movements_summary_data"];
    assert!(sum.get("total_volume").is_none());
    assert!(sum["total_repetitions"].is_u64());

    let mut a = challenges::achievements(&m);
    drift::apply(Endpoint::Achievements, &mut a);
    assert!(
        items(&a["categories"])
            .iter()
            .any(|c| c["slug"] == "x_fake_holiday_specials")
    );
    let mut list = challenges::current(&m, NOW, true);
    drift::apply(Endpoint::Challenges, &mut list);
    assert!(list["challenges"][0].get("participants").is_none());
}

#[tokio::test]
async fn me_keeps_zone_fields() {
    let (pel, token) = fake(FakeOptions::default()).await;
    let (_, me) = get(&format!("{}/api/me", pel.api_url()), &token).await;
    assert_eq!(items(&me["default_heart_rate_zones"]).len(), 5);
    assert!(me["default_max_heart_rate"].is_i64());
    assert!(me["customized_heart_rate_zones"].is_array());
    assert!(me["customized_max_heart_rate"].is_i64());
    assert_has_fixture_keys(
        &me,
        &fixture("me_customized_zones_RECONSTRUCTED.json"),
        "me",
    );
    pel.shutdown().await;
}
