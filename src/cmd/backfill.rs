//! The `backfill` subcommand: the stored history as an OpenMetrics file for
//! `promtool tsdb create-blocks-from openmetrics`.

use std::io::Write as _;

use anyhow::Context as _;

use super::console;
use super::sync::{Out, synced};
use crate::history::backfill;
use crate::settings::flags::BackfillArgs;
use crate::settings::resolved::Settings;

pub async fn run(settings: &Settings, args: &BackfillArgs) -> anyhow::Result<()> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!(
            "--from {} is after --to {}: nothing to write",
            day(from),
            day(to)
        );
    }
    let out = Out::prepare(&args.out)?;
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
        traces: args.traces,
    };
    let mut out = out.writer()?;
    let stats = backfill::write(&histories, &options, &mut out).context("--out: write failed")?;
    out.flush().context("--out: write failed")?;
    drop(out);
    if args.out.as_os_str() != "-" {
        console::note(format_args!(
            "wrote {} samples in {} series from {} workouts to {}\nnext: promtool tsdb create-blocks-from openmetrics {} ./blocks (see the README's backfill section)",
            stats.samples,
            stats.series,
            stats.workouts,
            args.out.display(),
            args.out.display()
        ));
    }
    Ok(())
}

/// `2024-01-31` for the Unix time of a UTC midnight.
fn day(unix: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}
