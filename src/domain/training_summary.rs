//! The account-wide training picture from every workout's stored analytics: the power
//! curve over all time and the last 90 days, lifetime time in power zones and effort
//! points, fitness/fatigue/form as of a day, and the FTP in force.
//!
//! Built from the store when a workout's analytics arrive and when the UTC day changes,
//! never per scrape: O(workouts) to read, O(workouts + days) for the loads.

use std::collections::BTreeMap;

use super::training::{FtpInForce, LoadMethod, Loads, WorkoutTraining, daily_loads};

pub const DAY_S: i64 = 86_400;
/// The recent window of the power curve.
pub const RECENT_WINDOW_S: i64 = 90 * DAY_S;

/// Label values of the power-curve windows.
pub const WINDOW_ALL_TIME: &str = "all_time";
pub const WINDOW_90_DAYS: &str = "90d";

/// The UTC day number of a Unix time: fitness and fatigue move on at UTC midnight.
pub fn utc_day(unix_s: i64) -> i64 {
    unix_s.div_euclid(DAY_S)
}

/// One stored workout's analytics, with when it ended (Unix seconds).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRow {
    pub id: String,
    pub end_time: i64,
    pub training: WorkoutTraining,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingSummary {
    /// The UTC day these values are as of.
    pub day: i64,
    pub power_curve_all_time: [Option<f64>; 5],
    pub power_curve_90d: [Option<f64>; 5],
    /// Lifetime seconds in power zones 1..7, each workout at its own FTP; `None` before
    /// any workout had power and an FTP.
    pub power_zone_seconds: Option<[f64; 7]>,
    pub effort_points: Option<f64>,
    /// Lifetime sum of workout loads per method (weekly TSS is its increase).
    pub load_totals: BTreeMap<LoadMethod, f64>,
    /// CTL and ATL at the end of `day`, per load method that has any workout.
    pub loads: BTreeMap<LoadMethod, Loads>,
    /// The FTP of the most recent workout that had one: what Peloton shows power zones at.
    pub zone_ftp: Option<FtpInForce>,
}

