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
mod tests;
