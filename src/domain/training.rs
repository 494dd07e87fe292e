//! Training analytics of one workout: power curve, normalized power, intensity factor, TSS,
//! heart-rate TRIMP, Peloton power zones and the fitness/fatigue (CTL/ATL) model.
//!
//! Everything here is a pure function over plain numbers (watts, seconds, days) so the
//! exporter can compute it once per completed workout, cache it with the workout, and test
//! it without a network. Nothing reads a clock, a file or the environment.
//!
//! # Where the inputs come from (see `API.md` §4.4, §4.5)
//! * Power: the `output` metric of `GET /api/workout/{id}/performance_graph?every_n=N`,
//!   `metrics[].values[]`, aligned with `seconds_since_pedaling_start[]`. Entries can be
//!   `null`. The response does **not** echo `every_n`, so the sample step is whatever the
//!   caller requested; [`infer_step_s`] can cross-check it from the timestamps.
//!   Prefer `every_n=1` for NP and the curve: in the `every_n=5` fixtures the values do not
//!   average to Peloton's own `avg_output` (132.8 vs 123 W cycling 2024, 159 vs 168 W tread
//!   2020), so they look like point samples rather than 5-s means, whereas the `every_n=1`
//!   fixtures agree (93.9 vs 94 W, 112.0 vs 112 kJ).
//! * FTP: `ftp_info.ftp` on the workout detail is the FTP the rider had going into that
//!   workout, which is what IF/TSS/zones for that ride should use. `/api/me` `cycling_ftp`
//!   is a 20-minute average, not FTP (FTP = 95 % of it).
//! * Heart-rate zones: `performance_graph.effort_zones.heart_rate_zone_durations`
//!   (`heart_rate_z1_duration`..`z5`, seconds; `null` for many workouts) or, equivalently,
//!   the `heart_rate` metric's `zones[]` (`zone1`..`zone5`, `duration`). Both are present in
//!   `performance_graph_cycling_2024.json` and agree (23/25/74/805/270 s); the 2020 tread
//!   fixture has only `zones[]`. The workout-detail `total_heart_rate_zone_durations` is
//!   *not* the rider's own (it sums to ~10x the ride length) and must not be used.
//!
//! # Policies
//! * **Gaps** (a `None` sample, or a missing timestamp when built with
//!   [`PowerSeries::from_timed`]): count as 0 W inside rolling windows (best averages, NP)
//!   and in [`average_power`], and are left out of [`time_in_power_zones`]. See
//!   [`PowerSeries`] for why.
//! * **Step of 0** (`every_n` unknown): anything that needs time (durations, best
//!   averages, NP, zone seconds) is `None`. [`average_power`] is still returned because a
//!   mean of equally spaced samples does not depend on the spacing.
//! * **Huge steps** are taken literally: a window is never shorter than one sample, so with
//!   `every_n` larger than the duration asked for, the "best 5 s" is the best bucket average.
//! * A value that cannot be known is `None`, never 0 or infinity. A measured 0 W is a value.

use serde::{Deserialize, Serialize};

/// Samples above this are sensor glitches, not riders: track sprinters peak near 2 500 W,
/// and Peloton's own scale tops out far below 5 000 W.
pub const MAX_PLAUSIBLE_WATTS: f64 = 5000.0;

/// Longest workout believed: [`PowerSeries::from_timed`] drops samples further than this
/// from the first timestamp (so one corrupt timestamp cannot make it allocate gigabytes),
/// and [`trimp_from_zone_seconds`] rejects zone times adding up to more.
pub const MAX_SERIES_SPAN_S: u32 = 48 * 3600;

/// Durations of the exported power curve: sprint, anaerobic, VO2max, FTP-test and hour.
pub const CURVE_DURATIONS_S: [u32; 5] = [5, 60, 300, 1200, 3600];

/// Coggan's smoothing window; 30 s approximates the time constant of physiological
/// responses to changes in power.
pub const NP_WINDOW_S: u32 = 30;

/// Evenly spaced power samples of one workout.
///
/// # Gap policy
/// A `None` sample is a gap. Inside rolling windows (best averages, normalized power) and in
/// the average, a gap counts as **0 W**, as GoldenCheetah does when it fills recording gaps.
/// The reasons:
/// * the windows must stay aligned to wall-clock time, so a gap has to have *some* value;
///   dropping it would glue the samples either side together and make a "60 s" window
///   span more than 60 s;
/// * on Peloton a gap almost always means the rider stopped pedalling (values go `null` and
///   timestamps skip, P2G#618, when the flywheel stops), where 0 W is the truth;
/// * 0 W can only lower a best average or NP, never invent an effort that did not happen.
///
/// Time in power zones is a histogram of what was observed, so gaps are left out there
/// rather than being filed under zone 1.
///
/// The fields are public so callers can build test data freely; every function re-checks
/// the samples, so a hand-built series with NaN or negative values is treated as gaps too.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PowerSeries {
    /// Seconds between samples: the `every_n` the performance graph was requested with.
    pub step_s: u32,
    /// One entry per step, `None` for a gap.
    pub watts: Vec<Option<f64>>,
}

fn plausible_watts(value: Option<f64>) -> Option<f64> {
    // NaN and the infinities fail the range check too.
    value.filter(|w| (0.0..=MAX_PLAUSIBLE_WATTS).contains(w))
}

impl PowerSeries {
    /// Keeps `values` in order, turning impossible ones (negative, non-finite, above
    /// [`MAX_PLAUSIBLE_WATTS`]) into gaps.
    pub fn new(step_s: u32, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self {
            step_s,
            watts: values.into_iter().map(plausible_watts).collect(),
        }
    }

    /// Builds the series from `seconds_since_pedaling_start` and the aligned `values`,
    /// putting each sample in slot `round((t - t_first) / step_s)`.
    ///
    /// With `every_n=1` Peloton skips timestamps where the rider stopped, so counting
    /// array entries would shorten the ride; slots that no timestamp lands in become gaps.
    /// Samples landing in the same slot (data finer than `step_s`) are averaged, which keeps
    /// the energy right. Samples before the first timestamp (out of order), with a
    /// non-finite timestamp, or more than [`MAX_SERIES_SPAN_S`] after it are dropped. Extra
    /// entries in the longer of the two arrays are ignored. With `step_s == 0` the
    /// timestamps cannot be mapped to slots and the values are kept as they are.
    pub fn from_timed(step_s: u32, seconds: &[Option<f64>], values: &[Option<f64>]) -> Self {
        if step_s == 0 {
            return Self::new(0, values.iter().copied());
        }
        Self {
            step_s,
            watts: place_by_time(step_s, seconds, values, plausible_watts),
        }
    }

    /// Elapsed time covered, gaps included; `None` when the step is unknown.
    pub fn duration_s(&self) -> Option<f64> {
        (self.step_s > 0).then(|| self.watts.len() as f64 * f64::from(self.step_s))
    }

    fn has_power_data(&self) -> bool {
        self.watts.iter().any(|w| plausible_watts(*w).is_some())
    }

    fn zero_filled(&self) -> Vec<f64> {
        self.watts
            .iter()
            .map(|w| plausible_watts(*w).unwrap_or(0.0))
            .collect()
    }
}

