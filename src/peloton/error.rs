//! Errors of one call to Peloton, and the bounded `reason` label they map to.

use std::time::Duration;

use super::login::error::LoginError;
use super::login::error::retry_after_text;
use crate::state::labels::{Endpoint, ErrorReason};

/// Why a call failed. Messages never contain a token or a response body: bodies can be
/// large HTML pages and are of no use in a log line.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{endpoint}: network error: {detail}")]
    Network { endpoint: Endpoint, detail: String },
    #[error("{endpoint}: timed out")]
    Timeout { endpoint: Endpoint },
    #[error("{endpoint}: not authorized (HTTP {status})")]
    Unauthorized { endpoint: Endpoint, status: u16 },
    #[error("{endpoint}: rate limited (HTTP 429){}", retry_after_text(*.retry_after))]
    RateLimited {
        endpoint: Endpoint,
        retry_after: Option<Duration>,
    },
    #[error("{endpoint}: server error (HTTP {status})")]
    Server { endpoint: Endpoint, status: u16 },
    #[error("{endpoint}: unexpected HTTP {status}")]
    Client { endpoint: Endpoint, status: u16 },
    #[error("{endpoint}: invalid response: {detail}")]
    InvalidResponse { endpoint: Endpoint, detail: String },
    #[error(
        "{endpoint}: blocked by Peloton's edge (HTTP {status} with a page that is not an OAuth error: a WAF, Cloudflare or bot check)"
    )]
    Blocked { endpoint: Endpoint, status: u16 },
    #[error("authentication failed: {detail}")]
    Auth { detail: String },
    /// A token refresh is not tried again yet after a failure that kept the token.
    #[error("token refresh waits another {wait_s}s after: {last}")]
    Deferred {
        reason: ErrorReason,
        wait_s: u64,
        last: String,
    },
    #[error("sign-in failed: {0}")]
    Login(#[from] LoginError),
}

impl ApiError {
    pub fn reason(&self) -> ErrorReason {
        match self {
            ApiError::Network { .. } => ErrorReason::Network,
            ApiError::Timeout { .. } => ErrorReason::Timeout,
            ApiError::Unauthorized { .. } | ApiError::Auth { .. } => ErrorReason::Auth,
            ApiError::RateLimited { .. } => ErrorReason::RateLimited,
            ApiError::Server { .. } => ErrorReason::Server,
            ApiError::Client { .. } | ApiError::InvalidResponse { .. } => {
                ErrorReason::InvalidResponse
            }
            ApiError::Blocked { .. } => ErrorReason::Blocked,
            ApiError::Deferred { reason, .. } => *reason,
            ApiError::Login(e) => e.reason(),
        }
    }

    /// Worth another attempt within the same poll: the condition is likely transient.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Network { .. }
                | ApiError::Timeout { .. }
                | ApiError::RateLimited { .. }
                | ApiError::Server { .. }
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } => *retry_after,
            ApiError::Login(e) => e.retry_after(),
            _ => None,
        }
    }
}
