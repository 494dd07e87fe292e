//! The only writer: what to fetch from Peloton when, and the snapshot it publishes.

pub mod poller;
pub mod progress_log;
pub mod training;
