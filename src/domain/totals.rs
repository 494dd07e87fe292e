//! Lifetime totals over completed workouts. Each workout contributes once; when its
//! details arrive later, only what they add is added, so the totals only ever grow and a
//! counter built from them never appears to reset.

use std::collections::BTreeMap;

use super::labels::{self, MAX_DISCIPLINES, MAX_INSTRUCTOR_PAIRS, OTHER};
use super::workout_extras::{SplitDistance, Strength, WorkoutExtras};
use super::{Status, WorkoutSummary};

/// What one workout adds to the totals; `None` where the workout gave no value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Contribution {
    pub output_joules: Option<f64>,
    pub duration_seconds: Option<f64>,
    pub distance_meters: Option<f64>,
    pub energy_joules: Option<f64>,
    pub hr_zone_seconds: Option<[f64; 5]>,
}

impl Contribution {
    pub fn of(w: &WorkoutSummary) -> Self {
        if w.status != Status::Complete {
            return Self::default();
        }
        let pick = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
        Self {
            output_joules: pick(w.output_joules),
            duration_seconds: pick(w.duration_seconds),
            distance_meters: pick(w.distance_meters),
            energy_joules: pick(w.energy_joules),
            hr_zone_seconds: w
                .hr_zone_seconds
                .map(|z| z.map(|s| if s.is_finite() && s > 0.0 { s } else { 0.0 })),
        }
    }
}

/// Sums per discipline. A discipline appears in a map once any of its workouts gave that
/// value, so a discipline that never reports distance has no distance series at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub output_joules: BTreeMap<String, f64>,
    pub duration_seconds: BTreeMap<String, f64>,
    pub distance_meters: BTreeMap<String, f64>,
    pub energy_joules: BTreeMap<String, f64>,
    pub hr_zone_seconds: Option<[f64; 5]>,
    /// Completed workouts per (instructor, discipline).
    pub instructor_workouts: BTreeMap<(String, String), f64>,
    /// Completed workouts per discipline, as stored.
    pub workouts: BTreeMap<String, f64>,
    /// Completed workouts imported from other services, per discipline: counted here and
    /// nowhere else unless `include_imported`.
    pub imported_workouts: BTreeMap<String, f64>,
    /// `--peloton.include-imported`: imports count in every total like Peloton workouts.
    pub include_imported: bool,
    /// Badges earned in completed workouts whose detail was read.
    pub workout_badges: Option<f64>,
    /// Repetitions, volume, time under tension and muscle-group scores summed.
    pub strength: Strength,
    /// Seconds per (target metric, `in`/`out`).
    pub target_seconds: BTreeMap<(String, &'static str), f64>,
    /// The fastest whole split ever, per distance.
    pub best_split_seconds: BTreeMap<SplitDistance, f64>,
}

impl Totals {
    pub fn new(include_imported: bool) -> Self {
        Self {
            include_imported,
            ..Self::default()
        }
    }

    /// Adds workout `new`, which was previously recorded as `old` (or not at all). Only
    /// the growth is added, field by field.
    pub fn update(&mut self, old: Option<&WorkoutSummary>, new: &WorkoutSummary) {
        let before = old.map(Contribution::of).unwrap_or_default();
        let after = Contribution::of(new);
        let key = |map: &BTreeMap<String, f64>| {
            labels::admit(
                map,
                new.discipline.clone(),
                MAX_DISCIPLINES,
                OTHER.to_owned(),
            )
        };
        let was_complete = old.is_some_and(|o| o.status == Status::Complete);
        let is_complete = new.status == Status::Complete;
        if new.imported && is_complete && !was_complete {
            let d = key(&self.imported_workouts);
            *self.imported_workouts.entry(d).or_insert(0.0) += 1.0;
        }
        if new.imported && !self.include_imported {
            return;
        }
        let d = key(&self.workouts);
        let d = d.as_str();
        if is_complete && !was_complete {
            *self.workouts.entry(d.to_owned()).or_insert(0.0) += 1.0;
            if let Some(instructor) = &new.instructor {
                let pair = labels::admit(
                    &self.instructor_workouts,
                    (instructor.clone(), d.to_owned()),
                    MAX_INSTRUCTOR_PAIRS,
                    (OTHER.to_owned(), d.to_owned()),
                );
                *self.instructor_workouts.entry(pair).or_insert(0.0) += 1.0;
            }
        }
        grow(
            &mut self.output_joules,
            d,
            before.output_joules,
            after.output_joules,
        );
        grow(
            &mut self.duration_seconds,
            d,
            before.duration_seconds,
            after.duration_seconds,
        );
        grow(
            &mut self.distance_meters,
            d,
            before.distance_meters,
            after.distance_meters,
        );
        grow(
            &mut self.energy_joules,
            d,
            before.energy_joules,
            after.energy_joules,
        );
        if is_complete {
            let no_extras = WorkoutExtras::default();
            let before = old
                .filter(|o| o.status == Status::Complete)
                .map_or(&no_extras, |o| &o.extras);
            self.add_extras(before, &new.extras);
        }
        if let Some(after_zones) = after.hr_zone_seconds {
            let before_zones = before.hr_zone_seconds.unwrap_or_default();
            let zones = self.hr_zone_seconds.get_or_insert([0.0; 5]);
            for ((total, b), a) in zones.iter_mut().zip(before_zones).zip(after_zones) {
                if a > b {
                    *total += a - b;
                }
            }
        }
    }
}

