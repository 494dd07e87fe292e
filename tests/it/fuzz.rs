//! Property tests with a fixed case budget and a fixed seed (the same cases on every run):
//!
//! - arbitrary bytes, and real responses of the fake with bytes flipped, cut and inserted,
//!   fed to the response parsers: an error or a value, never a panic;
//! - arbitrary JSON shaped like each endpoint's answer (right names, any types, missing
//!   fields, extra fields) through parsing, the domain conversions, the totals, the
//!   snapshot, the metric families and both exposition formats: no panic, no NaN, no
//!   negative counter;
//! - arbitrary label values (quotes, backslashes, newlines, any Unicode) in every
//!   label-carrying field: both formats parse back to exactly the values put in, checked
//!   by a strict parser here and by Python's prometheus_client.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use peloton_exporter::domain::totals::Totals;
use peloton_exporter::domain::{AccountOverview, Profile, Status, WorkoutSummary};
use peloton_exporter::exposition::{self, Format};
use peloton_exporter::metrics::family::{Family, Kind, Value as FamilyValue};
use peloton_exporter::metrics::{self, AccountView, BuildInfo};
use peloton_exporter::peloton::ApiError;
use peloton_exporter::peloton::convert::account;
use peloton_exporter::peloton::model::{
    Achievements, ChallengeDetail, Challenges, Me, Overview, PerformanceGraph, TokenResponse,
    Workout, WorkoutPage,
};
use peloton_exporter::peloton::wire::parse_json;
use peloton_exporter::state::labels::Endpoint;
use peloton_exporter::state::snapshot::Snapshot;
use peloton_exporter::state::telemetry::Telemetry;
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use serde_json::{Map, Value};

/// The case budget of every property: fixed, like the seed, so CI runs the same cases.
const CASES: u32 = 256;

fn config() -> Config {
    Config {
        cases: CASES,
        rng_seed: RngSeed::Fixed(0x5045_4c4f_544f_4e21),
        failure_persistence: None,
        ..Config::default()
    }
}

// ---- strategies ------------------------------------------------------------------

/// Text that stresses escaping: the characters the formats treat specially, controls,
/// and any Unicode.
fn tricky_text() -> BoxedStrategy<String> {
    let ch = prop_oneof![
        4 => any::<char>(),
        1 => Just('\\'),
        1 => Just('"'),
        1 => Just('\n'),
        1 => Just('\r'),
        1 => Just('\t'),
        1 => Just('{'),
        1 => Just('}'),
        1 => Just(','),
        1 => Just('='),
        1 => Just('#'),
        1 => Just(' '),
        1 => Just('\u{0}'),
        1 => Just('\u{2028}'),
        1 => Just('é'),
        1 => Just('🚴'),
    ];
    prop::collection::vec(ch, 0..16)
        .prop_map(String::from_iter)
        .boxed()
}

fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        (-1_000_000i64..1_000_000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
        (0.0f64..1e4).prop_map(|v| Value::from(v.to_string())),
        Just(Value::from(1e308)),
        Just(Value::from(-0.0)),
    ]
    .boxed()
}

/// Mostly a value a real answer could hold, sometimes anything `number` gives: the
/// strength, split, target and challenge code is reached, and still sees hostile values.
fn plausible() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (0i64..2000).prop_map(Value::from),
        1 => number(),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        tricky_text().prop_map(Value::from),
    ]
    .boxed()
}

/// Any JSON, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(tricky_text(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Mostly `shaped`, sometimes anything at all (a type Peloton changed).
fn or_drift(shaped: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![6 => shaped, 1 => any_json()].boxed()
}

fn one_of(values: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::sample::select(values).prop_map(Value::from),
        1 => tricky_text().prop_map(Value::from),
    ]
    .boxed()
}

fn text() -> BoxedStrategy<Value> {
    tricky_text().prop_map(Value::from).boxed()
}

fn array(item: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    or_drift(
        prop::collection::vec(item, 0..max)
            .prop_map(Value::Array)
            .boxed(),
    )
}

/// An object with the given fields, each present most of the time, plus unknown ones.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let present: Vec<_> = fields
        .into_iter()
        .map(|(k, s)| proptest::option::weighted(0.8, or_drift(s)).prop_map(move |v| (k, v)))
        .collect();
    let extra = prop::collection::btree_map("[a-z_]{1,12}", leaf(), 0..2);
    or_drift(
        (present, extra)
            .prop_map(|(fields, extra)| {
                let mut m = Map::new();
                for (k, v) in extra {
                    m.insert(k, v);
                }
                for (k, v) in fields {
                    if let Some(v) = v {
                        m.insert(k.to_owned(), v);
                    }
                }
                Value::Object(m)
            })
            .boxed(),
    )
}

