//! JSON rendering of the member, workouts, rides and the overview in Peloton's shapes
//! (`fixtures/me.json`, `workouts_page0.json`, `workout_detail_*.json`,
//! `overview_2024_RECONSTRUCTED.json`).

use fastrand::Rng;
use serde_json::{Map, Value, json};

use super::catalog::{self, Kind, kind_of};
use super::generator::JUST_RIDE_ID;
use super::model::{GeneratedWorkout, MemberData, Units, WorkoutType};
use super::stats::counts_for_cycling_pr;
use super::strength;
use super::util::{fnv1a, hex32_from, iso_naive, mix, uniform};

const RIDE_SALT: u64 = 0x0001_de00_0000_0000;
const DETAIL_SALT: u64 = 0x0de7_a100_0000_0000;

/// Which joins the request asked for (`joins=ride,ride.instructor`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Joins {
    pub(crate) ride: bool,
    pub(crate) instructor: bool,
}

impl Joins {
    pub(crate) fn parse(joins: Option<&str>) -> Self {
        let mut j = Self::default();
        for part in joins.unwrap_or_default().split(',').map(str::trim) {
            match part {
                "ride" => j.ride = true,
                "ride.instructor" => {
                    j.ride = true;
                    j.instructor = true;
                }
                _ => {}
            }
        }
        j
    }
}

