//! Why a poll failed, with the reason label it is counted under.

use crate::peloton::ApiError;
use crate::state::labels::ErrorReason;
use crate::store::database::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("state database: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the state in --storage.path belongs to Peloton user {stored}, but the token is for {current}; use a separate --storage.path per account"
    )]
    OtherAccount { stored: String, current: String },
}

impl PollError {
    pub fn reason(&self) -> ErrorReason {
        match self {
            PollError::Api(e) => e.reason(),
            PollError::Store(_) => ErrorReason::Storage,
            PollError::OtherAccount { .. } => ErrorReason::Auth,
        }
    }

    /// `reason: message`, cut at a bound: the landing page shows it.
    pub fn text(&self) -> String {
        const MAX: usize = 300;
        let mut text = format!("{}: {self}", self.reason().as_str());
        if text.len() > MAX {
            let mut cut = MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        text
    }
}
