//! Deterministic generation of the member and their workouts from a seed.
//!
//! Only scalar truths are stored per workout; graph series and ride details are derived from
//! each workout's `seed` at request time, so 20 000 workouts stay small.

use std::collections::{HashMap, HashSet};

use fastrand::Rng;

use super::FakeOptions;
use super::catalog::{self, DISCIPLINES, Kind, kind_of};
use super::model::{GeneratedWorkout, MemberData, Stat, Units, WorkoutStatus, WorkoutType};
use super::splits;
use super::strength;
use super::targets;
use super::util::{civil_from_days, hex32_from, local_day, local_week, pick, round_to, uniform};

const FIRST_NAMES: &[&str] = &["Alex", "Sam", "Robin", "Casey", "Jamie", "Morgan", "Taylor"];
const LAST_NAMES: &[&str] = &["Example", "Rider", "Sample", "Tester", "Demo"];
const ADJECTIVES: &[&str] = &["Steady", "Sunny", "Rapid", "Quiet", "Brave", "Lucky"];
const NOUNS: &[&str] = &[
    "Cadence", "Climber", "Rower", "Sprinter", "Strider", "Spinner",
];
const IMPERIAL_TZ: &[(&str, i64, &str)] = &[
    ("America/New_York", -5 * 3600, "Springfield, NY"),
    ("America/Chicago", -6 * 3600, "Springfield, IL"),
    ("America/Los_Angeles", -8 * 3600, "Springfield, OR"),
];
const METRIC_TZ: &[(&str, i64, &str)] = &[
    ("Europe/Berlin", 3600, "Musterstadt"),
    ("Europe/London", 0, "Exampleton"),
    ("Europe/Amsterdam", 3600, "Voorbeeld"),
];
const SCENIC_PLACES: &[&str] = &[
    "Veluwe National Park",
    "Amalfi Coast",
    "Swiss Alps",
    "Kyoto Backstreets",
    "Big Sur Coast",
    "Scottish Highlands",
];
/// Local hours people usually start a workout at.
const WORKOUT_HOURS: &[i64] = &[6, 6, 7, 7, 8, 12, 17, 18, 18, 19, 20, 21];
/// Weights of minutes in zones 1..5 for effort points (fitted roughly to the fixtures).
pub(crate) const EFFORT_WEIGHTS: [f64; 5] = [0.3, 0.6, 1.2, 2.4, 3.0];
pub(crate) const JUST_RIDE_ID: &str = "00000000000000000000000000000000";

/// Member-level values a new workout depends on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkoutCtx {
    pub(crate) units: Units,
    pub(crate) ftp: u32,
    pub(crate) max_hr: f64,
    pub(crate) zones: [f64; 5],
}

impl WorkoutCtx {
    pub(crate) fn of(m: &MemberData) -> Self {
        Self {
            units: m.units,
            ftp: m.ftp.max(100),
            max_hr: m.max_heart_rate,
            zones: m.heart_rate_zones,
        }
    }
}

