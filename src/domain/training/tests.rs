use super::series::plausible_watts;
use super::*;
use proptest::prelude::*;

/// Within `rel` of `expected` (relative), e.g. 0.001 for 0.1 %.
fn close(actual: Option<f64>, expected: f64, rel: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() <= rel * expected.abs().max(1e-9))
}

fn series(step_s: u32, watts: &[f64]) -> PowerSeries {
    PowerSeries::new(step_s, watts.iter().copied().map(Some))
}

/// 300 s at 1 s: 100 s at 100 W, 100 s at 300 W, 100 s at 200 W, FTP 250 W.
fn three_blocks() -> PowerSeries {
    let watts: Vec<f64> = std::iter::repeat_n(100.0, 100)
        .chain(std::iter::repeat_n(300.0, 100))
        .chain(std::iter::repeat_n(200.0, 100))
        .collect();
    series(1, &watts)
}

// Average: (100·100 + 100·300 + 100·200) / 300 = 60 000 / 300 = 200 W.
//
// Curve: 5 s and 60 s fit inside the 300 W block → 300 W; 300 s is the whole ride →
// 200 W; 1200 s and 3600 s are longer than the ride → None.
//
// NP: window = round(30 / 1) = 30 samples, windows start at i = 0..=270 (271 of them).
//   i = 0..=70     inside the 100 W block:  71 windows of 100 W
//   i = 71..=99    j = i − 70 ∈ 1..=29 samples of 300 W: (100(30−j) + 300j)/30 = 100 + 20j/3
//   i = 100..=170  inside the 300 W block:  71 windows of 300 W
//   i = 171..=199  j = i − 170 ∈ 1..=29 samples of 200 W: (300(30−j) + 200j)/30 = 300 − 10j/3
//   i = 200..=270  inside the 200 W block:  71 windows of 200 W          (71·3 + 29·2 = 271)
// Fourth powers:
//   71·100⁴ + 71·300⁴ + 71·200⁴ = 7.1e9 + 575.1e9 + 113.6e9      = 695.8e9
//   Σ_{j=1..29} (100 + 20j/3)⁴ (evaluated exactly)                =  68.557 775 8e9
//   Σ_{j=1..29} (300 − 10j/3)⁴ (evaluated exactly)                = 121.771 111 0e9
//   total                                                         = 886.128 886 8e9
//   mean = 886.128 886 8e9 / 271 = 3.269 848 29e9
//   NP = mean^(1/4) = √(√3.269 848 29e9) = √57 182.587 = 239.1288 W
// IF  = 239.1288 / 250 = 0.956 515
// TSS = 300 · 239.1288 · 0.956 515 / (250 · 3600) · 100
//     = (300 / 3600) · 0.956 515² · 100 = 0.083 333 · 0.914 921 · 100 = 7.6243
// Zones at FTP 250: 100 W = 40 % → Z1; 200 W = 80 % → Z3; 300 W = exactly 120 % → Z5
// (upper bounds inclusive), 100 s each.
#[test]
fn hand_computed_three_block_ride() {
    let ride = three_blocks();
    let ftp = 250.0;
    assert_eq!(ride.duration_s(), Some(300.0));
    assert!(close(average_power(&ride), 200.0, 1e-3));

    let curve = power_curve(&ride);
    assert!(matches!(curve, [Some(_), Some(_), Some(_), None, None]));
    let [c5, c60, c300, _, _] = curve;
    assert!(close(c5, 300.0, 1e-3));
    assert!(close(c60, 300.0, 1e-3));
    assert!(close(c300, 200.0, 1e-3));

    let np = normalized_power(&ride);
    assert!(close(np, 239.1288, 1e-3));
    let np = np.unwrap_or(f64::NAN);
    assert!(close(intensity_factor(np, ftp), 0.956_515, 1e-3));
    assert!(close(training_stress_score(300.0, np, ftp), 7.6243, 1e-3));
    assert_eq!(
        workout_load(&ride, Some(ftp), None).map(|(method, _)| method),
        Some(LoadMethod::Power)
    );
    assert_eq!(
        time_in_power_zones(&ride, ftp),
        Some([100.0, 0.0, 100.0, 0.0, 100.0, 0.0, 0.0])
    );
}

