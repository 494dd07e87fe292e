//! Entry point: parse flags, set up logging, run until SIGTERM/SIGINT.

use std::io::Write as _;
use std::process::ExitCode;

use clap::error::ErrorKind;
use peloton_exporter::cmd::{self, console};
use peloton_exporter::settings::flags::Cli;

fn main() -> ExitCode {
    let cli = match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) if e.kind() == ErrorKind::DisplayVersion => {
            let text = peloton_exporter::metrics::BuildInfo::CURRENT.version_text();
            let _ = std::io::stdout().write_all(text.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelp => {
            // A closed stdout (`--help | head -1`) is not worth a panic.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::ValueValidation => {
            // Our own value checks: clap's first line names the flag, the value and our
            // reason; the usage that follows adds nothing.
            let text = e.to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            console::note(format_args!("{line}"));
            return ExitCode::from(2);
        }
        Err(e) => {
            // A usage error: clap's whole message, with the accepted values, "did you
            // mean" and the pointer to --help.
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    match cmd::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if console::is_broken_pipe(&e) => ExitCode::from(console::BROKEN_PIPE_EXIT),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
