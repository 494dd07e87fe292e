//! Wall-clock time as Unix seconds: one reading of the clock for every layer.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; 0 for a clock set before 1970 rather than a panic.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The UTC calendar year and month (1–12) of Unix time `t` (Hinnant's civil-from-days).
pub fn utc_year_month(t: i64) -> (i64, u32) {
    let days = t.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_month_of_known_dates() {
        assert_eq!(utc_year_month(0), (1970, 1));
        // 2024-02-29T23:59:59Z and a second later.
        assert_eq!(utc_year_month(1_709_251_199), (2024, 2));
        assert_eq!(utc_year_month(1_709_251_200), (2024, 3));
        // 2026-12-31T23:59:59Z.
        assert_eq!(utc_year_month(1_798_761_599), (2026, 12));
        assert_eq!(utc_year_month(-1), (1969, 12));
    }
}
