//! What one ride's power series says on its own: the power curve (best averages),
//! normalized power and average power.

use super::series::{PowerSeries, plausible_watts};

/// Durations of the exported power curve: sprint, anaerobic, VO2max, FTP-test and hour.
pub const CURVE_DURATIONS_S: [u32; 5] = [5, 60, 300, 1200, 3600];

/// Label values of the power-curve durations, in the order of [`CURVE_DURATIONS_S`].
pub const CURVE_DURATION_LABELS: [&str; 5] = ["5", "60", "300", "1200", "3600"];

/// Coggan's smoothing window; 30 s approximates the time constant of physiological
/// responses to changes in power.
pub const NP_WINDOW_S: u32 = 30;

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
