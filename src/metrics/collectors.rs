//! Optional metric groups, switched on and off like node_exporter's collectors
//! (`--collector.<name>` / `--no-collector.<name>`). Only the larger, optional groups are
//! switchable: health, totals and streaks are what every dashboard and alert stands on.

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collector {
    Instructor,
    Monthly,
    LatestWorkout,
    PersonalRecords,
    Challenges,
}

/// One optional group: everything its flags, `check-config`, the backfill and the docs
/// say about it comes from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub collector: Collector,
    /// The name in `--collector.<name>`.
    pub name: &'static str,
    /// `--collector.<name>[=BOOL]`, without the dashes.
    pub flag: &'static str,
    /// `--no-collector.<name>`, without the dashes.
    pub no_flag: &'static str,
    pub env: &'static str,
    pub default: bool,
    /// What the group writes, for `--help` and the README's table.
    pub help: &'static str,
}

/// Declares the groups once; the flag and variable names are spelt out at compile time so
/// that clap can keep them as `&'static str`.
macro_rules! groups {
    ($($collector:ident $name:literal $env:literal default $default:literal: $help:literal;)*) => {
        /// Every optional group, in `--help` order.
        pub const GROUPS: &[Group] = &[$(Group {
            collector: Collector::$collector,
            name: $name,
            flag: concat!("collector.", $name),
            no_flag: concat!("no-collector.", $name),
            env: concat!("PELOTON_COLLECTOR_", $env),
            default: $default,
            help: $help,
        }),*];
    };
}

// Every group is on unless switched off: METRICS.md promises these families.
groups! {
    Instructor "instructor" "INSTRUCTOR" default true:
        "peloton_instructor_workouts_total (one series per instructor and discipline)";
    Monthly "monthly" "MONTHLY" default true:
        "peloton_workouts_by_month (one series per month of history)";
    LatestWorkout "latest-workout" "LATEST_WORKOUT" default true:
        "peloton_latest_workout_* (the newest completed workout in detail)";
    PersonalRecords "personal-records" "PERSONAL_RECORDS" default true:
        "peloton_personal_record_output_joules (best output per class length)";
    Challenges "challenges" "CHALLENGES" default true:
        "peloton_annual_challenge_* and peloton_achievements_by_category (off: their 3 requests per profile interval are not sent)";
}

impl Collector {
    /// Its entry in `GROUPS` (every collector has one: a unit test checks).
    pub fn group(self) -> Option<&'static Group> {
        GROUPS.iter().find(|g| g.collector == self)
    }

    /// The name in `--collector.<name>`.
    pub fn name(self) -> &'static str {
        self.group().map_or("", |g| g.name)
    }
}

/// Which optional groups are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collectors {
    disabled: BTreeSet<Collector>,
}

impl Default for Collectors {
    fn default() -> Self {
        Self::new(GROUPS.iter().map(|g| (g.collector, g.default)))
    }
}

impl Collectors {
    pub fn new(states: impl IntoIterator<Item = (Collector, bool)>) -> Self {
        Self {
            disabled: states
                .into_iter()
                .filter(|(_, on)| !on)
                .map(|(c, _)| c)
                .collect(),
        }
    }

    pub fn is_enabled(&self, collector: Collector) -> bool {
        !self.disabled.contains(&collector)
    }

    /// Whether a family of `group` (the catalogue's; `None`: always written) is written.
    pub fn writes(&self, group: Option<Collector>) -> bool {
        group.is_none_or(|c| self.is_enabled(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalogue as c;

    #[test]
    fn every_group_owns_a_family() {
        for group in GROUPS.iter().map(|g| g.collector) {
            assert_eq!(group.group().map(|g| g.collector), Some(group));
            assert!(
                c::ALL.iter().any(|d| d.group == Some(group)),
                "{} owns nothing",
                group.name()
            );
        }
        // The always-on core stays: health, totals and streaks.
        for core in [
            c::UP.def,
            c::WORKOUTS.def,
            c::OUTPUT_TOTAL.def,
            c::WEEKLY_STREAK.def,
        ] {
            assert_eq!(core.group, None, "{}", core.base);
        }
    }

    #[test]
    fn switching_one_group_off_keeps_the_others() {
        let only_monthly_off = Collectors::new([(Collector::Monthly, false)]);
        for d in c::ALL {
            let want = d.group != Some(Collector::Monthly);
            assert_eq!(only_monthly_off.writes(d.group), want, "{}", d.base);
        }
        assert!(c::ALL.iter().all(|d| Collectors::default().writes(d.group)));
    }
}
