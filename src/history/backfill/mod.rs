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

use crate::domain::latest_of_kind::LatestOfKind;
use crate::domain::totals::Totals;
use crate::domain::training::WorkoutTraining;
use crate::domain::training_summary::{
    RECENT_WINDOW_S, TrainingRow, TrainingSummary, best as best_of, daily_history, utc_day,
};
use crate::domain::{Status, WorkoutSummary};
use crate::exposition::openmetrics;
use crate::history::trace_samples;
use crate::metrics::catalogue as c;
use crate::metrics::collectors::{Collector, Collectors};
use crate::metrics::family::{Def, Labels, Value};
use crate::metrics::{self, AccountView, BuildInfo};
use crate::state::snapshot::Snapshot;
use crate::store::database::Store;

/// Prometheus' head block covers the last couple of hours; blocks written there would
/// overlap it, so the backfill never covers the last three.
pub const RECENT_SECONDS: i64 = 3 * 3600;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// The families a history can give (the overview's streaks and records, the challenge and
/// badge categories, and the exporter's own health, have no history).
const HISTORY_FAMILIES: &[Def] = &[
    c::WORKOUTS.def,
    c::OUTPUT_TOTAL.def,
    c::DURATION_TOTAL.def,
    c::DISTANCE_TOTAL.def,
    c::ENERGY_TOTAL.def,
    c::HR_ZONE_TOTAL.def,
    c::IMPORTED_WORKOUTS.def,
    c::INSTRUCTOR_WORKOUTS.def,
    c::POWER_CURVE.def,
    c::POWER_ZONE_FTP.def,
    c::POWER_ZONE_TOTAL.def,
    c::TRAINING_LOAD_TOTAL.def,
    c::EFFORT_POINTS_TOTAL.def,
    c::WORKOUT_BADGES_TOTAL.def,
    c::STRENGTH_REPS_TOTAL.def,
    c::STRENGTH_VOLUME_TOTAL.def,
    c::STRENGTH_TENSION_TOTAL.def,
    c::MUSCLE_GROUP_TOTAL.def,
    c::TARGET_TOTAL.def,
    c::BEST_SPLIT.def,
    c::LATEST_STRENGTH_END.def,
    c::LATEST_STRENGTH_REPS.def,
    c::LATEST_STRENGTH_VOLUME.def,
    c::LATEST_STRENGTH_TENSION.def,
    c::LATEST_STRENGTH_MUSCLE_GROUP.def,
    c::LATEST_TARGETED_END.def,
    c::LATEST_TARGETED.def,
];

/// Fitness, fatigue and form: one sample at the end of each UTC day.
const DAILY_FAMILIES: &[Def] = &[
    c::TRAINING_LOAD_CHRONIC.def,
    c::TRAINING_LOAD_ACUTE.def,
    c::TRAINING_FORM.def,
];

/// Whether the history gives this family at each workout: the totals and training above,
/// and the whole latest-workout group as it was after each workout.
fn per_workout(def: &Def) -> bool {
    HISTORY_FAMILIES.contains(def) || def.group == Some(Collector::LatestWorkout)
}

/// The text is built in memory and handed on in pieces of about this size.
const FLUSH_BYTES: usize = 64 * 1024;

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
    let mut text = Text {
        out,
        buffer: String::with_capacity(FLUSH_BYTES + 4096),
    };
    write_text(&collected, &mut text)?;
    let mut stats = collected.stats;
    if options.traces {
        stats.samples += write_traces(histories, &options, &mut text)?;
    }
    text.buffer.push_str(openmetrics::EOF);
    text.flush()?;
    Ok(stats)
}

/// OpenMetrics text on its way to the file.
struct Text<'w, W: Write> {
    out: &'w mut W,
    buffer: String,
}

