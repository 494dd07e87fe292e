//! The stored history as timestamped OpenMetrics, for
//! `promtool tsdb create-blocks-from openmetrics`: the same metric names and labels as the
//! live `/metrics`, counters climbing workout by workout, the latest-workout gauges as
//! they were after each workout.
//!
//! Every series of an account gets a sample at each of its workouts, one a week through
//! breaks longer than that, and one at the end: a range query sees each series up to the
//! end and `increase()` over a week works without gaps. No other timestamps are added, as
//! promtool writes one two-hour block per window that has a sample.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::domain::totals::Totals;
use crate::domain::training::WorkoutTraining;
use crate::domain::training_summary::{
    RECENT_WINDOW_S, TrainingRow, TrainingSummary, best as best_of, daily_history, utc_day,
};
use crate::domain::{Status, WorkoutSummary};
use crate::exposition::classic::{escape_label, number};
use crate::metrics::catalogue as c;
use crate::metrics::collectors::Collectors;
use crate::metrics::family::{Def, Kind, Labels, Value};
use crate::metrics::{self, AccountView, BuildInfo};
use crate::state::snapshot::Snapshot;
use crate::store::database::Store;

/// Prometheus' head block covers the last couple of hours; blocks written there would
/// overlap it, so the backfill never covers the last three.
pub const RECENT_SECONDS: i64 = 3 * 3600;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// The families a history can give (the overview's streaks and records, and the exporter's
/// own health, have no history).
const HISTORY_FAMILIES: &[Def] = &[
    c::WORKOUTS,
    c::OUTPUT_TOTAL,
    c::DURATION_TOTAL,
    c::DISTANCE_TOTAL,
    c::ENERGY_TOTAL,
    c::HR_ZONE_TOTAL,
    c::IMPORTED_WORKOUTS,
    c::INSTRUCTOR_WORKOUTS,
    c::POWER_CURVE,
    c::POWER_ZONE_FTP,
    c::POWER_ZONE_TOTAL,
    c::TRAINING_LOAD_TOTAL,
    c::EFFORT_POINTS_TOTAL,
];

/// Fitness, fatigue and form: one sample at the end of each UTC day.
const DAILY_FAMILIES: &[Def] = &[
    c::TRAINING_LOAD_CHRONIC,
    c::TRAINING_LOAD_ACUTE,
    c::TRAINING_FORM,
];

#[derive(Debug, Clone)]
pub struct Options {
    /// Unix seconds; samples before are not written (the counters still include them).
    pub from: Option<i64>,
    /// Unix seconds; clamped to three hours ago.
    pub to: i64,
    /// Added to every series.
    pub labels: Vec<(String, String)>,
    /// Switched-off groups are not written, as on `/metrics`.
    pub collectors: Collectors,
    /// `--peloton.include-imported`: imported workouts count in the totals and can be the
    /// latest, as on `/metrics`.
    pub include_imported: bool,
    /// Write each workout's per-sample trace (`peloton_trace_*`) from `AccountHistory`.
    pub traces: bool,
}

/// One account's completed workouts, in any order.
#[derive(Debug)]
pub struct AccountHistory {
    pub account: Option<String>,
    pub workouts: Vec<WorkoutSummary>,
    /// The stored training analytics of these workouts.
    pub training: Vec<TrainingRow>,
    /// Where the per-sample traces are read from, one workout at a time, with
    /// `Options::traces` (they are too big to hold: ~10 values per second of training).
    pub traces: Option<std::sync::Arc<Store>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub workouts: u64,
    pub series: u64,
    pub samples: u64,
}

type SeriesKey = (usize, Vec<(String, String)>);
/// Label pairs of one series.
pub type OwnedLabels = Vec<(String, String)>;
/// Timestamped samples (Unix seconds, value).
pub type Samples = Vec<(i64, f64)>;
/// One series as the writers see it.
pub type SeriesRef<'a> = (&'a Def, &'a [(String, String)], &'a [(i64, f64)]);

/// Samples per (family, labels), timestamps increasing.
#[derive(Debug, Default)]
pub struct Collected {
    defs: Vec<Def>,
    series: BTreeMap<SeriesKey, Vec<(i64, f64)>>,
    pub stats: Stats,
}

