//! Small helpers: hashing for deterministic derivation, rounding, civil-time formatting.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A poisoned lock only means a test thread panicked while holding it; the data is still the
/// best truth we have, so keep serving it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn now_unix() -> i64 {
    now_millis().div_euclid(1000)
}

/// `SplitMix64` finaliser: spreads a seed so nearby inputs give unrelated outputs.
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A Peloton-style 32 hex digit id derived from a seed.
pub(crate) fn hex32_from(seed: u64) -> String {
    let a = mix(seed);
    let b = mix(a ^ 0x00ff_00ff_00ff_00ff);
    format!("{a:016x}{b:016x}")
}

pub(crate) fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// A uniform float in `[lo, hi)`.
pub(crate) fn uniform(rng: &mut fastrand::Rng, lo: f64, hi: f64) -> f64 {
    lo + rng.f64() * (hi - lo)
}

pub(crate) fn pick<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.usize(..items.len()))
    }
}

pub(crate) fn random_token(rng: &mut fastrand::Rng, len: usize) -> String {
    std::iter::repeat_with(|| rng.alphanumeric())
        .take(len)
        .collect()
}

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m as u32, d as u32)
}

/// (year, month, day) → days since 1970-01-01, the inverse of [`civil_from_days`].
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM` of a Unix timestamp in UTC (the list envelope's `summary` keys).
pub(crate) fn month_key(ts: i64) -> String {
    let (y, m, _) = civil_from_days(ts.div_euclid(86_400));
    format!("{y:04}-{m:02}")
}

/// ISO-8601 without timezone, as Peloton writes PR dates; `micros` adds a fraction.
pub(crate) fn iso_naive(ts: i64, micros: Option<u32>) -> String {
    let (y, mo, d) = civil_from_days(ts.div_euclid(86_400));
    let secs = ts.rem_euclid(86_400);
    let (h, mi, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let base = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    match micros {
        Some(us) => format!("{base}.{:06}", us % 1_000_000),
        None => base,
    }
}

/// Index of the local calendar day.
pub(crate) fn local_day(ts: i64, utc_offset_s: i64) -> i64 {
    (ts + utc_offset_s).div_euclid(86_400)
}

/// Index of the local Monday-based week (1970-01-01 was a Thursday).
pub(crate) fn local_week(ts: i64, utc_offset_s: i64) -> i64 {
    (local_day(ts, utc_offset_s) + 3).div_euclid(7)
}

/// Minimal escaping for text and attribute values in the HTML pages the fake serves; `"`
/// becomes `&#34;` like Auth0's hidden-form values, so clients must unescape entities.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Body fields of a form-encoded or JSON request; the content type decides, and without one
/// JSON is tried first.
pub(crate) fn body_fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let from_json = || -> Option<HashMap<String, String>> {
        let Value::Object(o) = serde_json::from_slice::<Value>(body).ok()? else {
            return None;
        };
        Some(
            o.into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Null => None,
                    other => Some((k, other.to_string())),
                })
                .collect(),
        )
    };
    let from_form =
        || -> HashMap<String, String> { url::form_urlencoded::parse(body).into_owned().collect() };
    if ct.contains("json") {
        from_json()
    } else if ct.contains("x-www-form-urlencoded") {
        Some(from_form())
    } else {
        from_json().or_else(|| Some(from_form()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1) * 86_400, 1_767_225_600);
        for d in [-800, 0, 59, 60, 11_000, 20_454, 20_820] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(month_key(1_670_191_449), "2022-12");
        assert_eq!(iso_naive(1_714_989_466, None), "2024-05-06T09:57:46");
        assert_eq!(
            iso_naive(1_714_989_466, Some(552_438)),
            "2024-05-06T09:57:46.552438"
        );
        // 2024-05-06 is a Monday, 2024-05-05 a Sunday.
        assert_eq!(
            local_week(1_714_989_466, 0),
            local_week(1_714_989_466 + 6 * 86_400 - 40_000, 0)
        );
        assert_ne!(
            local_week(1_714_989_466, 0),
            local_week(1_714_989_466 - 86_400, 0)
        );
    }
}
