//! Snapshots and telemetry of every account turned into metric families, each family once
//! with the series of all accounts.

pub mod catalogue;
pub mod collectors;
pub mod family;
pub mod process;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::challenge::{AnnualChallenge, Tier};
use crate::domain::latest_of_kind::LatestOfKind;
use crate::domain::totals::Totals;
use crate::domain::training::{CURVE_DURATION_LABELS, WorkoutTraining};
use crate::domain::training_summary::{TrainingSummary, WINDOW_90_DAYS, WINDOW_ALL_TIME};
use crate::domain::workout_extras::{Strength, WorkoutExtras};
use crate::domain::{self, WorkoutSummary};
use crate::state::account::AccountState;
use crate::state::snapshot::{LiveView, Snapshot};
use crate::state::telemetry::{Histogram, TelemetryValues};
use catalogue as c;
use catalogue::Metric;
use catalogue::labels::{
    Account, AuthResult, Build, Category, Challenge, ChallengeTier, ClassLength, CurvePoint,
    Discipline, Duration, Endpoint, EndpointCode, InstructorDiscipline, LabelSet, LiveInfo, Method,
    Month, MuscleGroup, NoLabels, Reason, Source, SplitLength, Stat, TargetRange, User,
    WorkoutInfo, Zone,
};
use collectors::Collectors;
use family::{Family, Labels, Value};

/// One account's view at scrape time.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// `Some` when the exporter runs several accounts: added as the `account` label.
    pub account: Option<String>,
    pub snapshot: Arc<Snapshot>,
    pub telemetry: TelemetryValues,
}

impl AccountView {
    /// What a scrape reads of one account now.
    pub fn of(account: &AccountState) -> Self {
        Self {
            account: account.name.clone(),
            snapshot: account.snapshot(),
            telemetry: account.telemetry.values(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct BuildInfo {
    pub version: &'static str,
    pub revision: &'static str,
    /// UTC, RFC 3339; `SOURCE_DATE_EPOCH` when the build set it.
    pub build_date: &'static str,
    pub rust_version: &'static str,
    /// The target triple.
    pub platform: &'static str,
}

impl BuildInfo {
    // build.rs sets these: the revision from git (or PELOTON_EXPORTER_REVISION).
    pub const CURRENT: BuildInfo = BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        revision: env!("PELOTON_EXPORTER_REVISION"),
        build_date: env!("PELOTON_EXPORTER_BUILD_DATE"),
        rust_version: env!("PELOTON_EXPORTER_RUST_VERSION"),
        platform: env!("PELOTON_EXPORTER_TARGET"),
    };

    /// `--version`, laid out as Prometheus's own.
    pub fn version_text(&self) -> String {
        format!(
            "peloton-exporter, version {} (revision: {})\n  build date:       {}\n  rust version:     {}\n  platform:         {}\n  features:         {}\n",
            self.version,
            self.revision,
            self.build_date,
            self.rust_version,
            self.platform,
            if cfg!(feature = "demo") { "demo" } else { "-" },
        )
    }
}

/// Collects series into families in catalogue order; a family of a switched-off group gets
/// none.
struct Out<'c> {
    families: BTreeMap<(usize, &'static str, Option<&'static str>), Family>,
    collectors: &'c Collectors,
    /// What every series is labelled with first: the account, when there are several.
    prefix: Labels,
}

impl Out<'_> {
    fn series<L: LabelSet>(&mut self, metric: Metric<L>, labels: L, value: Value) {
        let def = metric.def;
        if !self.collectors.writes(def.group) {
            return;
        }
        let order = c::ALL.iter().position(|d| *d == def).unwrap_or(usize::MAX);
        let series = metric.series(&self.prefix, labels, value);
        self.families
            .entry((order, def.base, def.unit))
            .or_insert_with(|| Family::new(def))
            .series
            .push(series);
    }

    fn set<L: LabelSet>(&mut self, metric: Metric<L>, labels: L, value: f64) {
        // -0 (an empty float sum, a negated zero) is written as 0: a "-0" sample reads as
        // a sign error.
        let value = if value == 0.0 { 0.0 } else { value };
        self.series(metric, labels, Value::Number(value));
    }

    /// Adds a series only when the value is known: an absent value is never a 0.
    fn set_opt<L: LabelSet>(&mut self, metric: Metric<L>, labels: L, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.set(metric, labels, v);
        }
    }

