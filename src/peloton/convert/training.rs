//! The performance graph's per-sample series and the detail's `ftp_info` turned into the
//! domain's [`Trace`] and [`FtpInForce`], in base units, samples placed by their
//! timestamps.

use crate::domain::training::{FtpInForce, Trace, infer_step_s, place_by_time};
use crate::domain::units;
use crate::peloton::model::{GraphMetric, PerformanceGraph, Workout};

/// Whether any `output` sample is above 0 W (whether it is bike power, the discipline
/// tells: `WorkoutGraph::has_bike_power`).
pub fn has_output(graph: &PerformanceGraph) -> bool {
    metric(graph, "output").is_some_and(|m| m.values.iter().flatten().any(|w| *w > 0.0))
}

fn metric<'a>(g: &'a PerformanceGraph, slug: &str) -> Option<&'a GraphMetric> {
    g.metrics.iter().find(|m| m.slug.as_deref() == Some(slug))
}

/// The FTP in force at a workout from its detail's `ftp_info`.
pub fn ftp_in_force(detail: &Workout) -> Option<FtpInForce> {
    let info = detail.ftp_info.as_ref()?;
    FtpInForce::new(info.ftp, info.ftp_source.as_deref())
}

/// The graph's series at their resolution. The step is the most common spacing of the
/// timestamps (the response does not echo `every_n`), else `requested_step_s`.
pub fn trace(g: &PerformanceGraph, requested_step_s: u32) -> Trace {
    let seconds = &g.seconds_since_pedaling_start;
    let step_s = infer_step_s(seconds).unwrap_or(requested_step_s).max(1);
    let offset_s = seconds
        .iter()
        .flatten()
        .find(|t| t.is_finite())
        .map_or(0, |t| t.clamp(0.0, f64::from(u32::MAX)) as u32);
    let place = |slug: &str, convert: &dyn Fn(f64, &str) -> Option<f64>| {
        let Some(m) = metric(g, slug) else {
            return Vec::new();
        };
        let unit = m.display_unit.as_deref().unwrap_or("");
        let values: Vec<Option<f64>> = m
            .values
            .iter()
            .map(|v| v.and_then(|v| convert(v, unit)))
            .collect();
        let placed = place_by_time(step_s, seconds, &values, |v| v);
        if placed.iter().any(Option::is_some) {
            placed
        } else {
            Vec::new()
        }
    };
    let non_negative = |v: f64, _: &str| (v.is_finite() && v >= 0.0).then_some(v);
    Trace {
        step_s,
        offset_s,
        output_watts: place("output", &non_negative),
        cadence_rpm: place("cadence", &non_negative),
        resistance_ratio: place("resistance", &|v, unit| {
            units::percent_to_ratio(v, if unit.is_empty() { "%" } else { unit })
                .filter(|r| *r >= 0.0)
        }),
        speed_meters_per_second: place("speed", &|v, unit| {
            units::speed_to_mps(v, unit).filter(|s| *s >= 0.0)
        }),
        heart_rate_bpm: place("heart_rate", &|v, _| {
            (v > 0.0 && v.is_finite()).then_some(v)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::training::FtpSource;

    fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_n_1_fixture_places_samples_by_time() {
        let g: PerformanceGraph = fixture("performance_graph_cycling_metric_units_2020.json");
        let t = trace(&g, 1);
        assert_eq!(t.step_s, 1);
        assert_eq!(t.offset_s, 2);
        // 1192 samples from 2 s to 1199 s: the timestamps skip a few seconds, which
        // become gaps instead of shortening the ride.
        assert_eq!(t.output_watts.len(), 1198);
        assert_eq!(t.output_watts.iter().flatten().count(), 1192);
        let speed = t.speed_meters_per_second.iter().flatten().next().unwrap();
        assert!((speed - 15.1 / 3.6).abs() < 1e-9, "kph converted: {speed}");
        assert!(t.resistance_ratio.iter().flatten().all(|r| *r <= 1.0));
        assert!(has_output(&g));
    }

    #[test]
    fn every_n_5_fixture_infers_its_step() {
        let g: PerformanceGraph = fixture("performance_graph_cycling_2024.json");
        let t = trace(&g, 1);
        assert_eq!(t.step_s, 5);
        assert_eq!(t.heart_rate_bpm.first(), Some(&Some(108.0)));
    }

    #[test]
    fn ftp_info_of_the_fixtures() {
        let d: Workout = fixture("workout_detail_cycling_2024.json");
        assert_eq!(
            ftp_in_force(&d),
            Some(FtpInForce {
                watts: 171.0,
                source: FtpSource::Estimated
            })
        );
        let d: Workout = fixture("workout_detail_cycling_2020_with_instructor.json");
        assert_eq!(ftp_in_force(&d).map(|f| f.source), Some(FtpSource::Manual));
        let d: Workout = fixture("workout_detail_strength_2020.json");
        assert_eq!(ftp_in_force(&d), None, "ftp 0 is no FTP");
    }
}
