//! How long token refreshes and sign-ins wait after the auth server failed: its
//! `Retry-After` within a ceiling, exponential backoff with jitter, and deadlines computed
//! without any addition that can overflow (a `Retry-After: 18446744073709551615` once
//! panicked the poller).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use super::wire;
use crate::state::labels::Endpoint;

/// The longest `Retry-After` the token endpoint and the sign-in pages are obeyed for. A
/// rate limit of Auth0 or Cloudflare lasts seconds to minutes (Cloudflare's 1015 says 30 s);
/// a longer value is a broken or hostile answer, and obeying it would stop token renewal
/// for years. An hour still never hammers the server.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// After a failed sign-in: the first wait for a transient failure, and for one the member
/// must fix (wrong password, verification, changed pages); both double up to the cap.
pub const LOGIN_BACKOFF_TRANSIENT: Duration = Duration::from_secs(5 * 60);
pub const LOGIN_BACKOFF_MEMBER: Duration = Duration::from_secs(60 * 60);
pub const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(6 * 60 * 60);

/// Failed refreshes that keep the token (a block page, a 5xx, a 429) back off from the
/// manager's first wait (the poll interval) up to this.
const REFRESH_BACKOFF_MAX: Duration = Duration::from_secs(60 * 60);
/// The first wait between refreshes is at most this, whatever the poll interval.
pub const REFRESH_BACKOFF_FIRST_MAX: Duration = Duration::from_secs(5 * 60);

/// The auth server's `Retry-After` (seconds or an HTTP date), capped at
/// [`MAX_RETRY_AFTER`]; a capped value is logged with what was asked.
pub fn capped_retry_after(headers: &HeaderMap, endpoint: Endpoint) -> Option<Duration> {
    let asked = wire::retry_after(headers)?;
    if asked > MAX_RETRY_AFTER {
        tracing::warn!(
            %endpoint,
            asked_s = asked.as_secs(),
            wait_s = MAX_RETRY_AFTER.as_secs(),
            "Retry-After beyond the ceiling; waiting the ceiling instead"
        );
    }
    Some(asked.min(MAX_RETRY_AFTER))
}

/// `wait` from now; a wait beyond any clock ends at the latest representable time
/// instead of panicking.
pub fn deadline(wait: Duration) -> SystemTime {
    let now = SystemTime::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(LOGIN_BACKOFF_MAX))
        .unwrap_or(now)
}

/// `first` doubled for each earlier failure in a row, at most `max`, with ±20 % jitter
/// so that many exporters behind one address do not retry in step.
pub fn exponential(first: Duration, failures: u32, max: Duration) -> Duration {
    let exp = first
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(max);
    exp.mul_f64(0.8 + 0.4 * fastrand::f64())
}

/// How long to wait after the `failures`-th refresh in a row that failed without retiring
/// the token: from `first`, doubling up to an hour, with jitter, never shorter than the
/// (capped) Retry-After.
pub fn refresh_backoff(failures: u32, first: Duration, retry_after: Option<Duration>) -> Duration {
    exponential(first, failures, REFRESH_BACKOFF_MAX).max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    fn within(d: Duration, lo: u64, hi: u64) {
        assert!(
            d >= Duration::from_secs(lo) && d <= Duration::from_secs(hi),
            "{d:?} not in {lo}..={hi}"
        );
    }

    #[test]
    fn retry_after_is_capped_at_an_hour_whatever_its_form() {
        let mut h = HeaderMap::new();
        for value in [
            "18446744073709551615",
            "99999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            h.insert(RETRY_AFTER, HeaderValue::from_static(value));
            assert_eq!(
                capped_retry_after(&h, Endpoint::Token),
                Some(MAX_RETRY_AFTER),
                "{value}"
            );
        }
        h.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(
            capped_retry_after(&h, Endpoint::Token),
            Some(Duration::from_secs(30))
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(capped_retry_after(&h, Endpoint::Token), None);
    }

    #[test]
    fn deadlines_never_overflow() {
        let far = deadline(Duration::MAX);
        assert!(far > SystemTime::now() + Duration::from_secs(3600));
        let soon = deadline(Duration::from_secs(60));
        assert!(soon <= SystemTime::now() + Duration::from_secs(61));
    }

    #[test]
    fn refreshes_back_off_from_the_first_wait_to_an_hour_with_jitter() {
        let first = Duration::from_secs(60);
        for _ in 0..50 {
            within(refresh_backoff(1, first, None), 48, 72);
            within(refresh_backoff(3, first, None), 192, 288);
            within(refresh_backoff(40, first, None), 2880, 4320);
            let asked = Some(Duration::from_secs(3000));
            within(refresh_backoff(1, first, asked), 3000, 3000);
        }
        let draws: std::collections::BTreeSet<_> =
            (0..20).map(|_| refresh_backoff(2, first, None)).collect();
        assert!(draws.len() > 1, "jittered");
    }
}
