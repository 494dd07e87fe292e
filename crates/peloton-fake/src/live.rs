//! Changes to the member after start: added, started and completed workouts, and the live
//! demo task that keeps starting and completing them.

use std::time::Duration;

use tokio::sync::watch;

use super::generator::{History, WorkoutCtx, build_workout, random_discipline};
use super::model::{GeneratedWorkout, WorkoutStatus};
use super::server::Shared;
use super::util::{lock, now_unix};

fn shift(w: &mut GeneratedWorkout, delta: i64) {
    w.created_at += delta;
    w.start_time += delta;
    w.end_time = w.end_time.map(|e| e + delta);
}

/// A workout that ended now, placed newest. Timestamps stay strictly newest-first, so when
/// several are added within one class length, later ones are pushed forward and may end a
/// little in the future.
pub(crate) fn add_workout(shared: &Shared, discipline: &str) -> String {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let ctx = WorkoutCtx::of(&m);
    let mut w = build_workout(&mut rng, &ctx, discipline, 0, WorkoutStatus::Complete);
    let lead = w.end_time.unwrap_or(w.start_time);
    let created = (now - lead).max(m.workouts.first().map_or(i64::MIN, |n| n.created_at + 1));
    shift(&mut w, created);
    History::of(&m).award(&mut w, &mut rng);
    let id = w.id.clone();
    m.workouts.insert(0, w);
    id
}

/// A completed workout that ended `ended_ago` seconds ago and is listed only now, where its
/// `created_at` (its start) sorts it: Peloton lists some workouts minutes to hours late.
pub(crate) fn add_late_workout(shared: &Shared, discipline: &str, ended_ago: i64) -> String {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let ctx = WorkoutCtx::of(&m);
    let mut w = build_workout(&mut rng, &ctx, discipline, 0, WorkoutStatus::Complete);
    let end = w.end_time.unwrap_or(w.start_time);
    shift(&mut w, now - ended_ago - end);
    History::of(&m).award(&mut w, &mut rng);
    let id = w.id.clone();
    let at = m
        .workouts
        .iter()
        .position(|o| o.created_at < w.created_at)
        .unwrap_or(m.workouts.len());
    m.workouts.insert(at, w);
    id
}

/// A workout synced in from Apple Health now: an outdoor activity that ended `ended_ago`
/// seconds ago, `created_at` the sync time, so it lists newest.
pub(crate) fn add_imported_workout(shared: &Shared, discipline: &str, ended_ago: i64) -> String {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let ctx = WorkoutCtx::of(&m);
    let mut w = build_workout(&mut rng, &ctx, discipline, 0, WorkoutStatus::Complete);
    let end = w.end_time.unwrap_or(w.start_time);
    shift(&mut w, now - ended_ago - end);
    w.created_at = now.max(m.workouts.first().map_or(i64::MIN, |n| n.created_at + 1));
    w.imported = true;
    "apple_health".clone_into(&mut w.device_type);
    "iOS_app".clone_into(&mut w.platform);
    w.instructor = None;
    w.instructor_id = None;
    w.total_work_joules = None;
    w.leaderboard_rank = None;
    w.total_leaderboard_users = 0;
    w.is_total_work_personal_record = false;
    w.achievements.clear();
    let id = w.id.clone();
    m.workouts.insert(0, w);
    id
}

/// A newest workout that started now and is `IN_PROGRESS` (`end_time` null).
pub(crate) fn start_workout(shared: &Shared, discipline: &str) -> String {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let ctx = WorkoutCtx::of(&m);
    let created = now.max(m.workouts.first().map_or(i64::MIN, |n| n.created_at + 1));
    let w = build_workout(
        &mut rng,
        &ctx,
        discipline,
        created,
        WorkoutStatus::InProgress,
    );
    let id = w.id.clone();
    m.workouts.insert(0, w);
    id
}

/// Completes an in-progress workout now; unknown ids and completed workouts are left alone.
pub(crate) fn complete_workout(shared: &Shared, id: &str) {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let mut history = History::of(&m);
    let Some(w) = m
        .workouts
        .iter_mut()
        .find(|w| w.id == id && !w.is_complete())
    else {
        return;
    };
    w.status = WorkoutStatus::Complete;
    w.end_time = Some(now.max(w.start_time + 1));
    history.award(w, &mut rng);
}

/// Every `every`: completes the workout started at the previous tick and starts a new one.
pub(crate) async fn run(
    shared: std::sync::Arc<Shared>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    // A zero period would spin; tokio also refuses zero intervals.
    let every = every.max(Duration::from_millis(10));
    let mut current: Option<String> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        if let Some(id) = current.take() {
            complete_workout(&shared, &id);
        }
        let slug = random_discipline(&mut lock(&shared.rng));
        current = Some(start_workout(&shared, slug));
    }
}