    fn histogram<L: LabelSet>(&mut self, metric: Metric<L>, labels: L, h: &Histogram) {
        self.series(metric, labels, histogram(h));
    }
}

/// Every family of these accounts with at least one series. A switched-off group
/// (`collectors`) is never built.
pub fn families(
    build: BuildInfo,
    accounts: &[AccountView],
    collectors: &Collectors,
) -> Vec<Family> {
    let mut out = Out {
        families: BTreeMap::new(),
        collectors,
        prefix: Labels::new(),
    };
    out.set(
        c::BUILD_INFO,
        Build {
            version: build.version.to_owned(),
            revision: build.revision.to_owned(),
        },
        1.0,
    );
    for a in accounts {
        out.prefix = Account::labels(a.account.as_deref());
        account(&mut out, a);
    }
    out.families
        .into_values()
        .filter(|f| !f.series.is_empty())
        .collect()
}

fn account(out: &mut Out, a: &AccountView) {
    let s = &a.snapshot;
    health(out, s, &a.telemetry);
    if let Some(p) = &s.profile {
        out.set(
            c::USER_INFO,
            User {
                username: p.username.clone().unwrap_or_default(),
                user_id: p.user_id.clone(),
            },
            1.0,
        );
        out.set_opt(c::FOLLOWERS, NoLabels, p.followers);
        out.set_opt(c::FOLLOWING, NoLabels, p.following);
        for (source, watts) in &p.ftp {
            let source = (*source).to_owned();
            out.set(c::FTP, Source { source }, *watts);
        }
    }
    for (discipline, n) in &s.workout_counts {
        let discipline = discipline.clone();
        out.set(c::WORKOUTS, Discipline { discipline }, *n);
    }
    for (month, n) in &s.workouts_by_month {
        let month = month.clone();
        out.set(c::WORKOUTS_BY_MONTH, Month { month }, *n);
    }
    if let Some(o) = &s.overview {
        out.set_opt(c::WEEKLY_STREAK, NoLabels, o.weekly_streak);
        out.set_opt(c::WEEKLY_STREAK_BEST, NoLabels, o.weekly_streak_best);
        out.set_opt(c::DAILY_STREAK, NoLabels, o.daily_streak);
        out.set_opt(c::WEEKLY_STREAK_START, NoLabels, o.weekly_streak_start);
        out.set_opt(c::DAILY_STREAK_START, NoLabels, o.daily_streak_start);
        out.set_opt(c::ACHIEVEMENTS, NoLabels, o.achievements);
        for pr in &o.personal_records {
            let labels = ClassLength {
                discipline: pr.discipline.clone(),
                duration_seconds: pr.duration_seconds.clone(),
            };
            out.set(c::PERSONAL_RECORD, labels, pr.output_joules);
        }
    }
    if let Some(zones) = s.profile.as_ref().and_then(|p| p.hr_zones) {
        for (i, (floor, ceiling)) in zones.floors.iter().zip(zones.ceilings()).enumerate() {
            let zone = || Zone {
                zone: (i + 1).to_string(),
            };
            out.set(c::HR_ZONE_MIN, zone(), *floor);
            out.set_opt(c::HR_ZONE_MAX, zone(), ceiling);
        }
    }
    for (category, n) in s.badge_categories.iter().flatten() {
        let category = category.clone();
        out.set(c::ACHIEVEMENTS_BY_CATEGORY, Category { category }, *n);
    }
    if let Some(ch) = &s.challenge {
        challenge(out, ch, crate::clock::now_unix() as f64);
    }
    for (discipline, running) in &s.in_progress {
        let discipline = discipline.clone();
        let value = if *running { 1.0 } else { 0.0 };
        out.set(c::IN_PROGRESS, Discipline { discipline }, value);
    }
    totals(out, &s.totals);
    latest_of_kind(out, &s.latest_of_kind);
    if let Some(w) = &s.latest {
        latest(out, w);
        if let Some(t) = &s.latest_training {
            latest_training(out, t);
        }
    }
    if let Some(t) = &s.training {
        training(out, t);
    }
    if let Some(v) = &s.live {
        live(out, v);
    }
}

