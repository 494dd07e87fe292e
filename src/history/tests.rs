//! The backfill file and remote write give the same samples for the same workouts: names,
//! labels, values and timestamps, the per-sample traces included.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use prost::Message as _;

use super::backfill::{self, AccountHistory};
use super::remote_write::{RemoteWriter, WriteRequest};
use crate::domain::WorkoutSummary;
use crate::domain::training::{FtpInForce, LoadMethod, Trace, WorkoutTraining};
use crate::metrics::collectors::Collectors;
use crate::store::database::Store;

/// name, labels, value bits, Unix seconds.
type Sample = (String, BTreeMap<String, String>, u64, i64);

const DAY: i64 = 86_400;

fn workout(id: &str, start: i64, imported: bool) -> WorkoutSummary {
    let item: crate::peloton::model::Workout = serde_json::from_value(serde_json::json!({
        "id": id, "status": "COMPLETE", "fitness_discipline": "cycling", "total_work": 90_000.0,
        "start_time": start, "end_time": start + 1800, "created_at": start,
        "is_3p_fit_feed_workout": imported,
        "ride": {"title": "30 min \"Climb\", hills", "instructor": {"name": "Coach"}}
    }))
    .unwrap();
    WorkoutSummary::from_list_item(&item).unwrap()
}

/// Two rides a day apart, each with analytics and a trace with gaps, and an import with a
/// trace of its own.
fn store_with_rides(dir: &std::path::Path, start: i64) -> Store {
    let (store, _) = Store::open(dir).unwrap();
    let rides = [
        (workout("a", start, false), 1, 2),
        (workout("b", start + DAY, false), 5, 0),
        (workout("import", start + 2 * DAY, true), 1, 0),
    ];
    for (ride, step_s, offset_s) in &rides {
        store.upsert_listed(std::slice::from_ref(ride)).unwrap();
        let training = WorkoutTraining {
            ftp: FtpInForce::new(Some(200.0), Some("ftp_workout_source")),
            normalized_power_watts: Some(210.0),
            training_stress_score: Some(55.0),
            load: Some((LoadMethod::Power, 55.0)),
            power_curve_watts: [Some(400.0), Some(300.0), None, None, None],
            ..WorkoutTraining::default()
        };
        let trace = Trace {
            step_s: *step_s,
            offset_s: *offset_s,
            output_watts: (0..40)
                .map(|i| (i % 7 != 3).then_some(f64::from(150 + i)))
                .collect(),
            heart_rate_bpm: (0..40).map(|i| (i > 4).then_some(130.5)).collect(),
            ..Trace::default()
        };
        store
            .set_details_with_training(ride, &training, Some(&trace))
            .unwrap();
    }
    store
}

fn from_backfill(text: &str) -> BTreeSet<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let mut parts = line.rsplitn(3, ' ');
            let ts = parts.next().unwrap().parse().unwrap();
            let value: f64 = parts.next().unwrap().parse().unwrap();
            let series = parts.next().unwrap();
            let (name, labels) = series.split_once('{').unwrap();
            let labels = parse_labels(labels.strip_suffix('}').unwrap());
            (name.to_owned(), labels, value.to_bits(), ts)
        })
        .collect()
}

/// `a="x",b="y \"z\""` as written by the OpenMetrics writer.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return labels;
        }
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("escape at the end of {text}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(name.trim_start_matches(',').to_owned(), value);
    }
}

fn from_remote_write(bodies: &[Vec<u8>]) -> BTreeSet<Sample> {
    let mut samples = BTreeSet::new();
    for body in bodies {
        let raw = snap::raw::Decoder::new().decompress_vec(body).unwrap();
        for series in WriteRequest::decode(raw.as_slice()).unwrap().timeseries {
            let mut labels: BTreeMap<String, String> = series
                .labels
                .into_iter()
                .map(|l| (l.name, l.value))
                .collect();
            let name = labels.remove("__name__").unwrap();
            for s in series.samples {
                assert_eq!(s.timestamp % 1000, 0);
                let sample = (
                    name.clone(),
                    labels.clone(),
                    s.value.to_bits(),
                    s.timestamp / 1000,
                );
                assert!(samples.insert(sample), "pushed twice");
            }
        }
    }
    samples
}

/// A remote-write receiver that keeps every body it is sent.
async fn receiver() -> (url::Url, Arc<Mutex<Vec<Vec<u8>>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/write",
        axum::routing::post(move |body: axum::body::Bytes| {
            let kept = kept.clone();
            async move { kept.lock().unwrap().push(body.to_vec()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/write").parse().unwrap(), bodies)
}

#[tokio::test]
async fn backfill_and_remote_write_give_the_same_samples() {
    let start = 1_700_006_400 + 3600; // an hour into a UTC day
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store_with_rides(dir.path(), start));
    let labels = vec![("job".to_owned(), "peloton".to_owned())];

    let mut workouts = Vec::new();
    store.for_each(|w| workouts.push(w.summary)).unwrap();
    let newest = workouts
        .iter()
        .filter(|w| !w.imported)
        .filter_map(backfill::at)
        .max();
    let history = AccountHistory {
        account: Some("a".to_owned()),
        workouts,
        training: store.training_rows().unwrap(),
        traces: Some(store.clone()),
    };
    let options = backfill::Options {
        from: None,
        // Remote write's samples end at the newest workout that counts.
        to: newest.unwrap(),
        labels: labels.clone(),
        collectors: Collectors::default(),
        include_imported: false,
        traces: true,
    };
    let mut file = Vec::new();
    backfill::write(&[history], &options, &mut file).unwrap();
    let file = from_backfill(&String::from_utf8(file).unwrap());

    let (url, bodies) = receiver().await;
    let writer = RemoteWriter::new(reqwest::Client::new(), url, labels, Collectors::default())
        .with_traces(true);
    writer.push_new(&store, Some("a")).await.unwrap();
    let pushed = from_remote_write(&bodies.lock().unwrap());

    let traces = |samples: &BTreeSet<Sample>| {
        samples
            .iter()
            .filter(|(name, ..)| name.starts_with("peloton_trace_"))
            .count()
    };
    // Two rides' output and heart rate, gaps left out; the import's trace is not written.
    assert_eq!(traces(&file), 2 * (40 - 6 + 35));
    assert!(file.len() > traces(&file) + 40, "{} samples", file.len());
    assert_eq!(
        file.difference(&pushed).collect::<Vec<_>>(),
        Vec::<&Sample>::new(),
        "in the file only"
    );
    assert_eq!(
        pushed.difference(&file).collect::<Vec<_>>(),
        Vec::<&Sample>::new(),
        "pushed only"
    );
}