/// Generates the member as of `now` (Unix seconds). Same options and `now` → same member.
pub fn generate_member(opts: &FakeOptions, now: i64) -> MemberData {
    let mut rng = Rng::with_seed(opts.seed);
    let user_id = hex32_from(rng.u64(..));
    let adjective = pick(&mut rng, ADJECTIVES).copied().unwrap_or("Steady");
    let noun = pick(&mut rng, NOUNS).copied().unwrap_or("Rider");
    let username = format!("{adjective}{noun}{}", rng.u32(10..100));
    let first_name = pick(&mut rng, FIRST_NAMES)
        .copied()
        .unwrap_or("Alex")
        .to_owned();
    let last_name = pick(&mut rng, LAST_NAMES)
        .copied()
        .unwrap_or("Example")
        .to_owned();
    let zones_table = match opts.units {
        Units::Imperial => IMPERIAL_TZ,
        Units::Metric => METRIC_TZ,
    };
    let (tz, off, location) = pick(&mut rng, zones_table).copied().unwrap_or((
        "America/New_York",
        -5 * 3600,
        "Springfield",
    ));
    let ftp = rng.u32(150..=260);
    let max_hr = f64::from(rng.u32(170..=195));
    let zones = [
        0.0,
        round_to(max_hr * 0.65, 1),
        round_to(max_hr * 0.75, 1),
        round_to(max_hr * 0.85, 1),
        round_to(max_hr * 0.95, 1),
    ];
    let history_days = i64::from(opts.history_days.max(1));
    let created_at = now - history_days * 86_400 - i64::from(rng.u32(30..400)) * 86_400;

    let mut member = MemberData {
        user_id,
        email: format!("{}@example.invalid", username.to_lowercase()),
        username,
        first_name,
        last_name,
        location: location.to_owned(),
        units: opts.units,
        timezone: tz.to_owned(),
        utc_offset_s: off,
        created_at,
        last_workout_at: created_at,
        followers: rng.u32(5..400),
        following: rng.u32(5..200),
        ftp,
        workout_ftp: 0,
        estimated_ftp: ftp,
        ftp_source: "ftp_estimated_source".to_owned(),
        ftp_workout_id: None,
        max_heart_rate: max_hr,
        heart_rate_zones: zones,
        workouts: Vec::new(),
    };

    let ctx = WorkoutCtx::of(&member);
    let times = schedule(&mut rng, opts.workouts, history_days, now, off);
    let slugs = assign_disciplines(&mut rng, times.len());
    let mut history = History::new(off);
    let mut workouts = Vec::with_capacity(times.len());
    for (created, slug) in times.into_iter().zip(slugs) {
        let mut w = build_workout(&mut rng, &ctx, slug, created, WorkoutStatus::Complete);
        history.award(&mut w, &mut rng);
        workouts.push(w);
    }
    // The FTP test is some older cycling workout; its values are not adjusted to the FTP.
    let cycling: Vec<&GeneratedWorkout> = workouts
        .iter()
        .filter(|w| w.discipline == "cycling")
        .collect();
    if let Some(test) = cycling.get(cycling.len() * 2 / 5) {
        "ftp_workout_source".clone_into(&mut member.ftp_source);
        member.ftp_workout_id = Some(test.id.clone());
        member.workout_ftp = ftp;
        member.estimated_ftp = ftp.saturating_add_signed(rng.i32(-12..=12));
    }
    workouts.reverse();
    member.last_workout_at = workouts.first().map_or(created_at, |w| w.created_at);
    member.workouts = workouts;
    member
}

/// `created_at` of every workout, ascending. The newest three fall on the last three days
/// so the member has live daily and weekly streaks.
fn schedule(rng: &mut Rng, n: usize, history_days: i64, now: i64, off: i64) -> Vec<i64> {
    let mut times = Vec::with_capacity(n);
    let recent = n.min(3);
    for k in 0..recent {
        let back = k as i64 * 86_400 + i64::from(rng.u32(3 * 3600..6 * 3600));
        times.push(now - back);
    }
    let today = local_day(now, off);
    let oldest = history_days.max(4);
    for _ in recent..n {
        let day = today - rng.i64(3..oldest);
        let hour = pick(rng, WORKOUT_HOURS).copied().unwrap_or(18);
        let local = day * 86_400 + hour * 3600 + rng.i64(0..3600);
        times.push(local - off);
    }
    times.sort_unstable();
    times
}

/// One of every generated discipline first (when there is room), the rest by weight.
fn assign_disciplines(rng: &mut Rng, n: usize) -> Vec<&'static str> {
    let generated: Vec<&catalog::DisciplineInfo> =
        DISCIPLINES.iter().filter(|d| d.weight > 0).collect();
    let total: u32 = generated.iter().map(|d| d.weight).sum();
    let mut slugs: Vec<&'static str> = Vec::with_capacity(n);
    if n >= generated.len() {
        slugs.extend(generated.iter().map(|d| d.slug));
    }
    while slugs.len() < n {
        slugs.push(weighted_discipline(rng, &generated, total));
    }
    rng.shuffle(&mut slugs);
    slugs
}

fn weighted_discipline(
    rng: &mut Rng,
    pool: &[&'static catalog::DisciplineInfo],
    total: u32,
) -> &'static str {
    let mut r = rng.u32(0..total.max(1));
    for d in pool {
        if r < d.weight {
            return d.slug;
        }
        r -= d.weight;
    }
    "cycling"
}

