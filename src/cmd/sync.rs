//! What `backfill` and `export` share: sync each account's history with Peloton first (with
//! a progress bar), and open the `--out` file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;

use super::progress::Progress;
use crate::history::backfill::AccountHistory;
use crate::run;
use crate::settings::resolved::Settings;

/// Every account's history, synced with Peloton first (a no-op when nothing is new).
pub async fn synced(settings: &Settings) -> anyhow::Result<Vec<AccountHistory>> {
    let mut out = Vec::new();
    for mut parts in run::accounts(settings)? {
        let label = match &parts.state.name {
            Some(n) => format!("syncing {n}"),
            None => "syncing history".to_owned(),
        };
        if let Some(holder) = &parts.busy {
            // The running exporter keeps the store current, and only it may refresh the
            // account's tokens: a second refresh would sign it out.
            eprintln!(
                "{}: a running peloton-exporter ({holder}) keeps {} current; writing what it has stored, without syncing",
                parts.state.name.as_deref().unwrap_or("history"),
                parts.store.path().display()
            );
            let mut workouts = Vec::new();
            parts.store.for_each(|w| workouts.push(w.summary))?;
            out.push(AccountHistory {
                account: parts.state.name.clone(),
                workouts,
            });
            continue;
        }
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

pub fn open_out(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
    }
    let file =
        File::create(path).with_context(|| format!("--out: cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}
