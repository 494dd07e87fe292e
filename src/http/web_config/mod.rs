//! `--web.config.file`: TLS (server certificate, client certificates) and basic auth for
//! the exporter's own endpoints, in the exporter-toolkit format that Prometheus and its
//! exporters read (docs/web-config.md).
//!
//! The file is validated at start-up: every certificate, key and CA is loaded and every
//! password hash parsed, so a mistake stops the exporter with one line naming it. While
//! running, the file and the files it names are re-read every [`RELOAD_INTERVAL`]; a
//! changed valid version replaces the running one for new connections and requests, an
//! invalid one is logged and the running one kept. A version that would drop basic auth,
//! the client-certificate requirement or TLS is refused the same way: an empty or
//! truncated file must not open the endpoints, so only a restart removes them.

mod config;
mod error;
mod file;
mod headers;
mod parse;
mod reload;
mod reload_guard;
mod request_guard;
mod source;
mod tls;

pub use config::WebConfig;
pub use error::WebConfigError;
pub use reload::{LiveWebConfig, RELOAD_INTERVAL};
pub use request_guard::guard;