/// A random discipline by the catalog weights (used by the live demo).
pub(crate) fn random_discipline(rng: &mut Rng) -> &'static str {
    let pool: Vec<&catalog::DisciplineInfo> = DISCIPLINES.iter().filter(|d| d.weight > 0).collect();
    let total = pool.iter().map(|d| d.weight).sum();
    weighted_discipline(rng, &pool, total)
}

/// Per-kind measured values before they are put into a [`GeneratedWorkout`].
#[derive(Default)]
struct Perf {
    total_work: Option<f64>,
    distance_m: Option<f64>,
    elevation_m: Option<f64>,
    calories: Option<f64>,
    output: Option<Stat>,
    cadence: Option<Stat>,
    resistance: Option<Stat>,
    speed: Option<Stat>,
    incline: Option<Stat>,
    stroke_rate: Option<Stat>,
    stroke_count: Option<u32>,
}

/// Builds one workout (achievements not yet awarded). `created_at` is when it was started.
pub(crate) fn build_workout(
    rng: &mut Rng,
    ctx: &WorkoutCtx,
    slug: &str,
    created_at: i64,
    status: WorkoutStatus,
) -> GeneratedWorkout {
    build_workout_of_length(rng, ctx, slug, created_at, status, None)
}

/// [`build_workout`], with the class length forced to `class_s` seconds (the title's minutes
/// rounded from it) and the workout indoors when `class_s` is given: a live ride.
pub(crate) fn build_workout_of_length(
    rng: &mut Rng,
    ctx: &WorkoutCtx,
    slug: &str,
    created_at: i64,
    status: WorkoutStatus,
    class_s: Option<u32>,
) -> GeneratedWorkout {
    let seed = rng.u64(..);
    let kind = kind_of(slug);
    let lengths = catalog::lengths_min(slug);
    let mut minutes = pick(rng, lengths).copied().unwrap_or(20);
    let r = rng.f64();
    let workout_type = match kind {
        Kind::Bike if slug == "cycling" && r < 0.08 => WorkoutType::Freestyle,
        Kind::Bike if slug == "cycling" && r < 0.15 => WorkoutType::Scenic,
        Kind::Tread if slug != "circuit" && r < 0.05 => WorkoutType::Scenic,
        _ => WorkoutType::Class,
    };
    let is_outdoor = kind == Kind::Tread
        && slug != "circuit"
        && workout_type == WorkoutType::Class
        && rng.f64() < 0.25
        && class_s.is_none();
    if workout_type == WorkoutType::Freestyle {
        minutes = 15 + 5 * rng.u32(0..=6);
    }
    let mut dur = minutes * 60;
    if let Some(secs) = class_s {
        dur = secs.max(1);
        minutes = ((dur + 30) / 60).max(1);
    }
    let (device_type, platform) = catalog::device(kind, is_outdoor, rng.u64(..));
    let instructor = if workout_type == WorkoutType::Class {
        catalog::instructor_for(slug, rng.u64(..))
    } else {
        None
    };
    let ride_id = if workout_type == WorkoutType::Freestyle {
        JUST_RIDE_ID.to_owned()
    } else {
        hex32_from(rng.u64(..))
    };
    let title = match workout_type {
        WorkoutType::Freestyle => format!("{minutes} min Just Ride"),
        WorkoutType::Scenic => {
            let place = pick(rng, SCENIC_PLACES).copied().unwrap_or("Coastal");
            let what = if kind == Kind::Bike { "Ride" } else { "Run" };
            format!("{minutes} min {place} {what}")
        }
        WorkoutType::Class => {
            let theme = catalog::theme(slug, rng.u64(..));
            if is_outdoor {
                format!("{minutes} min Outdoor {theme}")
            } else {
                format!("{minutes} min {theme}")
            }
        }
    };
    let (start_time, end_time) = match status {
        WorkoutStatus::Complete => {
            let start = created_at + i64::from(rng.u32(5..60));
            (
                start,
                Some(start + i64::from(dur) + i64::from(rng.u32(0..=8))),
            )
        }
        WorkoutStatus::InProgress => (created_at + 1, None),
    };

    let intensity = uniform(rng, 0.0, 1.0);
    let perf = match kind {
        Kind::Bike => bike(rng, ctx, dur, intensity, workout_type),
        Kind::Tread => tread(rng, ctx, slug, dur, is_outdoor),
        Kind::Row => row(rng, dur),
        Kind::Floor => floor(rng, slug, minutes),
    };

    let has_hr = rng.f64() < catalog::hr_probability(slug);
    let (heart_rate, zones) = if has_hr {
        let (s, z) = heart_rate(rng, ctx, slug, kind, intensity, dur);
        (Some(s), Some(z))
    } else {
        (None, None)
    };
    // With the heart-rate odds this leaves effort zones null for ~40 % of workouts (SJ).
    let effort_zones_null = zones.is_none() || rng.f64() < 0.2;
    let effort_points = if effort_zones_null {
        None
    } else {
        zones.map(|z| {
            round_to(
                z.iter()
                    .zip(EFFORT_WEIGHTS)
                    .map(|(s, w)| s / 60.0 * w)
                    .sum(),
                2,
            )
        })
    };
    let leaderboard = kind != Kind::Floor && !is_outdoor && workout_type != WorkoutType::Freestyle;
    let (leaderboard_rank, total_leaderboard_users) = if leaderboard {
        let total = rng.u32(200..60_000);
        let rank = 1 + (f64::from(total) * uniform(rng, 0.1, 0.9)) as u32;
        (Some(rank.min(total)), total)
    } else {
        (None, 0)
    };

    let mut w = GeneratedWorkout {
        id: hex32_from(seed),
        seed,
        created_at,
        start_time,
        end_time,
        status,
        discipline: slug.to_owned(),
        workout_type,
        device_type: device_type.to_owned(),
        platform: platform.to_owned(),
        is_outdoor,
        instructor: instructor.map(catalog::Instructor::name),
        instructor_id: instructor.map(catalog::Instructor::id),
        ride_id,
        title,
        duration_class_s: dur,
        total_work_joules: perf.total_work,
        distance_meters: perf.distance_m,
        elevation_meters: perf.elevation_m,
        calories_kcal: perf.calories,
        hr_zone_seconds: zones,
        effort_zones_null,
        effort_points,
        output_watts: perf.output,
        cadence_rpm: perf.cadence,
        resistance_pct: perf.resistance,
        speed_mps: perf.speed,
        incline_pct: perf.incline,
        heart_rate_bpm: heart_rate,
        stroke_rate_spm: perf.stroke_rate,
        stroke_count: perf.stroke_count,
        leaderboard_rank,
        total_leaderboard_users,
        is_total_work_personal_record: false,
        achievements: Vec::new(),
        imported: false,
        strength: None,
        muscle_groups: Vec::new(),
        targets: Vec::new(),
        best_split_seconds: None,
    };
    derive_truths(&mut w, ctx.units);
    w
}

