//! Issue 25 end to end: the annual challenge, badges per category, strength reps and
//! volume, time in target, splits and heart-rate zone bounds, exposed with the exact values
//! the fake Peloton's own ground truth gives; drifted answers give no panic, no fake 0 and
//! no counter that steps back; the profile-interval reads cost at most three requests; a
//! store from before reads each strength class once more.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use peloton_exporter::run::Running;
use peloton_fake::{Endpoint, FakeOptions, FakePeloton, GeneratedWorkout};

/// Grams per pound: the volume is exposed in Prometheus' base unit of mass.
const POUND_G: f64 = 453.592_37;

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let actual = actual.unwrap_or_else(|| panic!("{what}: not exposed"));
    assert!(
        (actual - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: exporter {actual}, fake {expected}"
    );
}

fn counted(w: &GeneratedWorkout) -> bool {
    w.is_complete() && !w.imported
}

/// Strength totals of the fake's completed classes: reps, kilograms, seconds under load.
fn strength_truth(member: &peloton_fake::MemberData) -> (f64, f64, f64) {
    let mut t = (0.0, 0.0, 0.0);
    for s in member
        .workouts
        .iter()
        .filter(|w| counted(w))
        .filter_map(|w| w.strength)
    {
        t.0 += s.repetitions;
        t.1 += s.volume_lb * POUND_G;
        t.2 += s.hold_seconds + s.rep_set_seconds;
    }
    t
}

/// A short history: enough for the profile reads, quick to sync.
fn small_member() -> FakeOptions {
    FakeOptions {
        workouts: 20,
        history_days: 30,
        ..FakeOptions::default()
    }
}

/// The reads of the profile interval this issue added.
pub fn is_profile_extra(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::Challenges | Endpoint::Challenge | Endpoint::Achievements
    )
}

fn members_fake() -> FakeOptions {
    FakeOptions {
        workouts: 150,
        history_days: 300,
        ..FakeOptions::default()
    }
}

