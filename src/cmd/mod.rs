//! One file per subcommand; `run` picks the one the command line names.

pub mod backfill;
pub mod check_config;
pub mod console;
#[cfg(feature = "demo")]
pub mod demo;
pub mod export;
mod hidden_input;
pub mod login;
mod progress;
pub mod serve;
mod sync;

use crate::logging;
use crate::settings::flags::{Cli, Command};

/// Runs what the command line asks for, until it is done or SIGTERM/SIGINT for `serve`.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    let mut settings = cli.settings()?;
    if matches!(cli.command, Some(Command::CheckConfig)) {
        return check_config::run(&settings, &mut std::io::stdout().lock());
    }
    // The demo's default storage is this process's own temporary directory.
    let _demo_dir = (settings.demo && cli.storage_path.is_none())
        .then(|| RemovedOnExit(settings.storage_path.clone()));
    logging::init(settings.log.level, settings.log.format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Before anything starts, so a SIGTERM during start-up still ends `serve` cleanly.
        // Only `serve`: the other commands keep the default, where Ctrl-C ends them.
        let shutdown = cli.command.is_none().then(crate::run::shutdown_signal);
        // Kept alive until shutdown: the demo's fake Peloton runs in this process.
        let _fake = start_demo(&mut settings).await?;
        match &cli.command {
            None => {
                let stop = async {
                    match shutdown {
                        Some(signal) => signal.await,
                        None => std::future::pending().await,
                    }
                };
                serve::run(cli, &settings, stop).await
            }
            Some(Command::Backfill(args)) => backfill::run(&settings, args).await,
            Some(Command::Export(args)) => export::run(&settings, args).await,
            Some(Command::Login(args)) => login::run(&settings, args).await,
            Some(Command::CheckConfig) => Ok(()),
        }
    })
}

/// A directory removed when the command ends, however it ends short of a crash.
#[derive(Debug)]
struct RemovedOnExit(std::path::PathBuf);

impl Drop for RemovedOnExit {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), error = %e, "cannot remove the demo's directory");
        }
    }
}

#[cfg(feature = "demo")]
async fn start_demo(
    settings: &mut crate::settings::resolved::Settings,
) -> anyhow::Result<Option<peloton_fake::FakePeloton>> {
    if settings.demo {
        Ok(Some(demo::start(settings).await?))
    } else {
        Ok(None)
    }
}

#[cfg(not(feature = "demo"))]
#[allow(clippy::unused_async)] // the same signature as the demo build's
async fn start_demo(
    settings: &mut crate::settings::resolved::Settings,
) -> anyhow::Result<Option<()>> {
    if settings.demo {
        anyhow::bail!(
            "--demo: this build has no demo (built without the `demo` feature); use a build with default features"
        );
    }
    Ok(None)
}