#[test]
fn step_of_zero_knows_no_time() {
    let ride = series(0, &[200.0; 100]);
    assert_eq!(ride.duration_s(), None);
    assert_eq!(best_average(&ride, 5), None);
    assert_eq!(power_curve(&ride), [None; 5]);
    assert_eq!(normalized_power(&ride), None);
    assert_eq!(time_in_power_zones(&ride, 200.0), None);
    // A mean of equally spaced samples does not need the spacing.
    assert_eq!(average_power(&ride), Some(200.0));
    assert_eq!(workout_load(&ride, Some(200.0), None), None);
    let hr = [60.0, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(
        workout_load(&ride, Some(200.0), Some(&hr)),
        Some((LoadMethod::HeartRateTrimp, 1.0))
    );
    assert_eq!(
        PowerSeries::from_timed(0, &[Some(0.0), Some(1.0)], &[Some(5.0), Some(-1.0)]),
        PowerSeries {
            step_s: 0,
            watts: vec![Some(5.0), None]
        }
    );
}

#[test]
fn huge_step_uses_one_sample_windows() {
    let ride = series(u32::MAX, &[100.0, 300.0, 200.0]);
    assert_eq!(best_average(&ride, 5), Some(300.0));
    assert_eq!(best_average(&ride, 3600), Some(300.0));
    let expected_np = ((100.0_f64.powi(4) + 300.0_f64.powi(4) + 200.0_f64.powi(4)) / 3.0)
        .sqrt()
        .sqrt();
    assert!(close(normalized_power(&ride), expected_np, 1e-12));
    assert_eq!(
        time_in_power_zones(&ride, 200.0).map(|z| z.iter().sum::<f64>()),
        Some(3.0 * f64::from(u32::MAX))
    );
}

#[test]
fn all_gaps_is_unknown_not_zero() {
    let ride = PowerSeries::new(1, vec![None; 4000]);
    assert_eq!(average_power(&ride), None);
    assert_eq!(power_curve(&ride), [None; 5]);
    assert_eq!(normalized_power(&ride), None);
    assert_eq!(time_in_power_zones(&ride, 200.0), None);
    assert_eq!(workout_load(&ride, Some(200.0), None), None);
    let empty = PowerSeries::default();
    assert_eq!(average_power(&empty), None);
    assert_eq!(power_curve(&empty), [None; 5]);
    assert_eq!(normalized_power(&empty), None);
    assert_eq!(empty.duration_s(), None);
}

#[test]
fn shorter_than_five_seconds() {
    let ride = series(1, &[100.0, 200.0, 300.0, 400.0]);
    assert_eq!(power_curve(&ride), [None; 5]);
    assert_eq!(normalized_power(&ride), None);
    assert_eq!(average_power(&ride), Some(250.0));
    assert_eq!(best_average(&ride, 4), Some(250.0));
    // 29 s is still short of the 30 s NP needs; 30 s is enough.
    assert_eq!(normalized_power(&series(1, &[200.0; 29])), None);
    assert!(close(
        normalized_power(&series(1, &[200.0; 30])),
        200.0,
        1e-12
    ));
    assert!(close(
        normalized_power(&series(5, &[200.0; 6])),
        200.0,
        1e-12
    ));
}

#[test]
fn gaps_are_zero_in_windows_and_absent_from_zones() {
    let ride = PowerSeries::new(
        1,
        [Some(400.0), None, Some(400.0), Some(f64::NAN), Some(-3.0)],
    );
    assert_eq!(ride.watts, vec![Some(400.0), None, Some(400.0), None, None]);
    assert_eq!(best_average(&ride, 5), Some(160.0));
    assert_eq!(average_power(&ride), Some(160.0));
    assert_eq!(
        time_in_power_zones(&ride, 200.0),
        Some([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    );
    // Hand-built series with junk are cleaned on use as well.
    let raw = PowerSeries {
        step_s: 1,
        watts: vec![Some(f64::INFINITY), Some(100.0)],
    };
    assert_eq!(best_average(&raw, 2), Some(50.0));
}

#[test]
fn impossible_values_become_gaps() {
    let ride = PowerSeries::new(
        1,
        [
            Some(-1.0),
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(5000.5),
            Some(5000.0),
            Some(-0.0),
            None,
        ],
    );
    assert_eq!(
        ride.watts,
        vec![None, None, None, None, Some(5000.0), Some(-0.0), None]
    );
}

#[test]
fn timed_series_fills_skipped_timestamps() {
    // Shape of performance_graph_cycling_2024.json: 1, 6, …, 1196, then a short 1200.
    let seconds: Vec<Option<f64>> = (0..240)
        .map(|i| Some(f64::from(1 + 5 * i)))
        .chain([Some(1200.0)])
        .collect();
    assert_eq!(infer_step_s(&seconds), Some(5));
    let values = vec![Some(150.0); seconds.len()];
    let ride = PowerSeries::from_timed(5, &seconds, &values);
    assert_eq!(ride.watts.len(), 241);
    assert!(ride.watts.iter().all(|w| *w == Some(150.0)));

    // every_n=1 with skipped seconds (as in the 2020 metric-units fixture).
    let seconds = [Some(2.0), Some(3.0), Some(5.0), None, Some(6.0), Some(4.0)];
    let values = [
        Some(100.0),
        Some(110.0),
        Some(130.0),
        Some(999.0),
        None,
        Some(120.0),
    ];
    assert_eq!(infer_step_s(&seconds), Some(1));
    let ride = PowerSeries::from_timed(1, &seconds, &values);
    // 4.0 arrives out of order but still lands in its slot.
    assert_eq!(
        ride.watts,
        vec![Some(100.0), Some(110.0), Some(120.0), Some(130.0), None]
    );

    // Finer data than the step is averaged (slot = round(t / 2), half away from zero:
    // 0 → 0, 1 → 1, 2 → 1); a wild or earlier-than-first timestamp is dropped.
    let seconds = [Some(0.0), Some(1.0), Some(2.0), Some(1e12), Some(-5.0)];
    let values = [Some(100.0), Some(200.0), Some(300.0), Some(1.0), Some(1.0)];
    let ride = PowerSeries::from_timed(2, &seconds, &values);
    assert_eq!(ride.watts, vec![Some(100.0), Some(250.0)]);

    assert_eq!(infer_step_s(&[]), None);
    assert_eq!(infer_step_s(&[Some(3.0), Some(3.0), Some(f64::NAN)]), None);
    assert_eq!(
        infer_step_s(&[Some(0.0), Some(2.0), Some(3.0), Some(5.0), Some(6.0)]),
        Some(1)
    );
}

#[test]
fn np_can_sit_below_average_for_a_late_spike() {
    // Documented limit of Coggan's full-window NP: 30 × 0 W then one 1000 W second.
    // Windows: all zeros, and 1000/30 = 33.3 W; NP = (33.3⁴ / 2)^(1/4) = 28.0 W,
    // average = 1000/31 = 32.3 W.
    let mut watts = vec![0.0; 30];
    watts.push(1000.0);
    let ride = series(1, &watts);
    assert!(close(
        normalized_power(&ride),
        1000.0 / 30.0 / 2.0_f64.sqrt().sqrt(),
        1e-9
    ));
    assert!(close(average_power(&ride), 1000.0 / 31.0, 1e-12));
}

#[test]
fn curve_rounding_caveat_for_non_nesting_steps() {
    // Documented: at 4-s steps, 5 s → 2 samples and 60 s → 15 samples; 15 does not
    // split into 2-sample windows, so alternating data can rank 60 s above 5 s.
    let watts: Vec<f64> = (0..15)
        .map(|i| if i % 2 == 0 { 1000.0 } else { 0.0 })
        .collect();
    let ride = series(4, &watts);
    assert_eq!(best_average(&ride, 5), Some(500.0));
    assert!(close(best_average(&ride, 60), 8000.0 / 15.0, 1e-12));
}

#[test]
fn intensity_and_tss_reject_unknown_inputs() {
    assert_eq!(intensity_factor(200.0, 0.0), None);
    assert_eq!(intensity_factor(200.0, -250.0), None);
    assert_eq!(intensity_factor(200.0, f64::NAN), None);
    assert_eq!(intensity_factor(200.0, f64::INFINITY), None);
    assert_eq!(intensity_factor(f64::NAN, 250.0), None);
    assert_eq!(intensity_factor(-1.0, 250.0), None);
    assert_eq!(intensity_factor(200.0, 250.0), Some(0.8));
    // An hour at FTP is 100 by definition.
    assert!(close(
        training_stress_score(3600.0, 250.0, 250.0),
        100.0,
        1e-12
    ));
    assert_eq!(training_stress_score(-1.0, 250.0, 250.0), None);
    assert_eq!(training_stress_score(f64::INFINITY, 250.0, 250.0), None);
    assert_eq!(training_stress_score(3600.0, 250.0, 1e-300), None);
    assert_eq!(training_stress_score(0.0, 250.0, 250.0), Some(0.0));
}

#[test]
fn power_zone_boundaries() {
    let ftp = 200.0;
    let cases = [
        (0.0, 1),
        (110.0, 1), // exactly 55 %
        (110.1, 2),
        (150.0, 2), // 75 %
        (150.1, 3),
        (180.0, 3), // 90 %
        (210.0, 4), // 105 %
        (240.0, 5), // 120 %
        (300.0, 6), // 150 %
        (300.1, 7),
        (5000.0, 7),
    ];
    for (watts, zone) in cases {
        assert_eq!(power_zone(watts, ftp), Some(zone), "{watts} W");
    }
    assert_eq!(power_zone(-1.0, ftp), None);
    assert_eq!(power_zone(100.0, 0.0), None);
    assert_eq!(time_in_power_zones(&series(1, &[100.0]), f64::NAN), None);
}

#[test]
fn trimp_from_peloton_zones() {
    // performance_graph_cycling_2024.json effort_zones.heart_rate_zone_durations.
    let effort_zones = [
        ("heart_rate_z1_duration", 23.0),
        ("heart_rate_z2_duration", 25.0),
        ("heart_rate_z3_duration", 74.0),
        ("heart_rate_z4_duration", 805.0),
        ("heart_rate_z5_duration", 270.0),
    ];
    let zones = hr_zone_seconds(effort_zones);
    assert_eq!(zones, Some([23.0, 25.0, 74.0, 805.0, 270.0]));
    // (23·1 + 25·2 + 74·3 + 805·4 + 270·5) / 60 = 4865 / 60 = 81.083
    let trimp = zones.as_ref().and_then(trimp_from_zone_seconds);
    assert!(close(trimp, 4865.0 / 60.0, 1e-12));

    // The same ride through heart_rate.zones[] slugs.
    let slugs = [
        ("zone5", 270.0),
        ("zone1", 23.0),
        ("zone2", 25.0),
        ("zone3", 74.0),
        ("zone4", 805.0),
    ];
    assert_eq!(hr_zone_seconds(slugs), zones);

    assert_eq!(hr_zone_seconds([("zone1", 1.0), ("zone2", 1.0)]), None);
    assert_eq!(
        hr_zone_seconds([
            ("zone1", 1.0),
            ("zone2", 1.0),
            ("zone3", f64::NAN),
            ("zone4", 1.0),
            ("zone5", 1.0)
        ]),
        None
    );
    assert_eq!(trimp_from_zone_seconds(&[0.0; 5]), None);
    assert_eq!(trimp_from_zone_seconds(&[1.0, -1.0, 0.0, 0.0, 0.0]), None);
    assert_eq!(trimp_from_zone_seconds(&[f64::MAX; 5]), None);
    assert_eq!(
        trimp_from_zone_seconds(&[0.0, 0.0, 0.0, 0.0, 48.0 * 3600.0 + 1.0]),
        None
    );
    assert!(close(
        trimp_from_zone_seconds(&[0.0, 0.0, 0.0, 0.0, 48.0 * 3600.0]),
        14_400.0,
        1e-12
    ));
    assert_eq!(LoadMethod::Power.label(), "power_tss");
    assert_eq!(LoadMethod::HeartRateTrimp.label(), "hr_trimp");
}

#[test]
fn all_zero_power_falls_back_to_heart_rate() {
    let ride = series(1, &[0.0; 600]);
    assert_eq!(normalized_power(&ride), Some(0.0));
    let hr = [600.0, 0.0, 0.0, 0.0, 0.0];
    assert_eq!(
        workout_load(&ride, Some(200.0), Some(&hr)),
        Some((LoadMethod::HeartRateTrimp, 10.0))
    );
    // No FTP: power cannot be scored either.
    let ride = series(1, &[200.0; 600]);
    assert_eq!(
        workout_load(&ride, None, Some(&hr)).map(|(method, _)| method),
        Some(LoadMethod::HeartRateTrimp)
    );
}

#[test]
fn daily_loads_by_hand() {
    // One 100-load workout on day 0:
    //   CTL = 100 · (1 − e^(−1/42)) = 2.352 83, ATL = 100 · (1 − e^(−1/7)) = 13.312 2
    // then a rest day multiplies by e^(−1/42) and e^(−1/7).
    let rows = daily_loads(&[(0, 100.0)], 0, 1);
    let ctl0 = 100.0 * (1.0 - (-1.0_f64 / 42.0).exp());
    let atl0 = 100.0 * (1.0 - (-1.0_f64 / 7.0).exp());
    assert!(close(Some(ctl0), 2.352_83, 1e-5));
    assert!(close(Some(atl0), 13.312_2, 1e-5));
    let days: Vec<i64> = rows.iter().map(|(day, _)| *day).collect();
    assert_eq!(days, vec![0, 1]);
    let l0 = rows.first().map(|(_, loads)| *loads).unwrap_or_default();
    let l1 = rows.last().map(|(_, loads)| *loads).unwrap_or_default();
    assert!(close(Some(l0.ctl), ctl0, 1e-12) && close(Some(l0.atl), atl0, 1e-12));
    assert!(close(Some(l1.ctl), ctl0 * (-1.0_f64 / 42.0).exp(), 1e-12));
    assert!(close(Some(l1.atl), atl0 * (-1.0_f64 / 7.0).exp(), 1e-12));
    assert!(close(Some(l0.form()), ctl0 - atl0, 1e-12));

    // Earlier training seeds the range; same-day workouts add; junk is ignored.
    let seeded = daily_loads(
        &[
            (-3, 60.0),
            (-3, 40.0),
            (0, f64::NAN),
            (0, -5.0),
            (0, 1e9),
            (5, 100.0),
        ],
        0,
        0,
    );
    let expected = ctl0 * (-3.0_f64 / 42.0).exp();
    assert!(matches!(seeded.as_slice(), [(0, l)] if close(Some(l.ctl), expected, 1e-12)));

    assert!(daily_loads(&[(0, 1.0)], 1, 0).is_empty());
    assert!(daily_loads(&[], i64::MIN, i64::MAX).is_empty());
    assert_eq!(
        daily_loads(&[(i64::MIN, 1.0)], i64::MAX - 1, i64::MAX).len(),
        2
    );
    assert!(
        daily_loads(&[], 0, 9)
            .iter()
            .all(|(_, l)| *l == Loads::default())
    );
}

fn messy_watts() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        8 => (0.0..1500.0_f64).prop_map(Some),
        1 => Just(None),
        1 => any::<f64>().prop_map(Some),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -0.0, 0.0, 5000.0, 5000.1, f64::MAX,
        ])
        .prop_map(Some),
    ]
}

