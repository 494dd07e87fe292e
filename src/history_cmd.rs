//! The `backfill` and `export` subcommands: sync the history first, then write it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::app;
use crate::backfill::{self, AccountHistory};
use crate::config::{BackfillArgs, ExportArgs, ExportFormat, Settings};
use crate::export;
use crate::progress::Progress;

/// Every account's history, synced with Peloton first (a no-op when nothing is new).
async fn synced(settings: &Settings) -> anyhow::Result<Vec<AccountHistory>> {
    let mut out = Vec::new();
    for mut parts in app::accounts(settings)? {
        let label = match &parts.state.name {
            Some(n) => format!("syncing {n}"),
            None => "syncing history".to_owned(),
        };
        let (tx, rx) = std::sync::mpsc::channel::<u64>();
        parts.poller.on_progress(Box::new(move |pending| {
            let _ = tx.send(pending);
        }));
        let sync = parts.poller.sync();
        tokio::pin!(sync);
        let mut progress: Option<Progress> = None;
        let mut ticker = tokio::time::interval(std::time::Duration::from_millis(200));
        let result = loop {
            tokio::select! {
                r = &mut sync => break r,
                _ = ticker.tick() => {}
            }
            while let Ok(pending) = rx.try_recv() {
                let bar = progress.get_or_insert_with(|| Progress::new(label.clone(), pending + 1));
                bar.set(bar_total(bar) - pending);
            }
        };
        if let Some(bar) = progress {
            bar.finish();
        }
        result.with_context(|| label.clone())?;
        let mut workouts = Vec::new();
        parts.store.for_each(|w| workouts.push(w.summary))?;
        out.push(AccountHistory {
            account: parts.state.name.clone(),
            workouts,
        });
    }
    Ok(out)
}

fn bar_total(p: &Progress) -> u64 {
    p.total()
}

fn open_out(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    let file =
        File::create(path).with_context(|| format!("--out: cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

pub async fn backfill(settings: &Settings, args: &BackfillArgs) -> anyhow::Result<()> {
    let histories = synced(settings).await?;
    let to = args
        .to
        .map_or(i64::MAX, |day| day + 86_400 - 1)
        .min(crate::peloton::auth::now_unix() - backfill::RECENT_SECONDS);
    let options = backfill::Options {
        from: args.from,
        to,
        labels: args.labels.clone(),
        collectors: settings.collectors.clone(),
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

pub async fn export(settings: &Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let histories = synced(settings).await?;
    let mut rows = Vec::new();
    for h in histories {
        let account = h.account.clone();
        for w in export::completed(h.workouts) {
            rows.push(export::row(account.as_deref(), &w));
        }
    }
    let mut out = open_out(&args.out)?;
    let n = match args.format {
        ExportFormat::Csv => export::write_csv(rows, &mut out),
        ExportFormat::Json => export::write_json(rows, &mut out),
    }
    .context("--out: write failed")?;
    out.flush().context("--out: write failed")?;
    drop(out);
    if args.out.as_os_str() != "-" {
        eprintln!("wrote {n} workouts to {}", args.out.display());
    }
    Ok(())
}