/// Joins object literals; `json!` hits the macro recursion limit on Peloton-sized objects.
fn merged<const N: usize>(parts: [Value; N]) -> Value {
    let mut out = Map::new();
    for p in parts {
        out.extend(obj(p));
    }
    Value::Object(out)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub(crate) fn workout_counts(m: &MemberData, with_workout_name: bool) -> Vec<Value> {
    m.workout_counts()
        .into_iter()
        .map(|(slug, count)| {
            let name = catalog::display_name(&slug);
            let mut v = json!({
                "name": name,
                "slug": slug,
                "count": count,
                "icon_url": catalog::icon_url(&slug, count),
            });
            if with_workout_name && let Some(o) = v.as_object_mut() {
                o.insert("workout_name".into(), Value::from(name));
            }
            v
        })
        .collect()
}

pub(crate) fn me(m: &MemberData) -> Value {
    let (height, weight, height_unit, weight_unit) = match m.units {
        Units::Imperial => (68.0, 165.0, "in", "lb"),
        Units::Metric => (173.0, 75.0, "cm", "kg"),
    };
    let total = m.total_workouts();
    let pedaling = m.total_pedaling_metric_workouts();
    merged([
        json!({
            "id": m.user_id,
            "username": m.username,
            "name": format!("{} {}", m.first_name, m.last_name),
            "first_name": m.first_name,
            "last_name": m.last_name,
            "middle_initial": "",
            "email": m.email,
            "obfuscated_email": hex32_from(fnv1a(&m.email)),
            "phone_number": "",
            "birthday": 631_152_000,
            "gender": "female",
            "location": m.location,
            "image_url": format!("https://example.invalid/profile-images/{}.png", m.username),
            "created_at": m.created_at,
            "created_country": null,
            "is_profile_private": false,
            "is_provisional": false,
            "is_demo": false,
        }),
        json!({
            "is_complete_profile": true,
            "instructor_id": null,
            "total_workouts": total,
            "total_pedaling_metric_workouts": pedaling,
            "total_non_pedaling_metric_workouts": total - pedaling,
            "total_followers": m.followers,
            "total_following": m.following,
            "total_pending_followers": 0,
            "workout_counts": workout_counts(m, false),
            "last_workout_at": m.last_workout_at,
            "cycling_ftp": m.ftp,
            "cycling_workout_ftp": m.workout_ftp,
            "estimated_cycling_ftp": m.estimated_ftp,
            "cycling_ftp_source": m.ftp_source,
            "cycling_ftp_workout_id": m.ftp_workout_id,
            "default_max_heart_rate": m.max_heart_rate.round() as i64,
            "customized_max_heart_rate": m.max_heart_rate.round() as i64,
            "default_heart_rate_zones": m.heart_rate_zones,
        }),
        json!({
            "customized_heart_rate_zones": [],
            "height": height,
            "height_unit": height_unit,
            "weight": weight,
            "weight_unit": weight_unit,
            "block_explicit": false,
            "can_charge": true,
            "has_active_device_subscription": true,
            "has_active_digital_subscription": false,
            "has_signed_waiver": false,
            "is_fitbit_authenticated": false,
            "is_strava_authenticated": false,
            "is_internal_beta_tester": false,
            "is_external_beta_tester": false,
            "member_groups": [],
            "paired_devices": [],
            "contract_agreements": [],
            "quick_hits": {"quick_hits_enabled": true, "speed_shortcuts": null, "incline_shortcuts": null},
        }),
        json!({
            "referral_code": hex32_from(fnv1a(&m.user_id)),
            "referrals_made": 0,
            "v1_referrals_made": 0,
            "subscription_credits": 0,
            "subscription_credits_used": 0,
            "facebook_id": "",
            "facebook_access_token": "",
        }),
    ])
}

pub(crate) fn instructor(id: &str) -> Value {
    let Some(i) = catalog::instructor_by_id(id) else {
        return Value::Null;
    };
    let img = |salt: &str| {
        format!(
            "https://s3.amazonaws.com/workout-metric-images-prod/{}",
            hex32_from(fnv1a(i.username) ^ fnv1a(salt))
        )
    };
    let name = i.name();
    merged([
        json!({
            "id": id,
            "bio": format!("{name} is a fictional instructor of the fake Peloton API."),
            "short_bio": format!("\u{201c}{}\u{201d}", i.quote),
            "coach_type": "peloton_coach",
            "is_filterable": true,
            "is_instructor_group": false,
            "is_visible": true,
            "is_announced": true,
            "list_order": fnv1a(i.username) % 60,
            "featured_profile": true,
            "film_link": "",
            "facebook_fan_page": "",
            "music_bio": "",
            "spotify_playlist_uri": "",
            "background": "",
            "ordered_q_and_as": [],
            "instagram_profile": "",
            "strava_profile": "",
        }),
        json!({
            "twitter_profile": "",
            "quote": i.quote,
            "username": i.username,
            "name": name,
            "first_name": i.first,
            "last_name": i.last,
            "user_id": i.user_id(),
            "life_style_image_url": img("life"),
            "bike_instructor_list_display_image_url": null,
            "web_instructor_list_display_image_url": img("web"),
            "ios_instructor_list_display_image_url": img("ios"),
            "about_image_url": img("about"),
            "image_url": img("image"),
            "jumbotron_url": null,
            "jumbotron_url_dark": img("dark"),
            "jumbotron_url_ios": img("jios"),
            "web_instructor_list_gif_image_url": null,
            "instructor_hero_image_url": img("hero"),
        }),
        json!({
            "fitness_disciplines": i.disciplines,
        }),
    ])
}

fn ride_metrics(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Bike => &["heart_rate", "cadence", "calories"],
        Kind::Tread => &["heart_rate", "speed", "calories"],
        Kind::Row | Kind::Floor => &["heart_rate", "calories"],
    }
}

