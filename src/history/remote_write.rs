//! Pushes newly completed workouts' samples, with their true timestamps, through the
//! Prometheus remote-write protocol (1.0: protobuf + snappy), so Prometheus, Mimir or
//! Thanos receive the history without a file step.
//!
//! What has been pushed is a time cursor in the account's store, advanced after every
//! accepted request: a restart never pushes a sample twice. The samples are exactly those
//! of the backfill (same names and labels), cut into one request per UTC day so the
//! receiver sees time move forward.

use std::time::Duration;

use prost::Message as _;
use url::Url;

use crate::clock::now_unix;
use crate::domain::Status;
use crate::history::backfill::{self, AccountHistory};
use crate::metrics::collectors::Collectors;
use crate::store::database::{Store, StoreError};

const META_CURSOR: &str = "remote_write_until";
/// How many workouts were at or before the cursor after the last push.
const META_PUSHED_WORKOUTS: &str = "remote_write_workouts";
const DAY: i64 = 86_400;
/// Attempts per request before the push is left to the next poll.
const ATTEMPTS: u32 = 3;

#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteWriteError {
    #[error("remote write to {url}: {detail}")]
    Send { url: String, detail: String },
    #[error(
        "remote write: receiver refused the samples (HTTP {status}); fix the receiver (remote-write receiver on, out-of-order window) — they are not sent again"
    )]
    Refused { status: u16 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pushed {
    pub requests: u64,
    pub samples: u64,
}

#[derive(Debug, Clone)]
pub struct RemoteWriter {
    http: reqwest::Client,
    url: Url,
    labels: Vec<(String, String)>,
    collectors: Collectors,
    include_imported: bool,
}

impl RemoteWriter {
    pub fn new(
        http: reqwest::Client,
        url: Url,
        labels: Vec<(String, String)>,
        collectors: Collectors,
    ) -> Self {
        Self {
            http,
            url,
            labels,
            collectors,
            include_imported: false,
        }
    }

    /// `--peloton.include-imported`, as on `/metrics`.
    #[must_use]
    pub fn including_imported(mut self, include: bool) -> Self {
        self.include_imported = include;
        self
    }

    /// Pushes every sample newer than the cursor. Call it when the history's details are
    /// complete; costs one pass over the store when nothing completed since the last push.
    ///
    /// Samples end at the newest workout (a live scrape covers "now"), and the cursor ends
    /// there too: a workout that Peloton lists late, but after everything pushed so far,
    /// is pushed at its own end time. One listed after a newer workout was already pushed
    /// cannot be (the receiver would refuse an out-of-order sample): its step shows in the
    /// next push, and a warning says so.
    pub async fn push_new(
        &self,
        store: &Store,
        account: Option<&str>,
    ) -> Result<Pushed, RemoteWriteError> {
        let cursor: Option<i64> = store.meta(META_CURSOR)?.and_then(|v| v.parse().ok());
        let now = now_unix();
        let mut workouts = Vec::new();
        store.for_each(|w| {
            if w.summary.status == Status::Complete {
                workouts.push(w.summary);
            }
        })?;
        let counted = |w: &&crate::domain::WorkoutSummary| self.include_imported || !w.imported;
        // Future-dated workouts (a wrong clock somewhere) never move the cursor.
        let newest = workouts
            .iter()
            .filter(counted)
            .filter_map(backfill::at)
            .filter(|t| *t <= now)
            .max();
        let Some(newest) = newest else {
            return Ok(Pushed::default());
        };
        if let Some(c) = cursor {
            let behind = workouts
                .iter()
                .filter(counted)
                .filter_map(backfill::at)
                .filter(|t| *t <= c)
                .count() as u64;
            let known: u64 = store
                .meta(META_PUSHED_WORKOUTS)?
                .and_then(|v| v.parse().ok())
                .unwrap_or(behind);
            if behind > known {
                tracing::warn!(
                    workouts = behind - known,
                    "workouts listed after newer ones were pushed: their steps show at the next pushed sample"
                );
                store.set_meta(META_PUSHED_WORKOUTS, &behind.to_string())?;
            }
            if newest <= c {
                return Ok(Pushed::default());
            }
        }
        let collected = backfill::collect(
            &[AccountHistory {
                account: account.map(str::to_owned),
                workouts: workouts.clone(),
                training: store.training_rows()?,
                traces: None,
            }],
            &backfill::Options {
                from: cursor.map(|c| c + 1),
                to: newest,
                labels: self.labels.clone(),
                collectors: self.collectors.clone(),
                include_imported: self.include_imported,
                traces: false,
            },
        );
        let mut pushed = Pushed::default();
        let first = collected
            .series()
            .filter_map(|(_, _, samples)| samples.first().map(|s| s.0))
            .min();
        let Some(first) = first else {
            return Ok(pushed);
        };
        let mut window_start = first;
        while window_start <= newest {
            let window_end = ((window_start / DAY) + 1) * DAY - 1;
            let request = request_for(&collected, window_start, window_end);
            let samples: u64 = request
                .timeseries
                .iter()
                .map(|t| t.samples.len() as u64)
                .sum();
            if samples > 0 {
                self.send(&request).await?;
                pushed.requests += 1;
                pushed.samples += samples;
            }
            let done_until = window_end.min(newest);
            store.set_meta(META_CURSOR, &done_until.to_string())?;
            window_start = window_end + 1;
        }
        let behind = workouts
            .iter()
            .filter(counted)
            .filter_map(backfill::at)
            .filter(|t| *t <= newest)
            .count();
        store.set_meta(META_PUSHED_WORKOUTS, &behind.to_string())?;
        Ok(pushed)
    }

    async fn send(&self, request: &WriteRequest) -> Result<(), RemoteWriteError> {
        let body = snap::raw::Encoder::new()
            .compress_vec(&request.encode_to_vec())
            .map_err(|e| self.error(&e.to_string()))?;
        let mut attempt = 0;
        loop {
            let result = self
                .http
                .post(self.url.clone())
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(body.clone())
                .send()
                .await;
            let retry = match result {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                    self.error(&format!("HTTP {}", r.status().as_u16()))
                }
                Ok(r) => {
                    return Err(RemoteWriteError::Refused {
                        status: r.status().as_u16(),
                    });
                }
                Err(e) => self.error(&crate::logging::error_chain(&e)),
            };
            attempt += 1;
            if attempt >= ATTEMPTS {
                return Err(retry);
            }
            tokio::time::sleep(
                Duration::from_millis(500 * 2u64.pow(attempt)).mul_f64(0.5 + fastrand::f64() / 2.0),
            )
            .await;
        }
    }

    fn error(&self, detail: &str) -> RemoteWriteError {
        RemoteWriteError::Send {
            url: self.url.to_string(),
            detail: detail.to_owned(),
        }
    }
}

