//! Spaces requests to Peloton at most `--peloton.max-request-rate` per second.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    period: Duration,
    next: Option<Instant>,
}

impl RateLimiter {
    pub fn new(rate: f64) -> Self {
        let period = if rate > 0.0 && rate.is_finite() {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        Self { period, next: None }
    }

    pub async fn wait(&mut self) {
        let now = Instant::now();
        if let Some(next) = self.next
            && next > now
        {
            tokio::time::sleep(next - now).await;
        }
        self.next = Some(Instant::now() + self.period);
    }
}
