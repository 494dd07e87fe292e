//! A format-neutral metric family: what both exposition formats (and the backfill) write.

use super::collectors::Collector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    Info,
    Histogram,
}

/// A family's identity: its name without type suffixes, help, unit, type, label names and
/// group. The catalogue (`metrics::catalogue`) makes each one from a typed entry, so every
/// writer uses the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Def {
    /// Name without the unit and without `_total`/`_info`, as OpenMetrics declares it.
    pub base: &'static str,
    pub help: &'static str,
    pub unit: Option<&'static str>,
    pub kind: Kind,
    /// The names of its own labels, in the order its series carry them (an `account`
    /// label goes before them, extra backfill and remote-write labels after).
    pub labels: &'static [&'static str],
    /// The optional group that writes it (`--collector.*`); `None`: always written.
    pub group: Option<Collector>,
}

impl Def {
    /// The family name with its unit, as in `# TYPE` of OpenMetrics.
    pub fn family_name(&self) -> String {
        match self.unit {
            Some(u) => format!("{}_{u}", self.base),
            None => self.base.to_owned(),
        }
    }

    /// The name of the samples users query (`_total` for counters, `_info` for info).
    pub fn sample_name(&self) -> String {
        let name = self.family_name();
        match self.kind {
            Kind::Counter => format!("{name}_total"),
            Kind::Info => format!("{name}_info"),
            Kind::Gauge | Kind::Histogram => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    /// Non-cumulative counts per upper bound, the last bound being `+Inf`.
    Histogram {
        buckets: Vec<(f64, u64)>,
        sum: f64,
        count: u64,
    },
}

pub type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub def: Def,
    pub series: Vec<Series>,
}

impl Family {
    pub fn new(def: Def) -> Self {
        Self {
            def,
            series: Vec::new(),
        }
    }

    pub fn push(&mut self, labels: Labels, value: f64) {
        self.series.push(Series {
            labels,
            value: Value::Number(value),
        });
    }

    /// Adds a series only when the value is known: an absent value is never a 0.
    pub fn push_opt(&mut self, labels: Labels, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.push(labels, v);
        }
    }
}