/// Puts each value in slot `round((t - t_first) / step_s)` of a new series; see
/// [`PowerSeries::from_timed`] for the rules. `keep` turns impossible values into gaps
/// before they are averaged with their slot's neighbours. Empty when `step_s` is 0.
pub fn place_by_time(
    step_s: u32,
    seconds: &[Option<f64>],
    values: &[Option<f64>],
    keep: impl Fn(Option<f64>) -> Option<f64>,
) -> Vec<Option<f64>> {
    if step_s == 0 {
        return Vec::new();
    }
    let step = f64::from(step_s);
    let last_slot = f64::from(MAX_SERIES_SPAN_S / step_s);
    let mut origin: Option<f64> = None;
    // (sum of kept values, how many) per slot
    let mut slots: Vec<(f64, f64)> = Vec::new();
    for (time, value) in seconds.iter().zip(values) {
        let Some(time) = time.filter(|t| t.is_finite()) else {
            continue;
        };
        let first = *origin.get_or_insert(time);
        let slot = ((time - first) / step).round();
        if !(0.0..=last_slot).contains(&slot) {
            continue;
        }
        let slot = slot as usize;
        if slots.len() <= slot {
            slots.resize(slot + 1, (0.0, 0.0));
        }
        if let (Some(v), Some(acc)) = (keep(*value), slots.get_mut(slot)) {
            acc.0 += v;
            acc.1 += 1.0;
        }
    }
    slots
        .into_iter()
        .map(|(sum, count)| (count > 0.0).then(|| sum / count))
        .collect()
}

/// The most common spacing of `seconds_since_pedaling_start`, rounded to whole seconds.
///
/// The performance graph does not say which `every_n` produced it; the mode is robust to
/// the skipped timestamps of stopped periods and to the short last bucket (the 2024 cycling
/// fixture runs 1, 6, …, 1196, 1200). Ties go to the smaller step. `None` without two
/// increasing finite timestamps.
pub fn infer_step_s(seconds: &[Option<f64>]) -> Option<u32> {
    let times: Vec<f64> = seconds
        .iter()
        .filter_map(|t| t.filter(|t| t.is_finite()))
        .collect();
    let mut steps: Vec<u32> = times
        .windows(2)
        .filter_map(|pair| match pair {
            [earlier, later] => {
                let step = (later - earlier).round();
                (1.0..=f64::from(u32::MAX))
                    .contains(&step)
                    .then_some(step as u32)
            }
            _ => None,
        })
        .collect();
    steps.sort_unstable();
    // Runs come in ascending order, so keeping only strictly longer runs prefers the
    // smaller step on a tie.
    steps
        .chunk_by(|a, b| a == b)
        .fold(None, |best: Option<(usize, u32)>, run| {
            match (best, run.first()) {
                (Some((best_len, _)), _) if run.len() <= best_len => best,
                (_, Some(step)) => Some((run.len(), *step)),
                (best, None) => best,
            }
        })
        .map(|(_, step)| step)
}

/// Means of every full window of `window` consecutive samples, in order; `None` when there
/// are fewer samples than that. O(n): one running sum, one add and one subtract per step.
fn rolling_means(samples: &[f64], window: usize) -> Option<impl Iterator<Item = f64> + '_> {
    if window == 0 {
        return None;
    }
    let first: f64 = samples.get(..window)?.iter().sum();
    let len = window as f64;
    let slides =
        samples
            .iter()
            .skip(window)
            .zip(samples)
            .scan(first, |sum, (entering, leaving)| {
                *sum += entering - leaving;
                Some(*sum)
            });
    // A running sum of non-negative samples can drift a few ulps below zero after a long
    // stretch at 0 W; clamping keeps "no effort" at exactly that.
    Some(
        std::iter::once(first)
            .chain(slides)
            .map(move |sum| (sum / len).max(0.0)),
    )
}

fn best_average_of(samples: &[f64], step_s: u32, duration_s: u32) -> Option<f64> {
    if step_s == 0 || duration_s == 0 {
        return None;
    }
    // Rounding up means a window is never shorter than the duration it stands for.
    let window = usize::try_from(duration_s.div_ceil(step_s)).ok()?;
    rolling_means(samples, window)?.reduce(f64::max)
}

/// Best mean power over any `duration_s` stretch of the ride.
///
/// The window is `ceil(duration_s / step_s)` samples, so with 5-s data "best 5 s" is the
/// best single sample and with 4-s data it covers 8 s. `None` when the ride is shorter than
/// `duration_s`, the step is unknown, `duration_s` is 0, or there is no power at all.
///
/// A longer duration never beats a shorter one when its window is a whole multiple of the
/// shorter window (true for [`CURVE_DURATIONS_S`] at `every_n` 1, 2, 3, 5, 6, 10, 12, 15,
/// 20, 30, 60). With other steps the rounding can, for contrived data such as alternating
/// 1000 W / 0 W samples, give a slightly higher value for the longer duration; the value is
/// still the true best for that window and is not clamped.
pub fn best_average(series: &PowerSeries, duration_s: u32) -> Option<f64> {
    if !series.has_power_data() {
        return None;
    }
    best_average_of(&series.zero_filled(), series.step_s, duration_s)
}

/// [`best_average`] for each of [`CURVE_DURATIONS_S`].
pub fn power_curve(series: &PowerSeries) -> [Option<f64>; 5] {
    if !series.has_power_data() {
        return [None; 5];
    }
    let samples = series.zero_filled();
    CURVE_DURATIONS_S.map(|duration| best_average_of(&samples, series.step_s, duration))
}

/// Coggan's normalized power: the fourth-power mean of the 30-s rolling average.
///
/// The window is `round(30 / step_s)` samples (half rounds up, at least 1); only full
/// windows are used, as in Coggan's definition. `None` when the ride is shorter than 30 s,
/// the step is unknown, or there is no power at all. A ride of measured zeros gives 0.
///
/// NP is at least the mean of the rolling averages (power-mean inequality) and, for any
/// ride that starts and ends with one window of soft-pedalling, at least the average power.
/// It is **not** always at least [`average_power`]: the first and last samples sit in fewer
/// windows, so a short ride whose effort is at its very end (29 s at 0 W then 1 s at
/// 1000 W) has NP 28 W against an average of 32 W. This only matters for rides of a few
/// minutes and is left as Coggan defines it rather than patched.
pub fn normalized_power(series: &PowerSeries) -> Option<f64> {
    let step = series.step_s;
    if step == 0 || !series.has_power_data() {
        return None;
    }
    let ride_s = u64::try_from(series.watts.len())
        .ok()?
        .saturating_mul(u64::from(step));
    if ride_s < u64::from(NP_WINDOW_S) {
        return None;
    }
    let window = ((NP_WINDOW_S + step / 2) / step).max(1);
    let samples = series.zero_filled();
    let (sum_fourth, count) = rolling_means(&samples, usize::try_from(window).ok()?)?
        .fold((0.0_f64, 0_usize), |(sum, count), mean| {
            (sum + mean.powi(4), count + 1)
        });
    if count == 0 {
        return None;
    }
    // Two square roots are more accurate than powf(0.25).
    Some((sum_fourth / count as f64).sqrt().sqrt())
}

/// Mean power with gaps as 0 W (energy / elapsed time); `None` when no sample is usable.
pub fn average_power(series: &PowerSeries) -> Option<f64> {
    if !series.has_power_data() {
        return None;
    }
    let energy: f64 = series
        .watts
        .iter()
        .filter_map(|w| plausible_watts(*w))
        .sum();
    Some(energy / series.watts.len() as f64)
}

fn valid_ftp(ftp: f64) -> bool {
    ftp.is_finite() && ftp > 0.0
}

