//! Each completed workout's training analytics, kept next to it in the store: the derived
//! values (JSON, like the summary) and its per-sample trace, compressed, so `--traces`
//! works later without asking Peloton again.
//!
//! The table is created by the schema-3 migration in database.rs. A workout whose details
//! were fetched before it existed has no row; it is in the training backlog, and the
//! poller fetches its graph once more (`Poller::fetch_training_backlog`).

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use rusqlite::{OptionalExtension, params};
use std::io::{Read, Write};

use super::database::{Store, StoreError, status_str, to_json};
use crate::domain::WorkoutSummary;
use crate::domain::training::{Trace, WorkoutTraining};
use crate::domain::training_summary::TrainingRow;

/// Version byte of the trace encoding.
const TRACE_FORMAT: u8 = 1;
/// A channel value that is a gap.
const GAP: u16 = u16::MAX;
/// Fixed-point scale per channel, in the order of `Trace::channels`: watts, rpm,
/// resistance in 1/1000, speed in mm/s, bpm. u16 holds every plausible value.
const SCALES: [f64; 5] = [1.0, 1.0, 1000.0, 1000.0, 1.0];
/// The longest trace decoded: 48 h at 1 s. A corrupt length cannot allocate more.
const MAX_TRACE_SAMPLES: usize = 48 * 3600;

/// When a workout counts for the training history: its end, else its start or creation.
pub fn end_time_of(w: &WorkoutSummary) -> i64 {
    w.end_time.or(w.start_time).or(w.created_at).unwrap_or(0.0) as i64
}

/// The trace as little-endian u16 columns, zlib-compressed: about 2 bytes per sample and
/// channel before compression.
pub fn encode_trace(trace: &Trace) -> Vec<u8> {
    let n = trace.len().min(MAX_TRACE_SAMPLES);
    let mut raw = Vec::with_capacity(13 + n * 10);
    raw.push(TRACE_FORMAT);
    raw.extend_from_slice(&trace.step_s.to_le_bytes());
    raw.extend_from_slice(&trace.offset_s.to_le_bytes());
    raw.extend_from_slice(&(n as u32).to_le_bytes());
    for ((_, channel), scale) in trace.channels().iter().zip(SCALES) {
        for i in 0..n {
            let value = channel
                .get(i)
                .copied()
                .flatten()
                .map(|v| (v * scale).round())
                .filter(|v| (0.0..f64::from(GAP)).contains(v))
                .map_or(GAP, |v| v as u16);
            raw.extend_from_slice(&value.to_le_bytes());
        }
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(&raw);
    encoder.finish().unwrap_or_default()
}

/// The trace back; `None` for anything that is not a trace this build wrote.
pub fn decode_trace(blob: &[u8]) -> Option<Trace> {
    let limit = (13 + MAX_TRACE_SAMPLES * 10) as u64;
    let mut raw = Vec::new();
    ZlibDecoder::new(blob)
        .take(limit + 1)
        .read_to_end(&mut raw)
        .ok()?;
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(raw.get(at..at + 4)?.try_into().ok()?))
    };
    if raw.first() != Some(&TRACE_FORMAT) {
        return None;
    }
    let (step_s, offset_s, n) = (u32_at(1)?, u32_at(5)?, u32_at(9)? as usize);
    if n > MAX_TRACE_SAMPLES || raw.len() != 13 + n * 10 {
        return None;
    }
    let channel = |k: usize, scale: f64| -> Vec<Option<f64>> {
        let start = 13 + k * n * 2;
        raw.get(start..start + n * 2)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|b| match b {
                [lo, hi] if u16::from_le_bytes([*lo, *hi]) != GAP => {
                    Some(f64::from(u16::from_le_bytes([*lo, *hi])) / scale)
                }
                _ => None,
            })
            .collect()
    };
    let [s0, s1, s2, s3, s4] = SCALES;
    let trim = |c: Vec<Option<f64>>| {
        if c.iter().all(Option::is_none) {
            Vec::new()
        } else {
            c
        }
    };
    Some(Trace {
        step_s,
        offset_s,
        output_watts: trim(channel(0, s0)),
        cadence_rpm: trim(channel(1, s1)),
        resistance_ratio: trim(channel(2, s2)),
        speed_meters_per_second: trim(channel(3, s3)),
        heart_rate_bpm: trim(channel(4, s4)),
    })
}

