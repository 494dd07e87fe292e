//! Who holds the listener's connection slots, and whom to close when a new client needs
//! one.
//!
//! Idle or slow clients must not keep a scraper out. So the accept loop never waits
//! while some connection is merely waiting: a new connection takes the slot of one that is
//! not serving a request, in this order: connections that have sent nothing yet, then ones
//! still sending their first request (or TLS handshake), then kept-alive ones between
//! requests. The victim comes from the client address holding the most connections (the
//! crowd, not the lone scraper), in the earliest of these stages, oldest first. Connections that
//! have not completed a request also have a cap of their own, [`MAX_BEFORE_REQUEST`], so
//! a crowd of them never closes a kept-alive scraper. A connection serving a request is
//! never closed; only when every slot serves one does the accept loop wait.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

use crate::http::basic_auth::client_key;

/// Open connections at most. Prometheus keeps one per target; a few hundred leaves room
/// for people and probes.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections that have not completed their first request, at most.
pub const MAX_BEFORE_REQUEST: usize = 256;

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Accepted, nothing received.
    Silent,
    /// Sending its TLS handshake or first request head.
    Started,
    /// Kept alive between requests.
    Idle,
    /// A request is being served.
    Busy,
}

#[derive(Debug)]
struct Entry {
    client: IpAddr,
    stage: Stage,
    since: Instant,
    close: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Entry>,
}

impl Table {
    fn before_request(&self) -> usize {
        self.open
            .values()
            .filter(|e| e.stage <= Stage::Started)
            .count()
    }

    /// The connection to close for room, among those in a stage up to `upto`: from the
    /// address holding the most connections, in the earliest stage, the oldest. A lone
    /// scraper is never the crowd, whatever stage its connection is in.
    fn victim(&self, upto: Stage) -> Option<u64> {
        let mut crowd: HashMap<IpAddr, usize> = HashMap::new();
        for e in self.open.values() {
            *crowd.entry(e.client).or_default() += 1;
        }
        self.open
            .iter()
            .filter(|(_, e)| e.stage <= upto)
            .min_by_key(|(id, e)| {
                let held = crowd.get(&e.client).copied().unwrap_or(0);
                (std::cmp::Reverse(held), e.stage, e.since, **id)
            })
            .map(|(id, _)| *id)
    }

    fn close(&mut self, id: u64) {
        if let Some(e) = self.open.remove(&id) {
            e.close.notify_one();
        }
    }
}

/// The slot table shared by the accept loop and the connections.
#[derive(Debug)]
pub struct ConnectionSlots {
    table: Mutex<Table>,
    /// Wakes the accept loop when a slot frees or a connection stops serving.
    changed: Notify,
    max: usize,
    max_before_request: usize,
}