impl Totals {
    /// Adds what a workout's extras grew by since `before`.
    fn add_extras(&mut self, before: &WorkoutExtras, after: &WorkoutExtras) {
        grow_one(&mut self.workout_badges, before.badges, after.badges);
        if let Some(a) = &after.strength {
            let none = Strength::default();
            let b = before.strength.as_ref().unwrap_or(&none);
            let t = &mut self.strength;
            grow_one(&mut t.repetitions, b.repetitions, a.repetitions);
            grow_one(&mut t.volume_grams, b.volume_grams, a.volume_grams);
            grow_one(&mut t.tension_seconds, b.tension_seconds, a.tension_seconds);
            for (group, score) in &a.muscle_groups {
                let was = b.muscle_groups.get(group).copied();
                grow(&mut t.muscle_groups, group, was, Some(*score));
            }
        }
        for (metric, time) in &after.targets {
            let was = before.targets.get(metric);
            for (range, now, then) in [
                ("in", Some(time.in_seconds), was.map(|w| w.in_seconds)),
                ("out", time.out_seconds, was.and_then(|w| w.out_seconds)),
            ] {
                let Some(now) = now.filter(|v| v.is_finite() && *v >= 0.0) else {
                    continue;
                };
                let total = self
                    .target_seconds
                    .entry((metric.clone(), range))
                    .or_insert(0.0);
                let then = then.unwrap_or(0.0);
                if now > then {
                    *total += now - then;
                }
            }
        }
        if let Some(split) = after.best_split
            && split.seconds.is_finite()
            && split.seconds > 0.0
        {
            let best = self
                .best_split_seconds
                .entry(split.distance)
                .or_insert(split.seconds);
            *best = best.min(split.seconds);
        }
    }
}

/// Adds to `total` what `after` grew by since `before`; a first value creates it.
fn grow_one(total: &mut Option<f64>, before: Option<f64>, after: Option<f64>) {
    let Some(after) = after.filter(|v| v.is_finite() && *v >= 0.0) else {
        return;
    };
    let before = before.filter(|v| v.is_finite() && *v >= 0.0).unwrap_or(0.0);
    let total = total.get_or_insert(0.0);
    if after > before {
        *total += after - before;
    }
}

