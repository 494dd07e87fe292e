//! The Peloton API routes (API.md §4). Authentication is checked by the request layer.

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::challenges;
use super::drift;
use super::endpoint::{Endpoint, ServerKind};
use super::faults::{json, peloton_error};
use super::graph;
use super::live;
use super::live_graph;
use super::model::MemberData;
use super::render::{self, Joins};
use super::server::{self, LayerCtx, Shared};
use super::util::{lock, now_unix};

type Params = Query<HashMap<String, String>>;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let ctx = LayerCtx {
        shared: Arc::clone(&shared),
        server: ServerKind::Api,
    };
    Router::new()
        .route("/api/me", get(me))
        .route("/api/user/{id}/overview", get(overview))
        .route("/api/user/{id}/workouts", get(workouts))
        .route("/api/user/{id}/challenges/current", get(challenges_current))
        .route("/api/user/{id}/challenge/{cid}", get(challenge))
        .route("/api/user/{id}/achievements", get(achievements))
        .route("/api/workout/{id}", get(workout))
        .route(
            "/api/workout/{id}/performance_graph",
            get(performance_graph),
        )
        .fallback(not_found)
        .layer(from_fn_with_state(Arc::clone(&shared), settle_live_rides))
        .layer(from_fn_with_state(ctx, server::layer))
        .with_state(shared)
}

/// Live rides whose end has come complete before anything is rendered.
async fn settle_live_rides(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    live::settle(&shared, now_unix());
    next.run(req).await
}

fn ok(shared: &Shared, endpoint: Endpoint, mut v: Value) -> Response {
    if shared.faults.schema_drift() {
        drift::apply(endpoint, &mut v);
    }
    json(StatusCode::OK, &v)
}

/// The member, when `id` is theirs: any other user id is Peloton's 404.
fn member_named<'a>(shared: &'a Shared, id: &str) -> Option<MutexGuard<'a, MemberData>> {
    let m = lock(&shared.member);
    (m.user_id == id).then_some(m)
}

fn user_not_found() -> Response {
    peloton_error(StatusCode::NOT_FOUND, None, "User not found")
}

async fn me(State(shared): State<Arc<Shared>>) -> Response {
    let v = render::me(&lock(&shared.member));
    ok(&shared, Endpoint::Me, v)
}

/// The overview and achievements answer only the web client (`Peloton-Platform: web`).
fn web_only(headers: &HeaderMap) -> Option<Response> {
    let web = headers
        .get("peloton-platform")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("web"));
    (!web).then(|| {
        peloton_error(
            StatusCode::FORBIDDEN,
            None,
            "Access forbidden. Peloton-Platform header required.",
        )
    })
}

async fn overview(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = web_only(&headers) {
        return refused;
    }
    let v = {
        let Some(m) = member_named(&shared, &id) else {
            return user_not_found();
        };
        render::overview(&m, now_unix())
    };
    ok(&shared, Endpoint::Overview, v)
}

async fn challenges_current(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Response {
    let joined_only = p
        .get("has_joined")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let v = {
        let Some(m) = member_named(&shared, &id) else {
            return user_not_found();
        };
        challenges::current(&m, now_unix(), joined_only)
    };
    ok(&shared, Endpoint::Challenges, v)
}

async fn challenge(
    State(shared): State<Arc<Shared>>,
    Path((id, cid)): Path<(String, String)>,
) -> Response {
    let v = {
        let Some(m) = member_named(&shared, &id) else {
            return user_not_found();
        };
        let Some(c) = m.find_challenge(&cid, now_unix()) else {
            return peloton_error(StatusCode::NOT_FOUND, None, "Challenge not found");
        };
        challenges::detail(&c)
    };
    ok(&shared, Endpoint::Challenge, v)
}

async fn achievements(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = web_only(&headers) {
        return refused;
    }
    let v = {
        let Some(m) = member_named(&shared, &id) else {
            return user_not_found();
        };
        challenges::achievements(&m)
    };
    ok(&shared, Endpoint::Achievements, v)
}

fn parse_usize(p: &HashMap<String, String>, key: &str) -> Option<usize> {
    p.get(key).and_then(|v| v.trim().parse().ok())
}

async fn workouts(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Response {
    let limit = parse_usize(&p, "limit")
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let endless = shared.faults.endless_list();
    let page = if endless {
        0
    } else {
        parse_usize(&p, "page").unwrap_or(0)
    };
    let joins = Joins::parse(p.get("joins").map(String::as_str));
    let mut v = {
        let Some(m) = member_named(&shared, &id) else {
            return user_not_found();
        };
        render::workouts_page(&m, limit, page, joins)
    };
    if endless && let Some(o) = v.as_object_mut() {
        o.insert("show_next".to_owned(), serde_json::Value::Bool(true));
    }
    ok(&shared, Endpoint::Workouts, v)
}

fn workout_not_found() -> Response {
    peloton_error(StatusCode::NOT_FOUND, None, "Workout not found")
}

async fn workout(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Response {
    let joins = Joins::parse(p.get("joins").map(String::as_str));
    let v = {
        let m = lock(&shared.member);
        let Some(w) = m.find_workout(&id) else {
            return workout_not_found();
        };
        render::detail(&m, w, joins)
    };
    ok(&shared, Endpoint::Workout, v)
}

async fn performance_graph(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(p): Params,
) -> Response {
    let every_n = p
        .get("every_n")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(5);
    // Render outside the lock: a one-second graph of a long class is the largest response.
    let (member, w, live_ride) = {
        let m = lock(&shared.member);
        let Some(w) = m.find_workout(&id).cloned() else {
            return workout_not_found();
        };
        let live_ride = live::trace_of(&shared, &w);
        (m.without_workouts(), w, live_ride)
    };
    let now = now_unix();
    let v = match live_ride {
        Some((trace, end)) => live_graph::performance_graph(&member, &w, &trace, end, every_n, now),
        None => graph::performance_graph(&member, &w, every_n, now),
    };
    ok(&shared, Endpoint::PerformanceGraph, v)
}

async fn not_found() -> Response {
    peloton_error(StatusCode::NOT_FOUND, None, "Not Found")
}