/// The joined `ride` (the class), derived from the workout's seed.
pub(crate) fn ride(w: &GeneratedWorkout, with_instructor: bool) -> Value {
    let mut rng = Rng::with_seed(mix(w.seed ^ RIDE_SALT));
    let kind = kind_of(&w.discipline);
    let dur = w.duration_class_s;
    let freestyle = w.workout_type == WorkoutType::Freestyle;
    let scenic = w.workout_type == WorkoutType::Scenic;
    let intro = if freestyle {
        0
    } else if scenic {
        rng.u32(5..15)
    } else {
        rng.u32(60..200)
    };
    let aired = w.created_at - i64::from(rng.u32(1..900)) * 86_400;
    let type_id = hex32_from(fnv1a(&w.discipline) ^ fnv1a(&w.title));
    let difficulty = (uniform(&mut rng, 4.0, 8.5) * 10_000.0).round() / 10_000.0;
    let rating = (uniform(&mut rng, 0.93, 0.999) * 10_000.0).round() / 10_000.0;
    let ratings = rng.u32(100..20_000);
    let live_id = format!("{}-live", w.ride_id);
    let provider = if scenic { "virtual_active" } else { "peloton" };
    let format = if w.is_outdoor { "audio" } else { "video" };
    let mut v = obj(merged([
        json!({
            "has_closed_captions": !scenic && !w.is_outdoor,
            "content_provider": provider,
            "content_format": format,
            "description": format!("A {} class of the fake Peloton catalog.", w.title),
            "difficulty_rating_avg": if scenic { 0.0 } else { difficulty },
            "difficulty_rating_count": if scenic { 0 } else { ratings / 2 },
            "difficulty_level": null,
            "difficulty_estimate": if scenic { 0.0 } else { difficulty },
            "overall_estimate": rating,
            "distance": null,
            "distance_display_value": null,
            "distance_unit": null,
            "duration": dur,
            "dynamic_video_recorded_speed_in_mph": 0.0,
            "extra_images": [],
            "fitness_discipline": w.discipline,
            "fitness_discipline_display_name": catalog::display_name(&w.discipline),
            "has_pedaling_metrics": kind == Kind::Bike,
        }),
        json!({
            "home_peloton_id": if freestyle { Value::Null } else { Value::from(hex32_from(w.seed ^ 0x4011e)) },
            "id": w.ride_id,
            "image_url": format!("https://s3.amazonaws.com/peloton-ride-images/{}.png", hex32_from(w.seed ^ 0x1a6e)),
            "instructor_id": w.instructor_id,
            "is_archived": true,
            "is_closed_caption_shown": false,
            "is_dynamic_video_eligible": false,
            "is_explicit": false,
            "is_fixed_distance": false,
            "is_live_in_studio_only": !scenic,
            "is_outdoor": w.is_outdoor,
            "language": "english",
            "length": dur + 2 * intro,
            "live_stream_id": live_id,
            "live_stream_url": null,
            "location": if scenic { "Scenic" } else { "psny-studio-1" },
            "metrics": ride_metrics(kind),
            "origin_locale": "en-US",
        }),
        json!({
            "original_air_time": aired,
            "overall_rating_avg": rating,
            "overall_rating_count": ratings,
            "pedaling_start_offset": intro,
            "pedaling_end_offset": intro + dur,
            "pedaling_duration": dur,
            "rating": 0,
            "ride_type_id": type_id,
            "ride_type_ids": [type_id],
            "class_type_ids": [type_id],
            "sample_vod_stream_url": null,
            "sample_preview_stream_url": null,
            "scheduled_start_time": aired,
            "series_id": hex32_from(fnv1a(&w.title)),
            "sold_out": false,
            "studio_peloton_id": if scenic || freestyle { Value::Null } else { Value::from(hex32_from(w.seed ^ 0x57d10)) },
            "title": w.title,
            "total_ratings": ratings,
        }),
        json!({
            "total_in_progress_workouts": rng.u32(0..40),
            "total_workouts": rng.u32(500..100_000),
            "vod_stream_url": null,
            "vod_stream_id": format!("{}-vod", w.ride_id),
            "availability": {"is_available": true, "reason": null},
            "explicit_rating": 0,
            "flags": [],
        }),
    ]));
    if freestyle {
        // A Just Ride has no class behind it.
        for k in [
            "original_air_time",
            "scheduled_start_time",
            "series_id",
            "overall_rating_avg",
            "overall_estimate",
        ] {
            v.insert(k.into(), Value::Null);
        }
        for k in [
            "difficulty_rating_avg",
            "difficulty_estimate",
            "live_stream_id",
            "location",
        ] {
            v.insert(k.into(), Value::Null);
        }
        v.insert("difficulty_rating_count".into(), Value::from(0));
        v.insert("overall_rating_count".into(), Value::from(0));
        v.insert("total_ratings".into(), Value::from(0));
        v.insert("has_closed_captions".into(), Value::from(false));
        v.insert("is_live_in_studio_only".into(), Value::from(false));
        v.insert("ride_type_ids".into(), json!([]));
        v.insert("class_type_ids".into(), json!([]));
        v.insert("ride_type_id".into(), Value::Null);
        v.insert("id".into(), Value::from(JUST_RIDE_ID));
    }
    if with_instructor {
        let instr = w.instructor_id.as_deref().map_or(Value::Null, instructor);
        v.insert("instructor".into(), instr);
    }
    Value::Object(v)
}