impl Collected {
    fn add(&mut self, family: usize, labels: Vec<(String, String)>, ts: i64, value: f64) {
        let samples = self.series.entry((family, labels)).or_default();
        match samples.last_mut() {
            Some((last, v)) if *last == ts => *v = value,
            Some((last, _)) if *last > ts => {}
            _ => samples.push((ts, value)),
        }
    }
}

impl Collected {
    /// Every series with its family, samples in time order; families in catalogue order.
    pub fn series(&self) -> impl Iterator<Item = SeriesRef<'_>> {
        self.series
            .iter()
            .filter_map(|((family, labels), samples)| {
                Some((
                    self.defs.get(*family)?,
                    labels.as_slice(),
                    samples.as_slice(),
                ))
            })
    }
}

/// Writes the histories as OpenMetrics, never covering the last three hours; returns
/// what was written.
pub fn write(
    histories: &[AccountHistory],
    options: &Options,
    out: &mut impl Write,
) -> io::Result<Stats> {
    let options = Options {
        to: options.to.min(crate::clock::now_unix() - RECENT_SECONDS),
        ..options.clone()
    };
    let collected = collect(histories, &options);
    write_text(&collected, out)?;
    let mut stats = collected.stats;
    if options.traces {
        stats.samples += write_traces(histories, &options, out)?;
    }
    out.write_all(b"# EOF\n")?;
    Ok(stats)
}

/// The samples of the histories up to `options.to`.
pub fn collect(histories: &[AccountHistory], options: &Options) -> Collected {
    let to = options.to;
    let from = options.from.unwrap_or(i64::MIN);
    let mut defs: Vec<Def> = HISTORY_FAMILIES.to_vec();
    let mut collected = Collected::default();
    let mut stats = Stats::default();
    for history in histories {
        let mut workouts: Vec<&WorkoutSummary> = history
            .workouts
            .iter()
            .filter(|w| w.status == Status::Complete)
            .filter(|w| at(w).is_some_and(|t| t <= to))
            .collect();
        workouts.sort_by_key(|w| (at(w).unwrap_or(0), w.id.clone()));
        stats.workouts += workouts.len() as u64;
        let mut totals = Totals::new(options.include_imported);
        let mut latest: Option<WorkoutSummary> = None;
        let mut last_emit: Option<i64> = None;
        let analytics: BTreeMap<&str, &WorkoutTraining> = history
            .training
            .iter()
            .map(|r| (r.id.as_str(), &r.training))
            .collect();
        let mut training = TrainingSummary::default();
        let mut recent = RecentCurve::default();
        let mut zone_ftp_at = None;
        let mut latest_training: Option<WorkoutTraining> = None;
        let emit = |ts: i64,
                    totals: &Totals,
                    latest: &Option<WorkoutSummary>,
                    training: (&TrainingSummary, &Option<WorkoutTraining>),
                    defs: &mut Vec<Def>,
                    collected: &mut Collected| {
            if ts < from {
                return;
            }
            let snapshot = Snapshot {
                totals: totals.clone(),
                workout_counts: totals.workouts.clone(),
                latest: latest.clone(),
                training: Some(training.0.clone()),
                latest_training: training.1.clone(),
                ..Snapshot::default()
            };
            let view = AccountView {
                account: history.account.clone(),
                snapshot: std::sync::Arc::new(snapshot),
                telemetry: crate::state::telemetry::Telemetry::default().values(),
            };
            for family in metrics::families(BuildInfo::CURRENT, &[view], &options.collectors) {
                let wanted = HISTORY_FAMILIES.contains(&family.def)
                    || family.def.base.starts_with("peloton_latest_workout");
                if !wanted {
                    continue;
                }
                let index = family_index(defs, family.def);
                for series in family.series {
                    if let Value::Number(v) = series.value {
                        collected.add(index, with_extra(series.labels, &options.labels), ts, v);
                    }
                }
            }
        };
        let first_day = workouts.first().and_then(|w| at(w)).map(utc_day);
        for w in workouts {
            let Some(t) = at(w) else { continue };
            while let Some(beat) = last_emit.map(|l| l + WEEK).filter(|b| *b < t) {
                training.power_curve_90d = recent.at(beat);
                let state = (&training, &latest_training);
                emit(beat, &totals, &latest, state, &mut defs, &mut collected);
                last_emit = Some(beat);
            }
            totals.update(None, w);
            if options.include_imported || !w.imported {
                latest = Some(w.clone());
                latest_training = analytics.get(w.id.as_str()).map(|t| (*t).clone());
                if let Some(t_w) = &latest_training {
                    training.add(t, t_w, &mut zone_ftp_at);
                    recent.push(t, t_w.power_curve_watts);
                }
            }
            training.power_curve_90d = recent.at(t);
            let state = (&training, &latest_training);
            emit(t, &totals, &latest, state, &mut defs, &mut collected);
            last_emit = Some(t);
        }
        while let Some(beat) = last_emit.map(|l| l + WEEK).filter(|b| *b < to) {
            training.power_curve_90d = recent.at(beat);
            let state = (&training, &latest_training);
            emit(beat, &totals, &latest, state, &mut defs, &mut collected);
            last_emit = Some(beat);
        }
        if latest.is_some() {
            training.power_curve_90d = recent.at(to);
            let state = (&training, &latest_training);
            emit(to, &totals, &latest, state, &mut defs, &mut collected);
        }
        if let Some(first_day) = first_day {
            daily_loads(history, first_day, options, &mut defs, &mut collected);
        }
    }

    stats.series = collected.series.len() as u64;
    stats.samples = collected.series.values().map(|s| s.len() as u64).sum();
    collected.defs = defs;
    collected.stats = stats;
    collected
}

