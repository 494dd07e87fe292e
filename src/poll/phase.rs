//! Where an account's sync stands, and how long the poller waits before the next poll.
//! Every change of phase goes through [`Phase::after`], so the rules are in one place and
//! tested without I/O.

use std::time::{Duration, Instant};

/// Backoff doubles per consecutive failure up to this many doublings (8 intervals).
const MAX_DOUBLINGS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing read from the store yet.
    Starting,
    /// The workout list has not been read to its end yet (resumable by page).
    FirstSync,
    /// Listed, but details or graphs of stored workouts are still to fetch; the next
    /// round starts at once and the rate limiter paces it.
    CatchingUp,
    /// Nothing owed: one small request per interval.
    Steady,
    /// The newest workout is in progress and `--poll.live-interval` is set.
    Live,
    /// The last poll failed; the wait grows with each failure and honours Retry-After.
    BackingOff {
        failures: u32,
        /// Peloton asked (Retry-After, capped) not to be called before this.
        not_before: Option<Instant>,
    },
}

/// What a poll ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded(Progress),
    /// `retry_after` is already capped.
    Failed {
        retry_after: Option<Duration>,
    },
}

/// What the poller owes after a successful poll.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub history_listed: bool,
    /// Completed workouts whose graph and detail are not fetched yet.
    pub pending: u64,
    /// Workouts stored before training analytics, whose graph is fetched once more.
    pub backlog: u64,
    /// A workout is in progress and live polling is on.
    pub live: bool,
}

/// The intervals a wait is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    pub interval: Duration,
    pub live: Option<Duration>,
}

impl Phase {
    /// The one transition function.
    pub fn after(self, outcome: Outcome, now: Instant) -> Phase {
        match outcome {
            Outcome::Failed { retry_after } => Phase::BackingOff {
                failures: match self {
                    Phase::BackingOff { failures, .. } => failures.saturating_add(1),
                    _ => 1,
                },
                not_before: retry_after.and_then(|wait| now.checked_add(wait)),
            },
            Outcome::Succeeded(p) if !p.history_listed => Phase::FirstSync,
            Outcome::Succeeded(p) if p.pending > 0 || p.backlog > 0 => Phase::CatchingUp,
            Outcome::Succeeded(p) if p.live => Phase::Live,
            Outcome::Succeeded(_) => Phase::Steady,
        }
    }

    /// Whether the last poll reached Peloton: `peloton_up`.
    pub fn is_up(self) -> bool {
        !matches!(self, Phase::Starting | Phase::BackingOff { .. })
    }

    /// The wait before the next poll. `jitter` in [0, 1) spreads it by ±10 % so that many
    /// exporters started together do not poll together; an outage is not hammered.
    pub fn wait(self, intervals: Intervals, now: Instant, jitter: f64) -> Duration {
        let spread = |d: Duration| d.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0));
        match self {
            Phase::Starting | Phase::FirstSync | Phase::CatchingUp => Duration::ZERO,
            Phase::Steady => spread(intervals.interval),
            Phase::Live => intervals.live.unwrap_or(intervals.interval),
            Phase::BackingOff {
                failures,
                not_before,
            } => {
                let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(MAX_DOUBLINGS));
                let until_allowed = not_before
                    .map(|t| t.saturating_duration_since(now))
                    .unwrap_or_default();
                spread(intervals.interval.saturating_mul(factor)).max(until_allowed)
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::FirstSync => "first_sync",
            Phase::CatchingUp => "catching_up",
            Phase::Steady => "steady",
            Phase::Live => "live",
            Phase::BackingOff { .. } => "backing_off",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);
    const INTERVALS: Intervals = Intervals {
        interval: MINUTE,
        live: Some(Duration::from_secs(10)),
    };

    fn ok(history_listed: bool, pending: u64, backlog: u64, live: bool) -> Outcome {
        Outcome::Succeeded(Progress {
            history_listed,
            pending,
            backlog,
            live,
        })
    }

    #[test]
    fn success_picks_the_phase_by_what_is_owed() {
        let now = Instant::now();
        let start = Phase::Starting;
        assert_eq!(start.after(ok(false, 5, 0, false), now), Phase::FirstSync);
        assert_eq!(start.after(ok(true, 5, 0, false), now), Phase::CatchingUp);
        assert_eq!(start.after(ok(true, 0, 3, false), now), Phase::CatchingUp);
        assert_eq!(start.after(ok(true, 0, 0, false), now), Phase::Steady);
        assert_eq!(start.after(ok(true, 0, 0, true), now), Phase::Live);
        // Details owed come before live values: a finished ride is counted first.
        assert_eq!(start.after(ok(true, 1, 0, true), now), Phase::CatchingUp);
    }

    #[test]
    fn failures_count_up_and_success_resets_them() {
        let now = Instant::now();
        let failed = Outcome::Failed { retry_after: None };
        let once = Phase::Steady.after(failed, now);
        let twice = once.after(failed, now);
        assert_eq!(
            twice,
            Phase::BackingOff {
                failures: 2,
                not_before: None
            }
        );
        assert!(!twice.is_up());
        assert_eq!(twice.after(ok(true, 0, 0, false), now), Phase::Steady);
        assert!(Phase::Steady.is_up());
        assert!(!Phase::Starting.is_up());
    }

    #[test]
    fn waits_by_phase() {
        let now = Instant::now();
        assert_eq!(Phase::CatchingUp.wait(INTERVALS, now, 0.5), Duration::ZERO);
        assert_eq!(Phase::FirstSync.wait(INTERVALS, now, 0.5), Duration::ZERO);
        assert_eq!(Phase::Steady.wait(INTERVALS, now, 0.5), MINUTE);
        assert_eq!(Phase::Steady.wait(INTERVALS, now, 0.0), MINUTE.mul_f64(0.9));
        assert_eq!(
            Phase::Live.wait(INTERVALS, now, 0.9),
            Duration::from_secs(10)
        );
        let backoff = |failures| {
            Phase::BackingOff {
                failures,
                not_before: None,
            }
            .wait(INTERVALS, now, 0.5)
        };
        assert_eq!(backoff(1), MINUTE);
        assert_eq!(backoff(2), 2 * MINUTE);
        assert_eq!(backoff(4), 8 * MINUTE);
        assert_eq!(backoff(40), 8 * MINUTE, "capped at 8 intervals");
    }

    #[test]
    fn retry_after_stretches_the_backoff_without_overflow() {
        let now = Instant::now();
        let asked = Phase::Steady.after(
            Outcome::Failed {
                retry_after: Some(Duration::from_secs(3600)),
            },
            now,
        );
        assert_eq!(asked.wait(INTERVALS, now, 0.5), Duration::from_secs(3600));
        let huge = Phase::Steady.after(
            Outcome::Failed {
                retry_after: Some(Duration::MAX),
            },
            now,
        );
        // An instant that cannot be represented is no deadline: the backoff alone.
        assert_eq!(huge.wait(INTERVALS, now, 0.5), MINUTE);
    }
}