const DISCIPLINES: &[&str] = &[
    "cycling",
    "running",
    "walking",
    "rowing",
    "strength",
    "yoga",
    "meditation",
    "boxing",
    "",
];
const UNITS: &[&str] = &[
    "mi", "km", "m", "ft", "kj", "kcal", "mph", "kph", "min/mi", "min/km", "min/500m", "%", "rpm",
    "bpm", "watts", "",
];

fn timestamp() -> BoxedStrategy<Value> {
    prop_oneof![
        (1_500_000_000i64..1_800_000_000).prop_map(Value::from),
        number(),
    ]
    .boxed()
}

fn effort_zones() -> BoxedStrategy<Value> {
    object(vec![
        ("total_effort_points", number()),
        (
            "heart_rate_zone_durations",
            object(
                (1..=5)
                    .map(|i| {
                        let k: &'static str = [
                            "heart_rate_z1_duration",
                            "heart_rate_z2_duration",
                            "heart_rate_z3_duration",
                            "heart_rate_z4_duration",
                            "heart_rate_z5_duration",
                        ][i - 1];
                        (k, number())
                    })
                    .collect(),
            ),
        ),
    ])
}

fn workout() -> BoxedStrategy<Value> {
    object(vec![
        (
            "id",
            prop_oneof![3 => "[0-9a-f]{8}".prop_map(Value::from).boxed(), 1 => text()].boxed(),
        ),
        ("created_at", timestamp()),
        ("start_time", timestamp()),
        ("end_time", timestamp()),
        (
            "status",
            one_of(&["COMPLETE", "COMPLETE", "IN_PROGRESS", "PAUSED"]),
        ),
        ("fitness_discipline", one_of(DISCIPLINES)),
        ("workout_type", text()),
        ("device_type", text()),
        ("name", text()),
        ("title", text()),
        ("total_work", number()),
        ("effort_zones", effort_zones()),
        (
            "ride",
            object(vec![
                ("id", text()),
                ("title", text()),
                ("duration", number()),
                ("instructor", object(vec![("name", text())])),
            ]),
        ),
        ("leaderboard_rank", number()),
        ("total_leaderboard_users", number()),
        (
            "ftp_info",
            object(vec![("ftp", number()), ("ftp_source", text())]),
        ),
        (
            "achievement_templates",
            array(
                object(vec![("slug", text()), ("achievement_count", plausible())]),
                4,
            ),
        ),
        ("movement_tracker_data", movement_tracker_data()),
    ])
}

const WEIGHT_UNITS: &[&str] = &["lb", "kg", "stone", ""];

fn movement_tracker_data() -> BoxedStrategy<Value> {
    let weight = object(vec![
        (
            "weight_category",
            one_of(&["light", "medium", "heavy", "body_weight"]),
        ),
        (
            "weight_data",
            object(vec![
                ("weight_value", plausible()),
                ("weight_unit", one_of(WEIGHT_UNITS)),
            ]),
        ),
    ]);
    let set = object(vec![
        ("is_hold", any::<bool>().prop_map(Value::from).boxed()),
        (
            "tracking_type",
            one_of(&["rep_tracked", "time_tracked", "x"]),
        ),
        ("completed_number", plausible()),
        ("length", plausible()),
        ("total_volume", plausible()),
        ("weight", array(weight, 3)),
    ]);
    object(vec![(
        "completed_movements_summary_data",
        object(vec![
            ("total_volume", plausible()),
            ("weight_unit", one_of(WEIGHT_UNITS)),
            ("total_repetitions", plausible()),
            ("repetition_summary_data", array(set, 8)),
        ]),
    )])
}