/// The samples with timestamps in `[start, end]` (seconds), as one request.
fn request_for(collected: &backfill::Collected, start: i64, end: i64) -> WriteRequest {
    let mut timeseries = Vec::new();
    for (def, labels, samples) in collected.series() {
        let picked: Vec<Sample> = samples
            .iter()
            .filter(|(ts, _)| *ts >= start && *ts <= end)
            .map(|(ts, v)| Sample {
                value: *v,
                timestamp: ts * 1000,
            })
            .collect();
        if picked.is_empty() {
            continue;
        }
        let mut all: Vec<Label> = labels
            .iter()
            .map(|(k, v)| Label {
                name: k.clone(),
                value: v.clone(),
            })
            .collect();
        all.push(Label {
            name: "__name__".to_owned(),
            value: def.sample_name(),
        });
        // The protocol wants labels sorted by name.
        all.sort_by(|a, b| a.name.cmp(&b.name));
        timeseries.push(TimeSeries {
            labels: all,
            samples: picked,
        });
    }
    WriteRequest { timeseries }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_protobuf_and_snappy() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    Label {
                        name: "__name__".into(),
                        value: "peloton_workouts_total".into(),
                    },
                    Label {
                        name: "discipline".into(),
                        value: "cycling".into(),
                    },
                ],
                samples: vec![Sample {
                    value: 3.0,
                    timestamp: 1_700_000_000_000,
                }],
            }],
        };
        let body = snap::raw::Encoder::new()
            .compress_vec(&req.encode_to_vec())
            .unwrap();
        let back = WriteRequest::decode(
            snap::raw::Decoder::new()
                .decompress_vec(&body)
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        assert_eq!(back, req);
    }
}
