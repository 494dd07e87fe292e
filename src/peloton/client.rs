//! HTTP client for Peloton's API: bearer auth, the headers Peloton expects, timeouts,
//! retries with exponential backoff and jitter, Retry-After, size-limited bodies, and a
//! request counter per endpoint and status code.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use url::Url;

use super::auth::TokenManager;
use super::convert;
use super::convert::account;
use super::error::ApiError;
use super::model::{
    Achievements, ChallengeDetail, Challenges, Me, Overview, PerformanceGraph, Workout, WorkoutPage,
};
use super::wire::{parse_json, send};
use crate::clock::now_unix;
use crate::domain::challenge::AnnualChallenge;
use crate::domain::fetched::{ListPage, WorkoutDetail, WorkoutGraph};
use crate::domain::{AccountOverview, Profile};
use crate::state::labels::Endpoint;
use crate::state::telemetry::Telemetry;
use std::collections::BTreeMap;

/// `/api/me` as a profile; an answer without a user id is no profile.
pub fn profile_of(me: &Me) -> Result<Profile, ApiError> {
    Profile::from_api(me).ok_or_else(|| ApiError::InvalidResponse {
        endpoint: Endpoint::Me,
        detail: "no user id in /api/me".to_owned(),
    })
}

/// `/api/me`'s body as a profile, for a caller that sent the request itself (`login`).
pub fn parse_profile(body: &[u8]) -> Result<Profile, ApiError> {
    profile_of(&parse_json::<Me>(Endpoint::Me, body)?)
}

/// How hard one poll tries before it gives up and leaves the rest to the next poll.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// A Retry-After longer than this is not waited out inside the poll: the poll fails
    /// as rate limited and the poller does not call again before that time.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// Full-jitter exponential backoff: uniformly in [d/2, d] with d = initial·2^attempt,
    /// capped, so that many exporters restarted together do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub api_url: Url,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Requests of the workouts list used by the steady-state poll.
    pub page_limit: u32,
}

#[derive(Debug, Clone)]
pub struct PelotonClient {
    http: reqwest::Client,
    settings: ClientSettings,
    tokens: Arc<TokenManager>,
    telemetry: Arc<Telemetry>,
}