impl ConnectionSlots {
    pub fn new(max: usize, max_before_request: usize) -> Arc<Self> {
        Arc::new(Self {
            table: Mutex::new(Table::default()),
            changed: Notify::new(),
            max: max.max(1),
            max_before_request: max_before_request.clamp(1, max.max(1)),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Resolves once a new connection can be admitted: a slot is free or some connection
    /// is not serving a request.
    pub async fn room(&self) {
        loop {
            let changed = self.changed.notified();
            {
                let t = self.lock();
                if t.open.len() < self.max || t.open.values().any(|e| e.stage != Stage::Busy) {
                    return;
                }
            }
            changed.await;
        }
    }

    /// Admits a new connection from `client`, closing others as the caps require.
    pub fn admit(self: &Arc<Self>, client: IpAddr) -> Slot {
        let close = Arc::new(Notify::new());
        let mut t = self.lock();
        if t.before_request() >= self.max_before_request
            && let Some(id) = t.victim(Stage::Started)
        {
            t.close(id);
        }
        if t.open.len() >= self.max
            && let Some(id) = t.victim(Stage::Idle)
        {
            t.close(id);
        }
        let id = t.next;
        t.next += 1;
        t.open.insert(
            id,
            Entry {
                client: client_key(client),
                stage: Stage::Silent,
                since: Instant::now(),
                close: close.clone(),
            },
        );
        Slot {
            slots: self.clone(),
            id,
            close,
        }
    }
}

/// One connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<ConnectionSlots>,
    id: u64,
    close: Arc<Notify>,
}

impl Slot {
    pub fn set(&self, stage: Stage) {
        if let Some(e) = self.slots.lock().open.get_mut(&self.id) {
            e.stage = stage;
            e.since = Instant::now();
        }
        if stage != Stage::Busy {
            self.slots.changed.notify_one();
        }
    }

    /// Marks the connection busy until the guard is dropped, then kept alive.
    pub fn busy(self: &Arc<Self>) -> BusyGuard {
        self.set(Stage::Busy);
        BusyGuard { slot: self.clone() }
    }

    /// Resolves when the accept loop took this slot for a newer connection.
    pub async fn reclaimed(&self) {
        self.close.notified().await;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().open.remove(&self.id);
        self.slots.changed.notify_one();
    }
}

#[derive(Debug)]
pub struct BusyGuard {
    slot: Arc<Slot>,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.slot.set(Stage::Idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn the_oldest_waiting_connection_makes_room() {
        let slots = ConnectionSlots::new(4, 2);
        let busy = Arc::new(slots.admit(LOCAL));
        let _serving = busy.busy();
        let idle = Arc::new(slots.admit(LOCAL));
        drop(idle.busy()); // served one request, now kept alive
        let silent_old = slots.admit(LOCAL);
        let silent_new = slots.admit(LOCAL);
        assert_eq!(slots.open(), 4);

        // Full: the oldest silent one goes first, never the busy one.
        let a = slots.admit(LOCAL);
        tokio::time::timeout(Duration::from_secs(1), silent_old.reclaimed())
            .await
            .expect("oldest silent connection closed");
        assert_eq!(slots.open(), 4);
        // Over the before-request cap: the next silent one, not the kept-alive one.
        let b = slots.admit(LOCAL);
        tokio::time::timeout(Duration::from_secs(1), silent_new.reclaimed())
            .await
            .expect("silent connection closed");
        // Connections that started sending go before kept-alive ones.
        a.set(Stage::Started);
        b.set(Stage::Started);
        let c = slots.admit(LOCAL);
        tokio::time::timeout(Duration::from_secs(1), a.reclaimed())
            .await
            .expect("started connection closed");
        assert_eq!(slots.open(), 4);
        // With two busy and two kept alive, the kept-alive one is closed for room.
        c.set(Stage::Busy);
        b.set(Stage::Busy);
        let _d = slots.admit(LOCAL);
        tokio::time::timeout(Duration::from_secs(1), idle.reclaimed())
            .await
            .expect("kept-alive connection closed");
        drop(silent_old);
        drop(silent_new);
        drop(a);
        assert_eq!(slots.open(), 4);
    }

    #[tokio::test]
    async fn the_crowd_makes_room_before_a_lone_client() {
        let slots = ConnectionSlots::new(8, 4);
        let scraper = slots.admit(LOCAL);
        let crowd: Vec<_> = (0..3)
            .map(|_| slots.admit("10.0.0.9".parse().unwrap()))
            .collect();
        // The scraper's connection is the oldest, but the crowd's go first.
        let _newer: Vec<_> = (0..10)
            .map(|_| slots.admit("10.0.0.9".parse().unwrap()))
            .collect();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), scraper.reclaimed())
                .await
                .is_err(),
            "the lone client was closed"
        );
        tokio::time::timeout(Duration::from_secs(1), crowd[0].reclaimed())
            .await
            .expect("the crowd's oldest closed");
    }

    #[tokio::test]
    async fn the_accept_loop_waits_only_when_every_slot_serves() {
        let slots = ConnectionSlots::new(2, 2);
        let a = Arc::new(slots.admit(LOCAL));
        let b = Arc::new(slots.admit(LOCAL));
        let ga = a.busy();
        let _gb = b.busy();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slots.room())
                .await
                .is_err(),
            "room while every slot serves"
        );
        let waiter = {
            let slots = slots.clone();
            tokio::spawn(async move { slots.room().await })
        };
        drop(ga);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("room once a request ended")
            .unwrap();
    }
}
