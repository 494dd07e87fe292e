//! The exporter's own counters and histograms for one account: polls, API requests, token
//! refreshes. Written by the poller and the client, read by the collector at scrape time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::state::labels::{Endpoint, ErrorReason};

/// Poll cycles run from well under a second (one small request) to minutes (a history
/// sync with rate limiting).
pub const POLL_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
/// One HTTP request to Peloton.
pub const REQUEST_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub bounds: &'static [f64],
    /// Non-cumulative count per bound; observations above the last bound only count in
    /// `count`.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b)
            && let Some(c) = self.counts.get_mut(i)
        {
            *c += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// `(upper bound, cumulative count)` pairs, ending with `+Inf`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut acc = 0;
        let mut out: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(&self.counts)
            .map(|(b, c)| {
                acc += c;
                (*b, acc)
            })
            .collect();
        out.push((f64::INFINITY, self.count));
        out
    }
}

/// The `result` label of `peloton_auth_refreshes_total`: how a token refresh or a sign-in
/// with email and password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthResult {
    Success,
    /// A refresh or sign-in that failed for another reason (network, server, dead token).
    Failure,
    WrongPassword,
    VerificationRequired,
    /// The sign-in pages were not what the headless flow expects.
    UnexpectedPage,
    RateLimited,
}

impl AuthResult {
    pub const ALL: [AuthResult; 6] = [
        AuthResult::Success,
        AuthResult::Failure,
        AuthResult::WrongPassword,
        AuthResult::VerificationRequired,
        AuthResult::UnexpectedPage,
        AuthResult::RateLimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuthResult::Success => "success",
            AuthResult::Failure => "failure",
            AuthResult::WrongPassword => "wrong_password",
            AuthResult::VerificationRequired => "verification_required",
            AuthResult::UnexpectedPage => "unexpected_page",
            AuthResult::RateLimited => "rate_limited",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryValues {
    pub polls: u64,
    pub poll_errors: BTreeMap<ErrorReason, u64>,
    pub poll_duration: Histogram,
    pub api_requests: BTreeMap<(Endpoint, String), u64>,
    pub api_duration: BTreeMap<Endpoint, Histogram>,
    /// Token refreshes and sign-ins by result; every result starts at 0.
    pub auth_results: BTreeMap<AuthResult, u64>,
    /// Unix seconds, from the JWT `exp` of the access token in use.
    pub token_expiry: Option<i64>,
    /// Present when remote write is configured.
    pub remote_write: Option<RemoteWriteValues>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RemoteWriteValues {
    pub samples: u64,
    pub failures: u64,
    pub last_success: Option<i64>,
}

#[derive(Debug)]
pub struct Telemetry {
    values: Mutex<TelemetryValues>,
    /// Counts changes, so a scrape can tell that nothing changed since the last render.
    generation: AtomicU64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            values: Mutex::new(TelemetryValues {
                polls: 0,
                // Every reason starts at 0 so `rate()` and `increase()` see the first error.
                poll_errors: ErrorReason::ALL.iter().map(|r| (*r, 0)).collect(),
                poll_duration: Histogram::new(POLL_BUCKETS),
                api_requests: BTreeMap::new(),
                api_duration: BTreeMap::new(),
                auth_results: AuthResult::ALL.iter().map(|r| (*r, 0)).collect(),
                token_expiry: None,
                remote_write: None,
            }),
            generation: AtomicU64::new(0),
        }
    }
}

impl Telemetry {
    fn lock(&self) -> MutexGuard<'_, TelemetryValues> {
        // The values are plain numbers: a panic elsewhere cannot leave them inconsistent
        // in a way that matters more than losing the metrics would.
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The values for a change: the generation moves on when the guard is dropped, after
    /// the change, so a render keyed by the old generation is never taken as current.
    fn change(&self) -> Change<'_> {
        Change {
            values: self.lock(),
            generation: &self.generation,
        }
    }

    pub fn values(&self) -> TelemetryValues {
        self.lock().clone()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn poll_started(&self) {
        self.change().polls += 1;
    }

    pub fn poll_finished(&self, took: Duration, error: Option<ErrorReason>) {
        let mut v = self.change();
        v.poll_duration.observe(took.as_secs_f64());
        if let Some(reason) = error {
            *v.poll_errors.entry(reason).or_insert(0) += 1;
        }
    }

    /// The poller task died inside a poll (a bug): the poll counts as failed with reason
    /// `internal`, without a duration.
    pub fn poll_crashed(&self) {
        *self
            .change()
            .poll_errors
            .entry(ErrorReason::Internal)
            .or_insert(0) += 1;
    }

    /// `status` is the HTTP status, or `None` when no response arrived.
    pub fn api_request(&self, endpoint: Endpoint, status: Option<u16>, took: Duration) {
        let code = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        let mut v = self.change();
        *v.api_requests.entry((endpoint, code)).or_insert(0) += 1;
        v.api_duration
            .entry(endpoint)
            .or_insert_with(|| Histogram::new(REQUEST_BUCKETS))
            .observe(took.as_secs_f64());
    }

    pub fn refresh(&self, success: bool) {
        self.auth_result(if success {
            AuthResult::Success
        } else {
            AuthResult::Failure
        });
    }

    /// Counts one refresh or sign-in attempt.
    pub fn auth_result(&self, result: AuthResult) {
        *self.change().auth_results.entry(result).or_insert(0) += 1;
    }

    /// Records a remote-write push: the samples the receiver accepted (a push that fails
    /// part way has had some accepted), and whether it failed.
    pub fn remote_write(&self, samples: u64, failed: bool) {
        let mut v = self.change();
        let rw = v
            .remote_write
            .get_or_insert_with(RemoteWriteValues::default);
        rw.samples += samples;
        if failed {
            rw.failures += 1;
        } else {
            rw.last_success = Some(crate::clock::now_unix());
        }
    }

    pub fn enable_remote_write(&self) {
        self.change()
            .remote_write
            .get_or_insert_with(RemoteWriteValues::default);
    }

    pub fn set_token_expiry(&self, expiry: Option<i64>) {
        self.change().token_expiry = expiry;
    }
}

struct Change<'a> {
    values: MutexGuard<'a, TelemetryValues>,
    generation: &'a AtomicU64,
}

impl std::ops::Deref for Change<'_> {
    type Target = TelemetryValues;
    fn deref(&self) -> &TelemetryValues {
        &self.values
    }
}

impl std::ops::DerefMut for Change<'_> {
    fn deref_mut(&mut self) -> &mut TelemetryValues {
        &mut self.values
    }
}

impl Drop for Change<'_> {
    fn drop(&mut self) {
        // Still under the lock: a reader that sees the new generation sees the change.
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_with_inf() {
        let mut h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(9.0);
        assert_eq!(h.cumulative(), vec![(1.0, 1), (2.0, 2), (f64::INFINITY, 3)]);
        assert!((h.sum - 11.0).abs() < 1e-9);
    }
}
