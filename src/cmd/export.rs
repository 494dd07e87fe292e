//! The `export` subcommand: one row per completed workout, CSV or JSON.

use std::io::Write as _;

use anyhow::Context as _;

use super::console;
use super::sync::{Out, synced};
use crate::history::export;
use crate::settings::flags::{ExportArgs, ExportFormat, ExportUnits};
use crate::settings::resolved::Settings;

pub async fn run(settings: &Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let out = Out::prepare(&args.out)?;
    let histories = synced(settings).await?;
    let units = match args.units {
        ExportUnits::Base => export::Units::Base,
        ExportUnits::Metric => export::Units::Metric,
        ExportUnits::Imperial => export::Units::Imperial,
    };
    // As on /metrics: the account is named only when there are several.
    let several = histories.len() > 1;
    let mut rows = Vec::new();
    for h in histories {
        let account = h.account.clone().filter(|_| several);
        for w in export::completed(h.workouts) {
            rows.push(export::row(account.as_deref(), &w, units));
        }
    }
    let mut out = out.writer()?;
    let n = match args.format {
        ExportFormat::Csv => export::write_csv(&export::columns(units, several), rows, &mut out),
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