/// The ride in progress; its sample's values only while the sample is current.
fn live(out: &mut Out, v: &LiveView) {
    let r = &v.ride;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let info = LiveInfo {
        discipline: r.discipline.clone(),
        title: text(&r.title),
        instructor: text(&r.instructor),
    };
    out.set(c::LIVE_INFO, info, 1.0);
    out.set(c::LIVE_START, NoLabels, r.started_at);
    out.set_opt(c::LIVE_CLASS_LENGTH, NoLabels, r.class_length_seconds);
    let Some(sample) = &v.sample else { return };
    out.set_opt(c::LIVE_OUTPUT_SO_FAR, NoLabels, r.output_joules);
    out.set_opt(c::LIVE_DISTANCE_SO_FAR, NoLabels, r.distance_meters);
    out.set_opt(c::LIVE_SAMPLE_TIME, NoLabels, r.sample_seen_at);
    out.set(c::LIVE_ELAPSED, NoLabels, sample.elapsed_seconds);
    out.set_opt(c::LIVE_OUTPUT, NoLabels, sample.output_watts);
    out.set_opt(c::LIVE_CADENCE, NoLabels, sample.cadence_rpm);
    out.set_opt(c::LIVE_RESISTANCE, NoLabels, sample.resistance_ratio);
    out.set_opt(c::LIVE_SPEED, NoLabels, sample.speed_meters_per_second);
    out.set_opt(c::LIVE_HEART_RATE, NoLabels, sample.heart_rate_bpm);
    let zone = |z: Option<u8>| z.map(f64::from);
    out.set_opt(c::LIVE_HR_ZONE, NoLabels, zone(sample.heart_rate_zone));
    out.set_opt(c::LIVE_POWER_ZONE, NoLabels, zone(sample.power_zone));
}

/// The exporter's own health for one account.
fn health(out: &mut Out, s: &Snapshot, t: &TelemetryValues) {
    out.set(c::UP, NoLabels, if s.up { 1.0 } else { 0.0 });
    out.histogram(c::POLL_DURATION, NoLabels, &t.poll_duration);
    out.set(c::POLLS, NoLabels, t.polls as f64);
    for (reason, n) in &t.poll_errors {
        let reason = reason.as_str().to_owned();
        out.set(c::POLL_ERRORS, Reason { reason }, *n as f64);
    }
    out.set_opt(c::LAST_SUCCESS, NoLabels, s.last_success);
    for ((endpoint, code), n) in &t.api_requests {
        let labels = EndpointCode {
            endpoint: endpoint.as_str().to_owned(),
            code: code.clone(),
        };
        out.set(c::API_REQUESTS, labels, *n as f64);
    }
    for (endpoint, h) in &t.api_duration {
        let endpoint = endpoint.as_str().to_owned();
        out.histogram(c::API_DURATION, Endpoint { endpoint }, h);
    }
    out.set_opt(c::TOKEN_EXPIRY, NoLabels, t.token_expiry.map(|v| v as f64));
    for (result, n) in &t.auth_results {
        let result = result.as_str().to_owned();
        out.set(c::AUTH_REFRESHES, AuthResult { result }, *n as f64);
    }
    out.set_opt(c::HISTORY_PENDING, NoLabels, s.history_pending);
    if let Some(rw) = t.remote_write {
        out.set(c::REMOTE_WRITE_SAMPLES, NoLabels, rw.samples as f64);
        out.set(c::REMOTE_WRITE_FAILURES, NoLabels, rw.failures as f64);
        let last = rw.last_success.map(|v| v as f64);
        out.set_opt(c::REMOTE_WRITE_LAST_SUCCESS, NoLabels, last);
    }
}

fn training(out: &mut Out, t: &TrainingSummary) {
    for (window, curve) in [
        (WINDOW_ALL_TIME, &t.power_curve_all_time),
        (WINDOW_90_DAYS, &t.power_curve_90d),
    ] {
        for (duration, watts) in CURVE_DURATION_LABELS.iter().zip(curve) {
            let point = CurvePoint {
                duration: (*duration).to_owned(),
                window: window.to_owned(),
            };
            out.set_opt(c::POWER_CURVE, point, *watts);
        }
    }
    if let Some(ftp) = t.zone_ftp {
        let source = ftp.source.label().to_owned();
        out.set_opt(c::POWER_ZONE_FTP, Source { source }, Some(ftp.watts));
    }
    for (method, loads) in &t.loads {
        let labels = || Method {
            method: method.label().to_owned(),
        };
        out.set_opt(c::TRAINING_LOAD_CHRONIC, labels(), Some(loads.ctl));
        out.set_opt(c::TRAINING_LOAD_ACUTE, labels(), Some(loads.atl));
        out.set_opt(c::TRAINING_FORM, labels(), Some(loads.form()));
    }
    if let Some(zones) = t.power_zone_seconds {
        for (zone, seconds) in zones_from_one(&zones) {
            out.set_opt(c::POWER_ZONE_TOTAL, zone, Some(*seconds));
        }
    }
    for (method, load) in &t.load_totals {
        let method = method.label().to_owned();
        out.set_opt(c::TRAINING_LOAD_TOTAL, Method { method }, Some(*load));
    }
    out.set_opt(c::EFFORT_POINTS_TOTAL, NoLabels, t.effort_points);
}

