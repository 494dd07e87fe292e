//! Strength classes with rep tracking: the detail's `movement_tracker_data` and the graph's
//! `muscle_group_score` (`fixtures/workout_detail_strength_2024_RECONSTRUCTED.json`,
//! `performance_graph_strength_2024_RECONSTRUCTED.json`). Everything is derived from the
//! workout's seed, so the truth stored at generation and the rendered JSON always agree.

use fastrand::Rng;
use serde_json::{Value, json};

use super::model::{GeneratedWorkout, MuscleGroupScore, StrengthTruth};
use super::util::{fnv1a, hex32_from, mix, pick, uniform};

const SETS_SALT: u64 = 0x5e75_0000_0000_0000;
const MUSCLE_SALT: u64 = 0x3c1e;
/// The intro before the first move; offsets count from the start of the video, as in the
/// DERIVED fixture (first move at 90 s with a 60 s intro).
const INTRO_S: u32 = 60;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Two dumbbells: Peloton's volume counts both.
    Dumbbells,
    Bodyweight,
    /// Held for time; `completed_number` is seconds.
    Hold,
}

const MOVES: &[(&str, Load)] = &[
    ("Bicep Curl", Load::Dumbbells),
    ("Overhead Press", Load::Dumbbells),
    ("Bent Over Row", Load::Dumbbells),
    ("Reverse Lunge", Load::Dumbbells),
    ("Romanian Deadlift", Load::Dumbbells),
    ("Chest Press", Load::Dumbbells),
    ("Skull Crusher", Load::Dumbbells),
    ("Lateral Raise", Load::Dumbbells),
    ("Push Up", Load::Bodyweight),
    ("Air Squat", Load::Bodyweight),
    ("Glute Bridge", Load::Bodyweight),
    ("Forearm Plank", Load::Hold),
    ("Wall Sit", Load::Hold),
    ("Hollow Body Hold", Load::Hold),
];

/// Peloton's 16 muscle groups.
pub(crate) const MUSCLE_GROUPS: [(&str, &str); 16] = [
    ("biceps", "Biceps"),
    ("triceps", "Triceps"),
    ("forearms", "Forearms"),
    ("shoulders", "Shoulders"),
    ("chest", "Chest"),
    ("lats", "Lats"),
    ("mid_back", "Mid Back"),
    ("low_back", "Low Back"),
    ("traps", "Traps"),
    ("core", "Core"),
    ("obliques", "Obliques"),
    ("glutes", "Glutes"),
    ("quads", "Quads"),
    ("hamstrings", "Hamstrings"),
    ("calves", "Calves"),
    ("hips", "Hips"),
];

/// One tracked set (`repetition_summary_data[]`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Set {
    pub(crate) movement_id: String,
    pub(crate) movement_name: &'static str,
    pub(crate) is_hold: bool,
    pub(crate) target_number: u32,
    pub(crate) completed_number: u32,
    pub(crate) offset: u32,
    pub(crate) length: u32,
    /// Per dumbbell, lb; 0 for bodyweight moves and holds.
    pub(crate) weight_lb: u32,
    pub(crate) total_volume: u32,
}

fn category(weight_lb: u32) -> &'static str {
    match weight_lb {
        0 => "body_weight",
        1..=10 => "light",
        11..=20 => "medium",
        _ => "heavy",
    }
}

/// 4–12 sets spread over the class (fewer when the class is too short for them), each
/// with a rest after it.
pub(crate) fn sets(seed: u64, class_s: u32) -> Vec<Set> {
    let mut rng = Rng::with_seed(mix(seed ^ SETS_SALT));
    let wanted = rng.u32(4..=12);
    // A set and its rest need at least 40 s; the class keeps a minute for warm-up and
    // cool-down each.
    let room = class_s.saturating_sub(120);
    let n = wanted.min(room / 40).max(1);
    let slot = room.max(40) / n;
    let mut out = Vec::new();
    let mut offset = INTRO_S + 60;
    for i in 0..n {
        let (name, load) = pick(&mut rng, MOVES)
            .copied()
            .unwrap_or(("Bicep Curl", Load::Dumbbells));
        // Every class has at least one hold and one bodyweight move when it has room.
        let (name, load) = match i {
            0 if n >= 3 => ("Forearm Plank", Load::Hold),
            1 if n >= 3 => ("Push Up", Load::Bodyweight),
            _ => (name, load),
        };
        let length = (slot - 10).clamp(20, 60);
        let (target, completed, weight) = match load {
            Load::Hold => {
                let held = (f64::from(length) * uniform(&mut rng, 0.6, 1.0)).round() as u32;
                (length, held, 0)
            }
            Load::Bodyweight => {
                let target = rng.u32(8..=15);
                (target, target.saturating_sub(rng.u32(0..=5)), 0)
            }
            Load::Dumbbells => {
                let target = rng.u32(8..=12);
                // One in eight sets is skipped: completed 0.
                let done = if rng.u32(0..8) == 0 {
                    0
                } else {
                    (target + rng.u32(0..=4)).saturating_sub(2)
                };
                (target, done, 5 * rng.u32(1..=6))
            }
        };
        let volume = if load == Load::Dumbbells {
            2 * weight * completed
        } else {
            0
        };
        out.push(Set {
            movement_id: hex32_from(fnv1a(name)),
            movement_name: name,
            is_hold: load == Load::Hold,
            target_number: target,
            completed_number: completed,
            offset,
            length,
            weight_lb: weight,
            total_volume: volume,
        });
        offset += slot;
    }
    out
}

