//! The `export` subcommand: one row per completed workout, CSV or JSON.

use std::io::Write as _;

use anyhow::Context as _;

use super::console;
use super::sync::{Out, synced};
use crate::history::export;
use crate::settings::flags::{ExportArgs, ExportFormat};
use crate::settings::resolved::Settings;

pub async fn run(settings: &Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let out = Out::prepare(&args.out)?;
    let histories = synced(settings).await?;
    let mut rows = Vec::new();
    for h in histories {
        let account = h.account.clone();
        for w in export::completed(h.workouts) {
            rows.push(export::row(account.as_deref(), &w));
        }
    }
    let mut out = out.writer()?;
    let n = match args.format {
        ExportFormat::Csv => export::write_csv(rows, &mut out),
        ExportFormat::Json => export::write_json(rows, &mut out),
    }
    .context("--out: write failed")?;
    out.flush().context("--out: write failed")?;
    drop(out);
    if args.out.as_os_str() != "-" {
        console::note(format_args!("wrote {n} workouts to {}", args.out.display()));
    }
    Ok(())
}