/// The truths rendered from the seed (rep tracking, muscle groups, targets, splits); again
/// after anything they depend on changes (the start time decides the targets' shape).
pub(crate) fn derive_truths(w: &mut GeneratedWorkout, units: Units) {
    if w.discipline == "strength" {
        w.strength = Some(strength::truth(&strength::sets(w.seed, w.duration_class_s)));
        w.muscle_groups = strength::muscle_groups(w.seed);
    }
    w.targets = targets::of(w);
    w.best_split_seconds = splits::best_split_seconds(w, units);
}

/// Speed shown in the member's unit (1 decimal) → (display value, exact m/s of that value).
pub(crate) fn speed_display(units: Units, mps: f64) -> (f64, f64) {
    let shown = round_to(mps / units.mps_per_speed_unit(), 1);
    (shown, shown * units.mps_per_speed_unit())
}

fn distance_from_speed(units: Units, speed_shown: f64, dur: u32) -> f64 {
    let shown = round_to(speed_shown * f64::from(dur) / 3600.0, 2);
    shown * units.meters_per_distance_unit()
}

fn bike(rng: &mut Rng, ctx: &WorkoutCtx, dur: u32, intensity: f64, wt: WorkoutType) -> Perf {
    let secs = f64::from(dur);
    let frac = if wt == WorkoutType::Freestyle {
        0.45 + 0.25 * intensity
    } else {
        0.5 + 0.35 * intensity
    };
    let total_work = round_to(f64::from(ctx.ftp) * frac * secs, 2);
    let avg_w = (total_work / secs).round();
    // A bike class has sprints: peaks of two to three times the average output.
    let max_w = (avg_w * uniform(rng, 2.0, 3.0)).round();
    let cadence_avg = f64::from(rng.u32(70..=95));
    let resist_avg = f64::from(rng.u32(30..=50));
    // Peloton's bike speed grows with the cube root of power (~17.5 mph at 123 W).
    let (speed_avg, speed_avg_mps) = speed_display(ctx.units, 3.52 * avg_w.cbrt() * 0.447_04);
    let (_, speed_max_mps) = speed_display(ctx.units, 3.52 * max_w.cbrt() * 0.447_04);
    Perf {
        total_work: Some(total_work),
        distance_m: Some(distance_from_speed(ctx.units, speed_avg, dur)),
        calories: Some((total_work / 1000.0 * 1.05 + secs / 60.0 * 1.8).round()),
        output: Some(Stat {
            avg: avg_w,
            max: max_w,
        }),
        cadence: Some(Stat {
            avg: cadence_avg,
            max: cadence_avg + f64::from(rng.u32(10..=30)),
        }),
        resistance: Some(Stat {
            avg: resist_avg,
            max: (resist_avg + f64::from(rng.u32(10..=25))).min(100.0),
        }),
        speed: Some(Stat {
            avg: speed_avg_mps,
            max: speed_max_mps,
        }),
        ..Perf::default()
    }
}

