//! Heart-rate load from Peloton's per-zone seconds (Edwards TRIMP), for workouts without a
//! power series or FTP.

use super::sampling::MAX_SERIES_SPAN_S;

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
