//! A workout's per-sample trace as timestamped samples of the `peloton_trace_*` families:
//! the one conversion both the backfill file and remote write use, so they cannot place a
//! sample differently.

use std::collections::BTreeMap;

use crate::domain::training::Trace;
use crate::domain::{Status, WorkoutSummary};
use crate::metrics::catalogue::labels::{Account, NoLabels};
use crate::metrics::catalogue::{self as c, Metric};

/// Timestamped samples: (Unix seconds, value), timestamps increasing.
pub type Samples = Vec<(i64, f64)>;

/// The start (Unix seconds) of each workout whose trace is written: the completed ones,
/// and imports only when they count (`--peloton.include-imported`), as in the totals.
pub fn starts(workouts: &[WorkoutSummary], include_imported: bool) -> BTreeMap<&str, i64> {
    workouts
        .iter()
        .filter(|w| w.status == Status::Complete)
        .filter(|w| include_imported || !w.imported)
        .filter_map(|w| Some((w.id.as_str(), w.start_time? as i64)))
        .collect()
}

/// The labels of an account's trace series: `account` when there are several accounts,
/// then the extra labels (`--label`, `--remote-write.label`).
pub fn labels(account: Option<&str>, extra: &[(String, String)]) -> Vec<(String, String)> {
    Account::labels(account)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().cloned())
        .collect()
}

/// One channel (in the order of `Trace::channels` and `catalogue::TRACES`) of a workout
/// that started at `start`, leaving out samples at or before `last`, which it advances:
/// overlapping workouts (two devices at once) never step a series back.
///
/// Slot `i` is sampled `offset_s + i × step_s` after the start. A gap keeps its slot and
/// gives no sample, so the samples after it keep their own time: a gap is never bridged by
/// pulling what follows forward (`domain::training` keeps gaps in place for the same
/// reason). A step of 0 says the graph's spacing is unknown: its samples cannot be placed,
/// and any spacing assumed (1 s, say) would stretch or squeeze the ride, so none are
/// given, as `Trace::power` gives no power series then.
pub fn channel(trace: &Trace, channel: usize, start: i64, last: &mut i64) -> Samples {
    let Some((_, values)) = trace.channels().get(channel).copied() else {
        return Samples::new();
    };
    if trace.step_s == 0 {
        return Samples::new();
    }
    let first = start + i64::from(trace.offset_s);
    let step = i64::from(trace.step_s);
    let samples: Samples = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((first + i as i64 * step, (*v)?)))
        .filter(|(ts, _)| *ts > *last)
        .collect();
    if let Some((ts, _)) = samples.last() {
        *last = *ts;
    }
    samples
}

/// Every channel of a workout with its family; `last` holds each channel's last timestamp
/// written (see [`channel`]).
pub fn samples(trace: &Trace, start: i64, last: &mut [i64; 5]) -> Vec<(Metric<NoLabels>, Samples)> {
    c::TRACES
        .iter()
        .zip(last.iter_mut())
        .enumerate()
        .map(|(k, (metric, last))| (*metric, channel(trace, k, start, last)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ride(seconds: usize, watts: f64) -> Trace {
        Trace {
            step_s: 1,
            offset_s: 1,
            output_watts: vec![Some(watts); seconds],
            cadence_rpm: vec![Some(80.0); seconds],
            resistance_ratio: Vec::new(),
            speed_meters_per_second: Vec::new(),
            heart_rate_bpm: (0..seconds)
                .map(|i| (i % 2 == 0).then_some(120.0))
                .collect(),
        }
    }

    #[test]
    fn traces_are_timed_from_the_start_and_overlaps_never_step_back() {
        let mut last = [i64::MIN; 5];
        let first = samples(&ride(100, 200.0), 1_000, &mut last);
        let output = &first[0].1;
        assert_eq!(first[0].0.def, c::TRACE_OUTPUT.def);
        assert_eq!(
            output.first(),
            Some(&(1_001, 200.0)),
            "offset from the start"
        );
        assert_eq!(output.last(), Some(&(1_100, 200.0)));
        assert!(first[2].1.is_empty(), "a channel the graph lacks");
        // A second device's workout that began 50 s before the first one ended.
        let second = samples(&ride(100, 300.0), 1_050, &mut last);
        assert_eq!(second[0].1.first(), Some(&(1_101, 300.0)));
        assert_eq!(second[0].1.len(), 50);
    }

    #[test]
    fn gaps_keep_their_time_and_steps_space_the_samples() {
        let mut last = i64::MIN;
        let hr = channel(&ride(6, 1.0), 4, 0, &mut last);
        assert_eq!(
            hr,
            [(1, 120.0), (3, 120.0), (5, 120.0)],
            "gaps left out, not closed"
        );
        let every_5 = Trace {
            step_s: 5,
            offset_s: 2,
            output_watts: vec![Some(100.0), None, Some(120.0)],
            ..Trace::default()
        };
        let mut last = i64::MIN;
        assert_eq!(
            channel(&every_5, 0, 1_000, &mut last),
            [(1_002, 100.0), (1_012, 120.0)]
        );
        // An unknown step places nothing rather than inventing a spacing.
        let unknown = Trace {
            step_s: 0,
            ..every_5
        };
        let mut last = i64::MIN;
        assert!(channel(&unknown, 0, 1_000, &mut last).is_empty());
        assert_eq!(last, i64::MIN);
    }

    #[test]
    fn imports_have_traces_only_when_they_count() {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": "w", "status": "COMPLETE", "fitness_discipline": "running",
            "start_time": 100, "end_time": 200, "is_3p_fit_feed_workout": true
        }))
        .unwrap();
        let import = WorkoutSummary::from_list_item(&item).unwrap();
        assert!(import.imported);
        let workouts = [import];
        assert!(starts(&workouts, false).is_empty());
        assert_eq!(starts(&workouts, true).get("w"), Some(&100));
    }
}
