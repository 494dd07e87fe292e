//! Stored history out: backfill files, remote write and CSV/JSON export.

pub mod backfill;
pub mod export;
pub mod remote_write;
pub mod trace_samples;

#[cfg(test)]
mod tests;
