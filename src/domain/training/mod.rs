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

mod fitness;
mod ftp;
mod heart_rate;
mod load;
mod power;
mod sampling;
mod series;
mod trace;
mod workout;
mod zones;

pub use fitness::{
    ATL_TIME_CONSTANT_DAYS, CTL_TIME_CONSTANT_DAYS, Loads, MAX_LOAD_DAYS, MAX_PLAUSIBLE_LOAD,
    daily_loads,
};
pub use ftp::{FtpInForce, FtpSource, MAX_PLAUSIBLE_FTP};
pub use heart_rate::{hr_zone_seconds, trimp_from_zone_seconds};
pub use load::{LoadMethod, intensity_factor, training_stress_score, workout_load};
pub use power::{
    CURVE_DURATION_LABELS, CURVE_DURATIONS_S, NP_WINDOW_S, average_power, best_average,
    normalized_power, power_curve,
};
pub use sampling::{MAX_SERIES_SPAN_S, infer_step_s, place_by_time};
pub use series::{MAX_PLAUSIBLE_WATTS, PowerSeries};
pub use trace::Trace;
pub use workout::WorkoutTraining;
pub use zones::{POWER_ZONE_UPPER_FTP_FRACTIONS, power_zone, time_in_power_zones};

#[cfg(test)]
mod tests;