/// The workouts' curves of the last 90 days, as the history walks forward in time: the
/// 90-day curve at each sample, as `/metrics` showed it then (between workouts it moves
/// with the weekly samples).
#[derive(Debug, Default)]
struct RecentCurve {
    curves: std::collections::VecDeque<(i64, [Option<f64>; 5])>,
}

impl RecentCurve {
    fn push(&mut self, end_time: i64, curve: [Option<f64>; 5]) {
        self.curves.push_back((end_time, curve));
    }

    /// The best per duration over workouts that ended in `(at − 90 days, at]`; `at` never
    /// goes back between calls.
    fn at(&mut self, at: i64) -> [Option<f64>; 5] {
        let from = at.saturating_sub(RECENT_WINDOW_S);
        while self.curves.front().is_some_and(|(t, _)| *t <= from) {
            self.curves.pop_front();
        }
        let mut best = [None; 5];
        for (_, curve) in self.curves.iter().filter(|(t, _)| *t <= at) {
            for (slot, watts) in best.iter_mut().zip(curve) {
                *slot = best_of(*slot, *watts);
            }
        }
        best
    }
}

/// CTL, ATL and form at the end of every UTC day from the first workout to `options.to`.
fn daily_loads(
    history: &AccountHistory,
    first_day: i64,
    options: &Options,
    defs: &mut Vec<Def>,
    collected: &mut Collected,
) {
    let last_day = utc_day(options.to);
    let from = options.from.unwrap_or(i64::MIN);
    let from_day = first_day.max(utc_day(from));
    let per_method = daily_history(&history.training, from_day, last_day);
    let mut by_day: BTreeMap<i64, TrainingSummary> = BTreeMap::new();
    for (method, days) in per_method {
        for (day, loads) in days {
            by_day.entry(day).or_default().loads.insert(method, loads);
        }
    }
    for (day, summary) in by_day {
        let ts = ((day + 1) * DAY - 1).min(options.to);
        if ts < from {
            continue;
        }
        let view = AccountView {
            account: history.account.clone(),
            snapshot: std::sync::Arc::new(Snapshot {
                training: Some(summary),
                ..Snapshot::default()
            }),
            telemetry: crate::state::telemetry::Telemetry::default().values(),
        };
        for family in metrics::families(BuildInfo::CURRENT, &[view], &options.collectors) {
            if !DAILY_FAMILIES.contains(&family.def) {
                continue;
            }
            let index = family_index(defs, family.def);
            for series in family.series {
                if let Value::Number(v) = series.value {
                    collected.add(index, with_extra(series.labels, &options.labels), ts, v);
                }
            }
        }
    }
}

