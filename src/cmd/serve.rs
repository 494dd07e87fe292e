//! The default command: serve `/metrics` and poll Peloton until SIGTERM/SIGINT.

use crate::run::{self, supervisor::SettingsSource};
use crate::settings::flags::Cli;
use crate::settings::resolved::Settings;

pub async fn run(
    cli: &Cli,
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    // The demo's settings point at its in-process fake: nothing to re-read.
    let source: Option<SettingsSource> = if settings.demo {
        None
    } else {
        let cli = cli.clone();
        Some(Box::new(move || cli.settings()))
    };
    let running = run::start_reloadable(settings, source).await?;
    running.stop_on(shutdown).await
}