fn zone_map(z: &[f64; 5]) -> Value {
    let mut m = Map::new();
    for (i, s) in z.iter().enumerate() {
        m.insert(
            format!("heart_rate_z{}_duration", i + 1),
            Value::from(*s as i64),
        );
    }
    Value::Object(m)
}

/// `effort_zones` of the list item and performance graph.
pub(crate) fn effort_zones(w: &GeneratedWorkout) -> Value {
    match (w.is_complete(), w.effort_zones_null, w.hr_zone_seconds) {
        (true, false, Some(z)) => json!({
            "total_effort_points": w.effort_points,
            "heart_rate_zone_durations": zone_map(&z),
        }),
        _ => Value::Null,
    }
}

fn strava_id(w: &GeneratedWorkout) -> Value {
    match w.seed % 3 {
        0 => Value::Null,
        1 => Value::from("-1"),
        _ => Value::from(format!("9{:09}", w.seed % 1_000_000_000)),
    }
}

/// Fields shared by the list item and the detail.
fn workout_base(m: &MemberData, w: &GeneratedWorkout) -> Map<String, Value> {
    let kind = kind_of(&w.discipline);
    let complete = w.is_complete();
    let watched = w.elapsed_seconds().unwrap_or(0);
    let video = !w.is_outdoor;
    obj(merged([
        json!({
            "created_at": w.created_at,
            "device_type": w.device_type,
            "end_time": w.end_time,
            "fitness_discipline": w.discipline,
            "has_pedaling_metrics": kind == Kind::Bike,
            "has_leaderboard_metrics": w.total_leaderboard_users > 0,
            "id": w.id,
            "is_total_work_personal_record": complete && w.is_total_work_personal_record,
            "is_outdoor": w.is_outdoor,
            "is_3p_fit_feed_workout": w.imported,
            "is_peloton_originated_workout": !w.imported,
            "metrics_type": catalog::metrics_type(kind),
            "name": if w.workout_type == WorkoutType::Scenic && kind == Kind::Bike {
                "Scenic Ride".to_owned()
            } else {
                catalog::workout_name(&w.discipline)
            },
            "peloton_id": if w.workout_type == WorkoutType::Freestyle {
                Value::Null
            } else {
                Value::from(hex32_from(w.seed ^ 0x9e10))
            },
            "platform": w.platform,
            "start_time": w.start_time,
            "status": w.status.as_str(),
            "timezone": m.timezone,
            "title": null,
            "total_work": if complete { w.total_work_joules.unwrap_or(0.0) } else { 0.0 },
        }),
        json!({
            "user_id": m.user_id,
            "workout_type": w.workout_type.as_str(),
            "total_video_watch_time_seconds": 0,
            "total_video_buffering_seconds": 0,
            "v2_total_video_watch_time_seconds": if video && complete { Value::from(watched) } else { Value::Null },
            "v2_total_video_buffering_seconds": if video && complete { Value::from(w.seed % 3) } else { Value::Null },
            "total_music_audio_play_seconds": null,
            "total_music_audio_buffer_seconds": null,
            "service_id": null,
            "created": w.created_at,
            "device_time_created_at": w.created_at + m.utc_offset_s,
            "strava_id": strava_id(w),
            "fitbit_id": null,
        }),
    ]))
}

