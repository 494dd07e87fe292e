//! Everything that speaks Peloton's unofficial API: HTTP client, token handling, response
//! shapes.

pub mod auth;
pub mod auth0;
pub mod auth_backoff;
pub mod client;
pub mod convert;
mod credentials;
pub mod error;
pub mod jwt;
mod lenient;
pub mod login;
pub mod model;
mod token_exchange;
pub mod token_vault;
pub mod transport;
pub mod wire;

pub use client::PelotonClient;
pub use error::ApiError;
