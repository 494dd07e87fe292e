//! The newest completed workout with strength work, and the newest with class targets: a
//! strength or targets panel shows the last such class even after a ride or a run since.

use super::{Status, WorkoutSummary};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatestOfKind {
    pub strength: Option<WorkoutSummary>,
    pub targets: Option<WorkoutSummary>,
}

impl LatestOfKind {
    /// Takes `w` where it is newer than what is kept (by start, then id, so the order
    /// workouts arrive in does not matter).
    pub fn offer(&mut self, w: &WorkoutSummary) {
        if w.status != Status::Complete {
            return;
        }
        let has_strength = w
            .extras
            .strength
            .as_ref()
            .is_some_and(|s| s.repetitions.is_some() || !s.muscle_groups.is_empty());
        if has_strength {
            keep_newer(&mut self.strength, w);
        }
        if !w.extras.targets.is_empty() {
            keep_newer(&mut self.targets, w);
        }
    }
}

fn keep_newer(slot: &mut Option<WorkoutSummary>, w: &WorkoutSummary) {
    let key = |w: &WorkoutSummary| (w.start_time.or(w.created_at).unwrap_or(0.0), w.id.clone());
    if slot.as_ref().is_none_or(|kept| {
        kept.id == w.id
            || key(w)
                .partial_cmp(&key(kept))
                .is_some_and(std::cmp::Ordering::is_gt)
    }) {
        *slot = Some(w.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workout_extras::{Strength, TargetTime};

    fn w(id: &str, start: f64) -> WorkoutSummary {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": id, "status": "COMPLETE", "fitness_discipline": "strength",
            "start_time": start, "end_time": start + 600.0
        }))
        .unwrap();
        WorkoutSummary::from_list_item(&item).unwrap()
    }

    #[test]
    fn the_newest_of_each_kind_whatever_the_order() {
        let mut lift = w("lift", 1_000.0);
        lift.extras.strength = Some(Strength {
            repetitions: Some(10.0),
            ..Strength::default()
        });
        let mut older_lift = lift.clone();
        older_lift.id = "older".into();
        older_lift.start_time = Some(500.0);
        let mut ride = w("ride", 2_000.0);
        ride.extras.targets.insert(
            "cadence".into(),
            TargetTime {
                in_seconds: 1.0,
                out_seconds: None,
            },
        );
        let plain = w("yoga", 3_000.0);
        let mut kinds = LatestOfKind::default();
        for x in [&lift, &plain, &older_lift, &ride] {
            kinds.offer(x);
        }
        assert_eq!(kinds.strength.map(|s| s.id), Some("lift".to_owned()));
        assert_eq!(kinds.targets.map(|s| s.id), Some("ride".to_owned()));
    }
}