fn clean_watts() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![9 => (0.0..2000.0_f64).prop_map(Some), 1 => Just(None)]
}

fn np_window(step_s: u32) -> usize {
    ((NP_WINDOW_S + step_s / 2) / step_s).max(1) as usize
}

fn naive_window_means(samples: &[f64], window: usize) -> Vec<f64> {
    if window == 0 {
        return Vec::new();
    }
    samples
        .windows(window)
        .map(|w| w.iter().sum::<f64>() / window as f64)
        .collect()
}

fn naive_loads(daily: &[(i64, f64)], from_day: i64, to_day: i64) -> Vec<(i64, Loads)> {
    let ctl_keep = (-1.0_f64 / 42.0).exp();
    let atl_keep = (-1.0_f64 / 7.0).exp();
    let valid: Vec<(i64, f64)> = daily
        .iter()
        .copied()
        .filter(|&(_, load)| (0.0..=MAX_PLAUSIBLE_LOAD).contains(&load))
        .collect();
    let start = valid
        .iter()
        .map(|&(day, _)| day)
        .min()
        .unwrap_or(from_day)
        .min(from_day);
    let mut loads = Loads::default();
    let mut out = Vec::new();
    for day in start..=to_day {
        let load: f64 = valid
            .iter()
            .filter(|&&(d, _)| d == day)
            .map(|&(_, l)| l)
            .sum();
        loads.ctl += (load - loads.ctl) * (1.0 - ctl_keep);
        loads.atl += (load - loads.atl) * (1.0 - atl_keep);
        if day >= from_day {
            out.push((day, loads));
        }
    }
    out
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #[test]
    fn curve_never_rises_when_windows_nest(
        step in prop::sample::select(vec![1_u32, 2, 3, 5, 6, 10, 12, 15, 20, 30, 60]),
        watts in prop::collection::vec(messy_watts(), 0..700),
    ) {
        let curve = power_curve(&PowerSeries::new(step, watts));
        for pair in curve.windows(2) {
            if let [shorter, Some(longer)] = pair {
                prop_assert!(shorter.is_some());
                let shorter = shorter.unwrap_or(f64::NAN);
                prop_assert!(*longer <= shorter * (1.0 + 1e-9) + 1e-9, "{curve:?}");
            }
        }
    }

    #[test]
    fn whole_multiple_durations_never_rise_at_any_step(
        step in 1_u32..=500,
        multiple in 1_u32..=40,
        factor in 1_u32..=8,
        watts in prop::collection::vec(messy_watts(), 0..400),
    ) {
        let ride = PowerSeries::new(step, watts);
        let short = best_average(&ride, step * multiple);
        let long = best_average(&ride, step * multiple * factor);
        if let Some(long) = long {
            let short = short.unwrap_or(f64::NAN);
            prop_assert!(long <= short * (1.0 + 1e-9) + 1e-9);
        }
    }

    #[test]
    fn sliding_sums_match_naive(
        step in 1_u32..=40,
        duration in 1_u32..=400,
        watts in prop::collection::vec(messy_watts(), 0..300),
    ) {
        let ride = PowerSeries::new(step, watts);
        let samples = ride.zero_filled();
        let has_data = ride.watts.iter().any(Option::is_some);

        let window = duration.div_ceil(step) as usize;
        let naive_best = naive_window_means(&samples, window).into_iter().reduce(f64::max);
        let best = best_average(&ride, duration);
        prop_assert_eq!(best.is_some(), has_data && naive_best.is_some());
        if let (Some(best), Some(naive)) = (best, naive_best) {
            prop_assert!(approx(best, naive), "{best} vs {naive}");
        }

        let means = naive_window_means(&samples, np_window(step));
        let long_enough = samples.len() as u64 * u64::from(step) >= 30;
        let np = normalized_power(&ride);
        prop_assert_eq!(np.is_some(), has_data && long_enough && !means.is_empty());
        if let Some(np) = np {
            let naive = (means.iter().map(|m| m.powi(4)).sum::<f64>() / means.len() as f64).sqrt().sqrt();
            prop_assert!(approx(np, naive), "{np} vs {naive}");
        }
    }

    #[test]
    fn np_is_at_least_the_average(
        step in 1_u32..=10,
        core in prop::collection::vec(clean_watts(), 1..600),
    ) {
        let window = np_window(step);
        let ride = PowerSeries::new(step, core);
        let samples = ride.zero_filled();
        if let (Some(np), Some(avg)) = (normalized_power(&ride), average_power(&ride)) {
            // Power-mean inequality over the rolling averages: exact.
            let means = naive_window_means(&samples, window);
            let mean_of_means = means.iter().sum::<f64>() / means.len() as f64;
            prop_assert!(np >= mean_of_means * (1.0 - 1e-9) - 1e-9);
            // Edge samples sit in fewer windows; this bounds how far that can pull.
            let n = samples.len() as f64;
            let w = window as f64;
            let peak = samples.iter().copied().fold(0.0, f64::max);
            prop_assert!(np >= avg - peak * (w - 1.0) / (n - w + 1.0) - 1e-6);
        }

        // With a window of 0 W at each end every sample is in a full set of windows,
        // and NP ≥ average power holds exactly.
        let padding = std::iter::repeat_n(Some(0.0), window - 1);
        let padded = PowerSeries::new(
            step,
            padding.clone().chain(ride.watts.iter().copied()).chain(padding),
        );
        if let (Some(np), Some(avg)) = (normalized_power(&padded), average_power(&padded)) {
            prop_assert!(np >= avg * (1.0 - 1e-9) - 1e-9, "np {np} < avg {avg}");
        }
    }

    #[test]
    fn loads_are_non_negative_and_match_day_by_day(
        daily in prop::collection::vec(
            (-60_i64..60, prop_oneof![4 => 0.0..500.0_f64, 1 => any::<f64>()]),
            0..40,
        ),
        from_day in -30_i64..30,
        len in 0_i64..90,
    ) {
        let to_day = from_day + len - 1;
        let rows = daily_loads(&daily, from_day, to_day);
        prop_assert_eq!(i64::try_from(rows.len()).ok(), Some(len));
        let naive = naive_loads(&daily, from_day, to_day);
        prop_assert_eq!(rows.len(), naive.len());
        for ((day, loads), (naive_day, naive_loads)) in rows.iter().zip(&naive) {
            prop_assert_eq!(day, naive_day);
            prop_assert!(loads.ctl.is_finite() && loads.ctl >= 0.0);
            prop_assert!(loads.atl.is_finite() && loads.atl >= 0.0);
            prop_assert!(approx(loads.ctl, naive_loads.ctl), "{loads:?} vs {naive_loads:?}");
            prop_assert!(approx(loads.atl, naive_loads.atl), "{loads:?} vs {naive_loads:?}");
        }
    }

    #[test]
    fn constant_load_converges(load in 0.0..2000.0_f64, days in 1_i64..1500) {
        let daily: Vec<(i64, f64)> = (0..days).map(|day| (day, load)).collect();
        let rows = daily_loads(&daily, 0, days - 1);
        let last = rows.last().map(|(_, loads)| *loads).unwrap_or_default();
        // k days of a constant load from zero: load · (1 − e^(−k/τ)).
        let k = days as f64;
        prop_assert!(approx(last.ctl, load * (1.0 - (-k / 42.0).exp())));
        prop_assert!(approx(last.atl, load * (1.0 - (-k / 7.0).exp())));
        if days >= 300 {
            prop_assert!((last.ctl - load).abs() <= 1e-3 * load + 1e-9);
            prop_assert!((last.atl - load).abs() <= 1e-9 * load + 1e-9);
        }
    }

    #[test]
    fn nothing_panics_and_nothing_is_fake(
        step in prop_oneof![Just(0_u32), Just(1), Just(5), Just(u32::MAX), any::<u32>()],
        watts in prop::collection::vec(messy_watts(), 0..300),
        seconds in prop::collection::vec(prop_oneof![
            4 => (0.0..4000.0_f64).prop_map(Some), 1 => Just(None), 1 => any::<f64>().prop_map(Some),
        ], 0..300),
        ftp in prop_oneof![Just(0.0), Just(f64::NAN), 50.0..400.0_f64, any::<f64>()],
        duration in any::<u32>(),
        zones in prop::array::uniform5(any::<f64>()),
    ) {
        let finite_non_negative = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v >= 0.0);
        for ride in [
            PowerSeries::new(step, watts.clone()),
            PowerSeries::from_timed(step, &seconds, &watts),
            PowerSeries { step_s: step, watts: watts.clone() },
        ] {
            prop_assert!(finite_non_negative(ride.duration_s()));
            prop_assert!(finite_non_negative(best_average(&ride, duration)));
            prop_assert!(power_curve(&ride).into_iter().all(finite_non_negative));
            let np = normalized_power(&ride);
            prop_assert!(finite_non_negative(np));
            prop_assert!(finite_non_negative(average_power(&ride)));
            let np = np.unwrap_or(f64::NAN);
            prop_assert!(finite_non_negative(intensity_factor(np, ftp)));
            prop_assert!(finite_non_negative(training_stress_score(f64::from(duration), np, ftp)));
            if let Some(zones) = time_in_power_zones(&ride, ftp) {
                let known = ride.watts.iter().filter(|w| plausible_watts(**w).is_some()).count();
                let total: f64 = zones.iter().sum();
                prop_assert!(approx(total, known as f64 * f64::from(ride.step_s)));
            }
            prop_assert!(workout_load(&ride, Some(ftp), Some(&zones)).is_none_or(|(_, v)| v.is_finite() && v >= 0.0));
        }
        prop_assert!(finite_non_negative(trimp_from_zone_seconds(&zones)));
        prop_assert!(infer_step_s(&seconds).is_none_or(|step| step >= 1));
    }
}
