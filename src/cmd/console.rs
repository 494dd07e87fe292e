//! Messages to the terminal that must never take the process down: a closed stderr (a
//! pager that quit, `2>&1 | head -1`) loses the message, not the work, and a closed
//! stdout ends the command quietly with a non-zero code.

use std::fmt;
use std::io::Write as _;

/// The exit code of a command whose output went to a closed pipe: what a shell reports
/// for a process that SIGPIPE ended (128 + 13), so `set -o pipefail` scripts see the same.
pub const BROKEN_PIPE_EXIT: u8 = 141;

/// Writes one line to stderr; a failure to do so is ignored (the line was only
/// information about work that carries on).
pub fn note(args: fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(args);
    let _ = err.write_all(b"\n");
}

/// True when `e` (or one of its causes) is a write to a pipe nobody reads any more.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_broken_pipe_is_found_under_context() {
        let e: anyhow::Result<()> = Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("--out: write failed");
        assert!(is_broken_pipe(&e.unwrap_err()));
        let other: anyhow::Result<()> =
            Err(std::io::Error::from(std::io::ErrorKind::NotFound)).context("x");
        assert!(!is_broken_pipe(&other.unwrap_err()));
    }
}
