//! What the operator asked for: flags and environment, the `--config.file` accounts and the
//! secret files, resolved and validated into `Settings`, one struct per consumer.
//!
//! `flags.rs` assembles the command line from one flag group per consumer and builds
//! `Settings` in one place (`Cli::settings`). A group that needs no resolving is its
//! consumer's settings struct itself (`HttpSettings`, `RemoteWriteSettings`,
//! `RetrySettings`, `LogSettings`); the others resolve next to their flags (`peloton.rs`,
//! `poll.rs`, `credentials.rs`).

pub mod accounts_file;
pub mod collectors;
pub mod credentials;
pub mod error;
pub mod flags;
pub mod log;
pub mod peloton;
pub mod poll;
pub mod remote_write;
pub mod resolved;
pub mod secret_flags;
mod values;
pub mod web;
