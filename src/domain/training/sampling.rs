//! Timestamps to evenly spaced slots: the step a performance graph was sampled at, and
//! where each sample of a channel goes when Peloton skips the timestamps of stopped periods.

/// Longest workout believed: [`PowerSeries::from_timed`] drops samples further than this
/// from the first timestamp (so one corrupt timestamp cannot make it allocate gigabytes),
/// and [`trimp_from_zone_seconds`] rejects zone times adding up to more.
///
/// [`PowerSeries::from_timed`]: super::series::PowerSeries::from_timed
/// [`trimp_from_zone_seconds`]: super::heart_rate::trimp_from_zone_seconds
pub const MAX_SERIES_SPAN_S: u32 = 48 * 3600;

/// Puts each value in slot `round((t - t_first) / step_s)` of a new series; see
/// [`PowerSeries::from_timed`] for the rules. `keep` turns impossible values into gaps
/// before they are averaged with their slot's neighbours. Empty when `step_s` is 0.
///
/// [`PowerSeries::from_timed`]: super::series::PowerSeries::from_timed
pub fn place_by_time(
    step_s: u32,
    seconds: &[Option<f64>],
    values: &[Option<f64>],
    keep: impl Fn(Option<f64>) -> Option<f64>,
) -> Vec<Option<f64>> {
    if step_s == 0 {
        return Vec::new();
    }
    let step = f64::from(step_s);
    let last_slot = f64::from(MAX_SERIES_SPAN_S / step_s);
    let mut origin: Option<f64> = None;
    // (sum of kept values, how many) per slot
    let mut slots: Vec<(f64, f64)> = Vec::new();
    for (time, value) in seconds.iter().zip(values) {
        let Some(time) = time.filter(|t| t.is_finite()) else {
            continue;
        };
        let first = *origin.get_or_insert(time);
        let slot = ((time - first) / step).round();
        if !(0.0..=last_slot).contains(&slot) {
            continue;
        }
        let slot = slot as usize;
        if slots.len() <= slot {
            slots.resize(slot + 1, (0.0, 0.0));
        }
        if let (Some(v), Some(acc)) = (keep(*value), slots.get_mut(slot)) {
            acc.0 += v;
            acc.1 += 1.0;
        }
    }
    slots
        .into_iter()
        .map(|(sum, count)| (count > 0.0).then(|| sum / count))
        .collect()
}

/// The most common spacing of `seconds_since_pedaling_start`, rounded to whole seconds.
///
/// The performance graph does not say which `every_n` produced it; the mode is robust to
/// the skipped timestamps of stopped periods and to the short last bucket (the 2024 cycling
/// fixture runs 1, 6, …, 1196, 1200). Ties go to the smaller step. `None` without two
/// increasing finite timestamps.
pub fn infer_step_s(seconds: &[Option<f64>]) -> Option<u32> {
    let times: Vec<f64> = seconds
        .iter()
        .filter_map(|t| t.filter(|t| t.is_finite()))
        .collect();
    let mut steps: Vec<u32> = times
        .windows(2)
        .filter_map(|pair| match pair {
            [earlier, later] => {
                let step = (later - earlier).round();
                (1.0..=f64::from(u32::MAX))
                    .contains(&step)
                    .then_some(step as u32)
            }
            _ => None,
        })
        .collect();
    steps.sort_unstable();
    // Runs come in ascending order, so keeping only strictly longer runs prefers the
    // smaller step on a tie.
    steps
        .chunk_by(|a, b| a == b)
        .fold(None, |best: Option<(usize, u32)>, run| {
            match (best, run.first()) {
                (Some((best_len, _)), _) if run.len() <= best_len => best,
                (_, Some(step)) => Some((run.len(), *step)),
                (best, None) => best,
            }
        })
        .map(|(_, step)| step)
}
