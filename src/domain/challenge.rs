//! Peloton's annual minutes challenge as the member has joined it: progress, tiers, and
//! what each tier still asks per remaining day.

/// At most this many tiers are kept (Peloton's annual challenge has six).
pub const MAX_TIERS: usize = 12;

const DAY: f64 = 86_400.0;

/// The annual challenge, in seconds of workout time.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnualChallenge {
    /// The challenge's title, bounded (the `challenge` label).
    pub title: String,
    pub start_time: f64,
    pub end_time: f64,
    pub progress_seconds: f64,
    /// Each tier's title and target, ascending; the zero "joined" tier left out.
    pub tiers: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    pub title: String,
    pub target_seconds: f64,
}

impl AnnualChallenge {
    /// Whole days left to ride, today included; `None` once the challenge has ended.
    pub fn days_left(&self, now: f64) -> Option<f64> {
        (now < self.end_time).then(|| ((self.end_time - now) / DAY).ceil().max(1.0))
    }

    /// Seconds per remaining day each tier still asks for: 0 for a tier already reached,
    /// nothing once the challenge has ended.
    pub fn needed_per_day(&self, now: f64) -> Vec<(&Tier, f64)> {
        let Some(days) = self.days_left(now) else {
            return Vec::new();
        };
        self.tiers
            .iter()
            .map(|t| {
                (
                    t,
                    ((t.target_seconds - self.progress_seconds) / days).max(0.0),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(progress_min: f64) -> AnnualChallenge {
        AnnualChallenge {
            title: "The Annual 2026".into(),
            start_time: 1_767_225_600.0,
            end_time: 1_798_761_599.0,
            progress_seconds: progress_min * 60.0,
            tiers: [1000.0, 3000.0, 5000.0]
                .iter()
                .map(|m| Tier {
                    title: format!("{m} Minutes"),
                    target_seconds: m * 60.0,
                })
                .collect(),
        }
    }

    #[test]
    fn per_day_need_counts_today_and_reached_tiers_need_nothing() {
        let c = challenge(1234.0);
        // 2026-12-07 12:00 UTC: 25 days left with today (Dec 7..31).
        let now = 1_796_644_800.0;
        assert_eq!(c.days_left(now), Some(25.0));
        let need: Vec<f64> = c.needed_per_day(now).iter().map(|(_, s)| *s).collect();
        assert_eq!(need[0], 0.0);
        assert!((need[1] - (3000.0 - 1234.0) * 60.0 / 25.0).abs() < 1e-9);
        assert!((need[2] - (5000.0 - 1234.0) * 60.0 / 25.0).abs() < 1e-9);
        // The last second of the year is still a day to ride.
        assert_eq!(c.days_left(c.end_time - 1.0), Some(1.0));
        assert!(c.needed_per_day(c.end_time).is_empty(), "ended: no need");
    }
}
