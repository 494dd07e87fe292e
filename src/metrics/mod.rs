//! Snapshots and telemetry of every account turned into metric families, each family once
//! with the series of all accounts.

pub mod catalogue;
pub mod collectors;
pub mod family;
pub mod process;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::totals::Totals;
use crate::domain::training::{CURVE_DURATION_LABELS, WorkoutTraining};
use crate::domain::training_summary::{TrainingSummary, WINDOW_90_DAYS, WINDOW_ALL_TIME};
use crate::domain::{Stat, WorkoutSummary};
use crate::state::account::AccountState;
use crate::state::snapshot::Snapshot;
use crate::state::telemetry::{Histogram, TelemetryValues};
use catalogue as c;
use collectors::{Collector, Collectors};
use family::{Def, Family, Labels, Series, Value};

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

/// Collects series into families in catalogue order.
struct Out {
    families: BTreeMap<(usize, &'static str, Option<&'static str>), Family>,
}

impl Out {
    fn new() -> Self {
        Self {
            families: BTreeMap::new(),
        }
    }

    fn fam(&mut self, def: Def) -> &mut Family {
        let order = c::ALL.iter().position(|d| *d == def).unwrap_or(usize::MAX);
        self.families
            .entry((order, def.base, def.unit))
            .or_insert_with(|| Family::new(def))
    }
}

/// All families with at least one series.
/// Every family of these accounts. A switched-off group (`collectors`) is never built.
pub fn families(
    build: BuildInfo,
    accounts: &[AccountView],
    collectors: &Collectors,
) -> Vec<Family> {
    let mut out = Out::new();
    out.fam(c::BUILD_INFO).push(
        vec![
            ("version", build.version.to_owned()),
            ("revision", build.revision.to_owned()),
        ],
        1.0,
    );
    for a in accounts {
        account(&mut out, a, collectors);
    }
    out.families
        .into_values()
        .filter(|f| !f.series.is_empty())
        .collect()
}

