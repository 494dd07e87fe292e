//! A ride in progress: its latest sample, its running totals, and when to stop watching
//! it. Live values never feed a lifetime total; the finished workout is counted once from
//! its final detail and graph, like any other.
//!
//! A live value that is not current is worse than none (a stale "current heart rate"
//! drives a fan or an automation), so every value here is absent once its sample is older
//! than a bound, and the whole ride is dropped when Peloton stops calling it in progress.

use super::WorkoutSummary;
use super::fetched::{POWER_DISCIPLINES, WorkoutGraph};
use super::plausible;
use super::training::{MAX_PLAUSIBLE_WATTS, power_zone};

/// Live polling ends this long after the class should have ended.
pub const PAST_CLASS_END_SECONDS: f64 = 30.0 * 60.0;
/// The class length assumed until the graph gives one.
pub const UNKNOWN_CLASS_SECONDS: f64 = 3.0 * 3600.0;
/// A ride whose samples stopped growing this long ago is no longer watched (a workout left
/// `IN_PROGRESS` by an app that died).
pub const NO_NEW_SAMPLE_GIVE_UP_SECONDS: f64 = 10.0 * 60.0;

/// The latest sample of a ride, in base units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveSample {
    /// Seconds since the member started pedalling.
    pub elapsed_seconds: f64,
    pub output_watts: Option<f64>,
    pub cadence_rpm: Option<f64>,
    pub resistance_ratio: Option<f64>,
    pub speed_meters_per_second: Option<f64>,
    pub heart_rate_bpm: Option<f64>,
    /// 1..=5, from the member's own zones in the graph.
    pub heart_rate_zone: Option<u8>,
    /// 1..=7, at the FTP Peloton draws zones with.
    pub power_zone: Option<u8>,
}

/// A ride being watched.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveRide {
    pub workout_id: String,
    pub discipline: String,
    pub title: Option<String>,
    pub instructor: Option<String>,
    /// Unix seconds.
    pub started_at: f64,
    pub class_length_seconds: Option<f64>,
    pub sample: Option<LiveSample>,
    /// Output so far.
    pub output_joules: Option<f64>,
    /// Distance so far.
    pub distance_meters: Option<f64>,
    /// Unix seconds when the latest sample was first seen.
    pub sample_seen_at: Option<f64>,
    /// The list was read again since the samples last grew (the ride may have ended).
    pub list_checked: bool,
}

impl LiveRide {
    /// Watching starts with the list item; `now` stands in for a missing start time.
    pub fn start(w: &WorkoutSummary, now: f64) -> Self {
        Self {
            workout_id: w.id.clone(),
            discipline: w.discipline.clone(),
            title: w.title.clone(),
            instructor: w.instructor.clone(),
            started_at: w.start_time.filter(|t| *t <= now).unwrap_or(now),
            class_length_seconds: None,
            sample: None,
            output_joules: None,
            distance_meters: None,
            sample_seen_at: None,
            list_checked: false,
        }
    }

    /// Takes in a fresh graph. Returns whether it brought a newer sample than the last.
    pub fn observe(&mut self, graph: &WorkoutGraph, zone_ftp: Option<f64>, now: f64) -> bool {
        if graph.class_length_seconds.is_some() {
            self.class_length_seconds = graph.class_length_seconds;
        }
        // Power zones describe bike power only; Tread and Row output is on other scales.
        let zone_ftp = zone_ftp.filter(|_| POWER_DISCIPLINES.contains(&self.discipline.as_str()));
        let Some(sample) = latest_sample(graph, zone_ftp) else {
            return false;
        };
        let grew = self
            .sample
            .is_none_or(|s| sample.elapsed_seconds > s.elapsed_seconds);
        if !grew {
            return false;
        }
        self.sample = Some(sample);
        self.sample_seen_at = Some(now);
        // Running totals only grow while a ride runs: a smaller one is a glitch.
        self.output_joules = grow(self.output_joules, graph.output_joules);
        self.distance_meters = grow(self.distance_meters, graph.distance_meters);
        self.list_checked = false;
        true
    }

    /// The latest sample while it is at most `stale_after` seconds old.
    pub fn current(&self, now: f64, stale_after: f64) -> Option<&LiveSample> {
        let seen = self.sample_seen_at?;
        (now - seen <= stale_after)
            .then_some(self.sample.as_ref())
            .flatten()
    }

    /// Whether watching this ride is over although Peloton still calls it in progress:
    /// past the class end plus a margin, or no new sample for a long while.
    pub fn expired(&self, now: f64) -> bool {
        let class = self.class_length_seconds.unwrap_or(UNKNOWN_CLASS_SECONDS);
        let past_end = now > self.started_at + class + PAST_CLASS_END_SECONDS;
        let quiet_since = self.sample_seen_at.unwrap_or(self.started_at);
        let quiet =
            self.sample_seen_at.is_some() && now - quiet_since > NO_NEW_SAMPLE_GIVE_UP_SECONDS;
        past_end || quiet
    }
}

fn grow(before: Option<f64>, now: Option<f64>) -> Option<f64> {
    match (before, now) {
        (Some(b), Some(n)) => Some(b.max(n)),
        (b, n) => n.or(b),
    }
}

