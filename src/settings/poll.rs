//! The poller's settings (`poll::poller::Schedule` is built from them) and the flags they
//! come from: `--poll.*` only the server reads; `--peloton.max-request-rate` also paces
//! the history sync of `backfill` and `export`.

use std::time::Duration;

use super::error::ConfigError;
use super::values::parse_duration;

/// What to fetch when, validated; the fields mean what `Schedule`'s do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSettings {
    /// `--poll.interval`: how often page 0 is asked for.
    pub interval: Duration,
    /// `--poll.profile-interval`: how often `/api/me` and the overview are refreshed.
    pub profile_interval: Duration,
    /// `--peloton.max-request-rate`: requests per second while fetching the history.
    pub max_request_rate: f64,
    /// `--peloton.include-imported`: imports count in the totals and can be the latest.
    pub include_imported: bool,
    /// `--poll.live-interval`: how often a ride in progress is read; `None` is off.
    pub live_interval: Option<Duration>,
}

/// The live poller's clock, as given.
#[derive(Debug, Clone, clap::Args)]
pub struct PollFlags {
    /// How often to ask Peloton for new workouts
    /// [env: PELOTON_POLL_INTERVAL=] [default: 5m; 10s with --demo]
    #[arg(global = true, id = "poll_interval", long = "poll.interval", env = "PELOTON_POLL_INTERVAL", hide_env = true, value_name = "DURATION", value_parser = parse_duration, help_heading = "Polling")]
    interval: Option<Duration>,

    /// How often the profile (/api/me) and the overview (streaks, records, counts) are
    /// refreshed when no new workout asks for it.
    #[arg(global = true, long = "poll.profile-interval", env = "PELOTON_POLL_PROFILE_INTERVAL", default_value = "30m", value_name = "DURATION", value_parser = parse_duration, help_heading = "Polling")]
    profile_interval: Duration,

    /// Live mode, off unless given: while the newest workout is in progress, read its
    /// latest sample this often (5s to 60s; one request each, docs/live.md)
    /// [env: PELOTON_POLL_LIVE_INTERVAL=] [default: off; 5s with --demo.live]
    #[arg(global = true, long = "poll.live-interval", env = "PELOTON_POLL_LIVE_INTERVAL", hide_env = true, value_name = "DURATION", value_parser = parse_duration, help_heading = "Polling")]
    live_interval: Option<Duration>,
}

/// The shortest and longest `--poll.live-interval`.
pub const LIVE_INTERVAL_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(5)..=Duration::from_secs(60);
/// `--poll.live-interval` with `--demo.live` when none is given.
pub const DEMO_LIVE_INTERVAL: Duration = Duration::from_secs(5);

/// The pace of the history sync, as given.
#[derive(Debug, Clone, clap::Args)]
pub struct RateFlags {
    /// Requests per second at most while fetching the history (list pages of the first
    /// sync, one performance graph per workout)
    /// [env: PELOTON_MAX_REQUEST_RATE=] [default: 1; 50 with --demo]
    // The default depends on --demo, so clap cannot print it; the env name is written
    // out too, to keep clap's order (env, then default) on every flag.
    #[arg(global = true, long = "peloton.max-request-rate", env = "PELOTON_MAX_REQUEST_RATE", hide_env = true, value_name = "PER_SECOND", value_parser = parse_rate, help_heading = "Polling")]
    max_request_rate: Option<f64>,
}

/// Where the poller's settings are decided besides its own flags.
// Independent facts about the rest of the command line, not states of one machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy)]
pub struct PollContext {
    pub demo: bool,
    /// The API is Peloton's own, not the demo's fake or another `--peloton.api-url`.
    pub pelotons_api: bool,
    pub include_imported: bool,
    /// `--demo.live`: the demo runs a ride in real time.
    pub demo_live: bool,
}

pub const DEFAULT_REQUEST_RATE: f64 = 1.0;
pub const DEMO_REQUEST_RATE: f64 = 50.0;
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);
pub const DEMO_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// The shortest `--poll.interval` against Peloton's own API.
pub const MIN_REAL_POLL_INTERVAL: Duration = Duration::from_secs(60);

impl PollFlags {
    /// Applies the defaults of `--demo` and checks the intervals.
    pub fn resolve(&self, rate: &RateFlags, ctx: PollContext) -> Result<PollSettings, ConfigError> {
        let interval = self.interval.unwrap_or(if ctx.demo {
            DEMO_POLL_INTERVAL
        } else {
            DEFAULT_POLL_INTERVAL
        });
        if interval < Duration::from_secs(1) {
            return Err(ConfigError::TooShort {
                flag: "--poll.interval",
            });
        }
        // Be gentle with Peloton: its real API gets one look a minute at most. The fake
        // (--demo) and any other API URL (a test double, a recording proxy) may go faster.
        if !ctx.demo && ctx.pelotons_api && interval < MIN_REAL_POLL_INTERVAL {
            return Err(ConfigError::Invalid {
                flag: "--poll.interval",
                reason: format!(
                    "{} is too short for Peloton's API: use at least {} (shorter intervals are for --demo or another --peloton.api-url)",
                    humantime::format_duration(interval),
                    humantime::format_duration(MIN_REAL_POLL_INTERVAL)
                ),
            });
        }
        if self.profile_interval < Duration::from_secs(1) {
            return Err(ConfigError::TooShort {
                flag: "--poll.profile-interval",
            });
        }
        let live_interval = self
            .live_interval
            .or(ctx.demo_live.then_some(DEMO_LIVE_INTERVAL));
        if let Some(live) = live_interval
            && !LIVE_INTERVAL_RANGE.contains(&live)
        {
            return Err(ConfigError::Invalid {
                flag: "--poll.live-interval",
                reason: format!(
                    "{} is outside 5s to 60s: one request per interval while a ride runs, so shorter is not gentle with Peloton and longer is not live",
                    humantime::format_duration(live)
                ),
            });
        }
        Ok(PollSettings {
            live_interval,
            interval,
            profile_interval: self.profile_interval,
            max_request_rate: rate.max_request_rate.unwrap_or(if ctx.demo {
                DEMO_REQUEST_RATE
            } else {
                DEFAULT_REQUEST_RATE
            }),
            include_imported: ctx.include_imported,
        })
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1000.0 => Ok(r),
        _ => Err("must be a number of requests per second, above 0 and at most 1000".to_owned()),
    }
}
