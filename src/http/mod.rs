//! The scrape side's HTTP edge: routes, the listener, the web config, and the render cache
//! that turns families into (gzip) bytes.

pub mod basic_auth;
pub mod certificate_check;
pub mod connection_slots;
pub mod listener;
pub mod render_cache;
pub mod routes;
pub mod web_config;
