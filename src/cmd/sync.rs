//! What `backfill` and `export` share: sync each account's history with Peloton first (with
//! a progress bar), and the `--out` file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
            super::console::note(format_args!(
                "{}: a running peloton-exporter ({holder}) keeps {} current; writing what it has stored, without syncing",
                parts.state.name.as_deref().unwrap_or("history"),
                parts.store.path().display()
            ));
            let mut workouts = Vec::new();
            parts.store.for_each(|w| workouts.push(w.summary))?;
            out.push(AccountHistory {
                account: parts.state.name.clone(),
                workouts,
                training: parts.store.training_rows()?,
                traces: Some(parts.store.clone()),
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
            training: parts.store.training_rows()?,
            traces: Some(parts.store.clone()),
        });
    }
    Ok(out)
}

fn bar_total(p: &Progress) -> u64 {
    p.total()
}

/// The `--out` file, opened before the sync (which can take an hour on a real account) so
/// a path that cannot be written fails at once. It is emptied only when the writing
/// starts, and removed again if this command created it and never wrote it.
#[derive(Debug)]
pub struct Out {
    path: PathBuf,
    /// `None` for standard output.
    file: Option<File>,
    created: bool,
}

impl Out {
    pub fn prepare(path: &Path) -> anyhow::Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self {
                path: path.to_owned(),
                file: None,
                created: false,
            });
        }
        let existed = path.exists();
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| {
                anyhow::anyhow!(
                    "--out: cannot create {}: {}",
                    path.display(),
                    crate::settings::error::io_reason(&e)
                )
            })?;
        Ok(Self {
            path: path.to_owned(),
            file: Some(file),
            created: !existed,
        })
    }

    /// Where the output goes, emptied first.
    pub fn writer(mut self) -> anyhow::Result<Box<dyn Write>> {
        let Some(file) = self.file.take() else {
            return Ok(Box::new(BufWriter::new(std::io::stdout().lock())));
        };
        self.created = false;
        file.set_len(0)
            .with_context(|| format!("--out: cannot write {}", self.path.display()))?;
        Ok(Box::new(BufWriter::new(file)))
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