pub(crate) fn list_item(m: &MemberData, w: &GeneratedWorkout, joins: Joins) -> Value {
    let mut v = workout_base(m, w);
    v.insert("effort_zones".into(), effort_zones(w));
    if joins.ride {
        v.insert("ride".into(), ride(w, joins.instructor));
    }
    Value::Object(v)
}

pub(crate) fn achievement_template(slug: &str, overview: bool) -> Value {
    let (name, description) = catalog::achievement_meta(slug);
    let mut v = json!({
        "id": catalog::achievement_id(slug),
        "name": name,
        "slug": slug,
        "image_url": catalog::achievement_image(slug),
        "description": description,
    });
    if overview && let Some(o) = v.as_object_mut() {
        o.insert("animated_image_url".into(), Value::Null);
        o.insert("kinetic_token_background".into(), Value::Null);
    }
    v
}

/// `GET /api/workout/{id}`: the ride is always joined; the instructor only when asked for.
pub(crate) fn detail(m: &MemberData, w: &GeneratedWorkout, joins: Joins) -> Value {
    let mut rng = Rng::with_seed(mix(w.seed ^ DETAIL_SALT));
    let complete = w.is_complete();
    let kind = kind_of(&w.discipline);
    let mut out = workout_base(m, w);
    // Class-wide aggregates that do not match the member's own numbers (API.md §4.4).
    let class_zones = match (complete, w.hr_zone_seconds) {
        (true, Some(zones)) if w.workout_type != WorkoutType::Freestyle => {
            let factor = uniform(&mut rng, 6.0, 12.0);
            zone_map(&zones.map(|s| (s * factor * uniform(&mut rng, 0.5, 1.5)).round()))
        }
        _ => Value::Null,
    };
    let ftp_info = if kind == Kind::Bike {
        let (ftp, source) = ftp_at(m, w.created_at);
        json!({"ftp": ftp, "ftp_source": source, "ftp_workout_id": m.ftp_workout_id})
    } else {
        json!({"ftp": 0, "ftp_source": null, "ftp_workout_id": null})
    };
    let templates: Vec<Value> = if complete {
        w.achievements
            .iter()
            .map(|a| achievement_template(a, false))
            .collect()
    } else {
        Vec::new()
    };
    let extra = json!({
        "is_skip_intro_available": w.workout_type == WorkoutType::Class,
        "pause_time_remaining": null,
        "pause_time_elapsed": null,
        "is_paused": false,
        "has_paused": false,
        "is_pause_available": false,
        "ride": ride(w, joins.instructor),
        "total_heart_rate_zone_durations": class_zones,
        "average_effort_score": if class_zones.is_null() { Value::Null } else {
            Value::from((uniform(&mut rng, 10.0, 60.0) * 10.0).round() / 10.0)
        },
        "achievement_templates": templates,
        "leaderboard_rank": if complete { w.leaderboard_rank.map_or(Value::Null, Value::from) } else { Value::Null },
        "total_leaderboard_users": w.total_leaderboard_users,
        "leaderboard_distance_rank": null,
        "total_leaderboard_distance_users": 0,
        "ftp_info": ftp_info,
        "device_type_display_name": catalog::device_display_name(&w.device_type),
        "metadata": {"playlist_type": "synced"},
        "is_3p_digital_workout": false,
    });
    out.extend(obj(extra));
    if complete && w.strength.is_some() {
        out.insert(
            "movement_tracker_data".into(),
            strength::movement_tracker_data(w),
        );
    }
    Value::Object(out)
}

