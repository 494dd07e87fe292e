//! The member's annual challenge and badges per category: read with the profile, at
//! `--poll.profile-interval`, never per poll (at most three requests: the joined
//! challenges, the annual one's detail, the achievements).

use std::time::Instant;

use super::error::PollError;
use super::poller::Poller;
use crate::peloton::ApiError;

impl Poller {
    /// Reads the challenge and the badges when due. Peloton refusing one of these (a 4xx:
    /// not served to this account) leaves it absent without failing the poll; anything
    /// else fails the poll like any read, and the next poll asks again.
    pub(super) async fn refresh_profile_extras(&mut self, user_id: &str) -> Result<(), PollError> {
        let every = self.schedule.profile_interval;
        if !self.schedule.profile_extras
            || self.account.extras_at.is_some_and(|t| t.elapsed() < every)
        {
            return Ok(());
        }
        match self.client.annual_challenge(user_id).await {
            Ok(challenge) => self.account.challenge = challenge,
            Err(ApiError::Client { status, .. }) => {
                tracing::info!(status, "Peloton serves no challenges to this account");
                self.account.challenge = None;
            }
            Err(e) => return Err(e.into()),
        }
        match self.client.achievements(user_id).await {
            Ok(categories) => self.account.badge_categories = categories,
            Err(ApiError::Client { status, .. }) => {
                tracing::info!(
                    status,
                    "Peloton serves no achievements list to this account"
                );
                self.account.badge_categories = None;
            }
            Err(e) => return Err(e.into()),
        }
        self.account.extras_at = Some(Instant::now());
        Ok(())
    }
}
