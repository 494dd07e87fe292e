//! Progress of long runs on stderr: a bar on a terminal, plain lines otherwise (logs,
//! CI, pipes), each with the pace and the time left. Writing never fails the run: a
//! closed stderr loses the progress, not the work.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use crate::state::progress::Pace;

#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    terminal: bool,
    pace: Pace,
    last_draw: Option<Instant>,
    last_decile: u64,
    /// stderr refused a write: nobody reads it any more.
    closed: bool,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let mut pace = Pace::default();
        pace.observe(0, total, Instant::now());
        Self {
            label: label.into(),
            total,
            done: 0,
            terminal: std::io::stderr().is_terminal(),
            pace,
            last_draw: None,
            last_decile: 0,
            closed: false,
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn set(&mut self, done: u64) {
        self.done = done.min(self.total);
        if self.terminal {
            // Redrawing more than ten times a second only costs time.
            if self
                .last_draw
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(100))
                || self.done == self.total
            {
                self.draw();
            }
        } else {
            let decile = (self.done * 10).checked_div(self.total).unwrap_or(10);
            if decile > self.last_decile {
                self.last_decile = decile;
                let said = self.describe();
                let line = format!("{}: {said}\n", self.label);
                self.write(line.as_bytes());
            }
        }
    }

    fn describe(&mut self) -> String {
        self.pace
            .observe(self.done, self.total, Instant::now())
            .describe()
    }

    fn draw(&mut self) {
        const WIDTH: u64 = 30;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        let bar: String = (0..WIDTH)
            .map(|i| if i < filled { '#' } else { '-' })
            .collect();
        // `\x1b[K` clears what a longer previous line left behind.
        let said = self.describe();
        let line = format!("\r{} [{bar}] {said}\x1b[K", self.label);
        self.write(line.as_bytes());
        self.last_draw = Some(Instant::now());
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.closed {
            return;
        }
        let mut err = std::io::stderr().lock();
        if err.write_all(bytes).and_then(|()| err.flush()).is_err() {
            self.closed = true;
        }
    }

    pub fn finish(mut self) {
        self.set(self.total);
        if self.terminal {
            self.write(b"\n");
        }
    }
}
