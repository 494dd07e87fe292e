//! What the exporter keeps on disk per account: the SQLite history and the tokens.

pub mod database;
pub mod lock;
pub mod permissions;
pub mod private_files;
pub mod stored_tokens;
pub mod token_store;
pub mod training;