fn tread(rng: &mut Rng, ctx: &WorkoutCtx, slug: &str, dur: u32, outdoor: bool) -> Perf {
    let secs = f64::from(dur);
    let minutes = secs / 60.0;
    let (mph, mph_extra, incline, incline_extra, kcal_per_min) = match slug {
        "running" => (
            uniform(rng, 5.0, 7.5),
            uniform(rng, 1.0, 2.5),
            uniform(rng, 0.5, 2.5),
            uniform(rng, 1.0, 4.0),
            11.0,
        ),
        "walking" => (
            uniform(rng, 2.8, 4.0),
            uniform(rng, 0.4, 1.0),
            uniform(rng, 2.0, 8.0),
            uniform(rng, 2.0, 5.0),
            6.0,
        ),
        _ => (
            uniform(rng, 4.0, 6.0),
            uniform(rng, 2.0, 3.0),
            uniform(rng, 0.5, 3.0),
            uniform(rng, 1.0, 3.0),
            9.0,
        ),
    };
    let (speed_avg, speed_avg_mps) = speed_display(ctx.units, mph * 0.447_04);
    let (_, speed_max_mps) = speed_display(ctx.units, (mph + mph_extra) * 0.447_04);
    let distance_m = distance_from_speed(ctx.units, speed_avg, dur);
    let calories = (minutes * kcal_per_min * uniform(rng, 0.9, 1.1)).round();
    let elev_unit = ctx.units.meters_per_elevation_unit();
    if outdoor {
        let gain = (uniform(rng, 3.0, 60.0) / elev_unit).round() * elev_unit;
        return Perf {
            distance_m: Some(distance_m),
            elevation_m: Some(gain),
            calories: Some(calories),
            speed: Some(Stat {
                avg: speed_avg_mps,
                max: speed_max_mps,
            }),
            ..Perf::default()
        };
    }
    let incline = round_to(incline, 1);
    let incline_max = round_to((incline + incline_extra).min(15.0), 1);
    let elevation = (distance_m * incline / 100.0 / elev_unit).round() * elev_unit;
    // Tread output rises with speed and incline (~168 W at 4.1 mph, flat, in the fixture).
    let total_work = round_to(92.0 * speed_avg_mps * (1.0 + 0.08 * incline) * secs, 2);
    let avg_w = (total_work / secs).round();
    Perf {
        total_work: Some(total_work),
        distance_m: Some(distance_m),
        elevation_m: Some(elevation),
        calories: Some(calories),
        output: Some(Stat {
            avg: avg_w,
            max: (avg_w * uniform(rng, 1.3, 2.0)).round(),
        }),
        speed: Some(Stat {
            avg: speed_avg_mps,
            max: speed_max_mps,
        }),
        incline: Some(Stat {
            avg: incline,
            max: incline_max,
        }),
        ..Perf::default()
    }
}