pub(crate) fn truth(sets: &[Set]) -> StrengthTruth {
    let mut t = StrengthTruth {
        repetitions: 0.0,
        volume_lb: 0.0,
        hold_seconds: 0.0,
        rep_set_seconds: 0.0,
    };
    for s in sets {
        t.volume_lb += f64::from(s.total_volume);
        if s.is_hold {
            t.hold_seconds += f64::from(s.completed_number);
        } else {
            t.repetitions += f64::from(s.completed_number);
            if s.completed_number > 0 {
                t.rep_set_seconds += f64::from(s.length);
            }
        }
    }
    t
}

/// The detail's `movement_tracker_data`.
pub(crate) fn movement_tracker_data(w: &GeneratedWorkout) -> Value {
    let sets = sets(w.seed, w.duration_class_s);
    let t = truth(&sets);
    let mut ids: Vec<&str> = sets.iter().map(|s| s.movement_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let reached = sets
        .iter()
        .filter(|s| s.completed_number >= s.target_number)
        .count();
    let items: Vec<Value> = sets
        .iter()
        .map(|s| {
            json!({
                "movement_id": s.movement_id,
                "movement_name": s.movement_name,
                "is_hold": s.is_hold,
                "target_number": s.target_number,
                "completed_number": s.completed_number,
                "offset": s.offset,
                "length": s.length,
                "total_volume": s.total_volume,
                "weight": [{
                    "weight_category": category(s.weight_lb),
                    "weight_data": {"weight_value": s.weight_lb, "weight_unit": "lb"},
                }],
            })
        })
        .collect();
    json!({
        "completed_movements_summary_data": {
            "total_volume": t.volume_lb as u64,
            "weight_unit": "lb",
            "total_repetitions": t.repetitions as u64,
            "num_movements": ids.len(),
            "num_targets_reached": reached,
            "completion_percentage": (reached * 100).checked_div(sets.len()).unwrap_or(0),
            "repetition_summary_data": items,
        },
    })
}

/// Six of Peloton's groups with scores; the two highest are primary (bucket 3), the next
/// two secondary (2), the rest minor (1).
pub(crate) fn muscle_groups(seed: u64) -> Vec<MuscleGroupScore> {
    let mut rng = Rng::with_seed(mix(seed ^ MUSCLE_SALT));
    let mut groups: Vec<(&str, &str)> = MUSCLE_GROUPS.to_vec();
    rng.shuffle(&mut groups);
    groups.truncate(6);
    let mut scored: Vec<(&str, &str, f64)> = groups
        .into_iter()
        .map(|(slug, name)| {
            (
                slug,
                name,
                (uniform(&mut rng, 50.0, 900.0) / 10.0).round() * 10.0,
            )
        })
        .collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2));
    let total: f64 = scored.iter().map(|g| g.2).sum();
    scored
        .into_iter()
        .enumerate()
        .map(|(i, (slug, name, score))| MuscleGroupScore {
            muscle_group: slug.to_owned(),
            display_name: name.to_owned(),
            score,
            percentage: (score / total * 100.0).round() as u32,
            bucket: match i {
                0 | 1 => 3,
                2 | 3 => 2,
                _ => 1,
            },
        })
        .collect()
}

pub(crate) fn muscle_groups_json(groups: &[MuscleGroupScore]) -> Value {
    Value::Array(
        groups
            .iter()
            .map(|g| {
                json!({
                    "muscle_group": g.muscle_group,
                    "display_name": g.display_name,
                    "score": g.score.round() as i64,
                    "percentage": g.percentage,
                    "bucket": g.bucket,
                })
            })
            .collect(),
    )
}
