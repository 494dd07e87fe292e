//! Optional metric groups, switched on and off like node_exporter's collectors
//! (`--collector.<name>` / `--no-collector.<name>`). Only the larger, optional groups are
//! switchable: health, totals and streaks are what every dashboard and alert stands on.

use std::collections::BTreeSet;

use super::catalogue as c;
use super::family::{Def, Family};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collector {
    /// `peloton_instructor_workouts_total`: one series per instructor and discipline.
    Instructor,
    /// `peloton_workouts_by_month`: one series per month of the member's history.
    Monthly,
    /// `peloton_latest_workout_*`: the newest completed workout in detail.
    LatestWorkout,
    /// `peloton_personal_record_output_joules`: best output per class length.
    PersonalRecords,
}

impl Collector {
    pub const ALL: [Collector; 4] = [
        Collector::Instructor,
        Collector::Monthly,
        Collector::LatestWorkout,
        Collector::PersonalRecords,
    ];

    /// The name in `--collector.<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Collector::Instructor => "instructor",
            Collector::Monthly => "monthly",
            Collector::LatestWorkout => "latest-workout",
            Collector::PersonalRecords => "personal-records",
        }
    }

    /// Every group is on unless switched off: METRICS.md promises these families.
    pub fn enabled_by_default(self) -> bool {
        true
    }

    /// The group a family belongs to; `None` for families that are always written.
    pub fn of(def: &Def) -> Option<Collector> {
        if *def == c::INSTRUCTOR_WORKOUTS {
            Some(Collector::Instructor)
        } else if *def == c::WORKOUTS_BY_MONTH {
            Some(Collector::Monthly)
        } else if *def == c::PERSONAL_RECORD {
            Some(Collector::PersonalRecords)
        } else if def.base.starts_with("peloton_latest_workout") {
            Some(Collector::LatestWorkout)
        } else {
            None
        }
    }
}

/// Which optional groups are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collectors {
    disabled: BTreeSet<Collector>,
}

impl Default for Collectors {
    fn default() -> Self {
        Self::new(Collector::ALL.map(|c| (c, c.enabled_by_default())))
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

    pub fn writes(&self, def: &Def) -> bool {
        Collector::of(def).is_none_or(|c| self.is_enabled(c))
    }

    /// Drops the families of switched-off groups.
    pub fn retain(&self, families: &mut Vec<Family>) {
        if !self.disabled.is_empty() {
            families.retain(|f| self.writes(&f.def));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_owns_a_family_and_no_family_has_two_groups() {
        for group in Collector::ALL {
            let owned: Vec<_> = c::ALL
                .iter()
                .filter(|d| Collector::of(d) == Some(group))
                .collect();
            assert!(!owned.is_empty(), "{} owns nothing", group.name());
        }
        // The always-on core stays: health, totals and streaks.
        for core in [c::UP, c::WORKOUTS, c::OUTPUT_TOTAL, c::WEEKLY_STREAK] {
            assert_eq!(Collector::of(&core), None, "{}", core.base);
        }
    }

    #[test]
    fn switching_one_group_off_keeps_the_others() {
        let only_monthly_off = Collectors::new([(Collector::Monthly, false)]);
        for d in c::ALL {
            let want = Collector::of(d) != Some(Collector::Monthly);
            assert_eq!(only_monthly_off.writes(d), want, "{}", d.base);
        }
        assert!(c::ALL.iter().all(|d| Collectors::default().writes(d)));
    }
}
