//! When the first history sync says how far it is in the server log: every 10 % or every
//! minute, whichever comes first, and once when it is complete. A 3,000-workout history
//! takes about 50 minutes at the default rate; without this the log is silent meanwhile.
//! Pure: fed with the pending count and the time, it answers what to log.

use std::time::{Duration, Instant};

use crate::state::progress::{Pace, Progress};

/// The longest silence while the history syncs.
pub const EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry {
    /// Details still to fetch.
    Progress(Progress),
    /// Every workout's details are in: one line, once.
    Complete { total: u64, took: Duration },
}

#[derive(Debug, Default)]
pub struct ProgressLog {
    pace: Pace,
    /// Fetched since this process started, and what was pending at the last call.
    done: u64,
    last_pending: Option<u64>,
    last_logged: Option<(Instant, u64)>,
    /// The history was complete when first seen, or its completion was logged: later
    /// single workouts are not a sync worth a progress line.
    finished: bool,
    current: Option<Progress>,
}

impl ProgressLog {
    /// Feeds the number of workouts whose details are still pending; returns what to log.
    pub fn pending(&mut self, pending: u64, now: Instant) -> Option<Entry> {
        if self.finished {
            return None;
        }
        match self.last_pending {
            None if pending == 0 => {
                self.finished = true;
                return None;
            }
            Some(last) => self.done += last.saturating_sub(pending),
            None => {}
        }
        self.last_pending = Some(pending);
        let total = self.done + pending;
        let progress = self.pace.observe(self.done, total, now);
        self.current = Some(progress);
        if pending == 0 {
            self.finished = true;
            return Some(Entry::Complete {
                total,
                took: self.pace.elapsed(now),
            });
        }
        let decile = progress.percent() / 10;
        let due = self
            .last_logged
            .is_none_or(|(at, d)| decile > d || now.saturating_duration_since(at) >= EVERY);
        if due {
            self.last_logged = Some((now, decile));
            return Some(Entry::Progress(progress));
        }
        None
    }

    /// The sync's progress for the landing page; `None` before details were pending.
    pub fn current(&self) -> Option<Progress> {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_every_tenth_or_every_minute_and_once_at_the_end() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut log = ProgressLog::default();
        // The start says how much there is.
        let Some(Entry::Progress(first)) = log.pending(100, at(0)) else {
            panic!("no first line")
        };
        assert_eq!((first.done, first.total), (0, 100));
        // 5 % after 5 s: nothing yet.
        assert_eq!(log.pending(95, at(5)), None);
        // 10 %: a line, with the pace (1/s) and what is left at it.
        let Some(Entry::Progress(p)) = log.pending(90, at(10)) else {
            panic!("no line at 10 %")
        };
        assert_eq!(p.done, 10);
        assert_eq!(p.eta(), Some(Duration::from_secs(90)));
        // Stalled (Peloton slow, retries): a line a minute all the same.
        assert_eq!(log.pending(89, at(69)), None);
        assert!(matches!(log.pending(89, at(70)), Some(Entry::Progress(_))));
        // A jump across several tenths is one line.
        assert!(matches!(log.pending(40, at(80)), Some(Entry::Progress(_))));
        assert_eq!(log.pending(39, at(81)), None);
        assert_eq!(
            log.pending(0, at(100)),
            Some(Entry::Complete {
                total: 100,
                took: Duration::from_secs(100)
            })
        );
        // Later workouts are single fetches, not a sync.
        assert_eq!(log.pending(1, at(200)), None);
        assert_eq!(log.pending(0, at(201)), None);
        assert_eq!(log.current().map(|p| (p.done, p.total)), Some((100, 100)));
    }

    #[test]
    fn new_workouts_during_the_sync_grow_the_total() {
        let t0 = Instant::now();
        let mut log = ProgressLog::default();
        log.pending(10, t0);
        log.pending(5, t0 + Duration::from_secs(5));
        log.pending(7, t0 + Duration::from_secs(6));
        let p = log.current().unwrap();
        assert_eq!((p.done, p.total), (5, 12));
    }

    #[test]
    fn a_complete_history_at_start_logs_nothing() {
        let mut log = ProgressLog::default();
        assert_eq!(log.pending(0, Instant::now()), None);
        assert_eq!(log.pending(3, Instant::now()), None);
        assert_eq!(log.current(), None);
    }
}