/// The better of two bests, either possibly absent.
pub fn best(current: Option<f64>, candidate: Option<f64>) -> Option<f64> {
    match (current, candidate) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl TrainingSummary {
    /// Adds one workout to the lifetime values: the all-time curve, zone seconds, effort
    /// points and the FTP in force (a later or equal end time wins). The 90-day curve
    /// and the loads need the whole set: [`summarize`] computes them.
    pub fn add(&mut self, end_time: i64, t: &WorkoutTraining, zone_ftp_at: &mut Option<i64>) {
        for (slot, watts) in self
            .power_curve_all_time
            .iter_mut()
            .zip(&t.power_curve_watts)
        {
            *slot = best(*slot, *watts);
        }
        if let Some(zones) = t.power_zone_seconds {
            let total = self.power_zone_seconds.get_or_insert([0.0; 7]);
            for (sum, seconds) in total.iter_mut().zip(zones) {
                *sum += seconds;
            }
        }
        if let Some(points) = t.effort_points {
            *self.effort_points.get_or_insert(0.0) += points;
        }
        if let Some((method, load)) = t.load {
            *self.load_totals.entry(method).or_insert(0.0) += load;
        }
        if let Some(ftp) = t.ftp
            && zone_ftp_at.is_none_or(|at| end_time >= at)
        {
            self.zone_ftp = Some(ftp);
            *zone_ftp_at = Some(end_time);
        }
    }
}

impl TrainingSummary {
    /// Keeps each lifetime sum at least at what `before` published, whatever order the
    /// workouts were added in: they feed counters, which never step back.
    pub fn keep_lifetime_sums_of(&mut self, before: &TrainingSummary) {
        self.effort_points = best(before.effort_points, self.effort_points);
        for (method, old) in &before.load_totals {
            let new = self.load_totals.entry(*method).or_insert(*old);
            *new = new.max(*old);
        }
        if let (Some(old), Some(new)) =
            (before.power_zone_seconds, self.power_zone_seconds.as_mut())
        {
            for (n, o) in new.iter_mut().zip(old) {
                *n = n.max(o);
            }
        }
    }
}

/// The summary of `rows` as of Unix time `now`. Rows come oldest first (as the store
/// gives them); workouts ending after `now` count in the lifetime values but not in the
/// loads of days that have not come.
pub fn summarize(rows: &[TrainingRow], now: i64) -> TrainingSummary {
    let day = utc_day(now);
    let recent_from = now.saturating_sub(RECENT_WINDOW_S);
    let mut summary = TrainingSummary {
        day,
        ..TrainingSummary::default()
    };
    let mut per_method: BTreeMap<LoadMethod, Vec<(i64, f64)>> = BTreeMap::new();
    let mut zone_ftp_at = None;
    for row in rows {
        let t = &row.training;
        summary.add(row.end_time, t, &mut zone_ftp_at);
        if row.end_time > recent_from && row.end_time <= now {
            for (slot, watts) in summary.power_curve_90d.iter_mut().zip(&t.power_curve_watts) {
                *slot = best(*slot, *watts);
            }
        }
        if let Some((method, load)) = t.load {
            per_method
                .entry(method)
                .or_default()
                .push((utc_day(row.end_time), load));
        }
    }
    for (method, daily) in per_method {
        if let Some((_, loads)) = daily_loads(&daily, day, day).first() {
            summary.loads.insert(method, *loads);
        }
    }
    summary
}

/// CTL/ATL at the end of every day of `from_day..=to_day` per method, for the history.
pub fn daily_history(
    rows: &[TrainingRow],
    from_day: i64,
    to_day: i64,
) -> BTreeMap<LoadMethod, Vec<(i64, Loads)>> {
    let mut per_method: BTreeMap<LoadMethod, Vec<(i64, f64)>> = BTreeMap::new();
    for row in rows {
        if let Some((method, load)) = row.training.load {
            per_method
                .entry(method)
                .or_default()
                .push((utc_day(row.end_time), load));
        }
    }
    per_method
        .into_iter()
        .map(|(method, daily)| (method, daily_loads(&daily, from_day, to_day)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::training::FtpSource;

    fn row(id: &str, end_time: i64, curve: [Option<f64>; 5], load: f64) -> TrainingRow {
        TrainingRow {
            id: id.to_owned(),
            end_time,
            training: WorkoutTraining {
                power_curve_watts: curve,
                load: Some((LoadMethod::Power, load)),
                power_zone_seconds: Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
                effort_points: Some(1.5),
                ftp: FtpInForce::new(Some(100.0 + (end_time / DAY_S) as f64 / 10.0), Some("x")),
                ..WorkoutTraining::default()
            },
        }
    }

    #[test]
    fn curve_windows_totals_and_ftp() {
        let now = 1000 * DAY_S;
        let rows = vec![
            row(
                "old",
                now - 200 * DAY_S,
                [Some(900.0), Some(250.0), Some(220.0), None, None],
                80.0,
            ),
            row(
                "new",
                now - DAY_S,
                [Some(500.0), Some(300.0), None, None, None],
                50.0,
            ),
        ];
        let s = summarize(&rows, now);
        assert_eq!(
            s.power_curve_all_time,
            [Some(900.0), Some(300.0), Some(220.0), None, None]
        );
        assert_eq!(
            s.power_curve_90d,
            [Some(500.0), Some(300.0), None, None, None]
        );
        assert_eq!(
            s.power_zone_seconds,
            Some([2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0])
        );
        assert_eq!(s.effort_points, Some(3.0));
        assert_eq!(s.load_totals.get(&LoadMethod::Power), Some(&130.0));
        assert_eq!(s.zone_ftp.map(|f| f.watts), Some(100.0 + 99.9));
        assert_eq!(s.zone_ftp.map(|f| f.source), Some(FtpSource::Unknown));
        // Yesterday's 50 and an old 80, decayed to the end of today (a rest day).
        let loads = s.loads.get(&LoadMethod::Power).copied().unwrap_or_default();
        assert!(loads.ctl > 0.0 && loads.atl > 0.0 && loads.atl > loads.ctl);
        assert!(!s.loads.contains_key(&LoadMethod::HeartRateTrimp));
        assert_eq!(s.day, 1000);
        // 91 days on, the recent window is empty and the loads have decayed.
        let later = summarize(&rows, now + 91 * DAY_S);
        assert_eq!(later.power_curve_90d, [None; 5]);
        assert_eq!(later.power_curve_all_time, s.power_curve_all_time);
        let decayed = later
            .loads
            .get(&LoadMethod::Power)
            .copied()
            .unwrap_or_default();
        assert!(decayed.ctl < loads.ctl && decayed.atl < loads.atl);
    }

    #[test]
    fn nothing_is_nothing() {
        let s = summarize(&[], 5 * DAY_S);
        assert_eq!(s.power_curve_all_time, [None; 5]);
        assert_eq!(s.power_zone_seconds, None);
        assert_eq!(s.effort_points, None);
        assert!(s.loads.is_empty());
        assert_eq!(s.zone_ftp, None);
        assert_eq!(utc_day(-1), -1);
    }

    #[test]
    fn daily_history_per_method() {
        let rows = vec![row("a", 10 * DAY_S + 5, [None; 5], 100.0)];
        let h = daily_history(&rows, 10, 12);
        let power = h.get(&LoadMethod::Power).cloned().unwrap_or_default();
        assert_eq!(
            power.iter().map(|(d, _)| *d).collect::<Vec<_>>(),
            vec![10, 11, 12]
        );
        assert!(power.windows(2).all(|w| w[1].1.ctl < w[0].1.ctl));
    }
}