async fn synced(fake: &FakePeloton, storage: &std::path::Path) -> (Running, Samples) {
    let exporter = start(&args_with_token(fake, storage)).await;
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(90),
        "history and profile extras",
        |s| {
            value(s, "peloton_history_workouts_pending") == Some(0.0)
                && !series(s, "peloton_achievements_by_category").is_empty()
        },
    )
    .await;
    (exporter, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_family_equals_the_fakes_ground_truth() {
    let fake = fake(members_fake()).await;
    let dir = tempfile::tempdir().unwrap();
    let (exporter, s) = synced(&fake, dir.path()).await;
    let member = fake.member();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;

    // The annual challenge, found among the joined ones by what it is.
    let annual = member
        .current_challenges(now)
        .into_iter()
        .find(|c| c.has_joined && c.title.starts_with("The Annual"))
        .expect("the demo member has joined the annual challenge");
    let label = format!("challenge=\"{}\"", annual.title);
    close(
        value(
            &s,
            &format!("peloton_annual_challenge_progress_seconds{{{label}}}"),
        ),
        annual.progress_minutes * 60.0,
        "progress",
    );
    close(
        value(
            &s,
            &format!("peloton_annual_challenge_end_timestamp_seconds{{{label}}}"),
        ),
        annual.end_time as f64,
        "end",
    );
    let days = ((annual.end_time as f64 - now as f64) / 86_400.0)
        .ceil()
        .max(1.0);
    let tiers: Vec<_> = annual.tiers.iter().filter(|(_, m)| *m > 0.0).collect();
    assert_eq!(
        series(&s, "peloton_annual_challenge_tier_seconds").len(),
        tiers.len(),
        "every tier but the zero one"
    );
    for (title, minutes) in tiers {
        let labels = format!("{label},tier=\"{title}\"");
        close(
            value(
                &s,
                &format!("peloton_annual_challenge_tier_seconds{{{labels}}}"),
            ),
            minutes * 60.0,
            title,
        );
        let need = ((minutes - annual.progress_minutes) * 60.0 / days).max(0.0);
        close(
            value(
                &s,
                &format!("peloton_annual_challenge_needed_per_day_seconds{{{labels}}}"),
            ),
            need,
            &format!("needed per day for {title}"),
        );
    }

    // Badges per category: every badge counted.
    let categories = member.achievement_categories();
    assert!(categories.len() >= 4, "{categories:?}");
    for (slug, badges) in &categories {
        let expected: u64 = badges.iter().map(|(_, n)| n).sum();
        close(
            value(
                &s,
                &format!("peloton_achievements_by_category{{category=\"{slug}\"}}"),
            ),
            expected as f64,
            slug,
        );
    }

    // Strength: reps, volume with both dumbbells, time under tension, muscle groups.
    let (reps, kg, tension) = strength_truth(&member);
    assert!(reps > 0.0 && kg > 0.0);
    close(
        value(&s, "peloton_strength_repetitions_total"),
        reps,
        "reps",
    );
    close(
        value(&s, "peloton_strength_volume_grams_total"),
        kg,
        "volume",
    );
    close(
        value(&s, "peloton_strength_time_under_tension_seconds_total"),
        tension,
        "time under tension",
    );
    let mut groups: BTreeMap<String, f64> = BTreeMap::new();
    for w in member.workouts.iter().filter(|w| counted(w)) {
        for g in &w.muscle_groups {
            *groups.entry(g.muscle_group.clone()).or_default() += g.score;
        }
    }
    assert!(!groups.is_empty());
    for (group, score) in &groups {
        close(
            value(
                &s,
                &format!("peloton_muscle_group_score_total{{muscle_group=\"{group}\"}}"),
            ),
            *score,
            group,
        );
    }

    // Time in target, in and out, per metric.
    let mut targets: BTreeMap<(String, &str), f64> = BTreeMap::new();
    for w in member.workouts.iter().filter(|w| counted(w)) {
        for (metric, inside, targeted) in &w.targets {
            *targets.entry((metric.clone(), "in")).or_default() += inside;
            *targets.entry((metric.clone(), "out")).or_default() += targeted - inside;
        }
    }
    assert!(!targets.is_empty(), "the member has classes with targets");
    for ((metric, range), seconds) in &targets {
        close(
            value(
                &s,
                &format!(
                    "peloton_target_metric_seconds_total{{metric=\"{metric}\",range=\"{range}\"}}"
                ),
            ),
            *seconds,
            &format!("{metric} {range}"),
        );
    }

    // The fastest whole split ever: 500 m rows, miles (the member's unit) otherwise.
    let best = |row: bool| {
        member
            .workouts
            .iter()
            .filter(|w| counted(w) && (w.discipline == "caesar") == row)
            .filter_map(|w| w.best_split_seconds)
            .reduce(f64::min)
    };
    close(
        value(&s, "peloton_best_split_seconds{distance=\"500m\"}"),
        best(true).expect("rows with splits"),
        "500 m",
    );
    close(
        value(&s, "peloton_best_split_seconds{distance=\"1mi\"}"),
        best(false).expect("runs with splits"),
        "mile",
    );

    // The member's heart-rate zone bounds.
    let floors = member.heart_rate_zones;
    for zone in 1..=5 {
        close(
            value(
                &s,
                &format!("peloton_heart_rate_zone_min_bpm{{zone=\"{zone}\"}}"),
            ),
            floors[zone - 1],
            &format!("zone {zone} floor"),
        );
        let top = if zone == 5 {
            member.max_heart_rate
        } else {
            floors[zone]
        };
        close(
            value(
                &s,
                &format!("peloton_heart_rate_zone_max_bpm{{zone=\"{zone}\"}}"),
            ),
            top,
            &format!("zone {zone} top"),
        );
    }

    // The newest strength class and class with targets of the history, whatever came
    // after them.
    let newest = |pick: fn(&GeneratedWorkout) -> bool| {
        member
            .workouts
            .iter()
            .filter(|w| counted(w) && pick(w))
            .max_by_key(|w| (w.start_time, w.id.clone()))
            .unwrap()
    };
    let lift = newest(|w| w.strength.is_some());
    close(
        value(&s, "peloton_latest_strength_workout_repetitions"),
        lift.strength.unwrap().repetitions,
        "the history's newest strength class",
    );
    let targeted = newest(|w| !w.targets.is_empty());
    let (metric, inside, _) = &targeted.targets[0];
    close(
        value(
            &s,
            &format!(
                "peloton_latest_targeted_workout_target_metric_seconds{{metric=\"{metric}\",range=\"in\"}}"
            ),
        ),
        *inside,
        "the history's newest class with targets",
    );

    // A new strength class: its reps, volume and badges, at its own time.
    let before = value(&s, "peloton_workout_achievements_total").unwrap_or(0.0);
    let id = fake.add_workout("strength");
    let s = wait_for_samples_within(exporter.addr, Duration::from_secs(30), "new class", |s| {
        series(s, "peloton_latest_workout_info")
            .first()
            .is_some_and(|(k, _)| k.contains("strength"))
            && value(s, "peloton_history_workouts_pending") == Some(0.0)
    })
    .await;
    let member = fake.member();
    let new = member.workouts.iter().find(|w| w.id == id).unwrap();
    let truth = new.strength.unwrap();
    close(
        value(&s, "peloton_latest_workout_strength_repetitions"),
        truth.repetitions,
        "latest reps",
    );
    close(
        value(&s, "peloton_latest_workout_strength_volume_grams"),
        truth.volume_lb * POUND_G,
        "latest volume",
    );
    close(
        value(&s, "peloton_latest_workout_achievements"),
        new.achievements.len() as f64,
        "latest badges",
    );
    close(
        value(&s, "peloton_workout_achievements_total"),
        before + new.achievements.len() as f64,
        "badges counted at the new class",
    );
    close(
        value(&s, "peloton_latest_strength_workout_repetitions"),
        truth.repetitions,
        "the newest strength class's reps",
    );
    close(
        value(&s, "peloton_latest_strength_workout_end_timestamp_seconds"),
        new.end_time.unwrap() as f64,
        "the newest strength class's end",
    );
    let (reps, kg, _) = strength_truth(&member);
    close(
        value(&s, "peloton_strength_repetitions_total"),
        reps,
        "reps after",
    );
    close(
        value(&s, "peloton_strength_volume_grams_total"),
        kg,
        "volume after",
    );
    exporter.stop().await.unwrap();
    fake.shutdown().await;
}

/// The profile-interval reads: three requests (joined challenges, the annual one's detail,
/// achievements) per `--poll.profile-interval`, none in between; a poll with nothing new
/// is still one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_challenge_and_badges_cost_three_requests_per_profile_interval() {
    let fake = fake(small_member()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = args_with_token(&fake, dir.path());
    args.push("--poll.profile-interval=4s".into());
    let exporter = start(&args).await;
    wait_synced(exporter.addr).await;
    let extras = |fake: &FakePeloton| {
        fake.requests()
            .into_iter()
            .filter(|r| is_profile_extra(r.endpoint))
            .map(|r| r.endpoint)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        extras(&fake),
        [
            Endpoint::Challenges,
            Endpoint::Challenge,
            Endpoint::Achievements
        ]
    );
    fake.clear_requests();
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let requests = fake.requests();
    let polls = requests
        .iter()
        .filter(|r| r.endpoint == Endpoint::Workouts)
        .count();
    assert!(polls >= 4, "{polls}");
    let extra = extras(&fake);
    assert!(
        (3..=6).contains(&extra.len()) && extra.len() % 3 == 0,
        "one or two refreshes of three: {extra:?}"
    );
    assert_eq!(
        requests.len(),
        polls
            + extra.len()
            + requests
                .iter()
                .filter(|r| matches!(r.endpoint, Endpoint::Me | Endpoint::Overview))
                .count(),
        "nothing else: {requests:?}"
    );
    exporter.stop().await.unwrap();
    fake.shutdown().await;
}

/// Drifted answers (renamed targets, null muscle groups, a dropped total volume, unknown
/// category and muscle-group slugs): no panic, no fake 0, no counter that steps back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifted_answers_lose_nothing_and_invent_nothing() {
    let fake = fake(members_fake()).await;
    let dir = tempfile::tempdir().unwrap();
    let (exporter, before) = synced(&fake, dir.path()).await;
    fake.faults().set_schema_drift(true);
    for _ in 0..3 {
        fake.add_workout("strength");
        fake.add_workout("caesar");
        fake.add_workout("cycling");
    }
    let after = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(60),
        "drifted workouts",
        |s| {
            value(s, "peloton_history_workouts_pending") == Some(0.0)
                && value(s, "peloton_workouts_total{discipline=\"strength\"}")
                    > value(&before, "peloton_workouts_total{discipline=\"strength\"}")
        },
    )
    .await;
    assert_eq!(value(&after, "peloton_up"), Some(1.0));
    for (name, v) in &before {
        if name.contains("_total") && !name.contains("peloton_api_") {
            let now = after.get(name).copied().unwrap_or(f64::NAN);
            assert!(now >= *v, "{name} stepped back or vanished: {v} → {now}");
        }
    }
    for (name, v) in &after {
        assert!(v.is_finite(), "{name} = {v}");
        let new_family = [
            "peloton_strength_",
            "peloton_latest_workout_strength_",
            "peloton_best_split",
            "peloton_latest_workout_best_split",
            "peloton_annual_challenge_tier",
        ];
        if new_family.iter().any(|f| name.starts_with(f)) {
            assert!(*v > 0.0, "{name} is a fake 0");
        }
    }
    exporter.stop().await.unwrap();
    fake.shutdown().await;
}

