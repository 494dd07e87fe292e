//! OpenMetrics text through prometheus-client: a collector that writes the families built
//! from the current snapshots at scrape time.

use std::borrow::Cow;
use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use crate::metrics::family::{Family, Kind, Value};

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Writes prepared families; the scrape handler builds them from the snapshots first, so
/// the collector itself does no work beyond encoding.
#[derive(Debug)]
struct Families(Vec<Family>);

impl Collector for Families {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        for family in &self.0 {
            let def = family.def;
            let unit = def.unit.map(|u| Unit::Other(u.to_owned()));
            let metric_type = match def.kind {
                Kind::Gauge => MetricType::Gauge,
                Kind::Counter => MetricType::Counter,
                Kind::Info => MetricType::Info,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut metric =
                encoder.encode_descriptor(def.base, def.help, unit.as_ref(), metric_type)?;
            for series in &family.series {
                let labels: Vec<(Cow<'static, str>, Cow<'_, str>)> = series
                    .labels
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(v.as_str())))
                    .collect();
                match (&series.value, def.kind) {
                    (Value::Number(_), Kind::Info) => {
                        metric.encode_info(&labels)?;
                    }
                    (Value::Number(v), Kind::Counter) => {
                        let m = metric.encode_family(&labels)?;
                        ConstCounter::new(*v).encode(m)?;
                    }
                    (Value::Number(v), _) => {
                        let m = metric.encode_family(&labels)?;
                        ConstGauge::new(*v).encode(m)?;
                    }
                    (
                        Value::Histogram {
                            buckets,
                            sum,
                            count,
                        },
                        _,
                    ) => {
                        let mut m = metric.encode_family(&labels)?;
                        m.encode_histogram::<Vec<(String, String)>>(*sum, *count, buckets, None)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// The OpenMetrics exposition of `families`, ending in `# EOF`.
pub fn render(families: Vec<Family>) -> Result<String, fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families(families)));
    let mut out = String::with_capacity(16 * 1024);
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}