fn latest_training(out: &mut Out, t: &WorkoutTraining) {
    for (duration, watts) in CURVE_DURATION_LABELS.iter().zip(&t.power_curve_watts) {
        let duration = (*duration).to_owned();
        out.set_opt(c::LATEST_POWER_BEST, Duration { duration }, *watts);
    }
    out.set_opt(
        c::LATEST_NORMALIZED_POWER,
        NoLabels,
        t.normalized_power_watts,
    );
    out.set_opt(c::LATEST_INTENSITY_FACTOR, NoLabels, t.intensity_factor);
    out.set_opt(c::LATEST_TSS, NoLabels, t.training_stress_score);
    if let Some((method, load)) = t.load {
        let method = method.label().to_owned();
        out.set_opt(c::LATEST_TRAINING_LOAD, Method { method }, Some(load));
    }
    if let Some(ftp) = t.ftp {
        let source = ftp.source.label().to_owned();
        out.set_opt(c::LATEST_FTP, Source { source }, Some(ftp.watts));
    }
}

fn challenge(out: &mut Out, ch: &AnnualChallenge, now: f64) {
    let title = || Challenge {
        challenge: ch.title.clone(),
    };
    out.set(c::CHALLENGE_PROGRESS, title(), ch.progress_seconds);
    out.set(c::CHALLENGE_START, title(), ch.start_time);
    out.set(c::CHALLENGE_END, title(), ch.end_time);
    let tier = |t: &Tier| ChallengeTier {
        challenge: ch.title.clone(),
        tier: t.title.clone(),
    };
    for t in &ch.tiers {
        out.set(c::CHALLENGE_TIER, tier(t), t.target_seconds);
    }
    for (t, seconds) in ch.needed_per_day(now) {
        out.set(c::CHALLENGE_NEEDED_PER_DAY, tier(t), seconds);
    }
}

/// One set of strength families: the lifetime counters, the latest workout's, or the
/// newest strength workout's.
struct StrengthFamilies {
    repetitions: Metric<NoLabels>,
    volume: Metric<NoLabels>,
    tension: Metric<NoLabels>,
    muscle_groups: Metric<MuscleGroup>,
}

const STRENGTH_TOTALS: StrengthFamilies = StrengthFamilies {
    repetitions: c::STRENGTH_REPS_TOTAL,
    volume: c::STRENGTH_VOLUME_TOTAL,
    tension: c::STRENGTH_TENSION_TOTAL,
    muscle_groups: c::MUSCLE_GROUP_TOTAL,
};

const LATEST_WORKOUT_STRENGTH: StrengthFamilies = StrengthFamilies {
    repetitions: c::LATEST_REPS,
    volume: c::LATEST_VOLUME,
    tension: c::LATEST_TENSION,
    muscle_groups: c::LATEST_MUSCLE_GROUP,
};

const NEWEST_STRENGTH_WORKOUT: StrengthFamilies = StrengthFamilies {
    repetitions: c::LATEST_STRENGTH_REPS,
    volume: c::LATEST_STRENGTH_VOLUME,
    tension: c::LATEST_STRENGTH_TENSION,
    muscle_groups: c::LATEST_STRENGTH_MUSCLE_GROUP,
};

fn strength(out: &mut Out, families: &StrengthFamilies, s: &Strength) {
    out.set_opt(families.repetitions, NoLabels, s.repetitions);
    out.set_opt(families.volume, NoLabels, s.volume_grams);
    out.set_opt(families.tension, NoLabels, s.tension_seconds);
    for (group, score) in &s.muscle_groups {
        let muscle_group = group.clone();
        out.set(families.muscle_groups, MuscleGroup { muscle_group }, *score);
    }
}

