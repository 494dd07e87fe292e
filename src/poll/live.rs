//! Live mode (`--poll.live-interval`): while the newest workout on page 0 is in progress,
//! its performance graph is read once per live interval and nothing else: no new workout
//! can appear while the member rides. Page 0 is read again only when the samples stop
//! growing (the ride may have ended); the regular poll returns when live mode ends. Live
//! values never reach a lifetime total.

use super::error::PollError;
use super::poller::Poller;
use super::sync_state::Walk;
use crate::clock::now_unix;
use crate::domain::Status;
use crate::domain::live::LiveRide;
use crate::peloton::ApiError;

/// The graph's resolution while a ride runs: the newest second, as the bike shows it.
pub const LIVE_EVERY_N: u32 = 1;

impl Poller {
    /// After a list read: starts watching the newest workout when it is in progress (and
    /// reads its graph at once), stops when it is not.
    pub(super) async fn follow_newest(&mut self) -> Result<(), PollError> {
        if self.schedule.live_interval.is_none() {
            return Ok(());
        }
        let running = self
            .account
            .newest
            .as_ref()
            .filter(|w| w.status == Status::InProgress)
            .filter(|w| self.live_given_up.as_deref() != Some(w.id.as_str()))
            .cloned();
        let Some(newest) = running else {
            if let Some(ride) = self.live.take() {
                tracing::info!(workout = %ride.workout_id, "the ride in progress ended; live values off");
            }
            return Ok(());
        };
        if self
            .live
            .as_ref()
            .is_some_and(|r| r.workout_id == newest.id)
        {
            return Ok(());
        }
        tracing::info!(workout = %newest.id, discipline = %newest.discipline, "a ride is in progress; live values on");
        self.live = Some(LiveRide::start(&newest, now_unix() as f64));
        self.read_live_graph().await.map(|_| ())
    }

    /// One live round: the graph; page 0 once when the samples stopped growing.
    pub(super) async fn live_tick(&mut self) -> Result<(), PollError> {
        let grew = self.read_live_graph().await?;
        let Some(ride) = &self.live else {
            return Ok(());
        };
        if !grew && !ride.list_checked {
            if let Some(r) = self.live.as_mut() {
                r.list_checked = true;
            }
            let user_id = self.user_id();
            self.walk_list(&user_id, Walk::Newest).await?;
            self.counting.list_read();
            self.follow_newest().await?;
        }
        Ok(())
    }

    /// Reads the watched ride's graph; whether it brought a newer sample.
    async fn read_live_graph(&mut self) -> Result<bool, PollError> {
        let Some(id) = self.live.as_ref().map(|r| r.workout_id.clone()) else {
            return Ok(false);
        };
        self.limiter.wait().await;
        let graph = match self.client.performance_graph(&id, LIVE_EVERY_N).await {
            Ok(graph) => graph,
            Err(ApiError::Client { status, .. }) => {
                tracing::warn!(workout = %id, status, "no graph for the ride in progress; live values off for it");
                self.give_up_live(&id);
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        let zone_ftp = self
            .account
            .training
            .as_ref()
            .and_then(|t| t.zone_ftp)
            .map(|f| f.watts);
        let now = now_unix() as f64;
        let mut grew = false;
        let expired = self.live.as_mut().is_some_and(|ride| {
            grew = ride.observe(&graph, zone_ftp, now);
            ride.expired(now)
        });
        if expired {
            tracing::info!(workout = %id, "the ride is still in progress past its class length or has had no new sample for long; live values off for it");
            self.give_up_live(&id);
        }
        Ok(grew)
    }

    fn give_up_live(&mut self, id: &str) {
        self.live = None;
        self.live_given_up = Some(id.to_owned());
    }
}
