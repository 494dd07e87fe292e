//! Live rides: a workout in progress in real time, whose data is a deterministic trace with
//! one sample per second.
//!
//! A sample is a pure function of the workout's seed and the second (plus member values fixed
//! when the ride starts: FTP, maximum heart rate and zones, units), so a test can ask the fake
//! for the truth at any second ([`crate::FakePeloton::live_sample`]) and for running totals
//! ([`crate::FakePeloton::live_totals`]) without replaying the ride.

use std::time::Duration;

use std::collections::HashMap;

use super::catalog::{Kind, kind_of};
use super::generator::{EFFORT_WEIGHTS, WorkoutCtx, speed_display};
use super::graph::{pace_of, split_pace_of};
use super::model::{GeneratedWorkout, Stat, Units};
use super::util::{mix, round_to};

const TRACE_SALT: u64 = 0x7ace_0000_0000_0000;
/// Intensity before the first second: the rider at rest, so heart rate climbs from there.
const REST_LEVEL: f64 = 0.25;
const SPRINT_LEVEL: f64 = 1.5;
/// Heart rate follows effort with this time constant, over this many past seconds.
const HR_TAU_S: f64 = 20.0;
const HR_WINDOW_S: i64 = 60;

/// A ride to run in real time: [`crate::FakePeloton::start_live_ride`], or
/// [`crate::FakeOptions::live_ride`] for a demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRide {
    /// `fitness_discipline` slug. Bike disciplines (`cycling`, `bike_bootcamp`) carry output,
    /// cadence, resistance and speed; tread ones (`running`, `walking`, `circuit`) output,
    /// pace with a speed alternative and incline; rowing (`caesar`) output, stroke rate and
    /// split pace; anything else heart rate only. Every live ride has heart rate.
    pub discipline: String,
    /// The class length: the graph's and the ride's `duration` (whole seconds, at least 1).
    pub class_length: Duration,
    /// How long until the workout completes by itself, with `end_time = start_time +
    /// ride_for` (whole seconds, at least 1). It may differ from the class length: the rider
    /// can stop early or keep going (the trace continues at cool-down effort). `None` (or a
    /// duration too long to add to a timestamp, like `Duration::MAX`): the workout stays
    /// `IN_PROGRESS` until [`crate::FakePeloton::complete_workout`].
    pub ride_for: Option<Duration>,
    /// Start this long before now (whole seconds), for a ride that is already under way.
    pub started_ago: Duration,
    /// `ride.title`; `None` generates one like other workouts ("20 min HIIT Ride").
    pub title: Option<String>,
}

impl Default for LiveRide {
    /// A 20-minute cycling class that runs its full length from now.
    fn default() -> Self {
        Self {
            discipline: "cycling".to_owned(),
            class_length: Duration::from_secs(20 * 60),
            ride_for: Some(Duration::from_secs(20 * 60)),
            started_ago: Duration::ZERO,
            title: None,
        }
    }
}

impl LiveRide {
    /// The demo's ride: a 5-minute cycling class, ridden to its end.
    pub fn demo() -> Self {
        Self {
            class_length: Duration::from_secs(5 * 60),
            ride_for: Some(Duration::from_secs(5 * 60)),
            ..Self::default()
        }
    }