/// Badges, strength, targets and splits summed over the history.
fn extras_totals(out: &mut Out, t: &Totals) {
    out.set_opt(c::WORKOUT_BADGES_TOTAL, NoLabels, t.workout_badges);
    strength(out, &STRENGTH_TOTALS, &t.strength);
    for ((metric, range), seconds) in &t.target_seconds {
        let labels = TargetRange {
            metric: metric.clone(),
            range: (*range).to_owned(),
        };
        out.set(c::TARGET_TOTAL, labels, *seconds);
    }
    for (distance, seconds) in &t.best_split_seconds {
        let distance = distance.label().to_owned();
        out.set(c::BEST_SPLIT, SplitLength { distance }, *seconds);
    }
}

/// The newest strength workout and the newest class with targets.
fn latest_of_kind(out: &mut Out, k: &LatestOfKind) {
    if let Some(w) = &k.strength
        && let Some(s) = &w.extras.strength
    {
        out.set_opt(c::LATEST_STRENGTH_END, NoLabels, w.end_time);
        strength(out, &NEWEST_STRENGTH_WORKOUT, s);
    }
    if let Some(w) = &k.targets {
        out.set_opt(c::LATEST_TARGETED_END, NoLabels, w.end_time);
        target_times(out, c::LATEST_TARGETED, &w.extras);
    }
}

fn target_times(out: &mut Out, family: Metric<TargetRange>, e: &WorkoutExtras) {
    for (metric, time) in &e.targets {
        for (range, seconds) in [("in", Some(time.in_seconds)), ("out", time.out_seconds)] {
            let labels = TargetRange {
                metric: metric.clone(),
                range: range.to_owned(),
            };
            out.set_opt(family, labels, seconds);
        }
    }
}

/// The latest workout's badges, strength, targets and split.
fn latest_extras(out: &mut Out, e: &WorkoutExtras) {
    out.set_opt(c::LATEST_BADGES, NoLabels, e.badges);
    if let Some(s) = &e.strength {
        strength(out, &LATEST_WORKOUT_STRENGTH, s);
    }
    target_times(out, c::LATEST_TARGET, e);
    if let Some(split) = e.best_split {
        let distance = split.distance.label().to_owned();
        out.set(
            c::LATEST_BEST_SPLIT,
            SplitLength { distance },
            split.seconds,
        );
    }
}

fn totals(out: &mut Out, t: &Totals) {
    extras_totals(out, t);
    for (metric, map) in [
        (c::OUTPUT_TOTAL, &t.output_joules),
        (c::DURATION_TOTAL, &t.duration_seconds),
        (c::DISTANCE_TOTAL, &t.distance_meters),
        (c::ENERGY_TOTAL, &t.energy_joules),
    ] {
        for (discipline, v) in map {
            let discipline = discipline.clone();
            out.set(metric, Discipline { discipline }, *v);
        }
    }
    if let Some(zones) = t.hr_zone_seconds {
        for (zone, seconds) in zones_from_one(&zones) {
            out.set(c::HR_ZONE_TOTAL, zone, *seconds);
        }
    }
    for (discipline, n) in &t.imported_workouts {
        let discipline = discipline.clone();
        out.set(c::IMPORTED_WORKOUTS, Discipline { discipline }, *n);
    }
    for ((instructor, discipline), n) in &t.instructor_workouts {
        let labels = InstructorDiscipline {
            instructor: instructor.clone(),
            discipline: discipline.clone(),
        };
        out.set(c::INSTRUCTOR_WORKOUTS, labels, *n);
    }
}

