//! A catalogue entry: a family's definition typed by its label set, so the only way to give
//! its series labels is a value of that set.

use std::fmt;
use std::marker::PhantomData;

use super::labels::{LabelSet, NoLabels};
use crate::metrics::collectors::Collector;
use crate::metrics::family::{Def, Family, Kind, Labels, Series, Value};

pub const SECONDS: &str = "seconds";
pub const JOULES: &str = "joules";
pub const METERS: &str = "meters";
pub const RATIO: &str = "ratio";
pub const BYTES: &str = "bytes";
pub const WATTS: &str = "watts";
pub const METERS_PER_SECOND: &str = "meters_per_second";
pub const GRAMS: &str = "grams";

/// One family of the catalogue, its series labelled with `L`.
pub struct Metric<L> {
    pub def: Def,
    labels: PhantomData<fn(L)>,
}

// By hand: derives would ask `L` for the same traits, and label sets own strings.
impl<L> Clone for Metric<L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for Metric<L> {}

impl<L> fmt::Debug for Metric<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.def.fmt(f)
    }
}

impl<L> PartialEq<Def> for Metric<L> {
    fn eq(&self, other: &Def) -> bool {
        self.def == *other
    }
}

const fn metric<L: LabelSet>(kind: Kind, base: &'static str, help: &'static str) -> Metric<L> {
    Metric {
        def: Def {
            base,
            help,
            unit: None,
            kind,
            labels: L::NAMES,
            group: None,
        },
        labels: PhantomData,
    }
}

pub const fn gauge<L: LabelSet>(base: &'static str, help: &'static str) -> Metric<L> {
    metric(Kind::Gauge, base, help)
}

pub const fn counter<L: LabelSet>(base: &'static str, help: &'static str) -> Metric<L> {
    metric(Kind::Counter, base, help)
}

pub const fn info<L: LabelSet>(base: &'static str, help: &'static str) -> Metric<L> {
    metric(Kind::Info, base, help)
}

pub const fn histogram<L: LabelSet>(base: &'static str, help: &'static str) -> Metric<L> {
    metric(Kind::Histogram, base, help)
}

impl<L: LabelSet> Metric<L> {
    /// In this unit, which OpenMetrics appends to the name.
    pub const fn unit(mut self, unit: &'static str) -> Self {
        self.def.unit = Some(unit);
        self
    }

    /// Written only while this optional group is on.
    pub const fn group(mut self, group: Collector) -> Self {
        self.def.group = Some(group);
        self
    }

    /// A series of this family: the `prefix` labels (the account's), then its own.
    pub fn series(self, prefix: &Labels, labels: L, value: Value) -> Series {
        let mut all = Labels::with_capacity(prefix.len() + L::NAMES.len());
        all.extend_from_slice(prefix);
        labels.append_to(&mut all);
        Series { labels: all, value }
    }
}

impl Metric<NoLabels> {
    /// This family with its one series, or with none when the value is unknown.
    pub fn with_value(self, value: Option<f64>) -> Family {
        let mut family = Family::new(self.def);
        family.push_opt(Labels::new(), value);
        family
    }
}
