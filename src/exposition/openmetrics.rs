//! OpenMetrics text 1.0: the one writer of it, for `/metrics` (the families as they are
//! now) and for the backfill (the same families with a timestamp on each sample, which
//! prometheus-client, the writer used before, could not add).
//!
//! The layout is the one Prometheus has scraped from this exporter since its start, kept
//! to the byte: `# HELP`, `# TYPE`, then `# UNIT` when there is one; numbers in `dtoa`'s
//! shortest form (`1.0`, `0.25`, `1e-7`); braces even around no labels; a histogram's `_sum`
//! and `_count` before its buckets, each bucket's `le` first.

use std::fmt::Write as _;

use crate::metrics::catalogue::labels::BUCKET_BOUND;
use crate::metrics::family::{Def, Family, Kind, Value};

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The last line of every exposition.
pub const EOF: &str = "# EOF\n";

/// The OpenMetrics exposition of `families`, ending in `# EOF`.
pub fn render(families: &[Family]) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for family in families {
        let def = &family.def;
        descriptor(&mut out, def);
        let name = def.sample_name();
        for series in &family.series {
            match &series.value {
                Value::Number(v) => {
                    push_key(&mut out, &name, None, &series.labels);
                    push_value(&mut out, def.kind, *v, None);
                }
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                } => histogram(&mut out, &name, &series.labels, (buckets, *sum, *count)),
            }
        }
    }
    out.push_str(EOF);
    out
}

/// A family's `# HELP`, `# TYPE` and `# UNIT` lines.
pub fn descriptor(out: &mut String, def: &Def) {
    let family = def.family_name();
    let kind = match def.kind {
        Kind::Gauge => "gauge",
        Kind::Counter => "counter",
        Kind::Info => "info",
        Kind::Histogram => "histogram",
    };
    out.push_str("# HELP ");
    out.push_str(&family);
    out.push(' ');
    push_escaped(out, def.help);
    out.push_str("\n# TYPE ");
    out.push_str(&family);
    out.push(' ');
    out.push_str(kind);
    out.push('\n');
    if let Some(unit) = def.unit {
        out.push_str("# UNIT ");
        out.push_str(&family);
        out.push(' ');
        out.push_str(unit);
        out.push('\n');
    }
}

/// How the sample lines of one series begin: `name{label="value",…}`. A series with many
/// samples (the backfill's) makes it once.
pub fn series_key<K: AsRef<str>, V: AsRef<str>>(name: &str, labels: &[(K, V)]) -> String {
    let mut key = String::new();
    push_key(&mut key, name, None, labels);
    key
}

/// One sample line of a gauge, counter or info family (an info's value is always 1), with
/// its timestamp in Unix seconds when it has one. `key` comes from [`series_key`].
pub fn sample(out: &mut String, kind: Kind, key: &str, value: f64, timestamp: Option<i64>) {
    out.push_str(key);
    push_value(out, kind, value, timestamp);
}

fn histogram<K: AsRef<str>, V: AsRef<str>>(
    out: &mut String,
    name: &str,
    labels: &[(K, V)],
    (buckets, sum, count): (&[(f64, u64)], f64, u64),
) {
    push_key(out, &format!("{name}_sum"), None, labels);
    out.push(' ');
    out.push_str(dtoa::Buffer::new().format(sum));
    out.push('\n');
    push_key(out, &format!("{name}_count"), None, labels);
    push_count(out, count);
    let bucket = format!("{name}_bucket");
    let mut cumulative = 0;
    let mut number = dtoa::Buffer::new();
    for (bound, n) in buckets {
        cumulative += n;
        let le = if *bound == f64::INFINITY {
            "+Inf"
        } else {
            number.format(*bound)
        };
        push_key(out, &bucket, Some(le), labels);
        push_count(out, cumulative);
    }
}

fn push_key<K: AsRef<str>, V: AsRef<str>>(
    out: &mut String,
    name: &str,
    le: Option<&str>,
    labels: &[(K, V)],
) {
    out.push_str(name);
    out.push('{');
    let bound = le.map(|le| (BUCKET_BOUND, le));
    let all = bound
        .into_iter()
        .chain(labels.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
    for (i, (k, v)) in all.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        push_escaped(out, v);
        out.push('"');
    }
    out.push('}');
}

fn push_value(out: &mut String, kind: Kind, value: f64, timestamp: Option<i64>) {
    out.push(' ');
    if kind == Kind::Info {
        out.push('1');
    } else {
        out.push_str(dtoa::Buffer::new().format(value));
    }
    if let Some(ts) = timestamp {
        // Into a String: cannot fail.
        let _ = write!(out, " {ts}");
    }
    out.push('\n');
}

fn push_count(out: &mut String, n: u64) {
    let _ = writeln!(out, " {n}");
}