fn workout_page() -> BoxedStrategy<Value> {
    object(vec![
        ("data", array(workout(), 5)),
        ("total", number()),
        ("page", number()),
        ("page_count", number()),
        ("show_next", any::<bool>().prop_map(Value::from).boxed()),
        (
            "summary",
            prop::collection::btree_map(tricky_text(), number(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed(),
        ),
    ])
}

fn me() -> BoxedStrategy<Value> {
    object(vec![
        ("id", text()),
        ("username", text()),
        ("total_workouts", number()),
        ("total_followers", number()),
        ("total_following", number()),
        ("cycling_ftp", number()),
        ("cycling_workout_ftp", number()),
        ("estimated_cycling_ftp", number()),
        ("cycling_ftp_source", text()),
        ("default_heart_rate_zones", array(plausible(), 6)),
        (
            "customized_heart_rate_zones",
            array(object(vec![("min_value", number())]), 6),
        ),
        ("default_max_heart_rate", number()),
        ("customized_max_heart_rate", number()),
    ])
}

fn challenge_summary() -> BoxedStrategy<Value> {
    object(vec![
        (
            "id",
            prop_oneof![3 => "[0-9a-f]{32}".prop_map(Value::from).boxed(), 1 => text()].boxed(),
        ),
        (
            "title",
            prop_oneof![
                2 => Just(Value::from("The Annual 2026")).boxed(),
                1 => text(),
            ]
            .boxed(),
        ),
        (
            "start_time",
            prop_oneof![3 => Just(Value::from(1_767_225_600)), 1 => timestamp()].boxed(),
        ),
        (
            "end_time",
            prop_oneof![3 => Just(Value::from(1_798_761_599)), 1 => timestamp()].boxed(),
        ),
    ])
}

fn challenges() -> BoxedStrategy<Value> {
    let entry = || object(vec![("challenge_summary", challenge_summary())]);
    // Mostly the envelope as Peloton sends it, so the summaries inside are reached.
    let sent = prop::collection::vec(entry(), 1..4)
        .prop_map(|list| serde_json::json!({ "challenges": list }))
        .boxed();
    prop_oneof![
        3 => sent,
        1 => object(vec![("challenges", array(entry(), 4))]),
    ]
    .boxed()
}

fn challenge_detail() -> BoxedStrategy<Value> {
    let progress = object(vec![
        ("metric_value", plausible()),
        ("metric_display_unit", one_of(&["min", "minutes", "mi", ""])),
    ]);
    let tier = object(vec![
        ("title", text()),
        ("metric_value", plausible()),
        ("metric_display_unit", one_of(&["min", "mi", ""])),
    ]);
    let tiers = || object(vec![("tiers", array(tier.clone(), 8))]);
    // Mostly with its progress, so the tiers and the per-day need are reached.
    let sent = (challenge_summary(), tiers(), plausible())
        .prop_map(|(summary, tiers, minutes)| {
            serde_json::json!({
                "challenge_summary": summary,
                "challenge_detail": tiers,
                "progress": {"metric_value": minutes, "metric_display_unit": "min"},
            })
        })
        .boxed();
    prop_oneof![
        3 => sent,
        1 => object(vec![
            ("challenge_summary", challenge_summary()),
            ("challenge_detail", tiers()),
            ("progress", progress),
        ]),
    ]
    .boxed()
}

fn achievements() -> BoxedStrategy<Value> {
    let earned = object(vec![("count", plausible()), ("template", any_json())]);
    object(vec![(
        "categories",
        array(
            object(vec![
                (
                    "slug",
                    one_of(&["workout_milestones", "streaks", "special_events", "x y"]),
                ),
                ("name", text()),
                ("achievements", array(earned, 4)),
            ]),
            5,
        ),
    )])
}

fn overview() -> BoxedStrategy<Value> {
    object(vec![
        (
            "workout_counts",
            object(vec![
                ("total_workouts", number()),
                (
                    "workouts",
                    array(
                        object(vec![("slug", one_of(DISCIPLINES)), ("count", number())]),
                        6,
                    ),
                ),
            ]),
        ),
        (
            "personal_records",
            array(
                object(vec![
                    ("slug", one_of(DISCIPLINES)),
                    (
                        "records",
                        array(
                            object(vec![
                                ("slug", one_of(&["300", "1200", "1800", "2700", "x"])),
                                ("raw_value", number()),
                                ("value", number()),
                                ("unit", one_of(UNITS)),
                            ]),
                            4,
                        ),
                    ),
                ]),
                3,
            ),
        ),
        (
            "streaks",
            object(vec![
                ("current_weekly", number()),
                ("best_weekly", number()),
                ("start_date_of_current_weekly", timestamp()),
                ("current_daily", number()),
                ("start_date_of_current_daily", timestamp()),
            ]),
        ),
        (
            "achievement_counts",
            object(vec![("total_count", number())]),
        ),
        ("achievements", array(any_json(), 3)),
    ])
}

fn graph_metric(depth: u32) -> BoxedStrategy<Value> {
    let mut fields = vec![
        (
            "slug",
            one_of(&[
                "output",
                "cadence",
                "resistance",
                "speed",
                "pace",
                "split_pace",
                "heart_rate",
                "incline",
                "stroke_rate",
            ]),
        ),
        ("display_unit", one_of(UNITS)),
        ("average_value", number()),
        ("max_value", number()),
        ("values", array(number(), 40)),
        (
            "zones",
            array(
                object(vec![
                    (
                        "slug",
                        one_of(&[
                            "zone1", "zone2", "zone3", "zone4", "zone5", "zone0", "zone99",
                        ]),
                    ),
                    ("duration", number()),
                ]),
                6,
            ),
        ),
    ];
    if depth > 0 {
        fields.push(("alternatives", array(graph_metric(depth - 1), 2)));
    }
    object(fields)
}

fn performance_graph() -> BoxedStrategy<Value> {
    let summary = || {
        object(vec![
            (
                "slug",
                one_of(&["total_output", "distance", "calories", "elevation", "x"]),
            ),
            ("display_unit", one_of(UNITS)),
            ("value", number()),
        ])
    };
    object(vec![
        ("summaries", array(summary(), 5)),
        ("average_summaries", array(summary(), 3)),
        ("metrics", array(graph_metric(1), 6)),
        ("effort_zones", effort_zones()),
        ("seconds_since_pedaling_start", array(number(), 40)),
        (
            "muscle_group_score",
            array(
                object(vec![
                    (
                        "muscle_group",
                        one_of(&["biceps", "core", "quads", "wings"]),
                    ),
                    ("score", plausible()),
                ]),
                5,
            ),
        ),
        (
            "splits_data",
            object(vec![
                ("distance_marker_display_unit", one_of(&["mi", "km", "x"])),
                (
                    "splits",
                    array(
                        object(vec![
                            ("distance_marker", plausible()),
                            ("seconds", plausible()),
                        ]),
                        5,
                    ),
                ),
            ]),
        ),
        (
            "splits_metrics",
            object(vec![(
                "metrics",
                array(
                    object(vec![(
                        "data",
                        array(
                            object(vec![
                                ("slug", one_of(&["meter", "pace", "total_time"])),
                                ("value", plausible()),
                                ("unit", one_of(&["min/500m", "m", ""])),
                            ]),
                            4,
                        ),
                    )]),
                    5,
                ),
            )]),
        ),
        ("target_metrics_performance_data", targets()),
        ("target_performance_metrics", targets()),
    ])
}

fn targets() -> BoxedStrategy<Value> {
    let metric = || one_of(&["cadence", "resistance", "power_zone", "speed"]);
    object(vec![
        (
            "target_metrics",
            array(
                object(vec![
                    (
                        "offsets",
                        object(vec![("start", plausible()), ("end", plausible())]),
                    ),
                    ("metrics", array(object(vec![("name", metric())]), 3)),
                ]),
                5,
            ),
        ),
        (
            "time_in_metric",
            array(object(vec![("name", metric()), ("value", plausible())]), 3),
        ),
        ("cadence_time_in_range", plausible()),
        (
            "target_graph_metrics",
            array(
                object(vec![
                    ("type", metric()),
                    (
                        "graph_data",
                        object(vec![("upper", array(plausible(), 20))]),
                    ),
                ]),
                2,
            ),
        ),
    ])
}

fn token_response() -> BoxedStrategy<Value> {
    object(vec![
        ("access_token", text()),
        ("refresh_token", text()),
        ("expires_in", number()),
    ])
}

// ---- the pipeline ------------------------------------------------------------------

/// Every parser the client has, on the same bytes: an error or a value, never a panic.
fn parse_everything(bytes: &[u8]) {
    fn one<T: serde::de::DeserializeOwned>(endpoint: Endpoint, bytes: &[u8]) {
        match parse_json::<T>(endpoint, bytes) {
            Ok(_) => {}
            Err(ApiError::InvalidResponse { detail, .. }) => {
                assert!(!detail.is_empty());
            }
            Err(e) => panic!("parsing gave a non-parse error: {e}"),
        }
    }
    one::<Me>(Endpoint::Me, bytes);
    one::<Overview>(Endpoint::Overview, bytes);
    one::<WorkoutPage>(Endpoint::Workouts, bytes);
    one::<Workout>(Endpoint::Workout, bytes);
    one::<PerformanceGraph>(Endpoint::PerformanceGraph, bytes);
    one::<TokenResponse>(Endpoint::Token, bytes);
    one::<Challenges>(Endpoint::Challenges, bytes);
    one::<ChallengeDetail>(Endpoint::Challenge, bytes);
    one::<Achievements>(Endpoint::Achievements, bytes);
}

/// The answers of one poll, as bytes.
#[derive(Clone)]
struct Answers {
    me: Vec<u8>,
    overview: Vec<u8>,
    page: Vec<u8>,
    graph: Vec<u8>,
    detail: Vec<u8>,
    token: Vec<u8>,
    challenges: Vec<u8>,
    challenge: Vec<u8>,
    achievements: Vec<u8>,
    account: Option<String>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
        f.debug_struct("Answers")
            .field("me", &t(&self.me))
            .field("overview", &t(&self.overview))
            .field("page", &t(&self.page))
            .field("graph", &t(&self.graph))
            .field("detail", &t(&self.detail))
            .field("token", &t(&self.token))
            .field("challenges", &t(&self.challenges))
            .field("challenge", &t(&self.challenge))
            .field("achievements", &t(&self.achievements))
            .field("account", &self.account)
            .finish()
    }
}

fn answers() -> impl Strategy<Value = Answers> {
    (
        me(),
        overview(),
        workout_page(),
        performance_graph(),
        workout(),
        token_response(),
        (challenges(), challenge_detail(), achievements()),
        proptest::option::of(tricky_text()),
    )
        .prop_map(
            |(me, overview, page, graph, detail, token, extras, account)| Answers {
                me: me.to_string().into_bytes(),
                overview: overview.to_string().into_bytes(),
                page: page.to_string().into_bytes(),
                graph: graph.to_string().into_bytes(),
                detail: detail.to_string().into_bytes(),
                token: token.to_string().into_bytes(),
                challenges: extras.0.to_string().into_bytes(),
                challenge: extras.1.to_string().into_bytes(),
                achievements: extras.2.to_string().into_bytes(),
                account,
            },
        )
}

/// What the poller would build from these answers: parse, convert, total, snapshot.
fn snapshot_from(a: &Answers) -> Snapshot {
    let me: Option<Me> = parse_json(Endpoint::Me, &a.me).ok();
    let overview: Option<Overview> = parse_json(Endpoint::Overview, &a.overview).ok();
    let page: WorkoutPage = parse_json(Endpoint::Workouts, &a.page).unwrap_or_default();
    let graph: Option<PerformanceGraph> = parse_json(Endpoint::PerformanceGraph, &a.graph).ok();
    let detail: Option<Workout> = parse_json(Endpoint::Workout, &a.detail).ok();
    let challenges: Option<Challenges> = parse_json(Endpoint::Challenges, &a.challenges).ok();
    let challenge: Option<ChallengeDetail> = parse_json(Endpoint::Challenge, &a.challenge).ok();
    let achievements: Option<Achievements> =
        parse_json(Endpoint::Achievements, &a.achievements).ok();
    let annual = challenges
        .as_ref()
        .and_then(|c| account::annual_challenge(c, 1.79e9))
        .and_then(|r| account::challenge_detail(challenge.as_ref()?, &r));
    let badge_categories = achievements
        .as_ref()
        .and_then(account::achievement_categories);

    let profile = me.as_ref().and_then(Profile::from_api);
    let overview = overview.as_ref().map(AccountOverview::from_api);
    let mut totals = Totals::default();
    let mut latest = None;
    let mut latest_training = None;
    let mut rows = Vec::new();
    let listed: Vec<WorkoutSummary> = page
        .data
        .iter()
        .filter_map(WorkoutSummary::from_list_item)
        .collect();
    let graph = graph
        .as_ref()
        .map(|g| peloton_exporter::peloton::convert::graph(g, 1));
    let detail = detail
        .as_ref()
        .map(peloton_exporter::peloton::convert::detail);
    for w in &listed {
        totals.update(None, w);
        // The same item listed again changes nothing.
        let before = totals.clone();
        totals.update(Some(w), w);
        assert_eq!(totals, before, "a workout listed twice counted twice");
        let mut enriched = w.clone();
        if let Some(g) = &graph {
            enriched = enriched.with_graph(g);
        }
        if let Some(d) = &detail {
            enriched = enriched.with_detail(d);
        }
        let before = totals.clone();
        totals.update(Some(w), &enriched);
        // Details only ever add.
        for (b, t) in [
            (&before.output_joules, &totals.output_joules),
            (&before.duration_seconds, &totals.duration_seconds),
            (&before.distance_meters, &totals.distance_meters),
            (&before.energy_joules, &totals.energy_joules),
            (&before.workouts, &totals.workouts),
        ] {
            for (k, v) in b {
                assert!(t.get(k).is_some_and(|n| n >= v), "{k} went down");
            }
        }
        // The analytics of whatever was served are finite or absent, never fake.
        let (t, _) =
            peloton_exporter::poll::training::analyse(&enriched, graph.clone(), detail.as_ref());
        rows.push(peloton_exporter::domain::training_summary::TrainingRow {
            id: enriched.id.clone(),
            end_time: enriched.end_time.unwrap_or(0.0) as i64,
            training: t.clone(),
        });
        latest_training = Some(t);
        latest = Some(enriched);
    }
    let mut workout_counts = overview
        .as_ref()
        .map(|o| o.workout_counts.clone())
        .unwrap_or_default();
    for w in listed.iter().filter(|w| w.status == Status::Complete) {
        *workout_counts.entry(w.discipline.clone()).or_insert(0.0) += 1.0;
    }
    let in_progress = listed
        .iter()
        .map(|w| (w.discipline.clone(), w.status == Status::InProgress))
        .collect();
    Snapshot {
        profile,
        overview,
        workout_counts,
        workouts_by_month: page.summary.clone(),
        in_progress,
        latest,
        totals,
        up: true,
        last_success: Some(1.7e9),
        history_pending: Some(0.0),
        training: Some(peloton_exporter::domain::training_summary::summarize(
            &rows,
            1_700_000_000,
        )),
        latest_training,
        challenge: annual,
        badge_categories,
        ..Snapshot::default()
    }
}

fn families_of(snapshot: Snapshot, account: Option<String>) -> Vec<Family> {
    let telemetry = Telemetry::default();
    telemetry.poll_started();
    telemetry.poll_finished(std::time::Duration::from_millis(120), None);
    metrics::families(
        BuildInfo::CURRENT,
        &[AccountView {
            account,
            snapshot: Arc::new(snapshot),
            telemetry: telemetry.values(),
        }],
        &peloton_exporter::metrics::collectors::Collectors::default(),
    )
}

fn render(format: Format, families: &[Family]) -> String {
    exposition::render(format, families).unwrap().0
}

/// Every label value the families carry.
fn label_values(families: &[Family]) -> BTreeSet<String> {
    families
        .iter()
        .flat_map(|f| f.series.iter())
        .flat_map(|s| s.labels.iter().map(|(_, v)| v.clone()))
        .collect()
}

// ---- a strict reader of both formats -------------------------------------------

#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

/// One sample line: `name{label="value",…} value`, with only `\\`, `\"` and `\n` as
/// escapes inside label values.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name, mut rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return Err(format!("no value: {line:?}")),
    };
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("label without =")?;
            let (label, after) = rest.split_at(eq);
            if !is_name(label, false) {
                return Err(format!("bad label name {label:?}"));
            }
            let mut chars = after
                .strip_prefix("=\"")
                .ok_or("label value not quoted")?
                .char_indices();
            let mut value = String::new();
            let end = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("dangling backslash")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        other => return Err(format!("unknown escape \\{other}")),
                    },
                    (_, '\n') => return Err("raw newline in a label value".to_owned()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_owned(), value));
            rest = &after[2 + end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse::<f64>().map_err(|_| format!("bad value {v:?}"))?,
    };
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses a whole exposition; checks the comment lines, the `# EOF` of OpenMetrics, that
/// no counter is negative and no value is NaN.
fn read_exposition(format: Format, text: &str) -> Result<Vec<Sample>, String> {
    let body = match format {
        Format::OpenMetrics => text.strip_suffix("# EOF\n").ok_or("no # EOF at the end")?,
        Format::Classic => {
            if text.contains("# EOF") {
                return Err("# EOF in the classic format".to_owned());
            }
            text
        }
    };
    let mut counters = BTreeSet::new();
    let mut out = Vec::new();
    for line in body.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if !matches!(kind, "HELP" | "TYPE" | "UNIT") || !is_name(name, true) {
                return Err(format!("bad comment line {line:?}"));
            }
            if kind == "TYPE" && parts.next() == Some("counter") {
                counters.insert(name.to_owned());
            }
            continue;
        }
        let s = parse_sample(line)?;
        if s.value.is_nan() {
            return Err(format!("NaN in {line:?}"));
        }
        let family = s.name.trim_end_matches("_total");
        if (counters.contains(&s.name) || counters.contains(family)) && s.value < 0.0 {
            return Err(format!("negative counter {line:?}"));
        }
        out.push(s);
    }
    Ok(out)
}