/// NP / FTP. `None` when FTP is not a positive finite number or NP is negative or not
/// finite; Peloton reports an unset FTP as 0.
pub fn intensity_factor(np: f64, ftp: f64) -> Option<f64> {
    if !valid_ftp(ftp) || !np.is_finite() || np < 0.0 {
        return None;
    }
    Some(np / ftp).filter(|factor| factor.is_finite())
}

/// Coggan's TSS: `duration_s × NP × IF / (FTP × 3600) × 100`, i.e. 100 for an hour at FTP.
///
/// `duration_s` is the elapsed time of the ride ([`PowerSeries::duration_s`]). `None` for a
/// negative or non-finite duration, for inputs [`intensity_factor`] rejects, or when the
/// result would overflow.
pub fn training_stress_score(duration_s: f64, np: f64, ftp: f64) -> Option<f64> {
    if !duration_s.is_finite() || duration_s < 0.0 {
        return None;
    }
    let factor = intensity_factor(np, ftp)?;
    let tss = duration_s * np * factor / (ftp * 3600.0) * 100.0;
    tss.is_finite().then_some(tss)
}

/// Which model produced a workout's load.
///
/// The two scales are **not** interchangeable: an hour at threshold is 100 power-TSS but
/// about 240 Edwards TRIMP (60 min × zone 4). Keep them apart (one fitness/fatigue series
/// per method, or a `method` label) instead of adding them into one CTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LoadMethod {
    /// [`training_stress_score`] from the power series and FTP.
    Power,
    /// [`trimp_from_zone_seconds`] from Peloton's heart-rate zone durations.
    HeartRateTrimp,
}

impl LoadMethod {
    pub const ALL: [LoadMethod; 2] = [LoadMethod::Power, LoadMethod::HeartRateTrimp];

    /// Stable metric label value.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Power => "power_tss",
            Self::HeartRateTrimp => "hr_trimp",
        }
    }
}

/// Zone number (0-based) for a Peloton heart-rate zone key, accepting both spellings the
/// API uses: `heart_rate_z3_duration` (`effort_zones`) and `zone3` (`heart_rate.zones[]`).
fn hr_zone_index(key: &str) -> Option<usize> {
    let digit = key
        .strip_prefix("heart_rate_z")
        .and_then(|rest| rest.strip_suffix("_duration"))
        .or_else(|| key.strip_prefix("zone"))?;
    match digit {
        "1" => Some(0),
        "2" => Some(1),
        "3" => Some(2),
        "4" => Some(3),
        "5" => Some(4),
        _ => None,
    }
}

/// Seconds in heart-rate zones 1..5 from `(key, seconds)` pairs, keyed either as in
/// `effort_zones.heart_rate_zone_durations` (`heart_rate_z1_duration`) or by the `slug`
/// of `heart_rate.zones[]` (`zone1`).
///
/// `None` unless all five zones are present with finite, non-negative seconds: a partial
/// set would silently understate the load. Unknown keys are ignored; a repeated key keeps
/// its last value.
pub fn hr_zone_seconds<'a>(entries: impl IntoIterator<Item = (&'a str, f64)>) -> Option<[f64; 5]> {
    let mut zones: [Option<f64>; 5] = [None; 5];
    for (key, seconds) in entries {
        if let Some(slot) = hr_zone_index(key).and_then(|index| zones.get_mut(index)) {
            *slot = Some(seconds).filter(|s| s.is_finite() && *s >= 0.0);
        }
    }
    let [z1, z2, z3, z4, z5] = zones;
    Some([z1?, z2?, z3?, z4?, z5?])
}

/// Edwards' zone-weighted TRIMP: Σ minutes in zone *i* × *i*, for *i* = 1..5.
///
/// Edwards (1993) simplified Banister's exponential TRIMP to five heart-rate bands weighted
/// 1..5, which is what Peloton gives us: per-zone seconds, not a beat-by-beat trace.
/// Edwards' bands are 50–60 … 90–100 % of max HR; Peloton's default zones are shifted up
/// by about 5 % (lower bounds 0, 65, 75, 85, 95 % of max HR: `/api/me`
/// `default_heart_rate_zones` `[0, 114.4, 132, 149.6, 167.2]` for max 176), and its zone 1
/// also holds time below 50 %. The weights are applied to Peloton's zones as they are, so
/// values compare with each other but run slightly below Edwards TRIMP from other tools.
///
/// `None` when any entry is negative or not finite, when all five are 0 (no heart-rate
/// data, which Peloton reports as zeros rather than omitting), or when they add up to more
/// than [`MAX_SERIES_SPAN_S`], which no single workout lasts.
pub fn trimp_from_zone_seconds(zone_seconds: &[f64; 5]) -> Option<f64> {
    if zone_seconds.iter().any(|s| !s.is_finite() || *s < 0.0) {
        return None;
    }
    let total: f64 = zone_seconds.iter().sum();
    if total <= 0.0 || total > f64::from(MAX_SERIES_SPAN_S) {
        return None;
    }
    let trimp: f64 = zone_seconds
        .iter()
        .zip(1_u8..)
        .map(|(seconds, weight)| seconds / 60.0 * f64::from(weight))
        .sum();
    trimp.is_finite().then_some(trimp)
}

/// The load of one workout: power TSS when the ride has power and a usable FTP, otherwise
/// Edwards TRIMP from heart-rate zones, otherwise `None`.
///
/// Pass a series only for cycling `output`: Tread and Row report `output` too, but on a
/// scale the cycling FTP does not describe. An all-zero series counts as "no power" because
/// a bike that reports only zeros was not measuring (Peloton fills unconnected metrics
/// with 0), and the heart-rate load is the better estimate then.
pub fn workout_load(
    series: &PowerSeries,
    ftp: Option<f64>,
    hr_zone_seconds: Option<&[f64; 5]>,
) -> Option<(LoadMethod, f64)> {
    let power_tss = || {
        let pedalled = series
            .watts
            .iter()
            .any(|w| plausible_watts(*w).is_some_and(|w| w > 0.0));
        if !pedalled {
            return None;
        }
        training_stress_score(series.duration_s()?, normalized_power(series)?, ftp?)
    };
    power_tss().map(|tss| (LoadMethod::Power, tss)).or_else(|| {
        hr_zone_seconds
            .and_then(trimp_from_zone_seconds)
            .map(|trimp| (LoadMethod::HeartRateTrimp, trimp))
    })
}

/// Upper bounds of Peloton power zones 1..6 as fractions of FTP; above the last is zone 7.
///
/// Peloton's published Power Zone chart (onepeloton.com "Power Zone Training" guide, as
/// reproduced by third-party Power Zone references): Z1 Active Recovery < 55 %, Z2
/// Endurance 56–75 %, Z3 Tempo 76–90 %, Z4 Threshold 91–105 %, Z5 VO2 Max 106–120 %,
/// Z6 Anaerobic 121–150 %, Z7 Neuromuscular > 150 %. Neither `API.md` nor any fixture
/// carries these (`ftp_info` has only `ftp`, `ftp_source`, `ftp_workout_id`; "power zone"
/// appears only as a class type and in a class description saying "7 zones of output").
/// Peloton prints whole percentages, so each bound is taken as inclusive of its upper
/// end (75 % is zone 2, 150 % is zone 6, matching "56–75 %" and "> 150 %"); the one
/// point this reads differently from "< 55 %" is exactly 55 %, which is zone 1 here.
pub const POWER_ZONE_UPPER_FTP_FRACTIONS: [f64; 6] = [0.55, 0.75, 0.90, 1.05, 1.20, 1.50];