fn row(rng: &mut Rng, dur: u32) -> Perf {
    let secs = f64::from(dur);
    let pace = round_to(uniform(rng, 2.2, 3.3), 2);
    let fastest = round_to((pace - uniform(rng, 0.15, 0.5)).max(1.5), 2);
    let v_avg = 500.0 / (pace * 60.0);
    let v_max = 500.0 / (fastest * 60.0);
    // Concept2's power formula: watts = 2.8 / (s/m)^3 = 2.8 * v^3.
    let total_work = round_to(2.8 * v_avg.powi(3) * secs, 2);
    let avg_w = (total_work / secs).round();
    let spm = f64::from(rng.u32(18..=26));
    Perf {
        total_work: Some(total_work),
        distance_m: Some(round_to(v_avg * secs, 2)),
        calories: Some(((4.0 * avg_w + 300.0) * secs / 3600.0).round()),
        output: Some(Stat {
            avg: avg_w,
            max: (2.8 * v_max.powi(3) * 1.1).round().max(avg_w),
        }),
        speed: Some(Stat {
            avg: v_avg,
            max: v_max,
        }),
        stroke_rate: Some(Stat {
            avg: spm,
            max: spm + f64::from(rng.u32(4..=8)),
        }),
        stroke_count: Some((spm * secs / 60.0).round() as u32),
        ..Perf::default()
    }
}

fn floor(rng: &mut Rng, slug: &str, minutes: u32) -> Perf {
    let rate = match slug {
        // The meditation fixture has no calories summary at all.
        "meditation" => return Perf::default(),
        "stretching" => 2.5,
        "yoga" => 3.5,
        "cardio" => 9.0,
        _ => 6.0,
    };
    Perf {
        calories: Some((f64::from(minutes) * rate * uniform(rng, 0.85, 1.15)).round()),
        ..Perf::default()
    }
}

fn heart_rate(
    rng: &mut Rng,
    ctx: &WorkoutCtx,
    slug: &str,
    kind: Kind,
    intensity: f64,
    dur: u32,
) -> (Stat, [f64; 5]) {
    let base = match (slug, kind) {
        ("meditation", _) => 0.38,
        ("yoga" | "stretching", _) => 0.45,
        ("cardio", _) => 0.65,
        (_, Kind::Floor) => 0.55,
        _ => 0.6,
    };
    let avg = (ctx.max_hr * (base + 0.25 * intensity)).round();
    let max = (avg + f64::from(rng.u32(8..=25))).min(ctx.max_hr + 3.0);
    let missing = rng.u32(0..=8).min(dur);
    let total = f64::from(dur - missing);
    let b = ctx.zones;
    let zone = b.iter().filter(|lb| avg >= **lb).count().saturating_sub(1);
    let lo = b.get(zone).copied().unwrap_or(0.0);
    let hi = b.get(zone + 1).copied().unwrap_or(ctx.max_hr);
    let center = zone as f64 + ((avg - lo) / (hi - lo).max(1.0)).clamp(0.0, 1.0) - 0.5;
    let mut weights = [0.0; 5];
    for (i, w) in weights.iter_mut().enumerate() {
        let d = i as f64 - center;
        *w = (-(d * d) / 1.2).exp() * uniform(rng, 0.6, 1.4);
    }
    let sum: f64 = weights.iter().sum();
    let mut secs = [0.0; 5];
    for (s, w) in secs.iter_mut().zip(weights) {
        *s = (w / sum * total).floor();
    }
    let rest = total - secs.iter().sum::<f64>();
    if let Some(s) = secs.get_mut(zone) {
        *s += rest;
    }
    (Stat { avg, max }, secs)
}

/// Tiers of the annual challenge in minutes (after "Joined" at 0).
pub(crate) const ANNUAL_TIERS: [u32; 5] = [1000, 3000, 5000, 7500, 10_000];
const DAILY_STREAKS: [u32; 4] = [3, 7, 14, 30];
const WEEKLY_STREAKS: [u32; 5] = [4, 8, 12, 26, 52];

/// Running tallies that decide which achievements and PR flags a new workout gets.
#[derive(Debug, Default)]
pub(crate) struct History {
    per_discipline: HashMap<String, u64>,
    best_output: HashMap<(String, u32), f64>,
    total: u64,
    /// Streak days and weeks are local, as in the overview's streaks.
    utc_offset_s: i64,
    daily: Run,
    weekly: Run,
    /// Seconds of completed, not imported workouts per UTC year of their start (the annual
    /// challenge's progress).
    annual_seconds: HashMap<i64, i64>,
    new_year: HashSet<i64>,
}

