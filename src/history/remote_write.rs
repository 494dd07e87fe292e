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
use crate::domain::{Status, WorkoutSummary};
use crate::history::backfill::{self, AccountHistory};
use crate::history::trace_samples::{self, Samples};
use crate::metrics::catalogue::Metric;
use crate::metrics::catalogue::labels::NoLabels;
use crate::metrics::collectors::Collectors;
use crate::metrics::family::Def;
use crate::store::database::{Store, StoreError};

const META_CURSOR: &str = "remote_write_until";
/// The end time of the newest workout whose trace was pushed (`--remote-write.traces`).
const META_TRACE_CURSOR: &str = "remote_write_traces_until";
/// How many workouts were at or before the cursor after the last push.
const META_PUSHED_WORKOUTS: &str = "remote_write_workouts";
const DAY: i64 = 86_400;
/// Attempts per request before the push is left to the next poll.
const ATTEMPTS: u32 = 3;
/// Trace samples per request: a 45-minute ride at 1 s is about 13,500 (five channels), so
/// a few requests of a size every receiver takes (Prometheus' own sender uses 2,000).
const TRACE_SAMPLES_PER_REQUEST: usize = 5_000;
/// The protocol's label for a series' name.
const NAME_LABEL: &str = "__name__";

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
        "remote write: receiver refused the samples (HTTP {status}); fix the receiver (remote-write receiver on, out-of-order window); those samples are not sent again (`backfill` writes them)"
    )]
    Refused { status: u16 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A push that stopped on an error, with what the receiver had accepted before it (the
/// cursors are past those samples: they are not sent again).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct PushFailed {
    pub pushed: Pushed,
    #[source]
    pub error: RemoteWriteError,
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
    traces: bool,
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
            traces: false,
        }
    }

    /// `--remote-write.traces`: also push each new workout's per-sample trace.
    #[must_use]
    pub fn with_traces(mut self, traces: bool) -> Self {
        self.traces = traces;
        self
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
    ///
    /// With traces, each workout's trace follows once the summary samples up to its end
    /// are accepted. Turned on later, traces start at the workouts pushed from then on;
    /// the older ones come from `backfill --traces`.
    pub async fn push_new(
        &self,
        store: &Store,
        account: Option<&str>,
    ) -> Result<Pushed, PushFailed> {
        let mut pushed = Pushed::default();
        let result = self.push_into(store, account, &mut pushed).await;
        result
            .map(|()| pushed)
            .map_err(|error| PushFailed { pushed, error })
    }

    async fn push_into(
        &self,
        store: &Store,
        account: Option<&str>,
        pushed: &mut Pushed,
    ) -> Result<(), RemoteWriteError> {
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
            return Ok(());
        };
        let trace_cursor = if !self.traces {
            None
        } else if let Some(v) = store.meta(META_TRACE_CURSOR)? {
            v.parse().ok()
        } else {
            // Switched on now: from what is pushed from now on.
            if let Some(c) = cursor {
                store.set_meta(META_TRACE_CURSOR, &c.to_string())?;
            }
            cursor
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
                return self
                    .push_traces(store, account, &workouts, trace_cursor, c, pushed)
                    .await;
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
        let first = collected
            .series()
            .filter_map(|(_, _, samples)| samples.first().map(|s| s.0))
            .min();
        let Some(first) = first else {
            return self
                .push_traces(store, account, &workouts, trace_cursor, newest, pushed)
                .await;
        };
        let mut refused = None;
        let mut window_start = first;
        while window_start <= newest {
            let window_end = ((window_start / DAY) + 1) * DAY - 1;
            let request = request_for(&collected, window_start, window_end);
            let samples: u64 = request
                .timeseries
                .iter()
                .map(|t| t.samples.len() as u64)
                .sum();
            if samples > 0 && self.deliver(&request, &mut refused).await? {
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
        self.push_traces(store, account, &workouts, trace_cursor, newest, pushed)
            .await?;
        refused.map_or(Ok(()), |status| Err(RemoteWriteError::Refused { status }))
    }

    /// Pushes the traces of the workouts that ended in `(after, until]`, oldest first, one
    /// workout at a time (a trace is read from the store only when it is sent), advancing
    /// the trace cursor after each.
    async fn push_traces(
        &self,
        store: &Store,
        account: Option<&str>,
        workouts: &[WorkoutSummary],
        after: Option<i64>,
        until: i64,
        pushed: &mut Pushed,
    ) -> Result<(), RemoteWriteError> {
        if !self.traces {
            return Ok(());
        }
        let starts = trace_samples::starts(workouts, self.include_imported);
        let labels = trace_samples::labels(account, &self.labels);
        // Overlapping workouts (two devices at once): a series' timestamps must increase,
        // also after those of the workouts pushed before.
        let mut last = [after.unwrap_or(i64::MIN); 5];
        let mut refused = None;
        for (id, end) in store.traces_ending_in(after, until)? {
            let (Some(start), Some(trace)) = (starts.get(id.as_str()), store.trace_of(&id)?) else {
                continue;
            };
            let series = trace_samples::samples(&trace, *start, &mut last);
            for request in trace_requests(&series, &labels) {
                let samples: u64 = request
                    .timeseries
                    .iter()
                    .map(|t| t.samples.len() as u64)
                    .sum();
                if self.deliver(&request, &mut refused).await? {
                    pushed.requests += 1;
                    pushed.samples += samples;
                }
            }
            store.set_meta(META_TRACE_CURSOR, &end.to_string())?;
        }
        refused.map_or(Ok(()), |status| Err(RemoteWriteError::Refused { status }))
    }

    /// Sends one request: `Ok(true)` when accepted, `Ok(false)` when the receiver refused
    /// it (4xx other than 429: sending it again cannot help, so it is passed over as
    /// Prometheus' own sender does, and `refused` keeps the status to report), `Err` when
    /// it may succeed later (the cursor stays before it).
    async fn deliver(
        &self,
        request: &WriteRequest,
        refused: &mut Option<u16>,
    ) -> Result<bool, RemoteWriteError> {
        match self.send(request).await {
            Ok(()) => Ok(true),
            Err(RemoteWriteError::Refused { status }) => {
                *refused = Some(status);
                Ok(false)
            }
            Err(e) => Err(e),
        }
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

/// Channels cut into requests of at most `TRACE_SAMPLES_PER_REQUEST` samples, in time
/// order within each series.
fn trace_requests(
    series: &[(Metric<NoLabels>, Samples)],
    labels: &[(String, String)],
) -> Vec<WriteRequest> {
    let mut requests = Vec::new();
    let mut current = WriteRequest::default();
    let mut size = 0;
    for (metric, samples) in series {
        for chunk in samples.chunks(TRACE_SAMPLES_PER_REQUEST) {
            if size + chunk.len() > TRACE_SAMPLES_PER_REQUEST && size > 0 {
                requests.push(std::mem::take(&mut current));
                size = 0;
            }
            current.timeseries.push(TimeSeries {
                labels: series_labels(&metric.def, labels),
                samples: chunk
                    .iter()
                    .map(|(ts, v)| Sample {
                        value: *v,
                        timestamp: ts * 1000,
                    })
                    .collect(),
            });
            size += chunk.len();
        }
    }
    if size > 0 {
        requests.push(current);
    }
    requests
}

/// A series' labels with its name, sorted by name as the protocol wants.
fn series_labels(def: &Def, labels: &[(String, String)]) -> Vec<Label> {
    let mut all: Vec<Label> = labels
        .iter()
        .map(|(k, v)| Label {
            name: k.clone(),
            value: v.clone(),
        })
        .collect();
    all.push(Label {
        name: NAME_LABEL.to_owned(),
        value: def.sample_name(),
    });
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
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
        timeseries.push(TimeSeries {
            labels: series_labels(def, labels),
            samples: picked,
        });
    }
    WriteRequest { timeseries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn ride(seconds: usize, watts: f64) -> crate::domain::training::Trace {
        crate::domain::training::Trace {
            step_s: 1,
            offset_s: 1,
            output_watts: vec![Some(watts); seconds],
            cadence_rpm: vec![Some(80.0); seconds],
            heart_rate_bpm: (0..seconds)
                .map(|i| (i % 2 == 0).then_some(120.0))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn trace_requests_stay_small_and_keep_each_series_in_order() {
        let mut last = [i64::MIN; 5];
        let series = trace_samples::samples(&ride(2 * 3600, 250.0), 0, &mut last);
        let total: usize = series.iter().map(|(_, s)| s.len()).sum();
        let labels = vec![("job".to_owned(), "peloton".to_owned())];
        let requests = trace_requests(&series, &labels);
        let mut sent = 0;
        let mut seen: BTreeMap<String, i64> = BTreeMap::new();
        for r in &requests {
            let size: usize = r.timeseries.iter().map(|t| t.samples.len()).sum();
            assert!(
                size <= TRACE_SAMPLES_PER_REQUEST,
                "{size} samples in one request"
            );
            let names: Vec<&str> = r
                .timeseries
                .iter()
                .filter_map(|t| t.labels.iter().find(|l| l.name == NAME_LABEL))
                .map(|l| l.value.as_str())
                .collect();
            let unique: std::collections::BTreeSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "a series twice in one request");
            for t in &r.timeseries {
                let name = &t
                    .labels
                    .iter()
                    .find(|l| l.name == NAME_LABEL)
                    .unwrap()
                    .value;
                assert!(t.labels.windows(2).all(|w| w[0].name < w[1].name));
                for s in &t.samples {
                    let prev = seen.insert(name.clone(), s.timestamp);
                    assert!(prev.is_none_or(|p| p < s.timestamp), "{name} went back");
                }
            }
            sent += size;
        }
        assert_eq!(sent, total);
        assert_eq!(total, 7_200 + 7_200 + 3_600);
    }

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