fn account(out: &mut Out, a: &AccountView, collectors: &Collectors) {
    let on = |c: Collector| collectors.is_enabled(c);
    let base: Labels = a
        .account
        .as_ref()
        .map(|n| vec![("account", n.clone())])
        .unwrap_or_default();
    let with = |extra: &[(&'static str, String)]| -> Labels {
        let mut l = base.clone();
        l.extend_from_slice(extra);
        l
    };
    let s = &a.snapshot;
    let t = &a.telemetry;

    out.fam(c::UP).push(with(&[]), if s.up { 1.0 } else { 0.0 });
    out.fam(c::POLL_DURATION)
        .series
        .push(histogram(with(&[]), &t.poll_duration));
    out.fam(c::POLLS).push(with(&[]), t.polls as f64);
    for (reason, n) in &t.poll_errors {
        out.fam(c::POLL_ERRORS)
            .push(with(&[("reason", reason.as_str().to_owned())]), *n as f64);
    }
    out.fam(c::LAST_SUCCESS).push_opt(with(&[]), s.last_success);
    for ((endpoint, code), n) in &t.api_requests {
        out.fam(c::API_REQUESTS).push(
            with(&[
                ("endpoint", endpoint.as_str().to_owned()),
                ("code", code.clone()),
            ]),
            *n as f64,
        );
    }
    for (endpoint, h) in &t.api_duration {
        out.fam(c::API_DURATION).series.push(histogram(
            with(&[("endpoint", endpoint.as_str().to_owned())]),
            h,
        ));
    }
    out.fam(c::TOKEN_EXPIRY)
        .push_opt(with(&[]), t.token_expiry.map(|v| v as f64));
    for (result, n) in &t.auth_results {
        out.fam(c::AUTH_REFRESHES)
            .push(with(&[("result", result.as_str().to_owned())]), *n as f64);
    }
    out.fam(c::HISTORY_PENDING)
        .push_opt(with(&[]), s.history_pending);
    if let Some(rw) = t.remote_write {
        out.fam(c::REMOTE_WRITE_SAMPLES)
            .push(with(&[]), rw.samples as f64);
        out.fam(c::REMOTE_WRITE_FAILURES)
            .push(with(&[]), rw.failures as f64);
        out.fam(c::REMOTE_WRITE_LAST_SUCCESS)
            .push_opt(with(&[]), rw.last_success.map(|v| v as f64));
    }

    if let Some(p) = &s.profile {
        out.fam(c::USER_INFO).push(
            with(&[
                ("username", p.username.clone().unwrap_or_default()),
                ("user_id", p.user_id.clone()),
            ]),
            1.0,
        );
        out.fam(c::FOLLOWERS).push_opt(with(&[]), p.followers);
        out.fam(c::FOLLOWING).push_opt(with(&[]), p.following);
        for (source, watts) in &p.ftp {
            out.fam(c::FTP)
                .push(with(&[("source", (*source).to_owned())]), *watts);
        }
    }
    for (discipline, n) in &s.workout_counts {
        out.fam(c::WORKOUTS)
            .push(with(&[("discipline", discipline.clone())]), *n);
    }
    if on(Collector::Monthly) {
        for (month, n) in &s.workouts_by_month {
            out.fam(c::WORKOUTS_BY_MONTH)
                .push(with(&[("month", month.clone())]), *n);
        }
    }
    if let Some(o) = &s.overview {
        out.fam(c::WEEKLY_STREAK)
            .push_opt(with(&[]), o.weekly_streak);
        out.fam(c::WEEKLY_STREAK_BEST)
            .push_opt(with(&[]), o.weekly_streak_best);
        out.fam(c::DAILY_STREAK).push_opt(with(&[]), o.daily_streak);
        out.fam(c::WEEKLY_STREAK_START)
            .push_opt(with(&[]), o.weekly_streak_start);
        out.fam(c::DAILY_STREAK_START)
            .push_opt(with(&[]), o.daily_streak_start);
        out.fam(c::ACHIEVEMENTS).push_opt(with(&[]), o.achievements);
        for pr in o
            .personal_records
            .iter()
            .filter(|_| on(Collector::PersonalRecords))
        {
            out.fam(c::PERSONAL_RECORD).push(
                with(&[
                    ("discipline", pr.discipline.clone()),
                    ("duration_seconds", pr.duration_seconds.clone()),
                ]),
                pr.output_joules,
            );
        }
    }
    for (discipline, running) in &s.in_progress {
        out.fam(c::IN_PROGRESS).push(
            with(&[("discipline", discipline.clone())]),
            if *running { 1.0 } else { 0.0 },
        );
    }
    totals(out, &s.totals, &with);
    if on(Collector::Instructor) {
        instructors(out, &s.totals, &with);
    }
    if let Some(w) = s.latest.as_ref().filter(|_| on(Collector::LatestWorkout)) {
        latest(out, w, &with);
        if let Some(t) = &s.latest_training {
            latest_training(out, t, &with);
        }
    }
    if let Some(t) = &s.training {
        training(out, t, &with);
    }
}

fn training(out: &mut Out, t: &TrainingSummary, with: WithLabels<'_>) {
    for (window, curve) in [
        (WINDOW_ALL_TIME, &t.power_curve_all_time),
        (WINDOW_90_DAYS, &t.power_curve_90d),
    ] {
        for (duration, watts) in CURVE_DURATION_LABELS.iter().zip(curve) {
            out.fam(c::POWER_CURVE).push_opt(
                with(&[
                    ("duration", (*duration).to_owned()),
                    ("window", window.to_owned()),
                ]),
                *watts,
            );
        }
    }
    if let Some(ftp) = t.zone_ftp {
        out.fam(c::POWER_ZONE_FTP).push_opt(
            with(&[("source", ftp.source.label().to_owned())]),
            Some(ftp.watts),
        );
    }
    for (method, loads) in &t.loads {
        let labels = with(&[("method", method.label().to_owned())]);
        out.fam(c::TRAINING_LOAD_CHRONIC)
            .push_opt(labels.clone(), Some(loads.ctl));
        out.fam(c::TRAINING_LOAD_ACUTE)
            .push_opt(labels.clone(), Some(loads.atl));
        out.fam(c::TRAINING_FORM)
            .push_opt(labels, Some(loads.form()));
    }
    if let Some(zones) = t.power_zone_seconds {
        for (i, seconds) in zones.iter().enumerate() {
            out.fam(c::POWER_ZONE_TOTAL)
                .push_opt(with(&[("zone", (i + 1).to_string())]), Some(*seconds));
        }
    }
    for (method, load) in &t.load_totals {
        out.fam(c::TRAINING_LOAD_TOTAL)
            .push_opt(with(&[("method", method.label().to_owned())]), Some(*load));
    }
    out.fam(c::EFFORT_POINTS_TOTAL)
        .push_opt(with(&[]), t.effort_points);
}

fn latest_training(out: &mut Out, t: &WorkoutTraining, with: WithLabels<'_>) {
    for (duration, watts) in CURVE_DURATION_LABELS.iter().zip(&t.power_curve_watts) {
        out.fam(c::LATEST_POWER_BEST)
            .push_opt(with(&[("duration", (*duration).to_owned())]), *watts);
    }
    out.fam(c::LATEST_NORMALIZED_POWER)
        .push_opt(with(&[]), t.normalized_power_watts);
    out.fam(c::LATEST_INTENSITY_FACTOR)
        .push_opt(with(&[]), t.intensity_factor);
    out.fam(c::LATEST_TSS)
        .push_opt(with(&[]), t.training_stress_score);
    if let Some((method, load)) = t.load {
        out.fam(c::LATEST_TRAINING_LOAD)
            .push_opt(with(&[("method", method.label().to_owned())]), Some(load));
    }
    if let Some(ftp) = t.ftp {
        out.fam(c::LATEST_FTP).push_opt(
            with(&[("source", ftp.source.label().to_owned())]),
            Some(ftp.watts),
        );
    }
}

fn totals(out: &mut Out, t: &Totals, with: WithLabels<'_>) {
    for (def, map) in [
        (c::OUTPUT_TOTAL, &t.output_joules),
        (c::DURATION_TOTAL, &t.duration_seconds),
        (c::DISTANCE_TOTAL, &t.distance_meters),
        (c::ENERGY_TOTAL, &t.energy_joules),
    ] {
        for (discipline, v) in map {
            out.fam(def)
                .push(with(&[("discipline", discipline.clone())]), *v);
        }
    }
    if let Some(zones) = t.hr_zone_seconds {
        for (i, secs) in zones.iter().enumerate() {
            out.fam(c::HR_ZONE_TOTAL)
                .push(with(&[("zone", (i + 1).to_string())]), *secs);
        }
    }
    for (discipline, n) in &t.imported_workouts {
        out.fam(c::IMPORTED_WORKOUTS)
            .push(with(&[("discipline", discipline.clone())]), *n);
    }
}

fn instructors(out: &mut Out, t: &Totals, with: WithLabels<'_>) {
    for ((instructor, discipline), n) in &t.instructor_workouts {
        out.fam(c::INSTRUCTOR_WORKOUTS).push(
            with(&[
                ("instructor", instructor.clone()),
                ("discipline", discipline.clone()),
            ]),
            *n,
        );
    }
}

type WithLabels<'a> = &'a dyn Fn(&[(&'static str, String)]) -> Labels;

fn latest(out: &mut Out, w: &WorkoutSummary, with: WithLabels<'_>) {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    out.fam(c::LATEST_INFO).push(
        with(&[
            ("discipline", w.discipline.clone()),
            ("title", text(&w.title)),
            ("instructor", text(&w.instructor)),
            ("workout_type", text(&w.workout_type)),
            ("device_type", text(&w.device_type)),
        ]),
        1.0,
    );
    out.fam(c::LATEST_START).push_opt(with(&[]), w.start_time);
    out.fam(c::LATEST_END).push_opt(with(&[]), w.end_time);
    out.fam(c::LATEST_DURATION)
        .push_opt(with(&[]), w.duration_seconds);
    out.fam(c::LATEST_OUTPUT)
        .push_opt(with(&[]), w.output_joules);
    out.fam(c::LATEST_ENERGY)
        .push_opt(with(&[]), w.energy_joules);
    out.fam(c::LATEST_DISTANCE)
        .push_opt(with(&[]), w.distance_meters);
    out.fam(c::LATEST_ELEVATION)
        .push_opt(with(&[]), w.elevation_meters);
    for (stat, def) in [
        (Stat::OutputWatts, c::LATEST_OUTPUT_WATTS),
        (Stat::CadenceRpm, c::LATEST_CADENCE),
        (Stat::ResistanceRatio, c::LATEST_RESISTANCE),
        (Stat::SpeedMetersPerSecond, c::LATEST_SPEED),
        (Stat::InclineRatio, c::LATEST_INCLINE),
        (Stat::HeartRateBpm, c::LATEST_HEART_RATE),
        (Stat::StrokeRateSpm, c::LATEST_STROKE_RATE),
    ] {
        if let Some(v) = w.stats.get(&stat) {
            let f = out.fam(def);
            f.push_opt(with(&[("stat", "avg".to_owned())]), v.avg);
            f.push_opt(with(&[("stat", "max".to_owned())]), v.max);
        }
    }
    if let Some(zones) = w.hr_zone_seconds {
        for (i, secs) in zones.iter().enumerate() {
            out.fam(c::LATEST_HR_ZONE)
                .push(with(&[("zone", (i + 1).to_string())]), *secs);
        }
    }
    out.fam(c::LATEST_EFFORT)
        .push_opt(with(&[]), w.effort_points);
    out.fam(c::LATEST_RANK)
        .push_opt(with(&[]), w.leaderboard_rank);
    out.fam(c::LATEST_USERS)
        .push_opt(with(&[]), w.leaderboard_users);
}

fn histogram(labels: Labels, h: &Histogram) -> Series {
    let mut buckets: Vec<(f64, u64)> = h
        .bounds
        .iter()
        .copied()
        .zip(h.counts.iter().copied())
        .collect();
    let below: u64 = h.counts.iter().sum();
    buckets.push((f64::INFINITY, h.count.saturating_sub(below)));
    Series {
        labels,
        value: Value::Histogram {
            buckets,
            sum: h.sum,
            count: h.count,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AvgMax, Status};

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
            Stat::OutputWatts,
            Stat::CadenceRpm,
            Stat::ResistanceRatio,
            Stat::SpeedMetersPerSecond,
            Stat::InclineRatio,
            Stat::HeartRateBpm,
            Stat::StrokeRateSpm,
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
            for s in f.series.iter().filter(|_| f.def != c::BUILD_INFO) {
                assert_eq!(
                    s.labels.first().map(|(k, _)| *k),
                    Some("account"),
                    "{}",
                    f.def.base
                );
            }
        }
        assert!(fams.iter().any(|f| f.def == c::INSTRUCTOR_WORKOUTS));
        assert!(fams.iter().any(|f| f.def == c::LATEST_STROKE_RATE));
    }
}