/// Each workout's samples at the graph's resolution, timestamped from its start, streamed
/// from the store family by family: one series per channel and account (never one per
/// workout, which would be unbounded). Returns the samples written.
fn write_traces(
    histories: &[AccountHistory],
    options: &Options,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut written = 0;
    for (k, def) in c::TRACES.iter().enumerate() {
        let mut header = false;
        for history in histories {
            let Some(store) = &history.traces else {
                continue;
            };
            let starts: BTreeMap<&str, i64> = history
                .workouts
                .iter()
                .filter(|w| w.status == Status::Complete)
                .filter_map(|w| Some((w.id.as_str(), w.start_time? as i64)))
                .collect();
            let mut base: Labels = Vec::new();
            if let Some(account) = &history.account {
                base.push(("account", account.clone()));
            }
            let labels = render_labels(&with_extra(base, &options.labels));
            let sample = def.sample_name();
            let from = options.from.unwrap_or(i64::MIN);
            // A trace runs from its workout's start to about its end, and no plausible
            // workout lasts a day: those ending two days either side of the range cannot
            // hold a sample in it (a month of --split reads only its own).
            let ending = from.saturating_sub(2 * DAY)..=options.to.saturating_add(2 * DAY);
            let mut last_ts = i64::MIN;
            let mut result = Ok(());
            store
                .for_each_trace(ending, |id, trace| {
                    let Some(start) = starts.get(id) else { return };
                    let Some((_, channel)) = trace.channels().get(k).copied() else {
                        return;
                    };
                    let first = start + i64::from(trace.offset_s);
                    for (i, value) in channel.iter().enumerate() {
                        let ts = first + i as i64 * i64::from(trace.step_s);
                        // Overlapping workouts: a series' timestamps must increase.
                        if ts < from || ts > options.to || ts <= last_ts || result.is_err() {
                            continue;
                        }
                        let Some(v) = value else { continue };
                        if !header {
                            result = write_header(out, def);
                            header = true;
                        }
                        if result.is_ok() {
                            result = writeln!(out, "{sample}{labels} {} {ts}", number(*v));
                            written += 1;
                            last_ts = ts;
                        }
                    }
                })
                .map_err(|e| io::Error::other(e.to_string()))?;
            result?;
        }
    }
    Ok(written)
}

fn family_index(defs: &mut Vec<Def>, def: Def) -> usize {
    defs.iter().position(|d| *d == def).unwrap_or_else(|| {
        defs.push(def);
        defs.len() - 1
    })
}

fn write_text(collected: &Collected, out: &mut impl Write) -> io::Result<()> {
    let mut by_family: BTreeMap<usize, Vec<(&OwnedLabels, &Samples)>> = BTreeMap::new();
    for ((family, labels), samples) in &collected.series {
        by_family
            .entry(*family)
            .or_default()
            .push((labels, samples));
    }
    for (index, series) in by_family {
        let Some(def) = collected.defs.get(index) else {
            continue;
        };
        write_family(out, def, &series)?;
    }
    Ok(())
}

/// One file of a split backfill: a UTC calendar month, cut to the asked range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// `2024-01`.
    pub name: String,
    /// First and last second written (both included).
    pub from: i64,
    pub to: i64,
}

/// The UTC calendar months between the histories' first sample (the earliest start of a
/// workout: traces begin there) and `to`, each cut to `from..=to`. promtool reads its
/// whole input once per block window, so one file per month costs it a month's bytes per
/// window instead of the whole history's.
pub fn months(histories: &[AccountHistory], from: Option<i64>, to: i64) -> Vec<Month> {
    let first = histories
        .iter()
        .flat_map(|h| &h.workouts)
        .flat_map(|w| [w.start_time, w.end_time, w.created_at])
        .flatten()
        .map(|t| t as i64)
        .min();
    let Some(first) = first else {
        return Vec::new();
    };
    let start = first.max(from.unwrap_or(i64::MIN));
    let mut out = Vec::new();
    let mut begins = start;
    while begins <= to {
        let (year, month) = crate::clock::utc_year_month(begins);
        // Month 13 carries into January of the next year.
        let next = crate::clock::utc_month_start(year, month + 1);
        out.push(Month {
            name: format!("{year:04}-{month:02}"),
            from: begins,
            to: (next - 1).min(to),
        });
        begins = next;
    }
    out
}

