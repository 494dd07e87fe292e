//! One account's shared state: its current snapshot, readiness and telemetry. The poller
//! writes it; scrapes and probes read it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::state::snapshot::Snapshot;
use crate::state::telemetry::Telemetry;

#[derive(Debug)]
pub struct AccountState {
    /// `Some` when several accounts run: the `account` label value.
    pub name: Option<String>,
    pub telemetry: Arc<Telemetry>,
    snapshot: RwLock<Arc<Snapshot>>,
    ready: AtomicBool,
    attempted: AtomicBool,
    /// False while the account's poller task is dead (until it is restarted).
    alive: AtomicBool,
    /// Counts published snapshots, so a scrape can tell that nothing changed.
    generation: AtomicU64,
}

impl AccountState {
    pub fn new(name: Option<String>, telemetry: Arc<Telemetry>) -> Self {
        Self {
            name,
            telemetry,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            ready: AtomicBool::new(false),
            attempted: AtomicBool::new(false),
            alive: AtomicBool::new(true),
            generation: AtomicU64::new(0),
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the snapshot in one step: a scrape sees the old one or the new one.
    pub fn publish(&self, snapshot: Snapshot) {
        let ok = snapshot.up;
        let mut current = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        *current = Arc::new(snapshot);
        // Under the lock: whoever sees the new generation reads the new snapshot.
        self.generation.fetch_add(1, Ordering::AcqRel);
        drop(current);
        if ok {
            self.ready.store(true, Ordering::Release);
        }
        self.attempted.store(true, Ordering::Release);
    }

    /// True once a poll has finished, successfully or not.
    pub fn has_polled(&self) -> bool {
        self.attempted.load(Ordering::Acquire)
    }

    /// True once a poll has succeeded, while the poller runs.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire) && self.is_alive()
    }

    /// False from the death of the poller task until its restart.
    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The poller task died: `up` turns 0 and readiness fails until `restarted`. The last
    /// good values stay (they were true when read).
    pub fn crashed(&self) {
        self.alive.store(false, Ordering::Release);
        let mut snapshot = (*self.snapshot()).clone();
        snapshot.up = false;
        self.publish(snapshot);
        self.telemetry.poll_crashed();
    }

    pub fn restarted(&self) {
        self.alive.store(true, Ordering::Release);
    }

    /// Changes whenever what `view` returns may have changed.
    pub fn generation(&self) -> (u64, u64) {
        (
            self.generation.load(Ordering::Acquire),
            self.telemetry.generation(),
        )
    }
}
