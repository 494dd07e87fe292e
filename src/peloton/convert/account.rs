//! What the profile-interval reads say of the member beyond the overview: heart-rate
//! zones (`/api/me`), the annual challenge (`challenges/current`, `challenge/{id}`) and
//! badges per category (`/achievements`).

use std::collections::BTreeMap;

use crate::domain::HeartRateZones;
use crate::domain::challenge::{AnnualChallenge, MAX_TIERS, Tier};
use crate::domain::labels::{self, OTHER};
use crate::domain::plausible::{self, MAX_HEART_RATE_BPM};
use crate::peloton::model::{self, ChallengeProgress, ChallengeSummary};

/// Most achievement categories kept; Peloton shows about ten.
pub const MAX_CATEGORIES: usize = 32;
/// More badges than any member holds in one category.
const MAX_CATEGORY_BADGES: f64 = 1_000_000.0;
/// The shortest and longest run an annual challenge can have, in days.
const ANNUAL_DAYS: std::ops::RangeInclusive<f64> = 300.0..=380.0;
const DAY: f64 = 86_400.0;

/// The member's zones: their own when all five floors are set, else Peloton's defaults.
pub fn hr_zones(me: &model::Me) -> Option<HeartRateZones> {
    let max = [me.customized_max_heart_rate, me.default_max_heart_rate]
        .into_iter()
        .flatten()
        .find(|m| m.is_finite() && *m > 0.0 && *m <= MAX_HEART_RATE_BPM);
    let floors = zone_floors(&me.customized_heart_rate_zones)
        .or_else(|| zone_floors(&me.default_heart_rate_zones))?;
    // A maximum below zone 5's floor cannot be its top.
    let max_bpm = max.filter(|m| *m > floors[4]);
    Some(HeartRateZones { floors, max_bpm })
}

/// Five ascending floors, from numbers or from `{min_value}` objects.
fn zone_floors(zones: &[serde_json::Value]) -> Option<[f64; 5]> {
    if zones.len() != 5 {
        return None;
    }
    let mut floors = [None; 5];
    for (slot, z) in floors.iter_mut().zip(zones) {
        *slot = z
            .as_f64()
            .or_else(|| z.get("min_value").and_then(serde_json::Value::as_f64));
    }
    plausible::zone_floors(floors)
}

/// A challenge of the joined list that may be the annual one.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeRef {
    pub id: String,
    pub title: String,
    pub start_time: f64,
    pub end_time: f64,
}

/// The annual challenge among the joined ones, found by what it is, never by its id
/// (a new one each year): a title naming it annual, or a run of about a year; of those,
/// the one running at `now`, else the latest to start.
pub fn annual_challenge(list: &model::Challenges, now: f64) -> Option<ChallengeRef> {
    let mut candidates: Vec<ChallengeRef> = list
        .challenges
        .iter()
        .filter_map(|c| reference(c.challenge_summary.as_ref().unwrap_or(&c.own)))
        .filter(|c| {
            let days = (c.end_time - c.start_time) / DAY;
            c.title.to_lowercase().contains("annual") || ANNUAL_DAYS.contains(&days)
        })
        .collect();
    candidates.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
    let running = candidates
        .iter()
        .rposition(|c| c.start_time <= now && now <= c.end_time);
    match running {
        Some(i) => Some(candidates.swap_remove(i)),
        None => candidates.pop(),
    }
}

fn reference(s: &ChallengeSummary) -> Option<ChallengeRef> {
    let id = s.id.as_deref().map(str::trim).filter(|id| {
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
    })?;
    let (start, end) = (s.start_time? as f64, s.end_time? as f64);
    if !(start > 0.0 && end > start) {
        return None;
    }
    Some(ChallengeRef {
        id: id.to_owned(),
        title: s
            .title
            .as_deref()
            .map(labels::text)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "annual".to_owned()),
        start_time: start,
        end_time: end,
    })
}

/// Minutes (the annual challenge's unit) in seconds; another unit is no time.
fn minutes_as_seconds(value: Option<f64>, unit: Option<&str>) -> Option<f64> {
    let minutes = unit.is_none_or(|u| {
        let u = u.trim().to_ascii_lowercase();
        u.is_empty() || u == "min" || u == "mins" || u == "minutes" || u == "minute"
    });
    let v = value.filter(|v| v.is_finite() && *v >= 0.0 && *v <= 525_600.0 * 2.0)?;
    minutes.then_some(v * 60.0)
}

fn progress_seconds(p: &ChallengeProgress) -> Option<f64> {
    minutes_as_seconds(p.metric_value, p.metric_display_unit.as_deref())
}

