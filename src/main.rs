//! Entry point: parse flags, set up logging, run until SIGTERM/SIGINT.

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;
use peloton_exporter::config::{Cli, Command};
use peloton_exporter::supervisor::SettingsSource;
use peloton_exporter::{app, check_config, demo, history_cmd, logging, login_cmd, server};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's first line names the flag and the problem; the rest is usage noise.
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("{line}");
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let mut settings = cli.settings()?;
    if matches!(cli.command, Some(Command::CheckConfig)) {
        return check_config::run(&settings, &mut std::io::stdout().lock());
    }
    logging::init(settings.log_level, settings.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Kept alive until shutdown: the demo's fake Peloton runs in this process.
        let _fake = if settings.demo {
            Some(demo::start(&mut settings).await?)
        } else {
            None
        };
        match &cli.command {
            None => {
                // The demo's settings point at its in-process fake: nothing to re-read.
                let source: Option<SettingsSource> = if settings.demo {
                    None
                } else {
                    let cli = cli.clone();
                    Some(Box::new(move || cli.settings()))
                };
                let running = app::start_reloadable(&settings, source).await?;
                running.stop_on(server::shutdown_signal()).await
            }
            Some(Command::Backfill(args)) => history_cmd::backfill(&settings, args).await,
            Some(Command::Export(args)) => history_cmd::export(&settings, args).await,
            Some(Command::Login(args)) => login_cmd::run(&settings, args).await,
            Some(Command::CheckConfig) => Ok(()),
        }
    })
}
