//! One workout's sample channels (output, cadence, resistance, speed, heart rate) at the
//! graph's resolution, as stored for history and remote write.

use super::series::PowerSeries;

/// One workout's samples at the graph's resolution, placed by their timestamps (slot `i`
/// is `i × step_s` seconds after the first sample), gaps as `None`, in base units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    pub step_s: u32,
    /// Seconds from the workout's start to the first sample.
    pub offset_s: u32,
    pub output_watts: Vec<Option<f64>>,
    pub cadence_rpm: Vec<Option<f64>>,
    pub resistance_ratio: Vec<Option<f64>>,
    pub speed_meters_per_second: Vec<Option<f64>>,
    pub heart_rate_bpm: Vec<Option<f64>>,
}

impl Trace {
    /// Samples per channel (the longest channel).
    pub fn len(&self) -> usize {
        self.channels()
            .iter()
            .map(|(_, c)| c.len())
            .max()
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each channel with its stable name.
    pub fn channels(&self) -> [(&'static str, &Vec<Option<f64>>); 5] {
        [
            ("output_watts", &self.output_watts),
            ("cadence_rpm", &self.cadence_rpm),
            ("resistance_ratio", &self.resistance_ratio),
            ("speed_meters_per_second", &self.speed_meters_per_second),
            ("heart_rate_bpm", &self.heart_rate_bpm),
        ]
    }

    /// The output channel as a power series.
    pub fn power(&self) -> Option<PowerSeries> {
        (self.step_s > 0 && self.output_watts.iter().any(Option::is_some))
            .then(|| PowerSeries::new(self.step_s, self.output_watts.iter().copied()))
    }
}