/// The FTP in force at `t`: the member's FTP today, about 3 % lower for each 120 days
/// before their newest workout (at most 20 %), so `ftp_info` draws a history of steps.
/// Older steps came from Peloton's estimate.
pub(crate) fn ftp_at(m: &MemberData, t: i64) -> (u32, &str) {
    let steps = (m.last_workout_at - t).max(0) / (120 * 86_400);
    if steps == 0 {
        return (m.ftp, m.ftp_source.as_str());
    }
    let factor = (1.0 - 0.03 * steps as f64).max(0.8);
    (
        (f64::from(m.ftp) * factor).round() as u32,
        "ftp_estimated_source",
    )
}

pub(crate) fn overview(m: &MemberData, now: i64) -> Value {
    let mut counts = workout_counts(m, true);
    // Stable sort keeps catalog order among equal counts.
    counts.sort_by_key(|c| std::cmp::Reverse(c.get("count").and_then(Value::as_u64).unwrap_or(0)));
    let records: Vec<Value> = m
        .personal_records()
        .into_iter()
        .map(|pr| {
            let with_micros = (!fnv1a(&pr.workout_id).is_multiple_of(4))
                .then(|| (fnv1a(&pr.workout_id) % 1_000_000) as u32);
            json!({
                "name": format!("{} min", pr.duration_s / 60),
                "slug": pr.duration_s.to_string(),
                "value": (pr.joules / 1000.0).round() as i64,
                "raw_value": pr.joules,
                "unit": "kj",
                "unit_slug": "kj",
                "workout_id": pr.workout_id,
                "workout_date": iso_naive(pr.created_at, with_micros),
            })
        })
        .collect();
    let personal_records = match m.first_cycling_workout_at() {
        Some(first) if m.workouts.iter().any(counts_for_cycling_pr) => json!([{
            "name": "Cycling",
            "slug": "cycling",
            "first_workout_date": iso_naive(first - first.rem_euclid(86_400), None),
            "reset_date": null,
            "records": records,
        }]),
        _ => json!([]),
    };
    let s = m.streaks(now);
    let achievements: Vec<(String, u64)> = m.achievement_counts();
    let total: u64 = achievements.iter().map(|(_, c)| c).sum();
    json!({
        "id": m.user_id,
        "workout_counts": {
            "total_workouts": m.total_workouts(),
            "workouts": counts,
        },
        "personal_records": personal_records,
        "streaks": {
            "current_weekly": s.current_weekly,
            "best_weekly": s.best_weekly,
            "start_date_of_current_weekly": s.start_date_of_current_weekly,
            "current_daily": s.current_daily,
            "start_date_of_current_daily": s.start_date_of_current_daily,
        },
        "achievement_counts": {
            "total_count": total,
            "achievements": achievements
                .iter()
                .map(|(slug, count)| json!({"count": count, "template": achievement_template(slug, true)}))
                .collect::<Vec<_>>(),
        },
    })
}

/// The paged list envelope. `limit` is already clamped to 1..=100.
pub(crate) fn workouts_page(m: &MemberData, limit: usize, page: usize, joins: Joins) -> Value {
    let total = m.workouts.len();
    let start = page.saturating_mul(limit).min(total);
    let end = start.saturating_add(limit).min(total);
    let items: Vec<Value> = m
        .workouts
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|w| list_item(m, w, joins))
        .collect();
    let count = items.len();
    let page_count = total.div_ceil(limit);
    let next = m.workouts.get(end).filter(|_| end < total).map_or(
        Value::Null,
        |w| json!({"workout_id": w.id, "created_at": w.created_at}),
    );
    let summary: Map<String, Value> = m
        .monthly_summary()
        .into_iter()
        .rev()
        .map(|(k, c)| (k, Value::from(c)))
        .collect();
    json!({
        "data": items,
        "limit": limit,
        "page": page,
        "total": total,
        "count": count,
        "page_count": page_count,
        "show_previous": page > 0,
        "show_next": page.saturating_add(1) < page_count,
        "sort_by": "-created_at,-pk",
        "next": next,
        "summary": summary,
        "aggregate_stats": [],
        "total_heart_rate_zone_durations": zone_map(&m.total_zone_seconds()),
    })
}