/// Peloton power zone (1..=7) of one power value; `None` for an impossible power or FTP.
pub fn power_zone(watts: f64, ftp: f64) -> Option<u8> {
    if !valid_ftp(ftp) {
        return None;
    }
    let watts = plausible_watts(Some(watts))?;
    let ratio = watts / ftp;
    let below = POWER_ZONE_UPPER_FTP_FRACTIONS
        .iter()
        .take_while(|upper| ratio > **upper)
        .count();
    u8::try_from(below + 1).ok()
}

/// Seconds spent in each Peloton power zone (index 0 = zone 1), gaps left out.
///
/// `None` when the FTP is unusable, the step is unknown, or no sample is usable.
pub fn time_in_power_zones(series: &PowerSeries, ftp: f64) -> Option<[f64; 7]> {
    if series.step_s == 0 || !valid_ftp(ftp) || !series.has_power_data() {
        return None;
    }
    let step = f64::from(series.step_s);
    let mut zones = [0.0; 7];
    for watts in series.watts.iter().filter_map(|w| *w) {
        let slot = power_zone(watts, ftp)
            .and_then(|zone| usize::from(zone).checked_sub(1))
            .and_then(|index| zones.get_mut(index));
        if let Some(seconds) = slot {
            *seconds += step;
        }
    }
    Some(zones)
}

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

/// Where Peloton says an FTP came from (`ftp_info.ftp_source`, `/api/me`
/// `cycling_ftp_source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FtpSource {
    /// Set by an FTP test ride (`ftp_workout_source`).
    Workout,
    /// Typed in by the member (`ftp_manual_source`).
    Manual,
    /// Peloton's estimate from recent rides (`ftp_estimated_source`).
    Estimated,
    /// A positive FTP with a missing or unknown source.
    Unknown,
}

impl FtpSource {
    /// Reads Peloton's source string; anything unrecognised is [`FtpSource::Unknown`].
    pub fn from_api(source: Option<&str>) -> Self {
        match source {
            Some("ftp_workout_source") => Self::Workout,
            Some("ftp_manual_source") => Self::Manual,
            Some("ftp_estimated_source") => Self::Estimated,
            _ => Self::Unknown,
        }
    }

    /// Stable metric label value.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Workout => "workout",
            Self::Manual => "manual",
            Self::Estimated => "estimated",
            Self::Unknown => "unknown",
        }
    }
}

/// Above this an FTP is a typo or corruption, not a rider (the hour record is about 500 W).
pub const MAX_PLAUSIBLE_FTP: f64 = 1000.0;

/// The FTP Peloton used for a workout's power zones: its `ftp_info.ftp`, as Peloton gives
/// it (docs/metrics.md explains why the 95 % rule is not applied).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FtpInForce {
    pub watts: f64,
    pub source: FtpSource,
}

impl FtpInForce {
    /// `None` for Peloton's "no FTP" (0, used on every non-cycling workout) and for values
    /// that cannot be an FTP.
    pub fn new(watts: Option<f64>, source: Option<&str>) -> Option<Self> {
        let watts = watts.filter(|w| valid_ftp(*w) && *w <= MAX_PLAUSIBLE_FTP)?;
        Some(Self {
            watts,
            source: FtpSource::from_api(source),
        })
    }
}

/// Label values of the power-curve durations, in the order of [`CURVE_DURATIONS_S`].
pub const CURVE_DURATION_LABELS: [&str; 5] = ["5", "60", "300", "1200", "3600"];

/// Everything the exporter keeps about one workout's training, computed once when its
/// performance graph arrives and stored with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkoutTraining {
    /// FTP in force at the workout (only cycling workouts have one).
    pub ftp: Option<FtpInForce>,
    /// Seconds between samples of the series the values come from.
    pub step_s: Option<u32>,
    /// Best average power over each of [`CURVE_DURATIONS_S`].
    pub power_curve_watts: [Option<f64>; 5],
    pub average_watts: Option<f64>,
    pub normalized_power_watts: Option<f64>,
    pub intensity_factor: Option<f64>,
    pub training_stress_score: Option<f64>,
    /// What this workout adds to fitness and fatigue, and how it was computed.
    pub load: Option<(LoadMethod, f64)>,
    /// Seconds in Peloton's power zones 1..7 at [`Self::ftp`].
    pub power_zone_seconds: Option<[f64; 7]>,
    pub effort_points: Option<f64>,
}

impl WorkoutTraining {
    /// The analytics of one workout. `power` is the cycling `output` series (see
    /// [`workout_load`] for why only cycling); `hr_zone_seconds` Peloton's heart-rate zone
    /// times; `effort_points` its effort score.
    pub fn compute(
        power: Option<&PowerSeries>,
        ftp: Option<FtpInForce>,
        hr_zone_seconds: Option<&[f64; 5]>,
        effort_points: Option<f64>,
    ) -> Self {
        let ftp_watts = ftp.map(|f| f.watts);
        let empty = PowerSeries::default();
        let series = power.unwrap_or(&empty);
        let np = normalized_power(series);
        let intensity = np
            .zip(ftp_watts)
            .and_then(|(np, ftp)| intensity_factor(np, ftp));
        let tss = match (series.duration_s(), np, ftp_watts) {
            (Some(duration), Some(np), Some(ftp)) => training_stress_score(duration, np, ftp),
            _ => None,
        };
        Self {
            ftp,
            step_s: power.map(|p| p.step_s).filter(|s| *s > 0),
            power_curve_watts: power_curve(series),
            average_watts: average_power(series),
            normalized_power_watts: np,
            intensity_factor: intensity,
            training_stress_score: tss,
            load: workout_load(series, ftp_watts, hr_zone_seconds),
            power_zone_seconds: ftp_watts.and_then(|ftp| time_in_power_zones(series, ftp)),
            effort_points: effort_points.filter(|p| p.is_finite() && *p >= 0.0),
        }
    }
}

/// One workout's samples at the graph's resolution, placed by their timestamps (slot `i`
/// is `i × step_s` seconds after the first sample), gaps as `None`, in base units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    pub step_s: u32,
    /// Seconds from the workout's start to the first sample.
    pub offset_s: u32,
    pub output_watts: Vec<Option<f64>>,
    pub cadence_rpm: Vec<Option<f64>>,
    pub resistance_ratio: Vec<Option<f64>>,
    pub speed_meters_per_second: Vec<Option<f64>>,
    pub heart_rate_bpm: Vec<Option<f64>>,
}

