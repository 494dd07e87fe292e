//! A workout's power as evenly spaced samples, with impossible values turned into gaps:
//! the one input every power metric reads, so the gap policy lives in one place.

use super::sampling::place_by_time;

/// Samples above this are sensor glitches, not riders: track sprinters peak near 2 500 W,
/// and Peloton's own scale tops out far below 5 000 W.
pub const MAX_PLAUSIBLE_WATTS: f64 = 5000.0;

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

pub(super) fn plausible_watts(value: Option<f64>) -> Option<f64> {
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
    ///
    /// [`MAX_SERIES_SPAN_S`]: super::sampling::MAX_SERIES_SPAN_S
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

    pub(super) fn has_power_data(&self) -> bool {
        self.watts.iter().any(|w| plausible_watts(*w).is_some())
    }

    pub(super) fn zero_filled(&self) -> Vec<f64> {
        self.watts
            .iter()
            .map(|w| plausible_watts(*w).unwrap_or(0.0))
            .collect()
    }
}
