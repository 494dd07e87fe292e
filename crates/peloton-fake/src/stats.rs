//! Member-level aggregates (counts, records, streaks, achievements) computed from the history,
//! the way Peloton derives its overview. Public so tests can compute expectations.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::catalog::{DISCIPLINES, Kind, kind_of};
use super::model::{GeneratedWorkout, MemberData, PersonalRecord, Streaks, WorkoutType};
use super::util::{local_day, local_week, month_key};

impl MemberData {
    /// Completed workouts per discipline: every known discipline (zero counts included, in
    /// catalog order), then unknown slugs that occur, in first-seen order.
    pub fn workout_counts(&self) -> Vec<(String, u64)> {
        let mut counts: Vec<(String, u64)> =
            DISCIPLINES.iter().map(|d| (d.slug.to_owned(), 0)).collect();
        for w in self
            .workouts
            .iter()
            .rev()
            .filter(|w| w.is_complete() && !w.imported)
        {
            if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == w.discipline) {
                entry.1 += 1;
            } else {
                counts.push((w.discipline.clone(), 1));
            }
        }
        counts
    }

    /// Completed workouts (`/api/me` `total_workouts`, overview `workout_counts.total_workouts`).
    pub fn total_workouts(&self) -> u64 {
        self.workouts
            .iter()
            .filter(|w| w.is_complete() && !w.imported)
            .count() as u64
    }

    /// Completed workouts with pedaling metrics (bike disciplines).
    pub fn total_pedaling_metric_workouts(&self) -> u64 {
        self.workouts
            .iter()
            .filter(|w| w.is_complete() && kind_of(&w.discipline) == Kind::Bike)
            .count() as u64
    }

    pub fn find_workout(&self, id: &str) -> Option<&GeneratedWorkout> {
        self.workouts.iter().find(|w| w.id == id)
    }

    /// The newest workout (what `page=0&limit=1` returns).
    pub fn newest_workout(&self) -> Option<&GeneratedWorkout> {
        self.workouts.first()
    }

    /// The newest `COMPLETE` workout.
    pub fn latest_completed(&self) -> Option<&GeneratedWorkout> {
        self.workouts.iter().find(|w| w.is_complete())
    }

    /// Cycling output records per class length, over completed non-freestyle cycling
    /// workouts; ties keep the earlier workout. Sorted by class length.
    pub fn personal_records(&self) -> Vec<PersonalRecord> {
        let mut best: BTreeMap<u32, PersonalRecord> = BTreeMap::new();
        for w in self.workouts.iter().rev() {
            if !counts_for_cycling_pr(w) {
                continue;
            }
            let Some(j) = w.total_work_joules else {
                continue;
            };
            let better = best.get(&w.duration_class_s).is_none_or(|pr| j > pr.joules);
            if better {
                best.insert(
                    w.duration_class_s,
                    PersonalRecord {
                        duration_s: w.duration_class_s,
                        joules: j,
                        workout_id: w.id.clone(),
                        created_at: w.created_at,
                    },
                );
            }
        }
        best.into_values().collect()
    }

    /// Oldest completed cycling workout's `created_at` (overview `first_workout_date`).
    pub fn first_cycling_workout_at(&self) -> Option<i64> {
        self.workouts
            .iter()
            .rev()
            .find(|w| w.is_complete() && w.discipline == "cycling")
            .map(|w| w.created_at)
    }

    /// Streaks as of `now`, over completed workouts in the member's local time
    /// (`utc_offset_s`): a day/week counts when it has a workout; the current streak is alive
    /// if it reaches the current or the previous day/week. Weeks start on Monday. Start dates
    /// are the `start_time` of the first workout of the streak.
    pub fn streaks(&self, now: i64) -> Streaks {
        let off = self.utc_offset_s;
        let mut first_in_day: BTreeMap<i64, i64> = BTreeMap::new();
        let mut first_in_week: BTreeMap<i64, i64> = BTreeMap::new();
        for w in self.workouts.iter().filter(|w| w.is_complete()) {
            let d = local_day(w.start_time, off);
            let k = local_week(w.start_time, off);
            let e = first_in_day.entry(d).or_insert(w.start_time);
            *e = (*e).min(w.start_time);
            let e = first_in_week.entry(k).or_insert(w.start_time);
            *e = (*e).min(w.start_time);
        }
        let (current_daily, start_daily, _) = current_run(&first_in_day, local_day(now, off));
        let (current_weekly, start_weekly, weekly_run_start) =
            current_run(&first_in_week, local_week(now, off));
        let best_weekly = longest_finished_run(&first_in_week, weekly_run_start);
        Streaks {
            current_weekly,
            best_weekly,
            start_date_of_current_weekly: start_weekly,
            current_daily,
            start_date_of_current_daily: start_daily,
        }
    }

    /// Achievements earned over completed workouts, most frequent first (ties by slug).
    pub fn achievement_counts(&self) -> Vec<(String, u64)> {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for w in self.workouts.iter().filter(|w| w.is_complete()) {
            for a in &w.achievements {
                *counts.entry(a.as_str()).or_default() += 1;
            }
        }
        let mut v: Vec<(String, u64)> =
            counts.into_iter().map(|(k, c)| (k.to_owned(), c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Workouts per UTC month of `created_at` over the whole listed history (the list
    /// envelope's `summary`; includes an in-progress workout, since it is listed too).
    pub fn monthly_summary(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for w in &self.workouts {
            *m.entry(month_key(w.created_at)).or_default() += 1;
        }
        m
    }

    /// Sum of zone seconds over completed workouts (the list envelope's
    /// `total_heart_rate_zone_durations`).
    pub fn total_zone_seconds(&self) -> [f64; 5] {
        let mut t = [0.0; 5];
        for z in self
            .workouts
            .iter()
            .filter(|w| w.is_complete())
            .filter_map(|w| w.hr_zone_seconds)
        {
            for (acc, v) in t.iter_mut().zip(z) {
                *acc += v;
            }
        }
        t
    }
}

pub(crate) fn counts_for_cycling_pr(w: &GeneratedWorkout) -> bool {
    w.is_complete() && w.discipline == "cycling" && w.workout_type != WorkoutType::Freestyle
}

/// Length, start timestamp and first index of the run that ends at `current` or `current - 1`.
fn current_run(firsts: &BTreeMap<i64, i64>, current: i64) -> (u32, Option<i64>, Option<i64>) {
    let end = if firsts.contains_key(&current) {
        current
    } else if firsts.contains_key(&(current - 1)) {
        current - 1
    } else {
        return (0, None, None);
    };
    let mut i = end;
    while firsts.contains_key(&(i - 1)) {
        i -= 1;
    }
    let len = u32::try_from(end - i + 1).unwrap_or(u32::MAX);
    (len, firsts.get(&i).copied(), Some(i))
}

fn longest_finished_run(firsts: &BTreeMap<i64, i64>, running_start: Option<i64>) -> u32 {
    let keys: BTreeSet<i64> = firsts.keys().copied().collect();
    let mut best = 0u32;
    let mut run_start: Option<i64> = None;
    let mut prev: Option<i64> = None;
    let mut len = 0u32;
    let close = |start: Option<i64>, len: u32, best: &mut u32| {
        if start.is_some() && start != running_start {
            *best = (*best).max(len);
        }
    };
    for k in keys {
        if prev.is_some_and(|p| p + 1 == k) {
            len += 1;
        } else {
            close(run_start, len, &mut best);
            run_start = Some(k);
            len = 1;
        }
        prev = Some(k);
    }
    close(run_start, len, &mut best);
    best
}