fn parsed_label_values(samples: &[Sample]) -> BTreeSet<String> {
    samples
        .iter()
        .flat_map(|s| s.labels.iter())
        .filter(|(k, _)| k != "le")
        .map(|(_, v)| v.clone())
        .collect()
}

/// Both formats read back to exactly the label values the families hold.
fn check_round_trip(families: &[Family]) -> Result<(), TestCaseError> {
    let want = label_values(families);
    for format in [Format::Classic, Format::OpenMetrics] {
        let text = render(format, families);
        let samples = read_exposition(format, &text)
            .map_err(|e| TestCaseError::fail(format!("{format:?}: {e}\n{text}")))?;
        prop_assert_eq!(&parsed_label_values(&samples), &want, "{:?}", format);
        let series: usize = families
            .iter()
            .map(|f| match f.def.kind {
                Kind::Histogram => 0,
                _ => f.series.len(),
            })
            .sum();
        let plain = samples
            .iter()
            .filter(|s| !s.labels.iter().any(|(k, _)| k == "le"))
            .filter(|s| !s.name.ends_with("_sum") && !s.name.ends_with("_count"))
            .filter(|s| !s.name.ends_with("_created"))
            .count();
        prop_assert_eq!(plain, series, "{:?}: one sample per series", format);
    }
    Ok(())
}

