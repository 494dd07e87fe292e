//! The only writer: what to fetch from Peloton when, and the snapshot it publishes.

mod error;
mod gaps;
mod list_walk;
mod live;
pub mod phase;
pub mod poller;
mod profile_extras;
pub mod progress_log;
mod rate_limit;
mod sync_state;
pub mod training;