/// A store from before this version has every strength class's details but no reps: each
/// is read once more (graph and detail), the totals reach the truth and count nothing
/// twice, and a restart reads nothing again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_from_before_reads_each_strength_class_once_more() {
    let fake = fake(members_fake()).await;
    let dir = tempfile::tempdir().unwrap();
    let (exporter, fresh) = synced(&fake, dir.path()).await;
    exporter.stop().await.unwrap();
    let member = fake.member();
    let strength: Vec<&GeneratedWorkout> = member
        .workouts
        .iter()
        .filter(|w| w.is_complete() && w.discipline == "strength")
        .collect();
    assert!(strength.len() > 3, "{}", strength.len());

    // What the previous versions stored: no extras, the column unset.
    let db = dir.path().join("peloton.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE workouts SET extras = 0, summary = json_remove(summary, '$.extras') WHERE discipline = 'strength'",
            [],
        )
        .unwrap();
        // Half of them also from before training analytics: in both backlogs, read once.
        let both = conn
            .execute(
                "DELETE FROM training WHERE id IN (SELECT id FROM workouts WHERE discipline = 'strength' AND rowid % 2 = 0)",
                [],
            )
            .unwrap();
        assert!(both > 0);
    }
    fake.clear_requests();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    let again = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(60),
        "strength re-read",
        |s| {
            value(s, "peloton_history_workouts_pending") == Some(0.0)
                && value(s, "peloton_strength_repetitions_total").is_some()
        },
    )
    .await;
    exporter.stop().await.unwrap();
    let reads: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| matches!(r.endpoint, Endpoint::Workout | Endpoint::PerformanceGraph))
        .map(|r| r.path)
        .collect();
    let unique: std::collections::BTreeSet<_> = reads.iter().collect();
    assert_eq!(unique.len(), reads.len(), "none twice: {reads:?}");
    for w in &strength {
        assert!(
            reads.iter().any(|p| p == &format!("/api/workout/{}", w.id)),
            "{} not re-read",
            w.id
        );
    }
    assert!(reads.len() <= 2 * strength.len() + 2, "{}", reads.len());
    for name in [
        "peloton_strength_repetitions_total",
        "peloton_strength_volume_grams_total",
        "peloton_strength_time_under_tension_seconds_total",
    ] {
        close(value(&again, name), value(&fresh, name).unwrap(), name);
    }

    fake.clear_requests();
    let exporter = start(&args_with_token(&fake, dir.path())).await;
    wait_synced(exporter.addr).await;
    exporter.stop().await.unwrap();
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| matches!(r.endpoint, Endpoint::Workout | Endpoint::PerformanceGraph)),
        "nothing read again after a restart"
    );
    fake.shutdown().await;
}

