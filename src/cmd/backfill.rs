//! The `backfill` subcommand: the stored history as an OpenMetrics file for
//! `promtool tsdb create-blocks-from openmetrics`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    if args.split.is_some() && args.out.as_os_str() == "-" {
        anyhow::bail!(
            "--split month writes one file per month: give --out a file name to derive them from (e.g. --out peloton.om), not -"
        );
    }
    // Checked before a sync that can take an hour; with --split it checks the folder the
    // monthly files go to (and is removed again if it was created).
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
        include_imported: settings.poll.include_imported,
        traces: args.traces,
    };
    if args.split.is_some() {
        drop(out);
        return write_months(&histories, &options, &args.out);
    }
    let stats = write_file(out, &histories, &options)?;
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

/// One backfill file, written and flushed: the whole history, or one month of `--split`.
fn write_file(
    out: Out,
    histories: &[backfill::AccountHistory],
    options: &backfill::Options,
) -> anyhow::Result<backfill::Stats> {
    let mut out = out.writer()?;
    let stats = backfill::write(histories, options, &mut out).context("--out: write failed")?;
    out.flush().context("--out: write failed")?;
    Ok(stats)
}

/// `--split month`: one file per calendar month next to `base`; a month without samples
/// leaves no file.
fn write_months(
    histories: &[backfill::AccountHistory],
    options: &backfill::Options,
    base: &Path,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    let mut samples = 0;
    let mut workouts = 0;
    for month in backfill::months(histories, options.from, options.to) {
        let path = month_path(base, &month.name);
        let options = backfill::Options {
            from: Some(month.from),
            to: month.to,
            ..options.clone()
        };
        let stats = write_file(Out::prepare(&path)?, histories, &options)
            .with_context(|| path.display().to_string())?;
        workouts = workouts.max(stats.workouts);
        if stats.samples == 0 {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        samples += stats.samples;
        files.push(path);
    }
    let (Some(first), Some(last)) = (files.first(), files.last()) else {
        console::note(format_args!("no samples to write: no file written"));
        return Ok(());
    };
    console::note(format_args!(
        "wrote {samples} samples from {workouts} workouts in {} monthly files, {} … {}\nnext: for f in {}; do promtool tsdb create-blocks-from openmetrics --max-block-duration=24h \"$f\" ./blocks; done (see the README's backfill section)",
        files.len(),
        first.display(),
        last.display(),
        month_path(base, "*").display()
    ));
    Ok(())
}

/// `peloton.om` and `2024-01`: `peloton-2024-01.om`, in the same folder.
fn month_path(base: &Path, month: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{month}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{month}"),
    };
    base.with_file_name(name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_files_sit_next_to_the_named_one() {
        let at = |p: &str| month_path(Path::new(p), "2024-01");
        assert_eq!(at("peloton.om"), PathBuf::from("peloton-2024-01.om"));
        assert_eq!(
            at("/x/y/peloton.om"),
            PathBuf::from("/x/y/peloton-2024-01.om")
        );
        assert_eq!(at("history"), PathBuf::from("history-2024-01"));
        assert_eq!(at("a.b.txt"), PathBuf::from("a.b-2024-01.txt"));
    }
}