/// The annual challenge's progress and tiers from its detail; `r` is what the list said
/// of it. `None` when the detail gives no progress in minutes.
pub fn challenge_detail(d: &model::ChallengeDetail, r: &ChallengeRef) -> Option<AnnualChallenge> {
    let progress = d.progress.as_ref().and_then(progress_seconds)?;
    let summary = d.challenge_summary.as_ref().and_then(reference);
    let r = summary
        .filter(|s| s.id == r.id)
        .unwrap_or_else(|| r.clone());
    let mut tiers: Vec<Tier> = d
        .challenge_detail
        .as_ref()
        .map(|c| c.tiers.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            let seconds = minutes_as_seconds(t.metric_value, t.metric_display_unit.as_deref())?;
            // The "joined" tier asks for nothing: it is no goal.
            (seconds > 0.0).then(|| Tier {
                title: t
                    .title
                    .as_deref()
                    .map(labels::text)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| format!("{:.0} min", seconds / 60.0)),
                target_seconds: seconds,
            })
        })
        .collect();
    tiers.sort_by(|a, b| a.target_seconds.total_cmp(&b.target_seconds));
    tiers.dedup_by(|a, b| a.title == b.title);
    tiers.truncate(MAX_TIERS);
    Some(AnnualChallenge {
        title: r.title,
        start_time: r.start_time,
        end_time: r.end_time,
        progress_seconds: progress,
        tiers,
    })
}

