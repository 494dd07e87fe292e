//! `process_*` from the numbers /proc gave: the families of a process, written once
//! however many accounts run.

use super::catalogue as c;
use super::family::Family;
use crate::process_stats::ProcessStats;

pub fn families(s: &ProcessStats) -> Vec<Family> {
    vec![
        c::PROCESS_CPU.with_value(s.cpu_seconds),
        c::PROCESS_RESIDENT_MEMORY.with_value(s.resident_bytes),
        c::PROCESS_VIRTUAL_MEMORY.with_value(s.virtual_bytes),
        c::PROCESS_OPEN_FDS.with_value(s.open_fds),
        c::PROCESS_MAX_FDS.with_value(s.max_fds),
        c::PROCESS_START_TIME.with_value(s.start_time_seconds),
    ]
}