fn grow(
    map: &mut BTreeMap<String, f64>,
    discipline: &str,
    before: Option<f64>,
    after: Option<f64>,
) {
    let Some(after) = after else { return };
    let before = before.unwrap_or(0.0);
    let total = map.entry(discipline.to_owned()).or_insert(0.0);
    if after > before {
        *total += after - before;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: &str, status: &str, work: Option<f64>) -> WorkoutSummary {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": id, "status": status, "fitness_discipline": "cycling", "total_work": work,
            "start_time": 100, "end_time": 700,
            "ride": {"instructor": {"name": "Coach"}}
        }))
        .unwrap();
        WorkoutSummary::from_list_item(&item).unwrap()
    }

    #[test]
    fn each_workout_counts_once_and_details_only_add() {
        let mut t = Totals::default();
        let listed = w("a", "COMPLETE", Some(1000.0));
        t.update(None, &listed);
        t.update(Some(&listed), &listed);
        assert_eq!(t.output_joules["cycling"], 1000.0);
        assert_eq!(t.duration_seconds["cycling"], 600.0);
        assert_eq!(t.workouts["cycling"], 1.0);
        assert_eq!(
            t.instructor_workouts[&("Coach".to_owned(), "cycling".to_owned())],
            1.0
        );
        assert!(
            t.distance_meters.is_empty(),
            "no distance known yet: absent, not 0"
        );

        let mut detailed = listed.clone();
        detailed.distance_meters = Some(5000.0);
        detailed.energy_joules = Some(4184.0 * 100.0);
        detailed.hr_zone_seconds = Some([60.0, 120.0, 180.0, 240.0, 0.0]);
        t.update(Some(&listed), &detailed);
        assert_eq!(t.output_joules["cycling"], 1000.0, "not counted twice");
        assert_eq!(t.distance_meters["cycling"], 5000.0);
        assert_eq!(t.hr_zone_seconds, Some([60.0, 120.0, 180.0, 240.0, 0.0]));
        assert_eq!(t.workouts["cycling"], 1.0);
    }

    #[test]
    fn extras_add_only_their_growth_and_keep_the_fastest_split() {
        use crate::domain::workout_extras::{BestSplit, Strength, TargetTime};
        let mut t = Totals::default();
        let listed = w("s", "COMPLETE", None);
        t.update(None, &listed);
        assert!(t.workout_badges.is_none() && t.strength.repetitions.is_none());
        let mut detailed = listed.clone();
        detailed.extras.badges = Some(2.0);
        detailed.extras.strength = Some(Strength {
            repetitions: Some(84.0),
            volume_grams: Some(500_000.0),
            tension_seconds: Some(360.0),
            muscle_groups: BTreeMap::from([("core".to_owned(), 300.0)]),
        });
        detailed.extras.targets = BTreeMap::from([(
            "cadence".to_owned(),
            TargetTime {
                in_seconds: 72.0,
                out_seconds: Some(1128.0),
            },
        )]);
        detailed.extras.best_split = Some(BestSplit {
            distance: SplitDistance::Meters500,
            seconds: 120.0,
        });
        t.update(Some(&listed), &detailed);
        t.update(Some(&detailed), &detailed);
        assert_eq!(t.workout_badges, Some(2.0), "counted once");
        assert_eq!(t.strength.repetitions, Some(84.0));
        assert_eq!(t.strength.volume_grams, Some(500_000.0));
        assert_eq!(t.strength.tension_seconds, Some(360.0));
        assert_eq!(t.strength.muscle_groups["core"], 300.0);
        assert_eq!(t.target_seconds[&("cadence".to_owned(), "in")], 72.0);
        assert_eq!(t.target_seconds[&("cadence".to_owned(), "out")], 1128.0);
        let mut slower = w("r", "COMPLETE", None);
        slower.extras.best_split = Some(BestSplit {
            distance: SplitDistance::Meters500,
            seconds: 130.0,
        });
        slower.extras.badges = Some(0.0);
        t.update(None, &slower);
        assert_eq!(t.best_split_seconds[&SplitDistance::Meters500], 120.0);
        assert_eq!(t.workout_badges, Some(2.0));
        // A value that shrank (or vanished) on a re-fetch never takes anything back.
        let mut shrunk = detailed.clone();
        shrunk.extras.strength = None;
        shrunk.extras.badges = Some(1.0);
        t.update(Some(&detailed), &shrunk);
        assert_eq!(t.workout_badges, Some(2.0));
        assert_eq!(t.strength.repetitions, Some(84.0));
    }

    #[test]
    fn in_progress_counts_nothing_until_complete() {
        let mut t = Totals::default();
        let running = w("b", "IN_PROGRESS", Some(10.0));
        t.update(None, &running);
        assert!(t.workouts.is_empty() && t.output_joules.is_empty());
        let done = w("b", "COMPLETE", Some(500.0));
        t.update(Some(&running), &done);
        assert_eq!(t.output_joules["cycling"], 500.0);
        assert_eq!(t.workouts["cycling"], 1.0);
    }
}