/// When a workout happened, for its samples: its end, else its start.
pub fn at(w: &WorkoutSummary) -> Option<i64> {
    w.end_time
        .or(w.start_time)
        .or(w.created_at)
        .map(|t| t as i64)
}

fn with_extra(labels: Labels, extra: &[(String, String)]) -> Vec<(String, String)> {
    labels
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(extra.iter().cloned())
        .collect()
}

fn write_family(
    out: &mut impl Write,
    def: &Def,
    series: &[(&OwnedLabels, &Samples)],
) -> io::Result<()> {
    write_header(out, def)?;
    let sample = def.sample_name();
    for (labels, samples) in series {
        let labels = render_labels(labels);
        for (ts, v) in *samples {
            writeln!(out, "{sample}{labels} {} {ts}", number(*v))?;
        }
    }
    Ok(())
}

fn render_labels(labels: &[(String, String)]) -> String {
    let rendered: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
        .collect();
    if rendered.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", rendered.join(","))
    }
}

fn write_header(out: &mut impl Write, def: &Def) -> io::Result<()> {
    let family = def.family_name();
    let kind = match def.kind {
        Kind::Gauge => "gauge",
        Kind::Counter => "counter",
        Kind::Info => "info",
        Kind::Histogram => "histogram",
    };
    writeln!(out, "# TYPE {family} {kind}")?;
    if let Some(unit) = def.unit {
        writeln!(out, "# UNIT {family} {unit}")?;
    }
    writeln!(out, "# HELP {family} {}", def.help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workout(id: &str, discipline: &str, start: i64, work: f64) -> WorkoutSummary {
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": id, "status": "COMPLETE", "fitness_discipline": discipline, "total_work": work,
            "start_time": start, "end_time": start + 1800, "created_at": start,
            "ride": {"title": "30 min \"Ride\"", "instructor": {"name": "Coach"}}
        }))
        .unwrap();
        WorkoutSummary::from_list_item(&item).unwrap()
    }

    #[test]
    fn switched_off_groups_are_not_written() {
        use crate::metrics::collectors::Collector;
        let day = 1_700_006_400;
        let history = || AccountHistory {
            account: None,
            workouts: vec![workout("a", "cycling", day + 100, 100.0)],
            training: vec![],
            traces: None,
        };
        let text = |collectors: Collectors| {
            let options = Options {
                from: None,
                to: day + 2 * DAY,
                labels: vec![],
                collectors,
                include_imported: false,
                traces: false,
            };
            let mut out = Vec::new();
            write(&[history()], &options, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let all = text(Collectors::default());
        assert!(all.contains("peloton_instructor_workouts_total{"));
        assert!(all.contains("peloton_latest_workout_output_joules "));
        let some = text(Collectors::new([
            (Collector::Instructor, false),
            (Collector::LatestWorkout, false),
        ]));
        assert!(!some.contains("peloton_instructor_workouts"), "{some}");
        assert!(!some.contains("peloton_latest_workout"), "{some}");
        assert!(some.contains("peloton_output_joules_total{"));
    }

    #[test]
    fn months_tile_the_range_and_split_files_hold_every_sample_once() {
        // 2024-01-30T12:00Z, 2024-02-15 and 2024-03-02: three months, the first and
        // last cut to the samples.
        let jan30 = 1_706_616_000;
        let history = || AccountHistory {
            account: None,
            workouts: vec![
                workout("a", "cycling", jan30, 100.0),
                workout("b", "cycling", jan30 + 16 * DAY, 200.0),
                workout("c", "yoga", jan30 + 31 * DAY, 0.0),
            ],
            training: vec![],
            traces: None,
        };
        let to = jan30 + 40 * DAY;
        let months = months(&[history()], None, to);
        let names: Vec<&str> = months.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["2024-01", "2024-02", "2024-03"]);
        assert_eq!(months[0].from, jan30);
        assert_eq!(months[1].from, 1_706_745_600); // 2024-02-01T00:00Z
        assert_eq!(months[1].to, 1_709_251_199); // 2024-02-29T23:59:59Z
        assert_eq!(months[2].to, to);
        assert!(months.windows(2).all(|w| w[0].to + 1 == w[1].from));
        // --from in February leaves January out.
        let later = super::months(&[history()], Some(1_707_000_000), to);
        assert_eq!(later.first().map(|m| m.from), Some(1_707_000_000));
        assert_eq!(later.len(), 2);
        assert!(super::months(&[history()], Some(to + 1), to).is_empty());

        let options = |from: Option<i64>, to: i64| Options {
            from,
            to,
            labels: vec![],
            collectors: Collectors::default(),
            include_imported: false,
            traces: false,
        };
        let samples = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        };
        let mut whole = Vec::new();
        let all = write(&[history()], &options(None, to), &mut whole).unwrap();
        let mut union = Vec::new();
        let mut written = 0;
        for m in &months {
            let mut out = Vec::new();
            written += write(&[history()], &options(Some(m.from), m.to), &mut out)
                .unwrap()
                .samples;
            let text = String::from_utf8(out).unwrap();
            assert!(text.ends_with("# EOF\n"));
            for line in samples(&text) {
                let ts: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
                assert!((m.from..=m.to).contains(&ts), "{} holds {line}", m.name);
                union.push(line);
            }
        }
        let whole = samples(&String::from_utf8(whole).unwrap());
        assert!(whole.len() > 20, "{whole:?}");
        // Every sample of the single file is in exactly one monthly file; each file also
        // closes its series at its last second (as the single file does at --to), so a
        // month's series run to its end.
        let mut extra = union.clone();
        for line in &whole {
            let i = extra.iter().position(|l| l == line).expect(line);
            extra.swap_remove(i);
        }
        let month_ends: Vec<i64> = months.iter().map(|m| m.to).collect();
        for line in &extra {
            let ts: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(month_ends.contains(&ts), "{line} is not at a month's end");
        }
        assert!(!extra.is_empty());
        assert_eq!(written, all.samples + extra.len() as u64);
    }

    #[test]
    fn counters_climb_and_series_are_grouped_and_increasing() {
        let day = 1_700_006_400; // a UTC midnight
        let history = AccountHistory {
            account: None,
            workouts: vec![
                workout("b", "cycling", day + 2 * DAY + 100, 200.0),
                workout("a", "cycling", day + 100, 100.0),
                workout("c", "yoga", day + 3 * DAY, 0.0),
            ],
            training: vec![],
            traces: None,
        };
        let options = Options {
            from: None,
            to: day + 5 * DAY,
            labels: vec![("job".to_owned(), "peloton".to_owned())],
            collectors: Collectors::default(),
            include_imported: false,
            traces: false,
        };
        let mut out = Vec::new();
        let stats = write(&[history], &options, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("# EOF\n"));
        assert_eq!(stats.workouts, 3);
        let cycling: Vec<(f64, i64)> = text
            .lines()
            .filter(|l| {
                l.starts_with("peloton_output_joules_total{discipline=\"cycling\",job=\"peloton\"}")
            })
            .map(|l| {
                let mut parts = l.rsplit(' ');
                let ts = parts.next().unwrap().parse().unwrap();
                (parts.next().unwrap().parse().unwrap(), ts)
            })
            .collect();
        assert_eq!(cycling.first(), Some(&(100.0, day + 1900)));
        assert_eq!(cycling.last(), Some(&(300.0, day + 5 * DAY)));
        assert!(
            cycling
                .windows(2)
                .all(|w| w[0].1 < w[1].1 && w[0].0 <= w[1].0)
        );
        // The yoga class gives the cycling series a sample too: every series continues.
        assert!(
            cycling
                .iter()
                .any(|(v, ts)| *ts == day + 3 * DAY + 1800 && *v == 300.0)
        );
        // Each family appears once, in one block.
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let unique: std::collections::BTreeSet<_> = types.iter().collect();
        assert_eq!(types.len(), unique.len());
        assert!(text.contains("# TYPE peloton_workouts counter"));
        assert!(text.contains("title=\"30 min \\\"Ride\\\"\""));
    }

    #[test]
    fn never_covers_the_last_three_hours() {
        let now = crate::clock::now_unix();
        let history = AccountHistory {
            account: None,
            workouts: vec![
                workout("old", "cycling", now - 10 * DAY, 1.0),
                workout("new", "cycling", now - 3600, 1.0),
            ],
            training: vec![],
            traces: None,
        };
        let options = Options {
            from: None,
            to: now,
            labels: vec![],
            collectors: Collectors::default(),
            include_imported: false,
            traces: false,
        };
        let mut out = Vec::new();
        let stats = write(&[history], &options, &mut out).unwrap();
        assert_eq!(stats.workouts, 1);
        let text = String::from_utf8(out).unwrap();
        let latest_ts = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
            .max()
            .unwrap();
        assert!(latest_ts <= now - RECENT_SECONDS);
    }

    #[test]
    fn the_90_day_curve_slides_as_it_did_live() {
        let start = 1_700_006_400;
        let old = workout("old", "cycling", start, 100.0);
        let new = workout("new", "cycling", start + 100 * DAY, 100.0);
        let curve = |w: &WorkoutSummary, watts: f64| TrainingRow {
            id: w.id.clone(),
            end_time: at(w).unwrap(),
            training: WorkoutTraining {
                power_curve_watts: [Some(watts), None, None, None, None],
                ..WorkoutTraining::default()
            },
        };
        let history = AccountHistory {
            account: None,
            training: vec![curve(&old, 900.0), curve(&new, 500.0)],
            workouts: vec![old.clone(), new.clone()],
            traces: None,
        };
        let to = at(&new).unwrap() + DAY;
        let options = Options {
            from: None,
            to,
            labels: vec![],
            collectors: Collectors::default(),
            traces: false,
            include_imported: false,
        };
        let collected = collect(&[history], &options);
        let recent: Vec<(i64, f64)> = collected
            .series()
            .find(|(def, labels, _)| {
                **def == c::POWER_CURVE
                    && labels.contains(&("window".to_owned(), "90d".to_owned()))
                    && labels.contains(&("duration".to_owned(), "5".to_owned()))
            })
            .map(|(_, _, samples)| samples.to_vec())
            .unwrap();
        let old_at = at(&old).unwrap();
        assert_eq!(recent.first(), Some(&(old_at, 900.0)));
        // Weekly samples keep 900 W while the old ride is inside the window...
        assert!(
            recent
                .iter()
                .any(|(t, v)| *t == old_at + 12 * WEEK && *v == 900.0)
        );
        // ...and after 90 days nothing is left until the new ride, which sets 500 W.
        assert!(
            recent
                .iter()
                .all(|(t, _)| *t <= old_at + 90 * DAY || *t >= at(&new).unwrap())
        );
        assert_eq!(recent.last(), Some(&(to, 500.0)));
        let all_time = collected
            .series()
            .find(|(def, labels, _)| {
                **def == c::POWER_CURVE
                    && labels.contains(&("window".to_owned(), "all_time".to_owned()))
                    && labels.contains(&("duration".to_owned(), "5".to_owned()))
            })
            .map(|(_, _, samples)| samples.last().copied())
            .unwrap();
        assert_eq!(all_time, Some((to, 900.0)));
    }

    #[test]
    fn a_ride_over_a_month_boundary_has_its_trace_split_between_the_two_months() {
        use crate::domain::training::Trace;
        // 2024-01-31T23:59:00Z: one minute of trace in January, two in February; the
        // ride ends (start + 1,800 s) in February, after the January file's last second.
        let start = 1_706_745_540;
        let ride = workout("r", "cycling", start, 100.0);
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        store.upsert_listed(std::slice::from_ref(&ride)).unwrap();
        let trace = Trace {
            step_s: 1,
            offset_s: 0,
            output_watts: (0..180).map(|i| Some(f64::from(100 + i))).collect(),
            ..Trace::default()
        };
        store
            .set_details_with_training(&ride, &WorkoutTraining::default(), Some(&trace))
            .unwrap();
        let history = AccountHistory {
            account: None,
            workouts: vec![ride],
            training: store.training_rows().unwrap(),
            traces: Some(std::sync::Arc::new(store)),
        };
        let to = start + 3 * DAY;
        let options = |from: Option<i64>, to: i64| Options {
            from,
            to,
            labels: vec![],
            collectors: Collectors::default(),
            traces: true,
            include_imported: false,
        };
        let trace_lines = |from: Option<i64>, to: i64| -> Vec<String> {
            let mut out = Vec::new();
            write(std::slice::from_ref(&history), &options(from, to), &mut out).unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("peloton_trace_output_watts "))
                .map(str::to_owned)
                .collect()
        };
        let months = months(std::slice::from_ref(&history), None, to);
        assert_eq!(months.len(), 2);
        let per_month: Vec<Vec<String>> = months
            .iter()
            .map(|m| trace_lines(Some(m.from), m.to))
            .collect();
        assert_eq!(per_month[0].len(), 60, "January's minute");
        assert_eq!(per_month[1].len(), 120, "February's two minutes");
        assert_eq!(per_month.concat(), trace_lines(None, to));
    }

    #[test]
    fn training_history_per_workout_and_per_day_and_traces() {
        use crate::domain::training::{FtpInForce, LoadMethod, Trace};
        let day = 1_700_006_400; // a UTC midnight
        let ride = workout("r", "cycling", day + 100, 100.0);
        let training = WorkoutTraining {
            ftp: FtpInForce::new(Some(200.0), Some("ftp_workout_source")),
            normalized_power_watts: Some(210.0),
            intensity_factor: Some(1.05),
            training_stress_score: Some(55.0),
            load: Some((LoadMethod::Power, 55.0)),
            power_curve_watts: [Some(400.0), Some(300.0), None, None, None],
            ..WorkoutTraining::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        store.upsert_listed(std::slice::from_ref(&ride)).unwrap();
        let trace = Trace {
            step_s: 1,
            offset_s: 1,
            output_watts: vec![Some(150.0), None, Some(170.0)],
            ..Trace::default()
        };
        store
            .set_details_with_training(&ride, &training, Some(&trace))
            .unwrap();
        let history = AccountHistory {
            account: None,
            workouts: vec![ride],
            training: store.training_rows().unwrap(),
            traces: Some(std::sync::Arc::new(store)),
        };
        let options = Options {
            from: None,
            to: day + 3 * DAY,
            labels: vec![],
            collectors: Collectors::default(),
            traces: true,
            include_imported: false,
        };
        let mut out = Vec::new();
        write(&[history], &options, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let end = day + 1900;
        for line in [
            format!("peloton_latest_workout_normalized_power_watts 210 {end}"),
            format!("peloton_latest_workout_training_stress_score 55 {end}"),
            format!("peloton_latest_workout_ftp_watts{{source=\"workout\"}} 200 {end}"),
            format!("peloton_power_zone_ftp_watts{{source=\"workout\"}} 200 {end}"),
            format!("peloton_training_load_total{{method=\"power_tss\"}} 55 {end}"),
            format!("peloton_power_curve_watts{{duration=\"5\",window=\"all_time\"}} 400 {end}"),
            // Traces from the workout's start plus the first sample's offset, gaps left out.
            format!("peloton_trace_output_watts 150 {}", day + 101),
            format!("peloton_trace_output_watts 170 {}", day + 103),
        ] {
            assert!(text.contains(&line), "{line} missing:\n{text}");
        }
        assert!(!text.contains(&format!("peloton_trace_output_watts 0 {}", day + 102)));
        // One CTL/ATL/form sample at the end of each UTC day: day 0 .. day 3 (clamped).
        let ctl: Vec<i64> = text
            .lines()
            .filter(|l| l.starts_with("peloton_training_load_chronic{method=\"power_tss\"}"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            ctl,
            vec![
                day + DAY - 1,
                day + 2 * DAY - 1,
                day + 3 * DAY - 1,
                day + 3 * DAY
            ]
        );
        // The 90-day curve as /metrics showed it at each sample.
        assert!(text.contains(&format!(
            "peloton_power_curve_watts{{duration=\"60\",window=\"90d\"}} 300 {end}"
        )));
        assert!(text.ends_with("# EOF\n"));
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let unique: std::collections::BTreeSet<_> = types.iter().collect();
        assert_eq!(types.len(), unique.len());
    }
}
