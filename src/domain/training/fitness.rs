//! Fitness and fatigue (CTL/ATL) over days from the daily loads: the exponentially
//! weighted model of GoldenCheetah's PMC.

/// Time constant of fitness (chronic training load), days.
pub const CTL_TIME_CONSTANT_DAYS: f64 = 42.0;
/// Time constant of fatigue (acute training load), days.
pub const ATL_TIME_CONSTANT_DAYS: f64 = 7.0;
/// Longest `from_day..=to_day` range [`daily_loads`] answers (about 100 years), so a bad
/// date cannot ask for billions of rows.
pub const MAX_LOAD_DAYS: i64 = 36_525;
/// Daily loads above this are ignored as corrupt: 10 000 TSS is 100 hours at FTP in a day.
/// It also keeps sums of many same-day workouts finite.
pub const MAX_PLAUSIBLE_LOAD: f64 = 10_000.0;

/// Fitness (CTL) and fatigue (ATL) at the end of a day, in load units per day.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Loads {
    /// Chronic training load, 42-day exponentially weighted average of daily load.
    pub ctl: f64,
    /// Acute training load, 7-day exponentially weighted average of daily load.
    pub atl: f64,
}

impl Loads {
    /// Form (training stress balance), CTL − ATL of these same loads, i.e. *after* that
    /// day's training as GoldenCheetah shows it by default. TrainingPeaks shows the form
    /// going *into* a day; for that, use the previous day's `Loads`.
    pub fn form(&self) -> f64 {
        self.ctl - self.atl
    }
}

/// Per-day retention `exp(-1/τ)` for fitness and fatigue.
#[derive(Debug, Clone, Copy)]
struct Decay {
    ctl_keep: f64,
    atl_keep: f64,
}

impl Decay {
    fn new() -> Self {
        Self {
            ctl_keep: (-1.0 / CTL_TIME_CONSTANT_DAYS).exp(),
            atl_keep: (-1.0 / ATL_TIME_CONSTANT_DAYS).exp(),
        }
    }

    /// One day with `load`: `x + (load - x)(1 - keep)`, written as a convex combination so
    /// the result can never go below zero from rounding.
    fn train(self, loads: Loads, load: f64) -> Loads {
        Loads {
            ctl: loads.ctl * self.ctl_keep + load * (1.0 - self.ctl_keep),
            atl: loads.atl * self.atl_keep + load * (1.0 - self.atl_keep),
        }
    }

    /// `days` rest days at once: each multiplies by `keep`, so together by `exp(-days/τ)`.
    fn rest(loads: Loads, days: f64) -> Loads {
        if days <= 0.0 {
            return loads;
        }
        Loads {
            ctl: loads.ctl * (-days / CTL_TIME_CONSTANT_DAYS).exp(),
            atl: loads.atl * (-days / ATL_TIME_CONSTANT_DAYS).exp(),
        }
    }
}

/// Days strictly between two day numbers, without overflow.
fn days_between(earlier: i64, later: i64) -> f64 {
    (i128::from(later) - i128::from(earlier) - 1) as f64
}

/// CTL and ATL for every day of `from_day..=to_day` (inclusive), oldest first.
///
/// `daily` holds `(day number, load)` pairs, e.g. TSS of each workout with the day number
/// taken in the rider's time zone; several workouts on one day add up, and days without
/// one have load 0. Loads that are not finite, negative or above [`MAX_PLAUSIBLE_LOAD`],
/// and days after `to_day`, are ignored. Workouts before `from_day` are not dropped: they
/// seed the model, so the first returned day already carries the earlier training. The
/// model starts from zero before the earliest workout.
///
/// Model: the exponentially weighted form used by GoldenCheetah's PMC
/// (`src/Metrics/PMCData.cpp`: `lts = stress·(1 − e) + lastLTS·e`, `e = exp(−1/τ)`),
/// equivalently `ctl_today = ctl_yesterday + (load_today − ctl_yesterday)(1 − exp(−1/42))`
/// and the same for ATL with τ = 7. The simpler `1/42` of the original TrainingPeaks
/// description differs by about 1 % in the gain.
///
/// Empty when `from_day > to_day` or the range is longer than [`MAX_LOAD_DAYS`]. Runs in
/// O(workouts · log workouts + days): rest stretches before `from_day` are applied in one
/// step, so a stray workout dated decades earlier costs nothing.
pub fn daily_loads(daily: &[(i64, f64)], from_day: i64, to_day: i64) -> Vec<(i64, Loads)> {
    let span = i128::from(to_day) - i128::from(from_day) + 1;
    if span <= 0 || span > i128::from(MAX_LOAD_DAYS) {
        return Vec::new();
    }
    let mut workouts: Vec<(i64, f64)> = daily
        .iter()
        .copied()
        .filter(|&(day, load)| day <= to_day && (0.0..=MAX_PLAUSIBLE_LOAD).contains(&load))
        .collect();
    workouts.sort_unstable_by_key(|&(day, _)| day);
    let mut pending = workouts.into_iter().peekable();
    let decay = Decay::new();

    let mut loads = Loads::default();
    let mut last_day: Option<i64> = None;
    while let Some((day, load)) = pending.next_if(|&(day, _)| day < from_day) {
        let mut total = load;
        while let Some((_, more)) = pending.next_if(|&(other, _)| other == day) {
            total += more;
        }
        if let Some(previous) = last_day {
            loads = Decay::rest(loads, days_between(previous, day));
        }
        loads = decay.train(loads, total);
        last_day = Some(day);
    }
    if let Some(previous) = last_day {
        loads = Decay::rest(loads, days_between(previous, from_day));
    }

    let mut out = Vec::with_capacity(usize::try_from(span).unwrap_or(0));
    for day in from_day..=to_day {
        let mut total = 0.0;
        while let Some((_, load)) = pending.next_if(|&(other, _)| other == day) {
            total += load;
        }
        loads = decay.train(loads, total);
        out.push((day, loads));
    }
    out
}