impl PelotonClient {
    pub fn new(
        http: reqwest::Client,
        settings: ClientSettings,
        tokens: Arc<TokenManager>,
        telemetry: Arc<Telemetry>,
    ) -> Self {
        Self {
            http,
            settings,
            tokens,
            telemetry,
        }
    }

    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.tokens
    }

    /// The member's profile; an answer without a user id is no profile.
    pub async fn me(&self) -> Result<Profile, ApiError> {
        let me: Me = self.get(Endpoint::Me, "/api/me", &[]).await?;
        profile_of(&me)
    }

    pub async fn overview(&self, user_id: &str) -> Result<AccountOverview, ApiError> {
        let path = format!("/api/user/{}/overview", segment(user_id));
        let overview: Overview = self
            .get(Endpoint::Overview, &path, &[("version", "1")])
            .await?;
        Ok(AccountOverview::from_api(&overview))
    }

    /// The annual challenge, when the member has joined it: the joined list, then the
    /// annual one's detail (two requests; one when none is joined).
    pub async fn annual_challenge(
        &self,
        user_id: &str,
    ) -> Result<Option<AnnualChallenge>, ApiError> {
        let path = format!("/api/user/{}/challenges/current", segment(user_id));
        let list: Challenges = self
            .get(Endpoint::Challenges, &path, &[("has_joined", "true")])
            .await?;
        let Some(annual) = account::annual_challenge(&list, now_unix() as f64) else {
            return Ok(None);
        };
        let path = format!(
            "/api/user/{}/challenge/{}",
            segment(user_id),
            segment(&annual.id)
        );
        let detail: ChallengeDetail = self.get(Endpoint::Challenge, &path, &[]).await?;
        Ok(account::challenge_detail(&detail, &annual))
    }

    /// Badges per category; `None` when the answer has no category list.
    pub async fn achievements(
        &self,
        user_id: &str,
    ) -> Result<Option<BTreeMap<String, f64>>, ApiError> {
        let path = format!("/api/user/{}/achievements", segment(user_id));
        let answer: Achievements = self.get(Endpoint::Achievements, &path, &[]).await?;
        Ok(account::achievement_categories(&answer))
    }

    pub async fn workouts(
        &self,
        user_id: &str,
        page: u32,
        limit: u32,
    ) -> Result<ListPage, ApiError> {
        let path = format!("/api/user/{}/workouts", segment(user_id));
        let (page, limit) = (page.to_string(), limit.to_string());
        let answer: serde_json::Value = self
            .get(
                Endpoint::Workouts,
                &path,
                &[
                    ("joins", "ride,ride.instructor"),
                    ("limit", &limit),
                    ("page", &page),
                    ("sort_by", "-created"),
                ],
            )
            .await?;
        // `{}` or `[]` from a proxy or a broken deploy would parse as an empty page, and an
        // empty page says "no workouts": only an envelope with a `data` list is a page.
        if !answer.get("data").is_some_and(serde_json::Value::is_array) {
            return Err(ApiError::InvalidResponse {
                endpoint: Endpoint::Workouts,
                detail: "not a workout list page (no `data` list)".to_owned(),
            });
        }
        // serde's message could quote the body: only the line and column are kept.
        let page: WorkoutPage =
            serde_json::from_value(answer).map_err(|e| ApiError::InvalidResponse {
                endpoint: Endpoint::Workouts,
                detail: format!(
                    "unexpected shape of a workout list page (line {})",
                    e.line()
                ),
            })?;
        Ok(convert::list_page(&page, now_unix()))
    }

    pub fn page_limit(&self) -> u32 {
        self.settings.page_limit
    }

    pub async fn workout(&self, workout_id: &str) -> Result<WorkoutDetail, ApiError> {
        let path = format!("/api/workout/{}", segment(workout_id));
        let detail: Workout = self
            .get(
                Endpoint::Workout,
                &path,
                &[("joins", "ride,ride.instructor")],
            )
            .await?;
        Ok(convert::detail(&detail))
    }

    /// The graph at `every_n`-second resolution (docs/metrics.md, "Resolution").
    pub async fn performance_graph(
        &self,
        workout_id: &str,
        every_n: u32,
    ) -> Result<WorkoutGraph, ApiError> {
        let path = format!("/api/workout/{}/performance_graph", segment(workout_id));
        let every_n = every_n.max(1);
        let graph: PerformanceGraph = self
            .get(
                Endpoint::PerformanceGraph,
                &path,
                &[("every_n", &every_n.to_string())],
            )
            .await?;
        Ok(convert::graph(&graph, every_n))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let mut url = self
            .settings
            .api_url
            .join(path)
            .map_err(|e| ApiError::InvalidResponse {
                endpoint,
                detail: format!("cannot build URL: {e}"),
            })?;
        url.query_pairs_mut().extend_pairs(query);
        let retry = self.settings.retry;
        let mut attempt = 0;
        let mut refreshed_after_401 = false;
        loop {
            let token = self.tokens.bearer().await?;
            let request = self.http.get(url.clone()).bearer_auth(token.expose());
            let result = send(request, endpoint, &self.telemetry).await;
            match result {
                Ok(body) => return parse_json(endpoint, &body),
                Err(ApiError::Unauthorized { status: 401, .. })
                    if !refreshed_after_401 && self.tokens.can_refresh().await =>
                {
                    // The token may have been revoked or expired early; one refresh and
                    // one more try, never a loop.
                    tracing::info!(%endpoint, "access token rejected, refreshing");
                    self.tokens.invalidate(&token).await;
                    refreshed_after_401 = true;
                }
                Err(e) if e.is_retryable() && attempt < retry.max_retries => {
                    let wait = match e.retry_after() {
                        Some(after) if after > retry.max_retry_after => return Err(e),
                        Some(after) => after,
                        None => retry.backoff(attempt),
                    };
                    tracing::warn!(%endpoint, error = %e, attempt = attempt + 1, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Escapes an id for use as one URL path segment.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(1),
        };
        for _ in 0..50 {
            let b0 = p.backoff(0);
            assert!(b0 >= Duration::from_millis(50) && b0 <= Duration::from_millis(100));
            let b3 = p.backoff(3);
            assert!(b3 >= Duration::from_millis(250) && b3 <= Duration::from_millis(500));
        }
    }

    #[test]
    fn html_and_truncated_bodies_are_errors() {
        let e = parse_json::<Me>(Endpoint::Me, b"<html>cloudflare</html>").unwrap_err();
        assert!(e.to_string().contains("HTML"));
        let e = parse_json::<Me>(Endpoint::Me, br#"{"id": "abc", "user"#).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let e = parse_json::<Me>(Endpoint::Me, b"").unwrap_err();
        assert!(e.to_string().contains("empty"));
    }
}
