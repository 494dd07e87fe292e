//! The HTTP server's settings: `--web.*`. Only the server reads them, so every subcommand
//! refuses them. Nothing here needs resolving: clap's parse is the setting.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Where and how `/metrics` is served.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct HttpSettings {
    /// Address to listen on for /metrics, /healthz and /readyz.
    #[arg(global = true, long = "web.listen-address", env = "PELOTON_WEB_LISTEN_ADDRESS", default_value = "0.0.0.0:10058", value_name = "ADDR", value_parser = parse_listen_address, help_heading = "Web")]
    pub listen_address: SocketAddr,

    /// Path under which metrics are served.
    #[arg(global = true, long = "web.telemetry-path", env = "PELOTON_WEB_TELEMETRY_PATH", default_value = "/metrics", value_name = "PATH", value_parser = parse_telemetry_path, help_heading = "Web")]
    pub telemetry_path: String,

    /// exporter-toolkit web config (TLS, client certificates, basic auth); re-read when it
    /// changes. See docs/web-config.md.
    #[arg(
        global = true,
        long = "web.config.file",
        env = "PELOTON_WEB_CONFIG_FILE",
        value_name = "FILE",
        help_heading = "Web"
    )]
    pub web_config_file: Option<PathBuf>,

    /// Enable `POST /-/reload` (re-reads --config.file and the secret files, as SIGHUP
    /// does).
    #[arg(
        global = true,
        long = "web.enable-lifecycle",
        env = "PELOTON_WEB_ENABLE_LIFECYCLE",
        help_heading = "Web"
    )]
    pub enable_lifecycle: bool,
}

fn parse_listen_address(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    // Go exporters accept ":10058" for "every interface".
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    if let Ok(a) = full.parse() {
        return Ok(a);
    }
    if let Some(port) = full.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
            .map_err(|_| "port is not a number".to_owned());
    }
    Err("not a host:port address like 0.0.0.0:10058".to_owned())
}

fn parse_telemetry_path(s: &str) -> Result<String, String> {
    if !s.starts_with('/') || s.len() < 2 {
        return Err("must start with / and name a path, like /metrics".to_owned());
    }
    if matches!(s, "/healthz" | "/readyz") {
        return Err(format!("{s} is reserved for probes"));
    }
    Ok(s.to_owned())
}