    pub(crate) fn class_seconds(&self) -> u32 {
        u32::try_from(self.class_length.as_secs())
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// `end_time` for a ride that started at `start`; `None` when it never ends by itself.
    pub(crate) fn end_for(&self, start: i64) -> Option<i64> {
        let secs = i64::try_from(self.ride_for?.as_secs()).ok()?;
        start.checked_add(secs.max(1))
    }
}

/// The rider's readings during one second of a live ride, as the performance graph shows
/// them (already rounded to its decimals). Fields a discipline does not have are `None`.
///
/// The graph's `values[i]` is the sample at second `seconds_since_pedaling_start[i]` (a point
/// sample, not a bucket average), so with `every_n=1` the values are the samples 1, 2, 3, …
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiveSample {
    /// Seconds since the start, from 1 (the first second of riding).
    pub second: u64,
    /// `output`, whole watts.
    pub output_watts: Option<f64>,
    /// `cadence`, whole rpm (bike).
    pub cadence_rpm: Option<f64>,
    /// `resistance`, whole percent (bike).
    pub resistance_percent: Option<f64>,
    /// Speed in the member's unit (mph or kph, one decimal) as the bike's `speed` metric and
    /// the tread's `speed` alternative show it; `None` for the rower, which shows split pace.
    pub speed: Option<f64>,
    /// The same speed in m/s (exactly the shown value converted; for the rower, from the
    /// shown split pace). Distance is the sum of these over the seconds ridden.
    pub speed_mps: Option<f64>,
    /// Tread `pace` (min/mi or min/km) or rower `split_pace` (min/500m), two decimals;
    /// `None` when the tread is (nearly) stopped, as the graph shows `null` then.
    pub pace: Option<f64>,
    /// Tread `incline`, percent, one decimal.
    pub incline_percent: Option<f64>,
    /// Rower `stroke_rate`, whole strokes per minute.
    pub stroke_rate_spm: Option<f64>,
    /// `heart_rate`, whole bpm.
    pub heart_rate_bpm: f64,
    /// Heart-rate zone 1..=5 of this sample, by the `min_value`s of the graph's
    /// `heart_rate.zones` (the member's `default_heart_rate_zones` rounded up).
    pub heart_rate_zone: u8,
}

/// Running totals of a live ride over its seconds `1..=seconds`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiveTotals {
    /// Seconds summed (capped at the end of a completed ride).
    pub seconds: u64,
    /// Σ output watts × 1 s (the graph shows `total_output` as `round(joules / 1000)` kJ; the
    /// completed workout's `total_work` is this exactly). 0 without output.
    pub output_joules: f64,
    /// Σ speed in m/s × 1 s (the graph shows `distance` as this in mi/km with two decimals,
    /// or in m for the rower). 0 without speed.
    pub distance_meters: f64,
    /// Seconds with the heart rate in zones 1..5.
    pub heart_rate_zone_seconds: [f64; 5],
}

/// Sums and extremes of the shown values over the seconds so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunStats {
    pub(crate) seconds: u64,
    pub(crate) joules: f64,
    pub(crate) meters: f64,
    pub(crate) elevation_m: f64,
    pub(crate) strokes: f64,
    pub(crate) zones: [f64; 5],
    pub(crate) output: Acc,
    pub(crate) cadence: Acc,
    pub(crate) resistance: Acc,
    pub(crate) speed: Acc,
    pub(crate) speed_mps: Acc,
    pub(crate) incline: Acc,
    pub(crate) stroke_rate: Acc,
    pub(crate) heart_rate: Acc,
}

impl RunStats {
    pub(crate) fn of(samples: &[LiveSample]) -> Self {
        let mut r = RunStats {
            seconds: samples.len() as u64,
            ..RunStats::default()
        };
        for x in samples {
            r.joules += x.output_watts.unwrap_or(0.0);
            let mps = x.speed_mps.unwrap_or(0.0);
            r.meters += mps;
            r.elevation_m += mps * x.incline_percent.unwrap_or(0.0) / 100.0;
            r.strokes += x.stroke_rate_spm.unwrap_or(0.0) / 60.0;
            let zone = usize::from(x.heart_rate_zone.saturating_sub(1));
            if let Some(z) = r.zones.get_mut(zone) {
                *z += 1.0;
            }
            r.output.add(x.output_watts);
            r.cadence.add(x.cadence_rpm);
            r.resistance.add(x.resistance_percent);
            r.speed.add(x.speed);
            r.speed_mps.add(x.speed_mps);
            r.incline.add(x.incline_percent);
            r.stroke_rate.add(x.stroke_rate_spm);
            r.heart_rate.add(Some(x.heart_rate_bpm));
        }
        r
    }
}

/// Sum, count and maximum of one series.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Acc {
    pub(crate) sum: f64,
    pub(crate) n: u64,
    pub(crate) max: f64,
}