impl<W: Write> Text<'_, W> {
    fn flush(&mut self) -> io::Result<()> {
        self.out.write_all(self.buffer.as_bytes())?;
        self.buffer.clear();
        Ok(())
    }

    fn flush_when_full(&mut self) -> io::Result<()> {
        if self.buffer.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
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
        let analytics: BTreeMap<&str, &WorkoutTraining> = history
            .training
            .iter()
            .map(|r| (r.id.as_str(), &r.training))
            .collect();
        let mut walked = Walked::new(options.include_imported);
        let mut last_emit: Option<i64> = None;
        let emit = |ts: i64, snapshot: Snapshot, defs: &mut Vec<Def>, collected: &mut Collected| {
            if ts < from {
                return;
            }
            let view = AccountView {
                account: history.account.clone(),
                snapshot: std::sync::Arc::new(snapshot),
                telemetry: crate::state::telemetry::Telemetry::default().values(),
            };
            for family in metrics::families(BuildInfo::CURRENT, &[view], &options.collectors) {
                if !per_workout(&family.def) {
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
                emit(beat, walked.at(beat), &mut defs, &mut collected);
                last_emit = Some(beat);
            }
            walked.add(w, t, analytics.get(w.id.as_str()).copied());
            emit(t, walked.at(t), &mut defs, &mut collected);
            last_emit = Some(t);
        }
        while let Some(beat) = last_emit.map(|l| l + WEEK).filter(|b| *b < to) {
            emit(beat, walked.at(beat), &mut defs, &mut collected);
            last_emit = Some(beat);
        }
        if walked.latest.is_some() {
            emit(to, walked.at(to), &mut defs, &mut collected);
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

/// What the history shows after the workouts walked so far, as `/metrics` showed it then.
#[derive(Debug)]
struct Walked {
    include_imported: bool,
    totals: Totals,
    latest: Option<WorkoutSummary>,
    latest_training: Option<WorkoutTraining>,
    latest_of_kind: LatestOfKind,
    training: TrainingSummary,
    recent: RecentCurve,
    zone_ftp_at: Option<i64>,
}

impl Walked {
    fn new(include_imported: bool) -> Self {
        Self {
            include_imported,
            totals: Totals::new(include_imported),
            latest: None,
            latest_training: None,
            latest_of_kind: LatestOfKind::default(),
            training: TrainingSummary::default(),
            recent: RecentCurve::default(),
            zone_ftp_at: None,
        }
    }

    /// Workout `w`, which ended at `t`, with its stored analytics.
    fn add(&mut self, w: &WorkoutSummary, t: i64, analytics: Option<&WorkoutTraining>) {
        self.totals.update(None, w);
        if self.include_imported || !w.imported {
            self.latest = Some(w.clone());
            self.latest_of_kind.offer(w);
            self.latest_training = analytics.cloned();
            if let Some(t_w) = &self.latest_training {
                self.training.add(t, t_w, &mut self.zone_ftp_at);
                self.recent.push(t, t_w.power_curve_watts);
            }
        }
    }

    /// The snapshot at `ts`: the 90-day curve moves with the time.
    fn at(&mut self, ts: i64) -> Snapshot {
        self.training.power_curve_90d = self.recent.at(ts);
        Snapshot {
            totals: self.totals.clone(),
            workout_counts: self.totals.workouts.clone(),
            latest: self.latest.clone(),
            latest_of_kind: self.latest_of_kind.clone(),
            training: Some(self.training.clone()),
            latest_training: self.latest_training.clone(),
            ..Snapshot::default()
        }
    }
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

/// Each workout's samples at the graph's resolution (`trace_samples`), streamed from the
/// store family by family: one series per channel and account (never one per workout,
/// which would be unbounded). Returns the samples written.
fn write_traces<W: Write>(
    histories: &[AccountHistory],
    options: &Options,
    text: &mut Text<'_, W>,
) -> io::Result<u64> {
    let mut written = 0;
    let window = options.from.unwrap_or(i64::MIN)..=options.to;
    // A trace runs from its workout's start to about its end, and no plausible workout
    // lasts a day: those ending two days either side of the range cannot hold a sample in
    // it (a month of --split reads only its own).
    let ending = window.start().saturating_sub(2 * DAY)..=options.to.saturating_add(2 * DAY);
    for (k, metric) in c::TRACES.iter().enumerate() {
        let def = metric.def;
        let name = def.sample_name();
        let mut header = false;
        for history in histories {
            let Some(store) = &history.traces else {
                continue;
            };
            let starts = trace_samples::starts(&history.workouts, options.include_imported);
            let labels = trace_samples::labels(history.account.as_deref(), &options.labels);
            let key = openmetrics::series_key(&name, &labels);
            let mut last = i64::MIN;
            let mut result = Ok(());
            store
                .for_each_trace(ending.clone(), |id, trace| {
                    let Some(start) = starts.get(id) else { return };
                    if result.is_err() {
                        return;
                    }
                    let samples = trace_samples::channel(&trace, k, *start, &mut last);
                    for (ts, v) in samples.into_iter().filter(|(ts, _)| window.contains(ts)) {
                        if !header {
                            openmetrics::descriptor(&mut text.buffer, &def);
                            header = true;
                        }
                        openmetrics::sample(&mut text.buffer, def.kind, &key, v, Some(ts));
                        written += 1;
                    }
                    result = text.flush_when_full();
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

/// The collected samples, family by family (OpenMetrics wants each family in one block).
fn write_text<W: Write>(collected: &Collected, text: &mut Text<'_, W>) -> io::Result<()> {
    let mut current: Option<usize> = None;
    let mut name = String::new();
    for ((family, labels), samples) in &collected.series {
        let Some(def) = collected.defs.get(*family) else {
            continue;
        };
        if current != Some(*family) {
            openmetrics::descriptor(&mut text.buffer, def);
            name = def.sample_name();
            current = Some(*family);
        }
        let key = openmetrics::series_key(&name, labels);
        for (ts, v) in samples {
            openmetrics::sample(&mut text.buffer, def.kind, &key, *v, Some(*ts));
        }
        text.flush_when_full()?;
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

#[cfg(test)]
mod tests;
