//! One workout's training load: intensity factor and TSS from power and FTP, or heart-rate
//! TRIMP where there is no usable power, and which of the two a load is.

use serde::{Deserialize, Serialize};

use super::ftp::valid_ftp;
use super::heart_rate::trimp_from_zone_seconds;
use super::power::normalized_power;
use super::series::{PowerSeries, plausible_watts};

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
