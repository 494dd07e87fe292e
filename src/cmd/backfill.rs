//! The `backfill` subcommand: the stored history as an OpenMetrics file for
//! `promtool tsdb create-blocks-from openmetrics`.

use std::io::Write as _;

use anyhow::Context as _;

use super::sync::{open_out, synced};
use crate::history::backfill;
use crate::settings::flags::BackfillArgs;
use crate::settings::resolved::Settings;

pub async fn run(settings: &Settings, args: &BackfillArgs) -> anyhow::Result<()> {
    let histories = synced(settings).await?;
    let to = args
        .to
        .map_or(i64::MAX, |day| day + 86_400 - 1)
        .min(crate::clock::now_unix() - backfill::RECENT_SECONDS);
    let options = backfill::Options {
        from: args.from,
        to,
        labels: args.labels.clone(),
        collectors: settings.collectors.clone(),
        include_imported: settings.include_imported,
    };
    let mut out = open_out(&args.out)?;
    let stats = backfill::write(&histories, &options, &mut out).context("--out: write failed")?;
    out.flush().context("--out: write failed")?;
    drop(out);
    if args.out.as_os_str() != "-" {
        eprintln!(
            "wrote {} samples in {} series from {} workouts to {}\nnext: promtool tsdb create-blocks-from openmetrics {} ./blocks (see the README's backfill section)",
            stats.samples,
            stats.series,
            stats.workouts,
            args.out.display(),
            args.out.display()
        );
    }
    Ok(())
}
