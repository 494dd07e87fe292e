//! How far a long job is (the first history sync, a `backfill`): done of total, the pace
//! so far and what it promises. The server log, the landing page and the subcommands'
//! progress lines all show these numbers.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// An estimate longer than this is noise (a stalled start), not a promise.
const MAX_ETA: Duration = Duration::from_secs(100 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    /// Items per second since the job started; `None` until there is a pace to tell.
    pub rate: Option<f64>,
}

impl Progress {
    pub fn percent(&self) -> u64 {
        (self.done.min(self.total) * 100)
            .checked_div(self.total)
            .unwrap_or(100)
    }

    pub fn is_complete(&self) -> bool {
        self.done >= self.total
    }

    /// Time left at the pace so far.
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate.filter(|r| r.is_finite() && *r > 0.0)?;
        let left = self.total.saturating_sub(self.done) as f64 / rate;
        Duration::try_from_secs_f64(left)
            .ok()
            .filter(|d| *d <= MAX_ETA)
    }

    /// `1200/3000 (40%), 1.0/s, ETA 30m 00s`: what a progress line says.
    pub fn describe(&self) -> String {
        let mut s = format!("{}/{} ({}%)", self.done, self.total, self.percent());
        if let Some(rate) = self.rate {
            let _ = write!(s, ", {}", per_second(rate));
        }
        if !self.is_complete()
            && let Some(eta) = self.eta()
        {
            let _ = write!(s, ", ETA {}", human(eta));
        }
        s
    }
}

/// The pace of a job from the first time it was seen: items per second since then.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pace {
    start: Option<(Instant, u64)>,
}

impl Pace {
    pub fn observe(&mut self, done: u64, total: u64, now: Instant) -> Progress {
        let (t0, d0) = *self.start.get_or_insert((now, done));
        let elapsed = now.saturating_duration_since(t0).as_secs_f64();
        // Under a second or no item yet: a rate from that would be wild.
        let rate = (elapsed >= 1.0 && done > d0).then(|| (done - d0) as f64 / elapsed);
        Progress { done, total, rate }
    }

    /// Time since the first observation.
    pub fn elapsed(&self, now: Instant) -> Duration {
        self.start
            .map(|(t0, _)| now.saturating_duration_since(t0))
            .unwrap_or_default()
    }
}

/// `3h 05m`, `4m 10s`, `12s`: two units at most.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn per_second(rate: f64) -> String {
    if rate >= 1.0 {
        format!("{rate:.1}/s")
    } else {
        format!("{:.1}/min", rate * 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_and_eta_from_a_fake_clock() {
        let t0 = Instant::now();
        let mut pace = Pace::default();
        let p = pace.observe(0, 3000, t0);
        assert_eq!(p.rate, None);
        assert_eq!(p.eta(), None);
        assert_eq!(p.describe(), "0/3000 (0%)");
        let p = pace.observe(600, 3000, t0 + Duration::from_secs(600));
        assert_eq!(p.rate, Some(1.0));
        assert_eq!(p.eta(), Some(Duration::from_secs(2400)));
        assert_eq!(p.describe(), "600/3000 (20%), 1.0/s, ETA 40m 00s");
        let slow = Progress {
            done: 1,
            total: 10,
            rate: Some(0.5 / 60.0),
        };
        assert_eq!(slow.describe(), "1/10 (10%), 0.5/min, ETA 18m 00s");
    }

    #[test]
    fn odd_numbers_give_no_estimate_and_never_panic() {
        for rate in [
            Some(0.0),
            Some(-1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(1e-12),
            None,
        ] {
            let p = Progress {
                done: 5,
                total: u64::MAX,
                rate,
            };
            assert_eq!(p.eta(), None, "{rate:?}");
            let _ = p.describe();
        }
        let empty = Progress {
            done: 0,
            total: 0,
            rate: None,
        };
        assert_eq!(empty.percent(), 100);
        assert!(empty.is_complete());
        // A clock that goes back gives no negative pace.
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut pace = Pace::default();
        pace.observe(0, 10, t0);
        assert_eq!(
            pace.observe(5, 10, t0.checked_sub(Duration::from_secs(5)).unwrap())
                .rate,
            None
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(12)), "12s");
        assert_eq!(human(Duration::from_secs(250)), "4m 10s");
        assert_eq!(human(Duration::from_secs(3 * 3600 + 300)), "3h 05m");
        assert_eq!(human(Duration::from_secs(2 * 86_400 + 3600)), "2d 01h");
    }
}
