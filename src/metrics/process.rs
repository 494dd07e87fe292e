//! `process_*` from the numbers /proc gave: the families of a process, written once
//! however many accounts run.

use super::catalogue as c;
use super::family::{Def, Family};
use crate::process_stats::ProcessStats;

pub fn families(s: &ProcessStats) -> Vec<Family> {
    let one = |def: Def, value: Option<f64>| {
        let mut f = Family::new(def);
        f.push_opt(Vec::new(), value.filter(|v| v.is_finite()));
        f
    };
    vec![
        one(c::PROCESS_CPU, s.cpu_seconds),
        one(c::PROCESS_RESIDENT_MEMORY, s.resident_bytes),
        one(c::PROCESS_VIRTUAL_MEMORY, s.virtual_bytes),
        one(c::PROCESS_OPEN_FDS, s.open_fds),
        one(c::PROCESS_MAX_FDS, s.max_fds),
        one(c::PROCESS_START_TIME, s.start_time_seconds),
    ]
}
