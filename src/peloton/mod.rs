//! Everything that speaks Peloton's unofficial API: HTTP client, token handling, response
//! shapes.

pub mod auth;
pub mod client;
pub mod error;
pub mod jwt;
mod lenient;
pub mod login;
pub mod model;
pub mod transport;

pub use client::{Endpoint, PelotonClient};
pub use error::{ApiError, ErrorReason};
