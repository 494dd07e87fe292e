//! What the operator asked for: flags and environment, the `--config.file` accounts and the
//! secret files, resolved and validated into `Settings`.

pub mod accounts_file;
pub mod flags;
pub mod resolved;
