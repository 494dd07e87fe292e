//! The bounded label values that the poller records and a scrape writes: which Peloton
//! endpoint, and why a poll failed. They live here, below both sides, so the scrape side
//! never needs the Peloton client to name them.

use std::fmt;

/// The `endpoint` label of the request metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Me,
    Overview,
    Workouts,
    Workout,
    PerformanceGraph,
    Challenges,
    Challenge,
    Achievements,
    Token,
    Login,
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Me => "me",
            Endpoint::Overview => "overview",
            Endpoint::Workouts => "workouts",
            Endpoint::Workout => "workout",
            Endpoint::PerformanceGraph => "performance_graph",
            Endpoint::Challenges => "challenges",
            Endpoint::Challenge => "challenge",
            Endpoint::Achievements => "achievements",
            Endpoint::Token => "token",
            Endpoint::Login => "login",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `reason` label of `peloton_poll_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorReason {
    Network,
    Timeout,
    Auth,
    RateLimited,
    Server,
    InvalidResponse,
    /// The account's store could not be written or read (a full disk, a broken file).
    Storage,
    /// The poller failed inside the exporter (a bug) and was restarted.
    Internal,
    /// Peloton's edge or Auth0's bot protection refused the exporter without judging its
    /// credentials: a WAF or Cloudflare block page, a captcha, anomaly detection.
    Blocked,
}

impl ErrorReason {
    pub const ALL: [ErrorReason; 9] = [
        ErrorReason::Network,
        ErrorReason::Timeout,
        ErrorReason::Auth,
        ErrorReason::RateLimited,
        ErrorReason::Server,
        ErrorReason::InvalidResponse,
        ErrorReason::Storage,
        ErrorReason::Internal,
        ErrorReason::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorReason::Network => "network",
            ErrorReason::Timeout => "timeout",
            ErrorReason::Auth => "auth",
            ErrorReason::RateLimited => "rate_limited",
            ErrorReason::Server => "server",
            ErrorReason::InvalidResponse => "invalid_response",
            ErrorReason::Storage => "storage",
            ErrorReason::Internal => "internal",
            ErrorReason::Blocked => "blocked",
        }
    }
}