impl Acc {
    fn add(&mut self, v: Option<f64>) {
        if let Some(v) = v {
            self.max = if self.n == 0 { v } else { self.max.max(v) };
            self.sum += v;
            self.n += 1;
        }
    }

    pub(crate) fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }

    /// Mean and maximum rounded as shown; `None` before the first value.
    pub(crate) fn stat(&self, decimals: i32) -> Option<Stat> {
        Some(Stat {
            avg: round_to(self.mean()?, decimals),
            max: self.max,
        })
    }
}

/// The deterministic trace of one live ride.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    seed: u64,
    pub(crate) kind: Kind,
    discipline: String,
    class_s: f64,
    units: Units,
    ftp: f64,
    max_hr: f64,
    /// Lowest whole bpm of zones 2..5.
    zone_mins: [f64; 4],
    hr_base: f64,
    hr_gain: f64,
    blocks: Vec<f64>,
    /// `[from, to)` in seconds.
    sprints: Vec<(f64, f64)>,
    /// Bike: fraction of FTP at level 1. Tread: mph at level 1. Row: m/s at level 1.
    effort: f64,
    /// Bike: cadence at level 0.75. Tread: incline. Row: stroke rate.
    base: f64,
    /// Bike: resistance at level 0.75.
    base2: f64,
}

impl Trace {
    pub(crate) fn new(seed: u64, discipline: &str, class_s: u32, ctx: &WorkoutCtx) -> Self {
        let mut rng = fastrand::Rng::with_seed(mix(seed ^ TRACE_SALT));
        let class = f64::from(class_s.max(1));
        let kind = kind_of(discipline);
        let blocks = (0..rng.usize(4..=10))
            .map(|_| 0.55 + 0.45 * rng.f64())
            .collect();
        let sprints = (0..rng.usize(2..=4))
            .map(|_| {
                let at = class * (0.15 + 0.7 * rng.f64());
                (at, at + 8.0 + 12.0 * rng.f64())
            })
            .collect();
        let (effort, base, base2) = match kind {
            Kind::Bike => (
                0.75 + 0.2 * rng.f64(),
                f64::from(rng.u32(78..=92)),
                f64::from(rng.u32(35..=45)),
            ),
            Kind::Tread if discipline == "walking" => {
                (3.2 + 0.8 * rng.f64(), 2.0 + 4.0 * rng.f64(), 0.0)
            }
            Kind::Tread => (6.0 + 2.0 * rng.f64(), 0.5 + 2.0 * rng.f64(), 0.0),
            Kind::Row => (3.0 + 0.8 * rng.f64(), f64::from(rng.u32(20..=26)), 0.0),
            Kind::Floor => (0.0, 0.0, 0.0),
        };
        let (hr_base, hr_gain) = match (discipline, kind) {
            ("meditation", _) => (0.36, 0.05),
            ("yoga" | "stretching", _) => (0.42, 0.12),
            ("cardio", _) => (0.5, 0.3),
            (_, Kind::Floor) => (0.45, 0.2),
            _ => (0.42, 0.45),
        };
        let lower = |i: usize| ctx.zones.get(i).map_or(f64::INFINITY, |b| b.ceil());
        Self {
            seed,
            kind,
            discipline: discipline.to_owned(),
            class_s: class,
            units: ctx.units,
            ftp: f64::from(ctx.ftp),
            max_hr: ctx.max_hr,
            zone_mins: [lower(1), lower(2), lower(3), lower(4)],
            hr_base,
            hr_gain,
            blocks,
            sprints,
            effort,
            base,
            base2,
        }
    }

