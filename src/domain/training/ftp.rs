//! The FTP a workout was ridden at and where Peloton says it came from; which FTP values
//! are usable at all.

use serde::{Deserialize, Serialize};

pub(super) fn valid_ftp(ftp: f64) -> bool {
    ftp.is_finite() && ftp > 0.0
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
