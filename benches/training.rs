//! Training analytics at scale (std::time, no framework): the per-workout analytics of
//! 20,000 rides of 45 minutes at 1-second resolution (done once per workout, when its graph
//! arrives), the account summary over 20,000 stored analytics (done when a workout's
//! analytics arrive and at UTC midnight), and the trace encoding kept in the store.
//!
//! ```sh
//! cargo bench --bench training
//! ```
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Instant;

use peloton_exporter::domain::training::{FtpInForce, PowerSeries, Trace, WorkoutTraining};
use peloton_exporter::domain::training_summary::{TrainingRow, summarize};
use peloton_exporter::store::training::encode_trace;

const WORKOUTS: usize = 20_000;
const SECONDS: usize = 45 * 60;

fn ride(rng: &mut fastrand::Rng) -> Vec<Option<f64>> {
    let base = 120.0 + rng.f64() * 120.0;
    (0..SECONDS)
        .map(|i| {
            let sprint = if i % 600 < 15 { 2.5 } else { 1.0 };
            let w = base * sprint * (0.8 + 0.4 * rng.f64());
            (rng.u32(0..500) != 0).then_some(w.round())
        })
        .collect()
}

fn main() {
    let mut rng = fastrand::Rng::with_seed(7);
    let rides: Vec<Vec<Option<f64>>> = (0..64).map(|_| ride(&mut rng)).collect();
    let ftp = FtpInForce::new(Some(200.0), Some("ftp_workout_source"));
    let zones = [60.0, 600.0, 900.0, 900.0, 240.0];

    // Per workout: series, curve, NP, IF, TSS, zones, load.
    let started = Instant::now();
    let mut rows = Vec::with_capacity(WORKOUTS);
    let mut samples = 0_usize;
    for i in 0..WORKOUTS {
        let watts = &rides[i % rides.len()];
        samples += watts.len();
        let series = PowerSeries::new(1, watts.iter().copied());
        let training = WorkoutTraining::compute(Some(&series), ftp, Some(&zones), Some(40.0));
        rows.push(TrainingRow {
            id: format!("{i:032x}"),
            end_time: 1_600_000_000 + i as i64 * 15_000,
            training,
        });
    }
    let analytics = started.elapsed();
    println!(
        "analytics of {WORKOUTS} rides ({samples} samples at 1 s): {:.2} s CPU, {:.1} µs per ride, {:.1} ns per sample",
        analytics.as_secs_f64(),
        analytics.as_secs_f64() * 1e6 / WORKOUTS as f64,
        analytics.as_secs_f64() * 1e9 / samples as f64
    );

    // Account summary over every stored row, best of 5.
    let now = rows.last().map_or(0, |r| r.end_time) + 3600;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let summary = summarize(&rows, now);
        best = best.min(t.elapsed().as_secs_f64());
        assert!(summary.power_curve_all_time[0].is_some());
    }
    println!(
        "summary over {WORKOUTS} workouts (curve, 90 d, zones, CTL/ATL over {} days): {:.2} ms",
        (rows.last().map_or(0, |r| r.end_time) - rows.first().map_or(0, |r| r.end_time)) / 86_400,
        best * 1e3
    );
    let json: usize = rows
        .iter()
        .map(|r| serde_json::to_string(&r.training).unwrap().len())
        .sum();
    println!(
        "analytics JSON in the store: {:.0} bytes per workout",
        json as f64 / WORKOUTS as f64
    );

    // Trace encoding: five channels, as stored.
    let watts = &rides[0];
    let trace = Trace {
        step_s: 1,
        offset_s: 1,
        output_watts: watts.clone(),
        cadence_rpm: watts.iter().map(|w| w.map(|w| 60.0 + w / 10.0)).collect(),
        resistance_ratio: watts.iter().map(|w| w.map(|w| w / 1000.0)).collect(),
        speed_meters_per_second: watts.iter().map(|w| w.map(f64::cbrt)).collect(),
        heart_rate_bpm: watts.iter().map(|w| w.map(|w| 100.0 + w / 5.0)).collect(),
    };
    let t = Instant::now();
    let blob = encode_trace(&trace);
    println!(
        "trace of a 45-minute ride: {} bytes stored ({:.1} bytes per second), encoded in {:.2} ms",
        blob.len(),
        blob.len() as f64 / SECONDS as f64,
        t.elapsed().as_secs_f64() * 1e3
    );
}
