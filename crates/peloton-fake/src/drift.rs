//! Schema drift: what a tolerant client must survive when Peloton changes a response.
//! Unknown fields appear (scalars, objects, arrays, an unknown metric and summary), and
//! optional fields the exporter reads become null or vanish.

use serde_json::{Map, Value, json};

use super::endpoint::Endpoint;

fn add_unknown(o: &mut Map<String, Value>) {
    o.insert("x_fake_new_flag".into(), Value::from(true));
    o.insert(
        "x_fake_new_object".into(),
        json!({"nested": [1, "two", null], "since": "2026-05"}),
    );
}

fn set_null(o: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        if o.contains_key(*k) {
            o.insert((*k).to_owned(), Value::Null);
        }
    }
}

fn remove(o: &mut Map<String, Value>, keys: &[&str]) {
    for k in keys {
        o.remove(*k);
    }
}

fn each_object(o: &mut Map<String, Value>, key: &str, mut f: impl FnMut(&mut Map<String, Value>)) {
    if let Some(Value::Array(items)) = o.get_mut(key) {
        for item in items {
            if let Value::Object(o) = item {
                f(o);
            }
        }
    }
}

fn workout(o: &mut Map<String, Value>) {
    add_unknown(o);
    remove(
        o,
        &["strava_id", "timezone", "v2_total_video_watch_time_seconds"],
    );
    set_null(o, &["is_outdoor", "metrics_type"]);
    if let Some(Value::Object(r)) = o.get_mut("ride") {
        add_unknown(r);
        remove(r, &["difficulty_estimate", "length"]);
        set_null(r, &["instructor", "overall_rating_avg", "description"]);
    }
}

pub(crate) fn apply(endpoint: Endpoint, v: &mut Value) {
    let Value::Object(o) = v else { return };
    add_unknown(o);
    match endpoint {
        Endpoint::Me => {
            remove(o, &["cycling_ftp_workout_id", "customized_max_heart_rate"]);
            set_null(
                o,
                &[
                    "estimated_cycling_ftp",
                    "customized_heart_rate_zones",
                    "last_workout_at",
                ],
            );
        }
        Endpoint::Overview => {
            if let Some(Value::Object(s)) = o.get_mut("streaks") {
                add_unknown(s);
                remove(s, &["start_date_of_current_daily"]);
            }
            each_object(o, "personal_records", |pr| {
                remove(pr, &["reset_date"]);
                each_object(pr, "records", |r| {
                    add_unknown(r);
                    set_null(r, &["workout_date"]);
                });
            });
            if let Some(Value::Object(a)) = o.get_mut("achievement_counts") {
                each_object(a, "achievements", |item| {
                    if let Some(Value::Object(t)) = item.get_mut("template") {
                        remove(t, &["animated_image_url", "kinetic_token_background"]);
                        set_null(t, &["description"]);
                    }
                });
            }
        }
        Endpoint::Workouts => {
            set_null(o, &["next", "total_heart_rate_zone_durations"]);
            each_object(o, "data", |w| {
                workout(w);
                remove(w, &["effort_zones"]);
            });
        }
        Endpoint::Workout => {
            workout(o);
            set_null(o, &["ftp_info", "leaderboard_rank", "average_effort_score"]);
            remove(o, &["achievement_templates", "total_leaderboard_users"]);
            if let Some(Value::Object(mt)) = o.get_mut("movement_tracker_data") {
                add_unknown(mt);
                if let Some(Value::Object(s)) = mt.get_mut("completed_movements_summary_data") {
                    remove(s, &["total_volume", "num_targets_reached"]);
                    each_object(s, "repetition_summary_data", |set| {
                        add_unknown(set);
                        remove(set, &["total_volume"]);
                        set_null(set, &["target_number"]);
                    });
                }
            }
        }
        Endpoint::Challenges => {
            each_object(o, "challenges", |c| {
                add_unknown(c);
                remove(c, &["participants"]);
                if let Some(Value::Object(s)) = c.get_mut("challenge_summary") {
                    set_null(s, &["symbol_image_url", "description"]);
                }
            });
        }
        Endpoint::Challenge => {
            if let Some(Value::Object(d)) = o.get_mut("challenge_detail") {
                set_null(d, &["detailed_description"]);
                each_object(d, "tiers", |t| {
                    add_unknown(t);
                    remove(t, &["detailed_badge_image_url"]);
                });
            }
        }
        Endpoint::Achievements => {
            each_object(o, "categories", |c| {
                each_object(c, "achievements", |a| {
                    if let Some(Value::Object(t)) = a.get_mut("template") {
                        set_null(t, &["description", "image_url"]);
                    }
                });
            });
            if let Some(Value::Array(items)) = o.get_mut("categories") {
                items.push(json!({
                    "name": "Holiday Specials",
                    "slug": "x_fake_holiday_specials",
                    "achievements": [{
                        "count": 1,
                        "template": {
                            "id": "0123456789abcdef0123456789abcdef",
                            "name": "Fake Holiday",
                            "slug": "x_fake_holiday",
                            "image_url": null,
                            "description": null,
                        },
                    }],
                }));
            }
        }
        Endpoint::PerformanceGraph => {
            remove(o, &["effort_zones", "splits_metrics"]);
            // The newer targets object under the older name, and muscle groups null when
            // empty or with a slug nobody knows when not.
            if let Some(t) = o.remove("target_metrics_performance_data") {
                o.insert("target_performance_metrics".into(), t);
            }
            match o.get_mut("muscle_group_score") {
                Some(Value::Array(items)) if !items.is_empty() => items.push(json!({
                    "muscle_group": "x_fake_rotator_cuff",
                    "display_name": "Rotator Cuff",
                    "score": 120,
                    "percentage": 3,
                    "bucket": 1,
                })),
                Some(v) => *v = Value::Null,
                None => {}
            }
            set_null(o, &["splits_data", "location_data", "segment_list"]);
            each_object(o, "metrics", |m| {
                add_unknown(m);
                remove(m, &["missing_data_duration"]);
                each_object(m, "zones", |z| remove(z, &["range"]));
            });
            for key in ["summaries", "average_summaries"] {
                if let Some(Value::Array(items)) = o.get_mut(key) {
                    items.push(json!({
                        "display_name": "Strive Score",
                        "display_unit": null,
                        "value": 12.5,
                        "slug": "x_fake_strive_score",
                    }));
                }
            }
            if let Some(Value::Array(items)) = o.get_mut("metrics") {
                items.push(json!({
                    "display_name": "Power Zone",
                    "display_unit": "zone",
                    "max_value": 6,
                    "average_value": 3,
                    "values": [1, 2, 3, null],
                    "slug": "x_fake_power_zone",
                }));
            }
        }
        _ => {}
    }
}