    /// A uniform number in `[-1, 1)` for (`salt`, `t`).
    fn jitter(&self, salt: u64, t: i64) -> f64 {
        let h = mix(self.seed ^ mix(salt ^ (t as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        (h >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// Effort without noise at second `t`: warm-up ramp, blocks with a few sprints,
    /// cool-down, and soft pedaling after the class ends.
    fn level(&self, t: i64) -> f64 {
        if t <= 0 {
            return REST_LEVEL;
        }
        let secs = t as f64;
        let x = secs / self.class_s;
        if x < 0.12 {
            0.35 + 0.25 * x / 0.12
        } else if x >= 0.92 {
            0.6 - 0.3 * ((x - 0.92) / 0.08).min(1.0)
        } else if self.sprints.iter().any(|(a, b)| secs >= *a && secs < *b) {
            SPRINT_LEVEL
        } else {
            let n = self.blocks.len().max(1);
            let i = (((x - 0.12) / 0.8) * n as f64) as usize;
            self.blocks.get(i.min(n - 1)).copied().unwrap_or(0.7)
        }
    }

    /// Heart rate lags effort: an exponentially weighted mean of the past minute's effort.
    fn heart_rate(&self, t: i64) -> f64 {
        let a = (-1.0 / HR_TAU_S).exp();
        let (mut num, mut den, mut w) = (0.0, 0.0, 1.0);
        for k in 0..=HR_WINDOW_S {
            num += w * self.level(t - k);
            den += w;
            w *= a;
        }
        let smooth = num / den;
        let bpm = self.max_hr * (self.hr_base + self.hr_gain * smooth) + 1.5 * self.jitter(9, t);
        bpm.round().clamp(40.0, self.max_hr + 3.0)
    }

    fn zone_of(&self, bpm: f64) -> u8 {
        1 + self.zone_mins.iter().filter(|m| bpm >= **m).count() as u8
    }

    /// The sample at second `s` (≥ 1).
    pub(crate) fn sample(&self, s: u64) -> LiveSample {
        let t = i64::try_from(s).unwrap_or(i64::MAX);
        let level = self.level(t);
        let heart_rate_bpm = self.heart_rate(t);
        let mut out = LiveSample {
            second: s,
            output_watts: None,
            cadence_rpm: None,
            resistance_percent: None,
            speed: None,
            speed_mps: None,
            pace: None,
            incline_percent: None,
            stroke_rate_spm: None,
            heart_rate_bpm,
            heart_rate_zone: self.zone_of(heart_rate_bpm),
        };
        match self.kind {
            Kind::Bike => {
                let watts = (self.ftp * self.effort * level * (1.0 + 0.05 * self.jitter(1, t)))
                    .round()
                    .max(0.0);
                let cadence = self.base + 24.0 * (level - 0.75) + 3.0 * self.jitter(2, t);
                // The resistance knob moves in steps, not every second.
                let resistance = self.base2 + 30.0 * (level - 0.75) + 2.0 * self.jitter(3, t / 15);
                // Peloton's bike speed grows with the cube root of power.
                let (shown, mps) = speed_display(self.units, 3.52 * watts.cbrt() * 0.447_04);
                out.output_watts = Some(watts);
                out.cadence_rpm = Some(cadence.clamp(40.0, 125.0).round());
                out.resistance_percent = Some(resistance.clamp(5.0, 95.0).round());
                out.speed = Some(shown);
                out.speed_mps = Some(mps);
            }
            Kind::Tread => {
                // Belt speed and incline are set with buttons: they hold for a while.
                let mph = self.effort * (0.7 + 0.35 * level) + 0.1 * self.jitter(4, t / 10);
                let (shown, mps) = speed_display(self.units, mph.max(0.0) * 0.447_04);
                let incline = round_to(
                    (self.base + 2.5 * (level - 0.7) + 0.5 * self.jitter(5, t / 20))
                        .clamp(0.0, 15.0),
                    1,
                );
                let watts = 92.0 * mps * (1.0 + 0.08 * incline) * (1.0 + 0.02 * self.jitter(6, t));
                out.output_watts = Some(watts.round());
                out.speed = Some(shown);
                out.speed_mps = Some(mps);
                out.pace = pace_of(shown);
                out.incline_percent = Some(incline);
            }
            Kind::Row => {
                let v = self.effort * (0.8 + 0.25 * level) * (1.0 + 0.02 * self.jitter(7, t));
                let pace = split_pace_of(v).unwrap_or(9.99);
                let shown_v = 500.0 / (pace * 60.0);
                let spm = self.base + 6.0 * (level - 0.75) + self.jitter(8, t);
                // Concept2's power formula: watts = 2.8 * v^3.
                out.output_watts = Some((2.8 * shown_v.powi(3)).round());
                out.speed_mps = Some(shown_v);
                out.pace = Some(pace);
                out.stroke_rate_spm = Some(spm.clamp(14.0, 40.0).round());
            }
            Kind::Floor => {}
        }
        out
    }

    /// The samples of seconds `1..=seconds`.
    pub(crate) fn samples(&self, seconds: u64) -> Vec<LiveSample> {
        (1..=seconds).map(|s| self.sample(s)).collect()
    }

    /// Sums over seconds `1..=seconds`.
    pub(crate) fn run_stats(&self, seconds: u64) -> RunStats {
        RunStats::of(&self.samples(seconds))
    }

    pub(crate) fn totals(&self, seconds: u64) -> LiveTotals {
        let r = self.run_stats(seconds);
        LiveTotals {
            seconds,
            output_joules: r.joules,
            distance_meters: r.meters,
            heart_rate_zone_seconds: r.zones,
        }
    }

    /// Calories so far: from the work done on machines, by the minute on the floor;
    /// `None` for meditation, whose graphs have no calories summary.
    pub(crate) fn calories(&self, r: &RunStats) -> Option<f64> {
        let minutes = r.seconds as f64 / 60.0;
        let kcal = match (self.discipline.as_str(), self.kind) {
            ("meditation", _) => return None,
            ("stretching", _) => minutes * 2.5,
            ("yoga", _) => minutes * 3.5,
            ("cardio", _) => minutes * 9.0,
            (_, Kind::Floor) => minutes * 6.0,
            _ => r.joules / 1000.0 * 1.05 + minutes * 1.8,
        };
        Some(kcal.round())
    }

    /// Shown distance: mi/km with two decimals, the rower's meters with two decimals.
    pub(crate) fn shown_distance(&self, meters: f64) -> f64 {
        if self.kind == Kind::Row {
            round_to(meters, 2)
        } else {
            round_to(meters / self.units.meters_per_distance_unit(), 2)
        }
    }

    /// Stores what the completed ride measured over `seconds` in `w`, as the generator
    /// stores a completed workout's truths (distance as the shown value in meters).
    pub(crate) fn finalize(&self, w: &mut GeneratedWorkout, seconds: u64) {
        let r = self.run_stats(seconds);
        let has_output = r.output.n > 0;
        let has_distance = r.speed_mps.n > 0;
        w.total_work_joules = has_output.then_some(r.joules);
        w.distance_meters = has_distance.then(|| {
            let shown = self.shown_distance(r.meters);
            if self.kind == Kind::Row {
                shown
            } else {
                shown * self.units.meters_per_distance_unit()
            }
        });
        w.elevation_meters = (self.kind == Kind::Tread).then(|| {
            let unit = self.units.meters_per_elevation_unit();
            (r.elevation_m / unit).round() * unit
        });
        w.calories_kcal = self.calories(&r);
        w.output_watts = r.output.stat(0);
        w.cadence_rpm = r.cadence.stat(0);
        w.resistance_pct = r.resistance.stat(0);
        w.speed_mps = self.speed_stat(&r);
        w.incline_pct = r.incline.stat(1);
        w.stroke_rate_spm = r.stroke_rate.stat(0);
        w.stroke_count = (self.kind == Kind::Row).then_some(r.strokes.round() as u32);
        w.heart_rate_bpm = r.heart_rate.stat(0);
        w.hr_zone_seconds = Some(r.zones);
        w.effort_zones_null = false;
        w.effort_points = Some(round_to(
            r.zones
                .iter()
                .zip(EFFORT_WEIGHTS)
                .map(|(s, k)| s / 60.0 * k)
                .sum(),
            2,
        ));
    }

    /// Speed truth in m/s: the shown average and maximum converted back (the rower's from
    /// its split pace, the fastest pace giving the maximum).
    pub(crate) fn speed_stat(&self, r: &RunStats) -> Option<Stat> {
        if self.kind == Kind::Row {
            let avg = r.speed_mps.mean()?;
            let pace = round_to(500.0 / (avg * 60.0), 2);
            let fastest = round_to(500.0 / (r.speed_mps.max * 60.0), 2);
            return Some(Stat {
                avg: 500.0 / (pace * 60.0),
                max: 500.0 / (fastest * 60.0),
            });
        }
        let shown = r.speed.stat(1)?;
        let unit = self.units.mps_per_speed_unit();
        Some(Stat {
            avg: shown.avg * unit,
            max: shown.max * unit,
        })
    }
}

/// A live ride's trace and schedule.
#[derive(Clone, Debug)]
pub(crate) struct LiveState {
    pub(crate) trace: Trace,
    /// When it completes by itself (`start + ride_for`); `None` when it never does.
    pub(crate) due: Option<i64>,
    /// Completed (by itself or by `complete_workout`).
    pub(crate) done: bool,
}

/// Live rides by workout id, completed ones included (their graph stays the trace).
pub(crate) type LiveRides = HashMap<String, LiveState>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::WorkoutCtx;

    fn ctx() -> WorkoutCtx {
        WorkoutCtx {
            units: Units::Imperial,
            ftp: 200,
            max_hr: 185.0,
            zones: [0.0, 120.3, 138.8, 157.3, 175.8],
        }
    }

    #[test]
    fn samples_are_a_function_of_seed_and_second() {
        let a = Trace::new(7, "cycling", 1200, &ctx());
        let b = Trace::new(7, "cycling", 1200, &ctx());
        let c = Trace::new(8, "cycling", 1200, &ctx());
        assert_eq!(a.sample(321), b.sample(321));
        let run_a: Vec<LiveSample> = (1..=1200).map(|s| a.sample(s)).collect();
        let run_c: Vec<LiveSample> = (1..=1200).map(|s| c.sample(s)).collect();
        assert_ne!(run_a, run_c);
        let watts: Vec<f64> = run_a.iter().filter_map(|s| s.output_watts).collect();
        let avg = watts.iter().sum::<f64>() / watts.len() as f64;
        assert!((90.0..200.0).contains(&avg), "{avg}");
        assert!(watts.iter().any(|w| *w > 1.4 * avg), "sprints");
        let zones: std::collections::BTreeSet<u8> =
            run_a.iter().map(|s| s.heart_rate_zone).collect();
        assert!(zones.len() >= 3, "{zones:?}");
        for s in &run_a {
            assert_eq!(s.output_watts.unwrap().fract(), 0.0);
            assert!((40.0..=125.0).contains(&s.cadence_rpm.unwrap()));
            let mph = s.speed.unwrap();
            assert!((s.speed_mps.unwrap() - mph * 0.447_04).abs() < 1e-12);
        }
        let totals = a.totals(1200);
        assert_eq!(totals.output_joules, watts.iter().sum::<f64>());
        assert_eq!(totals.heart_rate_zone_seconds.iter().sum::<f64>(), 1200.0);
    }

    #[test]
    fn every_discipline_has_its_metrics() {
        let row = Trace::new(3, "caesar", 600, &ctx()).sample(100);
        assert!(row.stroke_rate_spm.is_some() && row.pace.is_some() && row.speed.is_none());
        let run = Trace::new(3, "running", 600, &ctx()).sample(100);
        assert!(run.incline_percent.is_some() && run.pace.is_some() && run.speed.is_some());
        let yoga = Trace::new(3, "yoga", 600, &ctx()).sample(100);
        assert!(yoga.output_watts.is_none() && yoga.speed_mps.is_none());
        assert!((60.0..150.0).contains(&yoga.heart_rate_bpm));
    }

    #[test]
    fn ride_for_of_max_never_ends() {
        let forever = LiveRide {
            ride_for: Some(Duration::MAX),
            ..LiveRide::default()
        };
        assert_eq!(forever.end_for(1000), None);
        assert_eq!(LiveRide::default().end_for(1000), Some(2200));
        let zero = LiveRide {
            ride_for: Some(Duration::ZERO),
            ..LiveRide::default()
        };
        assert_eq!(zero.end_for(1000), Some(1001));
    }
}