fn latest(out: &mut Out, w: &WorkoutSummary) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let info = WorkoutInfo {
        discipline: w.discipline.clone(),
        title: text(&w.title),
        instructor: text(&w.instructor),
        workout_type: text(&w.workout_type),
        device_type: text(&w.device_type),
    };
    out.set(c::LATEST_INFO, info, 1.0);
    out.set_opt(c::LATEST_START, NoLabels, w.start_time);
    out.set_opt(c::LATEST_END, NoLabels, w.end_time);
    out.set_opt(c::LATEST_DURATION, NoLabels, w.duration_seconds);
    out.set_opt(c::LATEST_OUTPUT, NoLabels, w.output_joules);
    out.set_opt(c::LATEST_ENERGY, NoLabels, w.energy_joules);
    out.set_opt(c::LATEST_DISTANCE, NoLabels, w.distance_meters);
    out.set_opt(c::LATEST_ELEVATION, NoLabels, w.elevation_meters);
    for (stat, metric) in [
        (domain::Stat::OutputWatts, c::LATEST_OUTPUT_WATTS),
        (domain::Stat::CadenceRpm, c::LATEST_CADENCE),
        (domain::Stat::ResistanceRatio, c::LATEST_RESISTANCE),
        (domain::Stat::SpeedMetersPerSecond, c::LATEST_SPEED),
        (domain::Stat::InclineRatio, c::LATEST_INCLINE),
        (domain::Stat::HeartRateBpm, c::LATEST_HEART_RATE),
        (domain::Stat::StrokeRateSpm, c::LATEST_STROKE_RATE),
    ] {
        if let Some(v) = w.stats.get(&stat) {
            for (stat, value) in [("avg", v.avg), ("max", v.max)] {
                let stat = stat.to_owned();
                out.set_opt(metric, Stat { stat }, value);
            }
        }
    }
    if let Some(zones) = w.hr_zone_seconds {
        for (zone, seconds) in zones_from_one(&zones) {
            out.set(c::LATEST_HR_ZONE, zone, *seconds);
        }
    }
    out.set_opt(c::LATEST_EFFORT, NoLabels, w.effort_points);
    out.set_opt(c::LATEST_RANK, NoLabels, w.leaderboard_rank);
    out.set_opt(c::LATEST_USERS, NoLabels, w.leaderboard_users);
    latest_extras(out, &w.extras);
}

/// Each value with its zone label, zones counted from 1.
fn zones_from_one(values: &[f64]) -> impl Iterator<Item = (Zone, &f64)> {
    values.iter().enumerate().map(|(i, v)| {
        let zone = (i + 1).to_string();
        (Zone { zone }, v)
    })
}

fn histogram(h: &Histogram) -> Value {
    let mut buckets: Vec<(f64, u64)> = h
        .bounds
        .iter()
        .copied()
        .zip(h.counts.iter().copied())
        .collect();
    let below: u64 = h.counts.iter().sum();
    buckets.push((f64::INFINITY, h.count.saturating_sub(below)));
    Value::Histogram {
        buckets,
        sum: h.sum,
        count: h.count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AvgMax, Stat as WorkoutStat, Status};

    #[test]
    fn every_family_written_is_in_the_catalogue() {
        let mut snapshot = Snapshot::default();
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": "w", "status": "COMPLETE", "fitness_discipline": "cycling", "total_work": 1.0,
            "start_time": 1, "end_time": 2, "ride": {"instructor": {"name": "I"}},
            "effort_zones": {"total_effort_points": 1.0, "heart_rate_zone_durations": {"heart_rate_z1_duration": 1}}
        }))
        .unwrap();
        let mut w = WorkoutSummary::from_list_item(&item).unwrap();
        assert_eq!(w.status, Status::Complete);
        w.distance_meters = Some(1.0);
        w.energy_joules = Some(1.0);
        w.elevation_meters = Some(1.0);
        w.leaderboard_rank = Some(1.0);
        w.leaderboard_users = Some(1.0);
        for stat in [
            WorkoutStat::OutputWatts,
            WorkoutStat::CadenceRpm,
            WorkoutStat::ResistanceRatio,
            WorkoutStat::SpeedMetersPerSecond,
            WorkoutStat::InclineRatio,
            WorkoutStat::HeartRateBpm,
            WorkoutStat::StrokeRateSpm,
        ] {
            w.stats.insert(
                stat,
                AvgMax {
                    avg: Some(1.0),
                    max: Some(2.0),
                },
            );
        }
        snapshot.totals.update(None, &w);
        snapshot.latest = Some(w);
        let view = AccountView {
            account: Some("a".to_owned()),
            snapshot: Arc::new(snapshot),
            telemetry: crate::state::telemetry::Telemetry::default().values(),
        };
        let fams = families(BuildInfo::CURRENT, &[view], &Collectors::default());
        for f in &fams {
            assert!(
                c::ALL.contains(&f.def),
                "{} is not in catalogue::ALL",
                f.def.base
            );
            for s in f.series.iter().filter(|_| f.def != c::BUILD_INFO.def) {
                assert_eq!(
                    s.labels.first().map(|(k, _)| *k),
                    Some("account"),
                    "{}",
                    f.def.base
                );
            }
        }
        assert!(fams.iter().any(|f| f.def == c::INSTRUCTOR_WORKOUTS.def));
        assert!(fams.iter().any(|f| f.def == c::LATEST_STROKE_RATE.def));
    }
}