fn analytics_json(t: &WorkoutTraining) -> Result<String, rusqlite::Error> {
    serde_json::to_string(t).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Strength workouts stored with details but without the extras read (schema v4).
const STRENGTH_BACKLOG: &str =
    "status = 'COMPLETE' AND details = 1 AND extras = 0 AND discipline IN ('strength')";

const UPSERT: &str = "INSERT INTO training (id, end_time, analytics, trace) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT(id) DO UPDATE SET end_time = excluded.end_time, analytics = excluded.analytics, trace = excluded.trace";

impl Store {
    /// Stores a completed workout's enriched summary, its fetched mark and its training
    /// analytics in one transaction: after a crash it is fully recorded or still pending.
    pub fn set_details_with_training(
        &self,
        summary: &WorkoutSummary,
        training: &WorkoutTraining,
        trace: Option<&Trace>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let result = (|| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE workouts SET summary = ?2, status = ?3, discipline = ?4, details = 1, extras = 1 WHERE id = ?1",
                params![summary.id, to_json(summary)?, status_str(summary.status), summary.discipline],
            )?;
            tx.execute(
                UPSERT,
                params![
                    summary.id,
                    end_time_of(summary),
                    analytics_json(training)?,
                    trace.filter(|t| !t.is_empty()).map(encode_trace)
                ],
            )?;
            tx.commit()
        })();
        result.map_err(|e| self.err(e))
    }

    /// Stores the analytics of a workout whose details were stored earlier.
    pub fn set_training(
        &self,
        summary: &WorkoutSummary,
        training: &WorkoutTraining,
        trace: Option<&Trace>,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                UPSERT,
                params![
                    summary.id,
                    end_time_of(summary),
                    analytics_json(training).map_err(|e| self.err(e))?,
                    trace.filter(|t| !t.is_empty()).map(encode_trace)
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Completed workouts with details but no analytics (fetched before this table
    /// existed), newest first.
    pub fn training_backlog(&self, limit: usize) -> Result<Vec<WorkoutSummary>, StoreError> {
        self.summaries(
            "SELECT w.id, w.summary FROM workouts w LEFT JOIN training t ON t.id = w.id
             WHERE w.status = 'COMPLETE' AND w.details = 1 AND t.id IS NULL
             ORDER BY w.created_at DESC, w.id LIMIT ?1",
            limit,
        )
    }

    pub fn training_backlog_count(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM workouts w LEFT JOIN training t ON t.id = w.id
                 WHERE w.status = 'COMPLETE' AND w.details = 1 AND t.id IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Completed strength workouts whose details were stored before their movements and
    /// badges were read, newest first.
    pub fn strength_backlog(&self, limit: usize) -> Result<Vec<WorkoutSummary>, StoreError> {
        self.summaries(
            &format!(
                "SELECT id, summary FROM workouts WHERE {STRENGTH_BACKLOG} ORDER BY created_at DESC, id LIMIT ?1"
            ),
            limit,
        )
    }

    pub fn strength_backlog_count(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                &format!("SELECT COUNT(*) FROM workouts WHERE {STRENGTH_BACKLOG}"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// Every workout's analytics, oldest first. A row this build cannot read is skipped:
    /// one bad row must not hide the rest.
    pub fn training_rows(&self) -> Result<Vec<TrainingRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT id, end_time, analytics FROM training ORDER BY end_time, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, end_time, json) = row.map_err(|e| self.err(e))?;
            if let Ok(training) = serde_json::from_str(&json) {
                out.push(TrainingRow {
                    id,
                    end_time,
                    training,
                });
            }
        }
        Ok(out)
    }

    /// One workout's stored analytics.
    pub fn training_of(&self, id: &str) -> Result<Option<WorkoutTraining>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row("SELECT analytics FROM training WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Ids and end times of the workouts whose trace is stored and that ended in
    /// `(after, until]`, oldest first: remote write reads their traces one at a time.
    pub fn traces_ending_in(
        &self,
        after: Option<i64>,
        until: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, end_time FROM training WHERE trace IS NOT NULL \
                 AND end_time > ?1 AND end_time <= ?2 ORDER BY end_time, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![after.unwrap_or(i64::MIN), until], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One workout's stored trace (`None` when none is kept or it cannot be read).
    pub fn trace_of(&self, id: &str) -> Result<Option<Trace>, StoreError> {
        let blob: Option<Option<Vec<u8>>> = self
            .conn()
            .query_row("SELECT trace FROM training WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(blob.flatten().as_deref().and_then(decode_trace))
    }

    /// Calls `f` with the stored trace of every workout ending in `ending` and its id,
    /// oldest first, one at a time (the others are not even decompressed).
    pub fn for_each_trace(
        &self,
        ending: std::ops::RangeInclusive<i64>,
        mut f: impl FnMut(&str, Trace),
    ) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT id, trace FROM training WHERE trace IS NOT NULL \
                 AND end_time >= ?1 AND end_time <= ?2 ORDER BY end_time, id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(params![ending.start(), ending.end()])
            .map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let id: String = row.get(0).map_err(|e| self.err(e))?;
            let blob: Vec<u8> = row.get(1).map_err(|e| self.err(e))?;
            if let Some(trace) = decode_trace(&blob) {
                f(&id, trace);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace() -> Trace {
        Trace {
            step_s: 1,
            offset_s: 2,
            output_watts: vec![Some(100.0), None, Some(4999.0), Some(-1.0), Some(1e9)],
            cadence_rpm: vec![Some(80.0); 5],
            resistance_ratio: vec![Some(0.42); 5],
            speed_meters_per_second: vec![Some(15.1 / 3.6); 5],
            heart_rate_bpm: Vec::new(),
        }
    }

    #[test]
    fn traces_round_trip_to_their_resolution() {
        let back = decode_trace(&encode_trace(&trace())).unwrap();
        assert_eq!(back.step_s, 1);
        assert_eq!(back.offset_s, 2);
        assert_eq!(
            back.output_watts,
            vec![Some(100.0), None, Some(4999.0), None, None],
            "impossible values are gaps"
        );
        assert_eq!(back.resistance_ratio, vec![Some(0.42); 5]);
        let speed = back.speed_meters_per_second[0].unwrap();
        assert!((speed - 15.1 / 3.6).abs() < 0.0005);
        assert!(back.heart_rate_bpm.is_empty());
    }

    #[test]
    fn junk_is_not_a_trace() {
        assert_eq!(decode_trace(b"not zlib"), None);
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255])
            .unwrap();
        assert_eq!(decode_trace(&e.finish().unwrap()), None, "huge length");
    }

    #[test]
    fn stored_with_details_and_listed_in_the_backlog_until_then() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = Store::open(dir.path()).unwrap();
        let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
            "id": "w1", "status": "COMPLETE", "fitness_discipline": "cycling",
            "created_at": 10, "start_time": 10, "end_time": 1810
        }))
        .unwrap();
        let w = WorkoutSummary::from_list_item(&item).unwrap();
        store.upsert_listed(std::slice::from_ref(&w)).unwrap();
        store.set_details(&w).unwrap();
        assert_eq!(store.training_backlog_count().unwrap(), 1);
        assert_eq!(store.training_backlog(5).unwrap(), vec![w.clone()]);
        let training = WorkoutTraining {
            normalized_power_watts: Some(200.0),
            ..WorkoutTraining::default()
        };
        store.set_training(&w, &training, Some(&trace())).unwrap();
        assert_eq!(store.training_backlog_count().unwrap(), 0);
        let rows = store.training_rows().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].end_time, 1810);
        assert_eq!(rows[0].training, training);
        assert_eq!(store.training_of("w1").unwrap(), Some(training));
        let mut traces = 0;
        store
            .for_each_trace(1810..=1810, |id, t| {
                assert_eq!(id, "w1");
                assert_eq!(t.cadence_rpm.len(), 5);
                traces += 1;
            })
            .unwrap();
        assert_eq!(traces, 1);
        store
            .for_each_trace(1811..=i64::MAX, |_, _| panic!("ends before the range"))
            .unwrap();
        store
            .for_each_trace(i64::MIN..=1809, |_, _| panic!("ends after the range"))
            .unwrap();
    }
}