impl Trace {
    /// Samples per channel (the longest channel).
    pub fn len(&self) -> usize {
        self.channels()
            .iter()
            .map(|(_, c)| c.len())
            .max()
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each channel with its stable name.
    pub fn channels(&self) -> [(&'static str, &Vec<Option<f64>>); 5] {
        [
            ("output_watts", &self.output_watts),
            ("cadence_rpm", &self.cadence_rpm),
            ("resistance_ratio", &self.resistance_ratio),
            ("speed_meters_per_second", &self.speed_meters_per_second),
            ("heart_rate_bpm", &self.heart_rate_bpm),
        ]
    }

    /// The output channel as a power series.
    pub fn power(&self) -> Option<PowerSeries> {
        (self.step_s > 0 && self.output_watts.iter().any(Option::is_some))
            .then(|| PowerSeries::new(self.step_s, self.output_watts.iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Within `rel` of `expected` (relative), e.g. 0.001 for 0.1 %.
    fn close(actual: Option<f64>, expected: f64, rel: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= rel * expected.abs().max(1e-9))
    }

    fn series(step_s: u32, watts: &[f64]) -> PowerSeries {
        PowerSeries::new(step_s, watts.iter().copied().map(Some))
    }

    /// 300 s at 1 s: 100 s at 100 W, 100 s at 300 W, 100 s at 200 W, FTP 250 W.
    fn three_blocks() -> PowerSeries {
        let watts: Vec<f64> = std::iter::repeat_n(100.0, 100)
            .chain(std::iter::repeat_n(300.0, 100))
            .chain(std::iter::repeat_n(200.0, 100))
            .collect();
        series(1, &watts)
    }

    // Average: (100·100 + 100·300 + 100·200) / 300 = 60 000 / 300 = 200 W.
    //
    // Curve: 5 s and 60 s fit inside the 300 W block → 300 W; 300 s is the whole ride →
    // 200 W; 1200 s and 3600 s are longer than the ride → None.
    //
    // NP: window = round(30 / 1) = 30 samples, windows start at i = 0..=270 (271 of them).
    //   i = 0..=70     inside the 100 W block:  71 windows of 100 W
    //   i = 71..=99    j = i − 70 ∈ 1..=29 samples of 300 W: (100(30−j) + 300j)/30 = 100 + 20j/3
    //   i = 100..=170  inside the 300 W block:  71 windows of 300 W
    //   i = 171..=199  j = i − 170 ∈ 1..=29 samples of 200 W: (300(30−j) + 200j)/30 = 300 − 10j/3
    //   i = 200..=270  inside the 200 W block:  71 windows of 200 W          (71·3 + 29·2 = 271)
    // Fourth powers:
    //   71·100⁴ + 71·300⁴ + 71·200⁴ = 7.1e9 + 575.1e9 + 113.6e9      = 695.8e9
    //   Σ_{j=1..29} (100 + 20j/3)⁴ (evaluated exactly)                =  68.557 775 8e9
    //   Σ_{j=1..29} (300 − 10j/3)⁴ (evaluated exactly)                = 121.771 111 0e9
    //   total                                                         = 886.128 886 8e9
    //   mean = 886.128 886 8e9 / 271 = 3.269 848 29e9
    //   NP = mean^(1/4) = √(√3.269 848 29e9) = √57 182.587 = 239.1288 W
    // IF  = 239.1288 / 250 = 0.956 515
    // TSS = 300 · 239.1288 · 0.956 515 / (250 · 3600) · 100
    //     = (300 / 3600) · 0.956 515² · 100 = 0.083 333 · 0.914 921 · 100 = 7.6243
    // Zones at FTP 250: 100 W = 40 % → Z1; 200 W = 80 % → Z3; 300 W = exactly 120 % → Z5
    // (upper bounds inclusive), 100 s each.
    #[test]
    fn hand_computed_three_block_ride() {
        let ride = three_blocks();
        let ftp = 250.0;
        assert_eq!(ride.duration_s(), Some(300.0));
        assert!(close(average_power(&ride), 200.0, 1e-3));

        let curve = power_curve(&ride);
        assert!(matches!(curve, [Some(_), Some(_), Some(_), None, None]));
        let [c5, c60, c300, _, _] = curve;
        assert!(close(c5, 300.0, 1e-3));
        assert!(close(c60, 300.0, 1e-3));
        assert!(close(c300, 200.0, 1e-3));

        let np = normalized_power(&ride);
        assert!(close(np, 239.1288, 1e-3));
        let np = np.unwrap_or(f64::NAN);
        assert!(close(intensity_factor(np, ftp), 0.956_515, 1e-3));
        assert!(close(training_stress_score(300.0, np, ftp), 7.6243, 1e-3));
        assert_eq!(
            workout_load(&ride, Some(ftp), None).map(|(method, _)| method),
            Some(LoadMethod::Power)
        );
        assert_eq!(
            time_in_power_zones(&ride, ftp),
            Some([100.0, 0.0, 100.0, 0.0, 100.0, 0.0, 0.0])
        );
    }

    #[test]
    fn step_of_zero_knows_no_time() {
        let ride = series(0, &[200.0; 100]);
        assert_eq!(ride.duration_s(), None);
        assert_eq!(best_average(&ride, 5), None);
        assert_eq!(power_curve(&ride), [None; 5]);
        assert_eq!(normalized_power(&ride), None);
        assert_eq!(time_in_power_zones(&ride, 200.0), None);
        // A mean of equally spaced samples does not need the spacing.
        assert_eq!(average_power(&ride), Some(200.0));
        assert_eq!(workout_load(&ride, Some(200.0), None), None);
        let hr = [60.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(
            workout_load(&ride, Some(200.0), Some(&hr)),
            Some((LoadMethod::HeartRateTrimp, 1.0))
        );
        assert_eq!(
            PowerSeries::from_timed(0, &[Some(0.0), Some(1.0)], &[Some(5.0), Some(-1.0)]),
            PowerSeries {
                step_s: 0,
                watts: vec![Some(5.0), None]
            }
        );
    }

    #[test]
    fn huge_step_uses_one_sample_windows() {
        let ride = series(u32::MAX, &[100.0, 300.0, 200.0]);
        assert_eq!(best_average(&ride, 5), Some(300.0));
        assert_eq!(best_average(&ride, 3600), Some(300.0));
        let expected_np = ((100.0_f64.powi(4) + 300.0_f64.powi(4) + 200.0_f64.powi(4)) / 3.0)
            .sqrt()
            .sqrt();
        assert!(close(normalized_power(&ride), expected_np, 1e-12));
        assert_eq!(
            time_in_power_zones(&ride, 200.0).map(|z| z.iter().sum::<f64>()),
            Some(3.0 * f64::from(u32::MAX))
        );
    }

    #[test]
    fn all_gaps_is_unknown_not_zero() {
        let ride = PowerSeries::new(1, vec![None; 4000]);
        assert_eq!(average_power(&ride), None);
        assert_eq!(power_curve(&ride), [None; 5]);
        assert_eq!(normalized_power(&ride), None);
        assert_eq!(time_in_power_zones(&ride, 200.0), None);
        assert_eq!(workout_load(&ride, Some(200.0), None), None);
        let empty = PowerSeries::default();
        assert_eq!(average_power(&empty), None);
        assert_eq!(power_curve(&empty), [None; 5]);
        assert_eq!(normalized_power(&empty), None);
        assert_eq!(empty.duration_s(), None);
    }

    #[test]
    fn shorter_than_five_seconds() {
        let ride = series(1, &[100.0, 200.0, 300.0, 400.0]);
        assert_eq!(power_curve(&ride), [None; 5]);
        assert_eq!(normalized_power(&ride), None);
        assert_eq!(average_power(&ride), Some(250.0));
        assert_eq!(best_average(&ride, 4), Some(250.0));
        // 29 s is still short of the 30 s NP needs; 30 s is enough.
        assert_eq!(normalized_power(&series(1, &[200.0; 29])), None);
        assert!(close(
            normalized_power(&series(1, &[200.0; 30])),
            200.0,
            1e-12
        ));
        assert!(close(
            normalized_power(&series(5, &[200.0; 6])),
            200.0,
            1e-12
        ));
    }

    #[test]
    fn gaps_are_zero_in_windows_and_absent_from_zones() {
        let ride = PowerSeries::new(
            1,
            [Some(400.0), None, Some(400.0), Some(f64::NAN), Some(-3.0)],
        );
        assert_eq!(ride.watts, vec![Some(400.0), None, Some(400.0), None, None]);
        assert_eq!(best_average(&ride, 5), Some(160.0));
        assert_eq!(average_power(&ride), Some(160.0));
        assert_eq!(
            time_in_power_zones(&ride, 200.0),
            Some([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
        );
        // Hand-built series with junk are cleaned on use as well.
        let raw = PowerSeries {
            step_s: 1,
            watts: vec![Some(f64::INFINITY), Some(100.0)],
        };
        assert_eq!(best_average(&raw, 2), Some(50.0));
    }

    #[test]
    fn impossible_values_become_gaps() {
        let ride = PowerSeries::new(
            1,
            [
                Some(-1.0),
                Some(f64::NAN),
                Some(f64::INFINITY),
                Some(5000.5),
                Some(5000.0),
                Some(-0.0),
                None,
            ],
        );
        assert_eq!(
            ride.watts,
            vec![None, None, None, None, Some(5000.0), Some(-0.0), None]
        );
    }

    #[test]
    fn timed_series_fills_skipped_timestamps() {
        // Shape of performance_graph_cycling_2024.json: 1, 6, …, 1196, then a short 1200.
        let seconds: Vec<Option<f64>> = (0..240)
            .map(|i| Some(f64::from(1 + 5 * i)))
            .chain([Some(1200.0)])
            .collect();
        assert_eq!(infer_step_s(&seconds), Some(5));
        let values = vec![Some(150.0); seconds.len()];
        let ride = PowerSeries::from_timed(5, &seconds, &values);
        assert_eq!(ride.watts.len(), 241);
        assert!(ride.watts.iter().all(|w| *w == Some(150.0)));

        // every_n=1 with skipped seconds (as in the 2020 metric-units fixture).
        let seconds = [Some(2.0), Some(3.0), Some(5.0), None, Some(6.0), Some(4.0)];
        let values = [
            Some(100.0),
            Some(110.0),
            Some(130.0),
            Some(999.0),
            None,
            Some(120.0),
        ];
        assert_eq!(infer_step_s(&seconds), Some(1));
        let ride = PowerSeries::from_timed(1, &seconds, &values);
        // 4.0 arrives out of order but still lands in its slot.
        assert_eq!(
            ride.watts,
            vec![Some(100.0), Some(110.0), Some(120.0), Some(130.0), None]
        );

        // Finer data than the step is averaged (slot = round(t / 2), half away from zero:
        // 0 → 0, 1 → 1, 2 → 1); a wild or earlier-than-first timestamp is dropped.
        let seconds = [Some(0.0), Some(1.0), Some(2.0), Some(1e12), Some(-5.0)];
        let values = [Some(100.0), Some(200.0), Some(300.0), Some(1.0), Some(1.0)];
        let ride = PowerSeries::from_timed(2, &seconds, &values);
        assert_eq!(ride.watts, vec![Some(100.0), Some(250.0)]);

        assert_eq!(infer_step_s(&[]), None);
        assert_eq!(infer_step_s(&[Some(3.0), Some(3.0), Some(f64::NAN)]), None);
        assert_eq!(
            infer_step_s(&[Some(0.0), Some(2.0), Some(3.0), Some(5.0), Some(6.0)]),
            Some(1)
        );
    }

    #[test]
    fn np_can_sit_below_average_for_a_late_spike() {
        // Documented limit of Coggan's full-window NP: 30 × 0 W then one 1000 W second.
        // Windows: all zeros, and 1000/30 = 33.3 W; NP = (33.3⁴ / 2)^(1/4) = 28.0 W,
        // average = 1000/31 = 32.3 W.
        let mut watts = vec![0.0; 30];
        watts.push(1000.0);
        let ride = series(1, &watts);
        assert!(close(
            normalized_power(&ride),
            1000.0 / 30.0 / 2.0_f64.sqrt().sqrt(),
            1e-9
        ));
        assert!(close(average_power(&ride), 1000.0 / 31.0, 1e-12));
    }

    #[test]
    fn curve_rounding_caveat_for_non_nesting_steps() {
        // Documented: at 4-s steps, 5 s → 2 samples and 60 s → 15 samples; 15 does not
        // split into 2-sample windows, so alternating data can rank 60 s above 5 s.
        let watts: Vec<f64> = (0..15)
            .map(|i| if i % 2 == 0 { 1000.0 } else { 0.0 })
            .collect();
        let ride = series(4, &watts);
        assert_eq!(best_average(&ride, 5), Some(500.0));
        assert!(close(best_average(&ride, 60), 8000.0 / 15.0, 1e-12));
    }

    #[test]
    fn intensity_and_tss_reject_unknown_inputs() {
        assert_eq!(intensity_factor(200.0, 0.0), None);
        assert_eq!(intensity_factor(200.0, -250.0), None);
        assert_eq!(intensity_factor(200.0, f64::NAN), None);
        assert_eq!(intensity_factor(200.0, f64::INFINITY), None);
        assert_eq!(intensity_factor(f64::NAN, 250.0), None);
        assert_eq!(intensity_factor(-1.0, 250.0), None);
        assert_eq!(intensity_factor(200.0, 250.0), Some(0.8));
        // An hour at FTP is 100 by definition.
        assert!(close(
            training_stress_score(3600.0, 250.0, 250.0),
            100.0,
            1e-12
        ));
        assert_eq!(training_stress_score(-1.0, 250.0, 250.0), None);
        assert_eq!(training_stress_score(f64::INFINITY, 250.0, 250.0), None);
        assert_eq!(training_stress_score(3600.0, 250.0, 1e-300), None);
        assert_eq!(training_stress_score(0.0, 250.0, 250.0), Some(0.0));
    }

    #[test]
    fn power_zone_boundaries() {
        let ftp = 200.0;
        let cases = [
            (0.0, 1),
            (110.0, 1), // exactly 55 %
            (110.1, 2),
            (150.0, 2), // 75 %
            (150.1, 3),
            (180.0, 3), // 90 %
            (210.0, 4), // 105 %
            (240.0, 5), // 120 %
            (300.0, 6), // 150 %
            (300.1, 7),
            (5000.0, 7),
        ];
        for (watts, zone) in cases {
            assert_eq!(power_zone(watts, ftp), Some(zone), "{watts} W");
        }
        assert_eq!(power_zone(-1.0, ftp), None);
        assert_eq!(power_zone(100.0, 0.0), None);
        assert_eq!(time_in_power_zones(&series(1, &[100.0]), f64::NAN), None);
    }

    #[test]
    fn trimp_from_peloton_zones() {
        // performance_graph_cycling_2024.json effort_zones.heart_rate_zone_durations.
        let effort_zones = [
            ("heart_rate_z1_duration", 23.0),
            ("heart_rate_z2_duration", 25.0),
            ("heart_rate_z3_duration", 74.0),
            ("heart_rate_z4_duration", 805.0),
            ("heart_rate_z5_duration", 270.0),
        ];
        let zones = hr_zone_seconds(effort_zones);
        assert_eq!(zones, Some([23.0, 25.0, 74.0, 805.0, 270.0]));
        // (23·1 + 25·2 + 74·3 + 805·4 + 270·5) / 60 = 4865 / 60 = 81.083
        let trimp = zones.as_ref().and_then(trimp_from_zone_seconds);
        assert!(close(trimp, 4865.0 / 60.0, 1e-12));

        // The same ride through heart_rate.zones[] slugs.
        let slugs = [
            ("zone5", 270.0),
            ("zone1", 23.0),
            ("zone2", 25.0),
            ("zone3", 74.0),
            ("zone4", 805.0),
        ];
        assert_eq!(hr_zone_seconds(slugs), zones);

        assert_eq!(hr_zone_seconds([("zone1", 1.0), ("zone2", 1.0)]), None);
        assert_eq!(
            hr_zone_seconds([
                ("zone1", 1.0),
                ("zone2", 1.0),
                ("zone3", f64::NAN),
                ("zone4", 1.0),
                ("zone5", 1.0)
            ]),
            None
        );
        assert_eq!(trimp_from_zone_seconds(&[0.0; 5]), None);
        assert_eq!(trimp_from_zone_seconds(&[1.0, -1.0, 0.0, 0.0, 0.0]), None);
        assert_eq!(trimp_from_zone_seconds(&[f64::MAX; 5]), None);
        assert_eq!(
            trimp_from_zone_seconds(&[0.0, 0.0, 0.0, 0.0, 48.0 * 3600.0 + 1.0]),
            None
        );
        assert!(close(
            trimp_from_zone_seconds(&[0.0, 0.0, 0.0, 0.0, 48.0 * 3600.0]),
            14_400.0,
            1e-12
        ));
        assert_eq!(LoadMethod::Power.label(), "power_tss");
        assert_eq!(LoadMethod::HeartRateTrimp.label(), "hr_trimp");
    }

    #[test]
    fn all_zero_power_falls_back_to_heart_rate() {
        let ride = series(1, &[0.0; 600]);
        assert_eq!(normalized_power(&ride), Some(0.0));
        let hr = [600.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(
            workout_load(&ride, Some(200.0), Some(&hr)),
            Some((LoadMethod::HeartRateTrimp, 10.0))
        );
        // No FTP: power cannot be scored either.
        let ride = series(1, &[200.0; 600]);
        assert_eq!(
            workout_load(&ride, None, Some(&hr)).map(|(method, _)| method),
            Some(LoadMethod::HeartRateTrimp)
        );
    }

    #[test]
    fn daily_loads_by_hand() {
        // One 100-load workout on day 0:
        //   CTL = 100 · (1 − e^(−1/42)) = 2.352 83, ATL = 100 · (1 − e^(−1/7)) = 13.312 2
        // then a rest day multiplies by e^(−1/42) and e^(−1/7).
        let rows = daily_loads(&[(0, 100.0)], 0, 1);
        let ctl0 = 100.0 * (1.0 - (-1.0_f64 / 42.0).exp());
        let atl0 = 100.0 * (1.0 - (-1.0_f64 / 7.0).exp());
        assert!(close(Some(ctl0), 2.352_83, 1e-5));
        assert!(close(Some(atl0), 13.312_2, 1e-5));
        let days: Vec<i64> = rows.iter().map(|(day, _)| *day).collect();
        assert_eq!(days, vec![0, 1]);
        let l0 = rows.first().map(|(_, loads)| *loads).unwrap_or_default();
        let l1 = rows.last().map(|(_, loads)| *loads).unwrap_or_default();
        assert!(close(Some(l0.ctl), ctl0, 1e-12) && close(Some(l0.atl), atl0, 1e-12));
        assert!(close(Some(l1.ctl), ctl0 * (-1.0_f64 / 42.0).exp(), 1e-12));
        assert!(close(Some(l1.atl), atl0 * (-1.0_f64 / 7.0).exp(), 1e-12));
        assert!(close(Some(l0.form()), ctl0 - atl0, 1e-12));

        // Earlier training seeds the range; same-day workouts add; junk is ignored.
        let seeded = daily_loads(
            &[
                (-3, 60.0),
                (-3, 40.0),
                (0, f64::NAN),
                (0, -5.0),
                (0, 1e9),
                (5, 100.0),
            ],
            0,
            0,
        );
        let expected = ctl0 * (-3.0_f64 / 42.0).exp();
        assert!(matches!(seeded.as_slice(), [(0, l)] if close(Some(l.ctl), expected, 1e-12)));

        assert!(daily_loads(&[(0, 1.0)], 1, 0).is_empty());
        assert!(daily_loads(&[], i64::MIN, i64::MAX).is_empty());
        assert_eq!(
            daily_loads(&[(i64::MIN, 1.0)], i64::MAX - 1, i64::MAX).len(),
            2
        );
        assert!(
            daily_loads(&[], 0, 9)
                .iter()
                .all(|(_, l)| *l == Loads::default())
        );
    }

    fn messy_watts() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            8 => (0.0..1500.0_f64).prop_map(Some),
            1 => Just(None),
            1 => any::<f64>().prop_map(Some),
            1 => prop::sample::select(vec![
                f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -0.0, 0.0, 5000.0, 5000.1, f64::MAX,
            ])
            .prop_map(Some),
        ]
    }

    fn clean_watts() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![9 => (0.0..2000.0_f64).prop_map(Some), 1 => Just(None)]
    }

    fn np_window(step_s: u32) -> usize {
        ((NP_WINDOW_S + step_s / 2) / step_s).max(1) as usize
    }

    fn naive_window_means(samples: &[f64], window: usize) -> Vec<f64> {
        if window == 0 {
            return Vec::new();
        }
        samples
            .windows(window)
            .map(|w| w.iter().sum::<f64>() / window as f64)
            .collect()
    }

    fn naive_loads(daily: &[(i64, f64)], from_day: i64, to_day: i64) -> Vec<(i64, Loads)> {
        let ctl_keep = (-1.0_f64 / 42.0).exp();
        let atl_keep = (-1.0_f64 / 7.0).exp();
        let valid: Vec<(i64, f64)> = daily
            .iter()
            .copied()
            .filter(|&(_, load)| (0.0..=MAX_PLAUSIBLE_LOAD).contains(&load))
            .collect();
        let start = valid
            .iter()
            .map(|&(day, _)| day)
            .min()
            .unwrap_or(from_day)
            .min(from_day);
        let mut loads = Loads::default();
        let mut out = Vec::new();
        for day in start..=to_day {
            let load: f64 = valid
                .iter()
                .filter(|&&(d, _)| d == day)
                .map(|&(_, l)| l)
                .sum();
            loads.ctl += (load - loads.ctl) * (1.0 - ctl_keep);
            loads.atl += (load - loads.atl) * (1.0 - atl_keep);
            if day >= from_day {
                out.push((day, loads));
            }
        }
        out
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    proptest! {
        #[test]
        fn curve_never_rises_when_windows_nest(
            step in prop::sample::select(vec![1_u32, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60]),
            watts in prop::collection::vec(messy_watts(), 0..700),
        ) {
            let curve = power_curve(&PowerSeries::new(step, watts));
            for pair in curve.windows(2) {
                if let [shorter, Some(longer)] = pair {
                    prop_assert!(shorter.is_some());
                    let shorter = shorter.unwrap_or(f64::NAN);
                    prop_assert!(*longer <= shorter * (1.0 + 1e-9) + 1e-9, "{curve:?}");
                }
            }
        }

        #[test]
        fn whole_multiple_durations_never_rise_at_any_step(
            step in 1_u32..=500,
            multiple in 1_u32..=40,
            factor in 1_u32..=8,
            watts in prop::collection::vec(messy_watts(), 0..400),
        ) {
            let ride = PowerSeries::new(step, watts);
            let short = best_average(&ride, step * multiple);
            let long = best_average(&ride, step * multiple * factor);
            if let Some(long) = long {
                let short = short.unwrap_or(f64::NAN);
                prop_assert!(long <= short * (1.0 + 1e-9) + 1e-9);
            }
        }

        #[test]
        fn sliding_sums_match_naive(
            step in 1_u32..=40,
            duration in 1_u32..=400,
            watts in prop::collection::vec(messy_watts(), 0..300),
        ) {
            let ride = PowerSeries::new(step, watts);
            let samples = ride.zero_filled();
            let has_data = ride.watts.iter().any(Option::is_some);

            let window = duration.div_ceil(step) as usize;
            let naive_best = naive_window_means(&samples, window).into_iter().reduce(f64::max);
            let best = best_average(&ride, duration);
            prop_assert_eq!(best.is_some(), has_data && naive_best.is_some());
            if let (Some(best), Some(naive)) = (best, naive_best) {
                prop_assert!(approx(best, naive), "{best} vs {naive}");
            }

            let means = naive_window_means(&samples, np_window(step));
            let long_enough = samples.len() as u64 * u64::from(step) >= 30;
            let np = normalized_power(&ride);
            prop_assert_eq!(np.is_some(), has_data && long_enough && !means.is_empty());
            if let Some(np) = np {
                let naive = (means.iter().map(|m| m.powi(4)).sum::<f64>() / means.len() as f64).sqrt().sqrt();
                prop_assert!(approx(np, naive), "{np} vs {naive}");
            }
        }

        #[test]
        fn np_is_at_least_the_average(
            step in 1_u32..=10,
            core in prop::collection::vec(clean_watts(), 1..600),
        ) {
            let window = np_window(step);
            let ride = PowerSeries::new(step, core);
            let samples = ride.zero_filled();
            if let (Some(np), Some(avg)) = (normalized_power(&ride), average_power(&ride)) {
                // Power-mean inequality over the rolling averages: exact.
                let means = naive_window_means(&samples, window);
                let mean_of_means = means.iter().sum::<f64>() / means.len() as f64;
                prop_assert!(np >= mean_of_means * (1.0 - 1e-9) - 1e-9);
                // Edge samples sit in fewer windows; this bounds how far that can pull.
                let n = samples.len() as f64;
                let w = window as f64;
                let peak = samples.iter().copied().fold(0.0, f64::max);
                prop_assert!(np >= avg - peak * (w - 1.0) / (n - w + 1.0) - 1e-6);
            }

            // With a window of 0 W at each end every sample is in a full set of windows,
            // and NP ≥ average power holds exactly.
            let padding = std::iter::repeat_n(Some(0.0), window - 1);
            let padded = PowerSeries::new(
                step,
                padding.clone().chain(ride.watts.iter().copied()).chain(padding),
            );
            if let (Some(np), Some(avg)) = (normalized_power(&padded), average_power(&padded)) {
                prop_assert!(np >= avg * (1.0 - 1e-9) - 1e-9, "np {np} < avg {avg}");
            }
        }

        #[test]
        fn loads_are_non_negative_and_match_day_by_day(
            daily in prop::collection::vec(
                (-60_i64..60, prop_oneof![4 => 0.0..500.0_f64, 1 => any::<f64>()]),
                0..40,
            ),
            from_day in -30_i64..30,
            len in 0_i64..90,
        ) {
            let to_day = from_day + len - 1;
            let rows = daily_loads(&daily, from_day, to_day);
            prop_assert_eq!(i64::try_from(rows.len()).ok(), Some(len));
            let naive = naive_loads(&daily, from_day, to_day);
            prop_assert_eq!(rows.len(), naive.len());
            for ((day, loads), (naive_day, naive_loads)) in rows.iter().zip(&naive) {
                prop_assert_eq!(day, naive_day);
                prop_assert!(loads.ctl.is_finite() && loads.ctl >= 0.0);
                prop_assert!(loads.atl.is_finite() && loads.atl >= 0.0);
                prop_assert!(approx(loads.ctl, naive_loads.ctl), "{loads:?} vs {naive_loads:?}");
                prop_assert!(approx(loads.atl, naive_loads.atl), "{loads:?} vs {naive_loads:?}");
            }
        }

        #[test]
        fn constant_load_converges(load in 0.0..2000.0_f64, days in 1_i64..1500) {
            let daily: Vec<(i64, f64)> = (0..days).map(|day| (day, load)).collect();
            let rows = daily_loads(&daily, 0, days - 1);
            let last = rows.last().map(|(_, loads)| *loads).unwrap_or_default();
            // k days of a constant load from zero: load · (1 − e^(−k/τ)).
            let k = days as f64;
            prop_assert!(approx(last.ctl, load * (1.0 - (-k / 42.0).exp())));
            prop_assert!(approx(last.atl, load * (1.0 - (-k / 7.0).exp())));
            if days >= 300 {
                prop_assert!((last.ctl - load).abs() <= 1e-3 * load + 1e-9);
                prop_assert!((last.atl - load).abs() <= 1e-9 * load + 1e-9);
            }
        }

        #[test]
        fn nothing_panics_and_nothing_is_fake(
            step in prop_oneof![Just(0_u32), Just(1), Just(5), Just(u32::MAX), any::<u32>()],
            watts in prop::collection::vec(messy_watts(), 0..300),
            seconds in prop::collection::vec(prop_oneof![
                4 => (0.0..4000.0_f64).prop_map(Some), 1 => Just(None), 1 => any::<f64>().prop_map(Some),
            ], 0..300),
            ftp in prop_oneof![Just(0.0), Just(f64::NAN), 50.0..400.0_f64, any::<f64>()],
            duration in any::<u32>(),
            zones in prop::array::uniform5(any::<f64>()),
        ) {
            let finite_non_negative = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v >= 0.0);
            for ride in [
                PowerSeries::new(step, watts.clone()),
                PowerSeries::from_timed(step, &seconds, &watts),
                PowerSeries { step_s: step, watts: watts.clone() },
            ] {
                prop_assert!(finite_non_negative(ride.duration_s()));
                prop_assert!(finite_non_negative(best_average(&ride, duration)));
                prop_assert!(power_curve(&ride).into_iter().all(finite_non_negative));
                let np = normalized_power(&ride);
                prop_assert!(finite_non_negative(np));
                prop_assert!(finite_non_negative(average_power(&ride)));
                let np = np.unwrap_or(f64::NAN);
                prop_assert!(finite_non_negative(intensity_factor(np, ftp)));
                prop_assert!(finite_non_negative(training_stress_score(f64::from(duration), np, ftp)));
                if let Some(zones) = time_in_power_zones(&ride, ftp) {
                    let known = ride.watts.iter().filter(|w| plausible_watts(**w).is_some()).count();
                    let total: f64 = zones.iter().sum();
                    prop_assert!(approx(total, known as f64 * f64::from(ride.step_s)));
                }
                prop_assert!(workout_load(&ride, Some(ftp), Some(&zones)).is_none_or(|(_, v)| v.is_finite() && v >= 0.0));
            }
            prop_assert!(finite_non_negative(trimp_from_zone_seconds(&zones)));
            prop_assert!(infer_step_s(&seconds).is_none_or(|step| step >= 1));
        }
    }
}