/// Backslash, double quote and newline escaped, as both formats want in label values (and
/// OpenMetrics in help).
pub(super) fn push_escaped(out: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::Series;

    fn def(base: &'static str, unit: Option<&'static str>, kind: Kind) -> Def {
        Def {
            base,
            help: "Some help, with (parens) and 'quotes'",
            unit,
            kind,
            labels: &[],
            group: None,
        }
    }

    fn number(labels: &[(&'static str, &str)], value: f64) -> Series {
        Series {
            labels: labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            value: Value::Number(value),
        }
    }

    /// What prometheus-client 0.25 wrote for these families, byte for byte: Prometheus has
    /// scraped this layout from every release, so it must not move.
    #[test]
    fn the_layout_is_the_one_prometheus_client_wrote() {
        let families = [
            Family {
                def: def("x_requests", None, Kind::Counter),
                series: vec![
                    number(&[], 3.0),
                    number(&[("a", "q\"\\\nλ"), ("b", "")], 0.1),
                ],
            },
            Family {
                def: def("x_size", Some("bytes"), Kind::Gauge),
                series: vec![
                    number(&[], 1e-7),
                    number(&[("k", "v")], 1e21),
                    number(&[("k", "w")], -12345.678),
                    number(&[("k", "x")], 123_456_789_012.0),
                    number(&[("k", "y")], 1.0 / 3.0),
                    number(&[("k", "z")], 0.0),
                ],
            },
            Family {
                def: def("x_build", None, Kind::Info),
                series: vec![number(&[("version", "1")], 1.0), number(&[], 1.0)],
            },
            Family {
                def: def("x_dur", Some("seconds"), Kind::Histogram),
                series: vec![
                    Series {
                        labels: vec![],
                        value: Value::Histogram {
                            buckets: vec![
                                (0.005, 1),
                                (0.1, 0),
                                (1.0, 2),
                                (2.5, 0),
                                (f64::INFINITY, 1),
                            ],
                            sum: 3.5,
                            count: 4,
                        },
                    },
                    Series {
                        labels: vec![("endpoint", "me".to_owned())],
                        value: Value::Histogram {
                            buckets: vec![(1.0, 2), (f64::INFINITY, 1)],
                            sum: 0.25,
                            count: 3,
                        },
                    },
                ],
            },
            Family {
                def: def("x_empty", None, Kind::Gauge),
                series: vec![],
            },
        ];
        let want = r#"# HELP x_requests Some help, with (parens) and 'quotes'
# TYPE x_requests counter
x_requests_total{} 3.0
x_requests_total{a="q\"\\\nλ",b=""} 0.1
# HELP x_size_bytes Some help, with (parens) and 'quotes'
# TYPE x_size_bytes gauge
# UNIT x_size_bytes bytes
x_size_bytes{} 1e-7
x_size_bytes{k="v"} 1e21
x_size_bytes{k="w"} -12345.678
x_size_bytes{k="x"} 123456789012.0
x_size_bytes{k="y"} 0.3333333333333333
x_size_bytes{k="z"} 0.0
# HELP x_build Some help, with (parens) and 'quotes'
# TYPE x_build info
x_build_info{version="1"} 1
x_build_info{} 1
# HELP x_dur_seconds Some help, with (parens) and 'quotes'
# TYPE x_dur_seconds histogram
# UNIT x_dur_seconds seconds
x_dur_seconds_sum{} 3.5
x_dur_seconds_count{} 4
x_dur_seconds_bucket{le="0.005"} 1
x_dur_seconds_bucket{le="0.1"} 1
x_dur_seconds_bucket{le="1.0"} 3
x_dur_seconds_bucket{le="2.5"} 3
x_dur_seconds_bucket{le="+Inf"} 4
x_dur_seconds_sum{endpoint="me"} 0.25
x_dur_seconds_count{endpoint="me"} 3
x_dur_seconds_bucket{le="1.0",endpoint="me"} 2
x_dur_seconds_bucket{le="+Inf",endpoint="me"} 3
# HELP x_empty Some help, with (parens) and 'quotes'
# TYPE x_empty gauge
# EOF
"#;
        assert_eq!(render(&families), want);
    }

    #[test]
    fn backfill_samples_carry_their_timestamp() {
        let def = def("x_output", Some("watts"), Kind::Gauge);
        let mut out = String::new();
        descriptor(&mut out, &def);
        let key = series_key(&def.sample_name(), &[("job".to_owned(), "a\"b".to_owned())]);
        sample(&mut out, def.kind, &key, 150.0, Some(1_700_000_000));
        sample(&mut out, Kind::Info, "x_info{}", 1.0, Some(1_700_000_001));
        assert_eq!(
            out,
            "# HELP x_output_watts Some help, with (parens) and 'quotes'\n\
             # TYPE x_output_watts gauge\n\
             # UNIT x_output_watts watts\n\
             x_output_watts{job=\"a\\\"b\"} 150.0 1700000000\n\
             x_info{} 1 1700000001\n"
        );
    }
}