/// Badges per category slug, every badge counted: a category past the bound, or one
/// without a usable slug, is counted as `other`. `None` when the answer has no
/// categories list.
pub fn achievement_categories(a: &model::Achievements) -> Option<BTreeMap<String, f64>> {
    let categories = a.categories.as_ref()?;
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for c in categories {
        let slug = c
            .slug
            .as_deref()
            .and_then(labels::slug)
            .or_else(|| {
                c.name
                    .as_deref()
                    .and_then(|n| labels::slug(&n.to_lowercase().replace(' ', "_")))
            })
            .unwrap_or_else(|| OTHER.to_owned());
        let key = labels::admit(&out, slug, MAX_CATEGORIES, OTHER.to_owned());
        // A fold from +0: an empty float sum is -0.
        let count = c
            .achievements
            .iter()
            .map(|e| e.count.filter(|n| *n >= 0).map_or(1.0, |n| n as f64))
            .fold(0.0, |a, b| a + b);
        let total = out.entry(key).or_insert(0.0);
        *total = (*total + count).min(MAX_CATEGORY_BADGES);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_annual_challenge_is_found_by_title_or_length_not_id() {
        let list: model::Challenges = parse(serde_json::json!({"challenges": [
            {"challenge_summary": {"id": "aa", "title": "December Cycling", "start_time": 1_796_083_200, "end_time": 1_798_761_599}},
            {"challenge_summary": {"id": "bb", "title": "Le défi de l'année", "start_time": 1_767_225_600, "end_time": 1_798_761_599}},
            {"challenge_summary": {"id": 7, "title": "broken", "start_time": null}},
            "not an object"
        ]}));
        let found = annual_challenge(&list, 1_796_644_800.0).unwrap();
        assert_eq!(found.id, "bb", "a year long, whatever its title says");
        let list: model::Challenges = parse(serde_json::json!({"challenges": [
            {"challenge_summary": {"id": "cc", "title": "The Annual 2025", "start_time": 1_735_689_600, "end_time": 1_767_225_599}},
            {"challenge_summary": {"id": "dd", "title": "The Annual 2026", "start_time": 1_767_225_600, "end_time": 1_798_761_599}}
        ]}));
        assert_eq!(annual_challenge(&list, 1_796_644_800.0).unwrap().id, "dd");
        assert!(annual_challenge(&parse(serde_json::json!({"challenges": []})), 0.0).is_none());
        // The older list of bare summaries.
        let list: model::Challenges = parse(serde_json::json!({"challenges": [
            {"id": "ee", "title": "The Annual 2026", "start_time": 1_767_225_600, "end_time": 1_798_761_599}
        ]}));
        assert_eq!(annual_challenge(&list, 1_796_644_800.0).unwrap().id, "ee");
    }

    #[test]
    fn progress_and_tiers_are_minutes_in_seconds_and_other_units_are_dropped() {
        let r = ChallengeRef {
            id: "dd".into(),
            title: "The Annual 2026".into(),
            start_time: 1.0,
            end_time: 2.0,
        };
        let d: model::ChallengeDetail = parse(serde_json::json!({
            "progress": {"metric_value": 1234.5, "metric_display_unit": "min"},
            "challenge_detail": {"tiers": [
                {"title": "Joined", "metric_value": 0},
                {"title": "3,000 Minutes", "metric_value": 3000, "metric_display_unit": "min"},
                {"title": "1,000 Minutes", "metric_value": 1000, "metric_display_unit": "min"},
                {"title": "Miles", "metric_value": 100, "metric_display_unit": "mi"},
                {"title": "Broken", "metric_value": "x"}
            ]}
        }));
        let c = challenge_detail(&d, &r).unwrap();
        assert_eq!(c.progress_seconds, 1234.5 * 60.0);
        let tiers: Vec<(&str, f64)> = c
            .tiers
            .iter()
            .map(|t| (t.title.as_str(), t.target_seconds))
            .collect();
        assert_eq!(
            tiers,
            [("1,000 Minutes", 60_000.0), ("3,000 Minutes", 180_000.0)]
        );
        let miles: model::ChallengeDetail = parse(
            serde_json::json!({"progress": {"metric_value": 5, "metric_display_unit": "mi"}}),
        );
        assert!(challenge_detail(&miles, &r).is_none(), "no fake minutes");
        assert!(challenge_detail(&parse(serde_json::json!({"progress": null})), &r).is_none());
    }

    #[test]
    fn every_badge_is_counted_and_categories_stay_bounded() {
        let mut cats = vec![
            serde_json::json!({"slug": "streaks", "achievements": [{"count": 3}, {"count": 2}]}),
            serde_json::json!({"slug": "Weird Slug!", "achievements": [{"count": 1}]}),
            serde_json::json!({"name": "Special Events", "achievements": [{}]}),
        ];
        for i in 0..40 {
            cats.push(serde_json::json!({"slug": format!("c{i}"), "achievements": [{"count": 1}]}));
        }
        let a: model::Achievements = parse(serde_json::json!({ "categories": cats }));
        let out = achievement_categories(&a).unwrap();
        assert_eq!(out["streaks"], 5.0);
        assert_eq!(out["special_events"], 1.0);
        assert!(out.len() <= MAX_CATEGORIES);
        assert_eq!(
            out.values().sum::<f64>(),
            5.0 + 1.0 + 1.0 + 40.0,
            "none dropped"
        );
        assert!(achievement_categories(&parse(serde_json::json!({"categories": null}))).is_none());
    }

    fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_fixtures_exactly() {
        let list: model::Challenges = fixture("challenges_current_RECONSTRUCTED.json");
        // 2026-12-07: the December challenge runs too, but is a month long.
        let annual = annual_challenge(&list, 1_796_644_800.0).unwrap();
        assert_eq!(annual.title, "The Annual 2026");
        assert_eq!(
            (annual.start_time, annual.end_time),
            (1_767_225_600.0, 1_798_761_599.0)
        );
        let d: model::ChallengeDetail = fixture("challenge_detail_annual_RECONSTRUCTED.json");
        let c = challenge_detail(&d, &annual).unwrap();
        assert_eq!(c.progress_seconds, 1234.0 * 60.0);
        let minutes: Vec<f64> = c.tiers.iter().map(|t| t.target_seconds / 60.0).collect();
        assert_eq!(minutes, [1000.0, 3000.0, 5000.0, 7500.0, 10000.0]);
        assert_eq!(c.tiers[0].title, "1,000 Minutes");
        let a: model::Achievements = fixture("achievements_RECONSTRUCTED.json");
        let cats = achievement_categories(&a).unwrap();
        let expected: BTreeMap<String, f64> = [
            ("workout_milestones", 3.0),
            ("special_events", 3.0),
            ("streaks", 17.0),
            ("challenges", 1.0),
            ("class_types", 2.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(cats, expected);
        let me: model::Me = fixture("me_customized_zones_RECONSTRUCTED.json");
        let z = hr_zones(&me).unwrap();
        assert_eq!(z.floors, [0.0, 120.0, 138.0, 155.0, 172.0]);
        assert_eq!(z.max_bpm, Some(182.0));
        let me: model::Me = fixture("me.json");
        assert_eq!(
            hr_zones(&me).unwrap().floors,
            [0.0, 114.4, 132.0, 149.6, 167.2]
        );
    }

    #[test]
    fn zones_prefer_the_members_own_and_accept_objects() {
        let me: model::Me = parse(serde_json::json!({
            "default_heart_rate_zones": [0, 115.7, 133.5, 151.299_999_999_999_98, 169.1],
            "customized_heart_rate_zones": [],
            "default_max_heart_rate": 178, "customized_max_heart_rate": 0
        }));
        let z = hr_zones(&me).unwrap();
        assert_eq!(z.floors, [0.0, 115.7, 133.5, 151.299_999_999_999_98, 169.1]);
        assert_eq!(z.max_bpm, Some(178.0));
        let me: model::Me = parse(serde_json::json!({
            "default_heart_rate_zones": [0, 115.7, 133.5, 151.3, 169.1],
            "customized_heart_rate_zones": [{"min_value": 0}, {"min_value": 120}, {"min_value": 138}, {"min_value": 155}, {"min_value": 172}],
            "default_max_heart_rate": 178, "customized_max_heart_rate": 182
        }));
        let z = hr_zones(&me).unwrap();
        assert_eq!(z.floors, [0.0, 120.0, 138.0, 155.0, 172.0]);
        assert_eq!(z.max_bpm, Some(182.0));
        let me: model::Me =
            parse(serde_json::json!({"default_heart_rate_zones": [0, 150, 140, 160, 170]}));
        assert!(hr_zones(&me).is_none(), "not ascending: no zones");
        assert!(
            hr_zones(&parse(
                serde_json::json!({"default_heart_rate_zones": null})
            ))
            .is_none()
        );
    }
}
