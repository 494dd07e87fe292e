//! What the exporter should show, read from the fake Peloton itself, and the comparison
//! of a scrape with it: the tests that inject faults end on "exact again".

use std::collections::BTreeMap;

use peloton_fake::FakePeloton;

use super::{Samples, series};

/// discipline → value of `name{discipline="…"}`, zeros left out.
pub fn by_discipline(s: &Samples, name: &str) -> Samples {
    series(s, name)
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(k, v)| {
            let d = k.split("discipline=\"").nth(1).unwrap().split('"').next();
            (d.unwrap().to_owned(), v)
        })
        .collect()
}

/// Completed workouts per discipline, imported ones included.
pub fn completed_counts(fake: &FakePeloton) -> Samples {
    let mut counts = BTreeMap::new();
    for w in fake.member().workouts.iter().filter(|w| w.is_complete()) {
        *counts.entry(w.discipline.clone()).or_insert(0.0) += 1.0;
    }
    counts
}

/// Completed Peloton (not imported) workouts per discipline, and their output.
pub fn truth(fake: &FakePeloton) -> (Samples, Samples) {
    let mut counts = BTreeMap::new();
    let mut output = BTreeMap::new();
    for w in fake
        .member()
        .workouts
        .iter()
        .filter(|w| w.is_complete() && !w.imported)
    {
        *counts.entry(w.discipline.clone()).or_insert(0.0) += 1.0;
        *output.entry(w.discipline.clone()).or_insert(0.0) += w.total_work_joules.unwrap_or(0.0);
    }
    output.retain(|_, v| *v > 0.0);
    (counts, output)
}

/// Workout counts equal, output equal to a billionth.
pub fn exact(s: &Samples, fake: &FakePeloton) -> bool {
    let (counts, output) = truth(fake);
    let got = by_discipline(s, "peloton_output_joules_total");
    by_discipline(s, "peloton_workouts_total") == counts
        && got.keys().eq(output.keys())
        && got
            .iter()
            .zip(output.values())
            .all(|((_, g), w)| (g - w).abs() <= 1e-9 * w.abs())
}

/// `exact`, failing with what differs.
pub fn assert_exact(s: &Samples, fake: &FakePeloton, when: &str) {
    let (counts, output) = truth(fake);
    assert_eq!(
        by_discipline(s, "peloton_workouts_total"),
        counts,
        "{when}: workouts per discipline"
    );
    let got = by_discipline(s, "peloton_output_joules_total");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        output.keys().collect::<Vec<_>>(),
        "{when}: disciplines with output"
    );
    for (d, want) in &output {
        let g = got[d];
        assert!(
            (g - want).abs() <= 1e-9 * want.abs(),
            "{when}: output of {d}: exported {g}, truth {want}"
        );
    }
}
