//! Changes to the member after start: added, started and completed workouts, live rides
//! (workouts in progress in real time, completed lazily when their end comes), and the demo
//! tasks that keep starting and completing them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::generator::{
    History, WorkoutCtx, build_workout, build_workout_of_length, random_discipline,
};
use super::model::{GeneratedWorkout, WorkoutStatus};
use super::server::Shared;
use super::targets;
use super::trace::{LiveRide, LiveSample, LiveState, LiveTotals, Trace};
use super::util::{lock, now_millis, now_unix};

fn shift(w: &mut GeneratedWorkout, delta: i64) {
    w.created_at += delta;
    w.start_time += delta;
    w.end_time = w.end_time.map(|e| e + delta);
    // The start decides the targets' shape (old before 2021).
    w.targets = targets::of(w);
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
/// A live ride's measurements become its trace up to now.
pub(crate) fn complete_workout(shared: &Shared, id: &str) {
    let now = now_unix();
    settle(shared, now);
    if finish_live(shared, id, None) {
        return;
    }
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
pub(crate) async fn run(shared: Arc<Shared>, every: Duration, mut stop: watch::Receiver<bool>) {
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
        // A live ride in progress stays the newest workout.
        if live_ride_in_progress(&shared) {
            continue;
        }
        let slug = random_discipline(&mut lock(&shared.rng));
        current = Some(start_workout(&shared, slug));
    }
}

/// Measured fields a workout has only once completed; a live ride gets them from its trace.
fn clear_measurements(w: &mut GeneratedWorkout) {
    w.total_work_joules = None;
    w.distance_meters = None;
    w.elevation_meters = None;
    w.calories_kcal = None;
    w.hr_zone_seconds = None;
    w.effort_zones_null = true;
    w.effort_points = None;
    w.output_watts = None;
    w.cadence_rpm = None;
    w.resistance_pct = None;
    w.speed_mps = None;
    w.incline_pct = None;
    w.heart_rate_bpm = None;
    w.stroke_rate_spm = None;
    w.stroke_count = None;
    // Targets and splits of a live ride are not generated; its graph comes from the trace.
    w.targets.clear();
    w.best_split_seconds = None;
}

/// Starts a live ride as the newest workout, `IN_PROGRESS` since `now - started_ago`;
/// returns its id and when it completes by itself.
pub(crate) fn start_live_ride(shared: &Shared, spec: &LiveRide) -> (String, Option<i64>) {
    let now = now_unix();
    settle(shared, now);
    let ago = i64::try_from(spec.started_ago.as_secs()).unwrap_or(i64::MAX);
    let start = now.saturating_sub(ago);
    let class_s = spec.class_seconds();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let ctx = WorkoutCtx::of(&m);
    // As in the in-progress fixture, created one second after the start.
    let created = start
        .saturating_add(1)
        .max(m.workouts.first().map_or(i64::MIN, |n| n.created_at + 1));
    let mut w = build_workout_of_length(
        &mut rng,
        &ctx,
        &spec.discipline,
        created,
        WorkoutStatus::InProgress,
        Some(class_s),
    );
    w.start_time = start;
    if let Some(title) = &spec.title {
        w.title.clone_from(title);
    }
    clear_measurements(&mut w);
    let due = spec.end_for(start);
    let state = LiveState {
        trace: Trace::new(w.seed, &w.discipline, class_s, &ctx),
        due,
        done: false,
    };
    let id = w.id.clone();
    lock(&shared.live).insert(id.clone(), state);
    m.workouts.insert(0, w);
    (id, due)
}

/// Completes every live ride whose end has come, at that end (not at `now`), oldest first.
pub(crate) fn settle(shared: &Shared, now: i64) {
    let mut due: Vec<(i64, String)> = lock(&shared.live)
        .iter()
        .filter(|(_, l)| !l.done)
        .filter_map(|(id, l)| l.due.filter(|d| *d <= now).map(|d| (d, id.clone())))
        .collect();
    if due.is_empty() {
        return;
    }
    due.sort();
    for (end, id) in due {
        finish_live(shared, &id, Some(end));
    }
}

/// Completes the live ride `id` at `end` (now when `None`): its measurements become the
/// trace up to then and achievements are awarded as for any completed workout. False when
/// `id` is not a live ride.
fn finish_live(shared: &Shared, id: &str, end: Option<i64>) -> bool {
    let now = now_unix();
    let mut m = lock(&shared.member);
    let mut rng = lock(&shared.rng);
    let mut live = lock(&shared.live);
    let Some(state) = live.get_mut(id) else {
        return false;
    };
    if state.done {
        return true;
    }
    state.done = true;
    let mut history = History::of(&m);
    let Some(w) = m
        .workouts
        .iter_mut()
        .find(|w| w.id == id && !w.is_complete())
    else {
        return true;
    };
    let end = end.unwrap_or_else(|| now.max(w.start_time + 1));
    state
        .trace
        .finalize(w, u64::try_from(end - w.start_time).unwrap_or(0));
    w.status = WorkoutStatus::Complete;
    w.end_time = Some(end);
    history.award(w, &mut rng);
    true
}

fn live_ride_in_progress(shared: &Shared) -> bool {
    settle(shared, now_unix());
    lock(&shared.live).values().any(|l| !l.done)
}

/// The trace of live ride `id` and the last second a graph may show: the end of a completed
/// ride, or the due end of one not yet settled. Lock order: member, then live.
pub(crate) fn trace_of(shared: &Shared, w: &GeneratedWorkout) -> Option<(Trace, Option<i64>)> {
    let live = lock(&shared.live);
    let state = live.get(&w.id)?;
    Some((state.trace.clone(), w.end_time.or(state.due)))
}

/// The trace of live ride `id` and how many seconds it has if it has completed.
fn trace_and_limit(shared: &Shared, id: &str) -> Option<(Trace, Option<u64>)> {
    settle(shared, now_unix());
    let m = lock(&shared.member);
    let w = m.find_workout(id)?;
    let limit = w
        .end_time
        .map(|e| u64::try_from(e - w.start_time).unwrap_or(0));
    let (trace, _) = trace_of(shared, w)?;
    Some((trace, limit))
}

/// The sample at `second` (from 1); `None` for other ids, second 0 and seconds after the end
/// of a completed ride.
pub(crate) fn sample(shared: &Shared, id: &str, second: u64) -> Option<LiveSample> {
    let (trace, limit) = trace_and_limit(shared, id)?;
    if second == 0 || limit.is_some_and(|l| second > l) {
        return None;
    }
    Some(trace.sample(second))
}

/// Totals over seconds `1..=up_to` (capped at the end of a completed ride).
pub(crate) fn totals(shared: &Shared, id: &str, up_to: u64) -> Option<LiveTotals> {
    let (trace, limit) = trace_and_limit(shared, id)?;
    Some(trace.totals(limit.map_or(up_to, |l| up_to.min(l))))
}

/// The live-ride demo after its first ride (due at `due`): when a ride has completed by
/// itself and `gap` has passed, starts the next one (`spec`, a new workout), until stopped.
pub(crate) async fn run_rides(
    shared: Arc<Shared>,
    spec: LiveRide,
    mut due: Option<i64>,
    gap: Duration,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(end) = due {
        let until_end = end.saturating_mul(1000).saturating_sub(now_millis()).max(0);
        let wait = Duration::from_millis(u64::try_from(until_end).unwrap_or(0)) + gap;
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        due = start_live_ride(&shared, &spec).1;
    }
}
