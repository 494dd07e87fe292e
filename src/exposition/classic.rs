//! The classic Prometheus text format 0.0.4, for clients that do not ask for OpenMetrics
//! (curl, older agents, `promtool check metrics`). prometheus-client has no encoder for
//! it. Differences from OpenMetrics: counters are declared under their `_total` name, info
//! metrics are gauges named `_info`, and there are no `# UNIT` lines and no `# EOF`.

use std::fmt::Write as _;

use super::openmetrics::push_escaped;
use crate::metrics::catalogue::labels::BUCKET_BOUND;
use crate::metrics::family::{Family, Kind, Value};

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn render(families: &[Family]) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for family in families {
        let def = family.def;
        let name = def.sample_name();
        let kind = match def.kind {
            Kind::Counter => "counter",
            Kind::Gauge | Kind::Info => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {name} {}", escape_help(def.help));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for series in &family.series {
            match &series.value {
                Value::Number(v) => sample(&mut out, &name, &series.labels, None, *v),
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                } => {
                    let bucket_name = format!("{name}_bucket");
                    let mut acc = 0;
                    for (bound, n) in buckets {
                        acc += n;
                        sample(
                            &mut out,
                            &bucket_name,
                            &series.labels,
                            Some(*bound),
                            acc as f64,
                        );
                    }
                    sample(&mut out, &format!("{name}_sum"), &series.labels, None, *sum);
                    sample(
                        &mut out,
                        &format!("{name}_count"),
                        &series.labels,
                        None,
                        *count as f64,
                    );
                }
            }
        }
    }
    out
}

/// Writes one sample line straight into `out`: a scrape writes a few hundred of them, and
/// a `String` per number or label value made allocation most of the render time
/// (docs/benchmarks.md).
fn sample(
    out: &mut String,
    name: &str,
    labels: &[(&'static str, String)],
    le: Option<f64>,
    value: f64,
) {
    out.push_str(name);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (k, v) in labels {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(k);
            out.push_str("=\"");
            push_escaped(out, v);
            out.push('"');
        }
        if let Some(le) = le {
            if !first {
                out.push(',');
            }
            out.push_str(BUCKET_BOUND);
            out.push_str("=\"");
            push_number(out, le);
            out.push('"');
        }
        out.push('}');
    }
    out.push(' ');
    push_number(out, value);
    out.push('\n');
}

fn push_number(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{v}");
    }
}

/// Only backslash and newline are escaped in HELP of the classic format.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::{Def, Series};

    #[test]
    fn counters_and_infos_use_their_sample_names() {
        let fams = vec![
            Family {
                def: Def {
                    base: "x_requests",
                    help: "h",
                    unit: None,
                    kind: Kind::Counter,
                    labels: &[],
                    group: None,
                },
                series: vec![Series {
                    labels: vec![("a", "q\"\\\n".to_owned())],
                    value: Value::Number(3.0),
                }],
            },
            Family {
                def: Def {
                    base: "x_build",
                    help: "h",
                    unit: None,
                    kind: Kind::Info,
                    labels: &[],
                    group: None,
                },
                series: vec![Series {
                    labels: vec![],
                    value: Value::Number(1.0),
                }],
            },
            Family {
                def: Def {
                    base: "x_dur",
                    help: "h",
                    unit: Some("seconds"),
                    kind: Kind::Histogram,
                    labels: &[],
                    group: None,
                },
                series: vec![Series {
                    labels: vec![],
                    value: Value::Histogram {
                        buckets: vec![(1.0, 2), (f64::INFINITY, 1)],
                        sum: 3.5,
                        count: 3,
                    },
                }],
            },
        ];
        let text = render(&fams);
        assert!(
            text.contains(
                "# TYPE x_requests_total counter\nx_requests_total{a=\"q\\\"\\\\\\n\"} 3\n"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE x_build_info gauge\nx_build_info 1\n"));
        assert!(
            text.contains(
                "x_dur_seconds_bucket{le=\"1\"} 2\nx_dur_seconds_bucket{le=\"+Inf\"} 3\n"
            )
        );
        assert!(text.contains("x_dur_seconds_sum 3.5\nx_dur_seconds_count 3\n"));
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    }
}
