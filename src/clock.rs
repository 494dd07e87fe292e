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

/// Unix time of the first second of a UTC calendar month (Hinnant's days-from-civil);
/// a `month` outside 1–12 carries into the year.
pub fn utc_month_start(year: i64, month: u32) -> i64 {
    let (year, month) = (
        year + i64::from(month.saturating_sub(1) / 12),
        i64::from(month.saturating_sub(1) % 12 + 1),
    );
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * 86_400
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

    #[test]
    fn month_starts_of_known_dates_and_the_round_trip() {
        assert_eq!(utc_month_start(1970, 1), 0);
        // 2024-03-01T00:00:00Z, after a leap day; 2027-01-01 from month 13 of 2026.
        assert_eq!(utc_month_start(2024, 3), 1_709_251_200);
        assert_eq!(utc_month_start(2026, 13), 1_798_761_600);
        for year in [1999, 2000, 2023, 2024, 2100] {
            for month in 1..=12 {
                let start = utc_month_start(year, month);
                assert_eq!(utc_year_month(start), (year, month));
                assert_ne!(utc_year_month(start - 1), (year, month));
            }
        }
    }
}
