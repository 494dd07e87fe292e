//! Everything kept about one workout's training, computed once from its power series, FTP
//! and heart-rate zones when its performance graph arrives.

use serde::{Deserialize, Serialize};

use super::ftp::FtpInForce;
use super::load::{LoadMethod, intensity_factor, training_stress_score, workout_load};
use super::power::{average_power, normalized_power, power_curve};
use super::series::PowerSeries;
use super::zones::time_in_power_zones;

/// Everything the exporter keeps about one workout's training, computed once when its
/// performance graph arrives and stored with it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkoutTraining {
    /// FTP in force at the workout (only cycling workouts have one).
    pub ftp: Option<FtpInForce>,
    /// Seconds between samples of the series the values come from.
    pub step_s: Option<u32>,
    /// Best average power over each of [`CURVE_DURATIONS_S`].
    ///
    /// [`CURVE_DURATIONS_S`]: super::power::CURVE_DURATIONS_S
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
