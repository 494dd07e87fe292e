//! Progress of long runs on stderr: a bar on a terminal, plain lines otherwise (logs,
//! CI, pipes).

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    terminal: bool,
    last_draw: Option<Instant>,
    last_decile: u64,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        Self {
            label: label.into(),
            total,
            done: 0,
            terminal: std::io::stderr().is_terminal(),
            last_draw: None,
            last_decile: 0,
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
                eprintln!(
                    "{}: {}/{} ({}%)",
                    self.label,
                    self.done,
                    self.total,
                    decile * 10
                );
            }
        }
    }

    fn draw(&mut self) {
        const WIDTH: u64 = 30;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(WIDTH);
        let bar: String = (0..WIDTH)
            .map(|i| if i < filled { '#' } else { '-' })
            .collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{} [{bar}] {}/{}", self.label, self.done, self.total);
        let _ = err.flush();
        self.last_draw = Some(Instant::now());
    }

    pub fn finish(mut self) {
        self.set(self.total);
        if self.terminal {
            eprintln!();
        }
    }
}