/// `--no-collector.challenges`: neither the series nor their requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switched_off_the_challenge_and_badges_cost_nothing() {
    let fake = fake(small_member()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = args_with_token(&fake, dir.path());
    args.push("--no-collector.challenges".into());
    let exporter = start(&args).await;
    let s = wait_synced(exporter.addr).await;
    exporter.stop().await.unwrap();
    assert!(
        !fake.requests().iter().any(|r| is_profile_extra(r.endpoint)),
        "{:?}",
        fake.requests()
    );
    assert!(
        s.keys().all(|k| !k.starts_with("peloton_annual_challenge")
            && !k.starts_with("peloton_achievements_by_category")),
        "no series"
    );
    assert!(
        value(&s, "peloton_achievements_total").is_some(),
        "the rest stays"
    );
    fake.shutdown().await;
}

/// A proxy's HTML page instead of the challenges: the poll fails (`peloton_up` 0), the
/// last good values stay (no fake 0), and the next poll recovers them. A 404 (Peloton not
/// serving achievements to this account) leaves the categories absent and the exporter up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_from_the_new_endpoints() {
    use peloton_fake::Fault;
    let fake = fake(small_member()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = args_with_token(&fake, dir.path());
    args.push("--poll.profile-interval=1s".into());
    let exporter = start(&args).await;
    let good = wait_for_samples_within(exporter.addr, Duration::from_secs(30), "extras", |s| {
        !series(s, "peloton_annual_challenge_progress_seconds").is_empty()
    })
    .await;
    let progress = series(&good, "peloton_annual_challenge_progress_seconds")[0].1;
    assert!(progress > 0.0);

    fake.faults()
        .push(Endpoint::Challenges, Fault::Html(200), 2);
    let down = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(30),
        "a failed poll",
        |s| value(s, "peloton_up") == Some(0.0),
    )
    .await;
    assert_eq!(
        series(&down, "peloton_annual_challenge_progress_seconds")[0].1,
        progress,
        "the last good value stays"
    );
    assert!(
        value(
            &down,
            "peloton_poll_errors_total{reason=\"invalid_response\"}"
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    let up = wait_for_samples_within(exporter.addr, Duration::from_secs(30), "recovered", |s| {
        value(s, "peloton_up") == Some(1.0) && fake.faults().pending(Endpoint::Challenges) == 0
    })
    .await;
    assert_eq!(
        series(&up, "peloton_annual_challenge_progress_seconds")[0].1,
        progress
    );

    fake.faults()
        .push(Endpoint::Achievements, Fault::Status(404), 1000);
    let s = wait_for_samples_within(
        exporter.addr,
        Duration::from_secs(30),
        "achievements refused",
        |s| series(s, "peloton_achievements_by_category").is_empty(),
    )
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0), "a 404 is no failure");
    assert!(!series(&s, "peloton_annual_challenge_progress_seconds").is_empty());
    exporter.stop().await.unwrap();
    fake.shutdown().await;
}