// ---- the properties ----------------------------------------------------------------

#[test]
fn arbitrary_bytes_never_panic_a_parser() {
    let mut runner = TestRunner::new(config());
    runner
        .run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
            parse_everything(&bytes);
            Ok(())
        })
        .unwrap();
}

/// Real answers of the fake, one per endpoint.
fn real_bodies() -> Vec<Vec<u8>> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fake = common::fake(peloton_fake::FakeOptions {
            workouts: 5,
            ..Default::default()
        })
        .await;
        let token = fake.mint_access_token(std::time::Duration::from_secs(600));
        let user = fake.user_id();
        let id = fake.member().workouts[0].id.clone();
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        for path in [
            "/api/me".to_owned(),
            format!("/api/user/{user}/overview"),
            format!("/api/user/{user}/workouts?joins=ride,ride.instructor&limit=3"),
            format!("/api/workout/{id}?joins=ride,ride.instructor"),
            format!("/api/workout/{id}/performance_graph?every_n=60"),
        ] {
            let body = client
                .get(format!("{}{path}", fake.api_url()))
                .bearer_auth(&token)
                .header("Peloton-Platform", "web")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            out.push(body.to_vec());
        }
        fake.shutdown().await;
        out
    })
}

#[test]
fn mutated_real_answers_never_panic_a_parser() {
    let bodies = real_bodies();
    assert!(bodies.iter().all(|b| b.len() > 50));
    let edit = prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| (0u8, i, b)),
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| (1u8, i, b)),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(&b"\"{}[],:0-e.\\ntu"[..])
        )
            .prop_map(|(i, b)| (2u8, i, b)),
        any::<prop::sample::Index>().prop_map(|i| (3u8, i, 0)),
    ];
    let mut runner = TestRunner::new(config());
    runner
        .run(
            &(
                prop::sample::select((0..bodies.len()).collect::<Vec<_>>()),
                prop::collection::vec(edit, 1..6),
            ),
            |(which, edits)| {
                let mut body = bodies[which].clone();
                for (op, at, byte) in edits {
                    if body.is_empty() {
                        break;
                    }
                    let i = at.index(body.len());
                    match op {
                        0 | 2 => body[i] = byte,
                        1 => body.insert(i, byte),
                        _ => body.truncate(i),
                    }
                }
                parse_everything(&body);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn json_shaped_like_each_endpoint_goes_all_the_way_to_both_formats() {
    let mut runner = TestRunner::new(config());
    let with_data = std::sync::atomic::AtomicI32::new(0);
    let reached: [std::sync::atomic::AtomicI32; 6] = Default::default();
    runner
        .run(&answers(), |a| {
            for bytes in [
                &a.me,
                &a.overview,
                &a.page,
                &a.graph,
                &a.detail,
                &a.token,
                &a.challenges,
                &a.challenge,
                &a.achievements,
            ] {
                parse_everything(bytes);
            }
            let snapshot = snapshot_from(&a);
            if snapshot.latest.is_some() {
                with_data.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // Which of issue 25's conversions this case reached with a value.
            let detail = parse_json::<Workout>(Endpoint::Workout, &a.detail)
                .ok()
                .map(|d| peloton_exporter::peloton::convert::detail(&d).extras);
            let graph = parse_json::<PerformanceGraph>(Endpoint::PerformanceGraph, &a.graph)
                .ok()
                .map(|g| peloton_exporter::peloton::convert::graph(&g, 1).extras);
            for (i, hit) in [
                snapshot.challenge.is_some(),
                snapshot.badge_categories.is_some(),
                detail.as_ref().is_some_and(|d| d.strength.is_some()),
                graph.as_ref().is_some_and(|g| g.strength.is_some()),
                graph.as_ref().is_some_and(|g| !g.targets.is_empty()),
                graph.as_ref().is_some_and(|g| g.best_split.is_some()),
            ]
            .into_iter()
            .enumerate()
            {
                if hit {
                    reached[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            let families = families_of(snapshot, a.account.clone());
            for f in &families {
                for s in &f.series {
                    if let FamilyValue::Number(v) = s.value {
                        prop_assert!(!v.is_nan(), "{} is NaN", f.def.base);
                        if f.def.kind == Kind::Counter {
                            prop_assert!(v >= 0.0, "{} = {v}", f.def.base);
                        }
                    }
                }
            }
            check_round_trip(&families)
        })
        .unwrap();
    // The generator reaches the interesting part: parsed workouts with details.
    let with_data = with_data.into_inner();
    assert!(with_data > i32::try_from(CASES).unwrap() / 4, "{with_data}");
    // And issue 25's conversions: challenge, badges, strength sets, muscle groups,
    // targets, splits.
    let reached = reached.map(std::sync::atomic::AtomicI32::into_inner);
    eprintln!("reached: {reached:?} of {CASES}");
    assert!(reached.iter().all(|n| *n >= 5), "{reached:?}");
}

/// Label values straight into every label-carrying field of a snapshot.
fn labelled_snapshot() -> impl Strategy<Value = (Snapshot, Option<String>)> {
    (
        prop::collection::btree_map(tricky_text(), 0.0f64..1e4, 0..4),
        prop::collection::btree_map(tricky_text(), 0.0f64..100.0, 0..3),
        prop::collection::vec(tricky_text(), 6),
        proptest::option::of(tricky_text()),
    )
        .prop_map(|(counts, months, texts, account)| {
            let item: Workout = serde_json::from_value(serde_json::json!({
                "id": "w1", "status": "COMPLETE", "fitness_discipline": texts[0],
                "start_time": 1_700_000_000, "end_time": 1_700_001_800, "total_work": 250_000.0,
                "workout_type": texts[1], "device_type": texts[2],
                "ride": {"title": texts[3], "instructor": {"name": texts[4]}}
            }))
            .unwrap();
            let latest = WorkoutSummary::from_list_item(&item).unwrap();
            let mut totals = Totals::default();
            totals.update(None, &latest);
            let me: Me = serde_json::from_value(serde_json::json!({
                "id": "u1", "username": texts[5]
            }))
            .unwrap();
            let snapshot = Snapshot {
                profile: Profile::from_api(&me),
                in_progress: counts.keys().map(|k| (k.clone(), false)).collect(),
                workout_counts: counts,
                workouts_by_month: months,
                latest: Some(latest),
                totals,
                up: true,
                ..Snapshot::default()
            };
            (snapshot, account)
        })
}

#[test]
fn label_values_survive_both_formats() {
    let mut runner = TestRunner::new(config());
    runner
        .run(&labelled_snapshot(), |(snapshot, account)| {
            let families = families_of(snapshot, account);
            check_round_trip(&families)
        })
        .unwrap();
}

/// The strict reader is not a rubber stamp: it refuses what a broken writer would emit.
#[test]
fn the_reader_refuses_broken_escaping() {
    assert!(parse_sample("a{b=\"x\\\"y\"} 1").is_ok());
    for broken in [
        "a{b=\"x\"y\"} 1",
        "a{b=\"x\\y\"} 1",
        "a{b=\"x} 1",
        "a{b=x} 1",
        "a{1b=\"x\"} 1",
        "a{b=\"x\"}1",
        "a{b=\"x\"} one",
    ] {
        assert!(parse_sample(broken).is_err(), "{broken}");
    }
    assert!(read_exposition(Format::Classic, "a{b=\"x\ny\"} 1\n").is_err());
    assert!(read_exposition(Format::OpenMetrics, "a 1\n").is_err());
    assert!(read_exposition(Format::Classic, "# TYPE a_total counter\na_total -1\n").is_err());
}

const PY_LABELS: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families as classic
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
out = []
for doc in json.load(sys.stdin):
    parse = openmetrics if doc["format"] == "openmetrics" else classic
    try:
        values = sorted({v for f in parse(doc["text"]) for s in f.samples
                         for k, v in s.labels.items() if k != "le"})
        out.append({"ok": True, "values": values})
    except Exception as e:
        out.append({"ok": False, "error": repr(e)})
json.dump(out, sys.stdout)
"#;

/// Python's prometheus_client reads the same generated expositions back to the same label
/// values (one Python process for the whole batch).
#[test]
fn python_reads_the_same_label_values() {
    let Some(python) = common::python_with(&["prometheus_client"]) else {
        return;
    };
    let mut runner = TestRunner::new(config());
    let strategy = labelled_snapshot();
    let mut docs = Vec::new();
    let mut wanted = Vec::new();
    for _ in 0..(CASES / 2) {
        let (snapshot, account) = strategy.new_tree(&mut runner).unwrap().current();
        let families = families_of(snapshot, account);
        for (format, name) in [
            (Format::Classic, "classic"),
            (Format::OpenMetrics, "openmetrics"),
        ] {
            docs.push(serde_json::json!({"format": name, "text": render(format, &families)}));
            wanted.push(label_values(&families));
        }
    }
    let mut child = std::process::Command::new(python)
        .args(["-c", PY_LABELS])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(serde_json::to_string(&docs).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), docs.len());
    for ((result, want), doc) in results.iter().zip(&wanted).zip(&docs) {
        assert_eq!(result["ok"], true, "{result}\n{}", doc["text"]);
        let got: BTreeSet<String> = result["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(&got, want, "{}", doc["text"]);
    }
}

#[test]
fn the_case_budget_is_fixed() {
    assert_eq!(config().cases, CASES);
    assert!(matches!(config().rng_seed, RngSeed::Fixed(_)));
}