/// The last slot of the graph's trace that holds any value, each channel as it is there;
/// `zone_ftp` only for bike power.
pub fn latest_sample(graph: &WorkoutGraph, zone_ftp: Option<f64>) -> Option<LiveSample> {
    let t = &graph.trace;
    let last = (0..t.len()).rev().find(|i| {
        t.channels()
            .iter()
            .any(|(_, c)| c.get(*i).is_some_and(Option::is_some))
    })?;
    let at = |c: &Vec<Option<f64>>| c.get(last).copied().flatten();
    let elapsed = f64::from(t.offset_s) + last as f64 * f64::from(t.step_s);
    let output = plausible::within(at(&t.output_watts), MAX_PLAUSIBLE_WATTS);
    let heart_rate = at(&t.heart_rate_bpm).filter(|h| *h > 0.0 && *h <= 250.0);
    Some(LiveSample {
        elapsed_seconds: elapsed,
        output_watts: output,
        cadence_rpm: plausible::within(at(&t.cadence_rpm), 300.0),
        resistance_ratio: plausible::within(at(&t.resistance_ratio), 1.0),
        speed_meters_per_second: plausible::within(at(&t.speed_meters_per_second), 30.0),
        heart_rate_bpm: heart_rate,
        heart_rate_zone: heart_rate
            .zip(graph.hr_zone_floors_bpm)
            .and_then(|(hr, floors)| {
                u8::try_from(floors.iter().filter(|floor| hr >= **floor).count())
                    .ok()
                    .filter(|z| *z >= 1)
            }),
        power_zone: output.zip(zone_ftp).and_then(|(w, ftp)| power_zone(w, ftp)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::training::Trace;

    fn graph(elapsed_slots: usize) -> WorkoutGraph {
        let ramp = |base: f64| (0..elapsed_slots).map(|i| Some(base + i as f64)).collect();
        WorkoutGraph {
            trace: Trace {
                step_s: 1,
                offset_s: 0,
                output_watts: ramp(100.0),
                cadence_rpm: ramp(80.0),
                resistance_ratio: vec![Some(0.4); elapsed_slots],
                speed_meters_per_second: vec![Some(8.0); elapsed_slots],
                heart_rate_bpm: ramp(120.0),
            },
            has_output: true,
            class_length_seconds: Some(2700.0),
            hr_zone_floors_bpm: Some([0.0, 116.0, 134.0, 152.0, 170.0]),
            output_joules: Some(elapsed_slots as f64 * 100.0),
            distance_meters: Some(elapsed_slots as f64 * 8.0),
            ..WorkoutGraph::default()
        }
    }

    fn ride() -> LiveRide {
        let w: WorkoutSummary = serde_json::from_value(serde_json::json!({
            "id": "w", "discipline": "cycling", "status": "InProgress", "created_at": 1000.0,
            "start_time": 1000.0, "end_time": null, "title": "45 min Power Zone Ride",
            "instructor": null, "workout_type": null, "device_type": null,
            "duration_seconds": null, "output_joules": null, "distance_meters": null,
            "elevation_meters": null, "energy_joules": null, "stats": {},
            "hr_zone_seconds": null, "effort_points": null, "leaderboard_rank": null,
            "leaderboard_users": null
        }))
        .unwrap();
        LiveRide::start(&w, 2000.0)
    }

    #[test]
    fn the_latest_sample_with_its_zones() {
        let s = latest_sample(&graph(60), Some(200.0)).unwrap();
        assert_eq!(s.elapsed_seconds, 59.0);
        assert_eq!(s.output_watts, Some(159.0));
        assert_eq!(s.cadence_rpm, Some(139.0));
        assert_eq!(s.heart_rate_bpm, Some(179.0));
        assert_eq!(s.heart_rate_zone, Some(5));
        // 159 W at an FTP of 200 W is 79.5 %: zone 3.
        assert_eq!(s.power_zone, Some(3));
        let early = latest_sample(&graph(10), Some(200.0)).unwrap();
        assert_eq!(early.heart_rate_zone, Some(2), "129 bpm");
        assert_eq!(latest_sample(&graph(10), None).unwrap().power_zone, None);
        assert_eq!(latest_sample(&graph(0), Some(200.0)), None);
    }

    #[test]
    fn samples_go_stale_and_totals_never_step_back() {
        let mut r = ride();
        assert!(r.observe(&graph(60), Some(200.0), 2000.0));
        assert_eq!(r.output_joules, Some(6000.0));
        assert!(r.current(2010.0, 30.0).is_some());
        assert!(r.current(2031.0, 30.0).is_none(), "older than the bound");
        // The same graph again: nothing new, the ride may have ended.
        assert!(!r.observe(&graph(60), Some(200.0), 2040.0));
        let mut shrunk = graph(61);
        shrunk.output_joules = Some(10.0);
        assert!(r.observe(&shrunk, Some(200.0), 2050.0));
        assert_eq!(r.output_joules, Some(6000.0));
    }

    #[test]
    fn watching_ends_past_the_class_or_after_a_long_silence() {
        let mut r = ride();
        assert!(!r.expired(1000.0 + 7200.0), "class length unknown: 3 h");
        r.observe(&graph(60), None, 1100.0);
        assert!(!r.expired(1600.0));
        assert!(r.expired(1100.0 + NO_NEW_SAMPLE_GIVE_UP_SECONDS + 1.0));
        let mut r = ride();
        r.class_length_seconds = Some(2700.0);
        assert!(r.expired(1000.0 + 2700.0 + PAST_CLASS_END_SECONDS + 1.0));
    }
}
