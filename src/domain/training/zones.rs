//! Peloton's seven power zones: the zone of one power value and the time a ride spent in
//! each, relative to the FTP in force.

use super::ftp::valid_ftp;
use super::series::{PowerSeries, plausible_watts};

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