/// A streak of consecutive days or weeks.
#[derive(Debug, Default)]
struct Run {
    last: Option<i64>,
    len: u32,
}

impl Run {
    /// Counts period `p`; returns the new length when it grew.
    fn add(&mut self, p: i64) -> Option<u32> {
        match self.last {
            Some(l) if l == p => None,
            Some(l) if l + 1 == p => {
                self.last = Some(p);
                self.len += 1;
                Some(self.len)
            }
            _ => {
                self.last = Some(p);
                self.len = 1;
                Some(1)
            }
        }
    }
}

/// What a workout just counted earns besides first-of-discipline and PR badges.
struct Counted {
    first: bool,
    pr: bool,
    earned: Vec<String>,
}

impl History {
    pub(crate) fn new(utc_offset_s: i64) -> Self {
        Self {
            utc_offset_s,
            ..Self::default()
        }
    }

    /// Tallies of the completed workouts already in `m`.
    pub(crate) fn of(m: &MemberData) -> Self {
        let mut h = Self::new(m.utc_offset_s);
        for w in m.workouts.iter().rev().filter(|w| w.is_complete()) {
            h.count(w);
        }
        h
    }

    fn count(&mut self, w: &GeneratedWorkout) -> Counted {
        let n = self.per_discipline.entry(w.discipline.clone()).or_default();
        *n += 1;
        let first = *n == 1;
        self.total += 1;
        let mut pr = false;
        if let Some(j) = w.total_work_joules
            && w.workout_type != WorkoutType::Freestyle
        {
            let key = (w.discipline.clone(), w.duration_class_s);
            // The first class of a length sets the record, as on Peloton.
            pr = self.best_output.get(&key).is_none_or(|b| j > *b);
            if pr {
                self.best_output.insert(key, j);
            }
        }
        let mut earned = Vec::new();
        if !w.imported {
            self.count_periods(w, &mut earned);
        }
        Counted { first, pr, earned }
    }

    /// Streak, annual challenge and new-year badges.
    fn count_periods(&mut self, w: &GeneratedWorkout, earned: &mut Vec<String>) {
        let off = self.utc_offset_s;
        if let Some(n) = self.daily.add(local_day(w.start_time, off))
            && DAILY_STREAKS.contains(&n)
        {
            earned.push(format!("streak_{n}_days"));
        }
        if let Some(n) = self.weekly.add(local_week(w.start_time, off))
            && WEEKLY_STREAKS.contains(&n)
        {
            earned.push(format!("streak_{n}_weeks"));
        }
        let day = w.start_time.div_euclid(86_400);
        let (year, month, dom) = civil_from_days(day);
        if month == 1 && dom <= 7 && self.new_year.insert(year) {
            earned.push(format!("new_year_{year}"));
        }
        let secs = self.annual_seconds.entry(year).or_default();
        let before = *secs / 60;
        *secs += w.elapsed_seconds().unwrap_or(0).max(0);
        let after = *secs / 60;
        for tier in ANNUAL_TIERS {
            if before < i64::from(tier) && after >= i64::from(tier) {
                earned.push(format!("the_annual_{year}_{tier}_minutes"));
            }
        }
    }

    /// Sets the PR flag and achievements of a just-completed workout and counts it.
    pub(crate) fn award(&mut self, w: &mut GeneratedWorkout, rng: &mut Rng) {
        let Counted { first, pr, earned } = self.count(w);
        w.is_total_work_personal_record = pr;
        if first {
            w.achievements.push(format!("first_{}", w.discipline));
        }
        if pr {
            w.achievements.push("best_output".to_owned());
        }
        if matches!(self.total, 50 | 100 | 250) || self.total.is_multiple_of(500) {
            w.achievements.push(format!("milestone_{}", self.total));
        }
        w.achievements.extend(earned);
        let social = rng.f64();
        let earned = if social < 0.12 {
            Some("two_to_tango")
        } else if social < 0.16 {
            Some("threes_company")
        } else if social < 0.18 {
            Some("3_squad")
        } else if social < 0.19 {
            Some("socialite")
        } else {
            None
        };
        if let Some(a) = earned {
            w.achievements.push(a.to_owned());
        }
    }
}
