//! Lifetime totals over completed workouts. Each workout contributes once; when its
//! details arrive later, only what they add is added, so the totals only ever grow and a
//! counter built from them never appears to reset.

use std::collections::BTreeMap;

use super::labels::{self, MAX_DISCIPLINES, MAX_INSTRUCTOR_PAIRS, OTHER};
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
