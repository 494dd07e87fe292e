//! Remote write's settings: `--remote-write.*`. Only the server pushes, so every subcommand
//! refuses them. Nothing here needs resolving: clap's parse is the setting.

use url::Url;

use super::values::parse_url;
use crate::peloton::transport::redact;

/// Where each newly completed workout's samples are pushed, and with what.
// The ids keep the `remote_write_` prefix: `backfill` has `--label` and `--traces` of its
// own, and an id may appear once per command. The switch's value name is only shown where
// a subcommand refuses it, as clap derived it from the id before.
#[derive(Clone, PartialEq, Eq, clap::Args)]
pub struct RemoteWriteSettings {
    /// Prometheus remote-write endpoint (e.g. http://prometheus:9090/api/v1/write) that
    /// receives each newly completed workout's samples with their true timestamps.
    #[arg(global = true, id = "remote_write_url", long = "remote-write.url", env = "PELOTON_REMOTE_WRITE_URL", value_name = "URL", value_parser = parse_url, help_heading = "History")]
    pub url: Option<Url>,

    /// Extra label on every pushed series, e.g. job=peloton-exporter (the scrape job). Repeatable.
    #[arg(global = true, id = "remote_write_labels", long = "remote-write.label", value_name = "NAME=VALUE", value_parser = parse_label, help_heading = "History")]
    pub labels: Vec<(String, String)>,

    /// Also push each new workout's per-sample trace (power, cadence, resistance, speed,
    /// heart rate; about 13,500 samples for a 45-minute ride), as `backfill --traces` writes
    #[arg(
        global = true,
        id = "remote_write_traces",
        long = "remote-write.traces",
        value_name = "REMOTE_WRITE_TRACES",
        env = "PELOTON_REMOTE_WRITE_TRACES",
        help_heading = "History"
    )]
    pub traces: bool,
}

/// The URL may carry a password (basic auth of the user's own Prometheus). A field added
/// later is left out until someone decides it is safe to show.
impl std::fmt::Debug for RemoteWriteSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriteSettings")
            .field("url", &self.url.as_ref().map(redact))
            .field("labels", &self.labels)
            .field("traces", &self.traces)
            .finish_non_exhaustive()
    }
}

/// `NAME=VALUE`, a label the exporter does not set itself (also `backfill --label`).
pub fn parse_label(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or("must be NAME=VALUE")?;
    let valid = name
        .chars()
        .enumerate()
        .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if name.is_empty() || !valid || name.starts_with("__") {
        return Err(format!("{name:?} is not a valid label name"));
    }
    if crate::metrics::catalogue::writes_label(name) {
        return Err(format!("{name:?} is a label the exporter sets itself"));
    }
    Ok((name.to_owned(), value.to_owned()))
}
