//! Challenges (`/api/user/{id}/challenges/current`, `/api/user/{id}/challenge/{cid}`) and
//! the achievements page (`/api/user/{id}/achievements`), in the shapes of
//! `fixtures/challenges_current_RECONSTRUCTED.json`, `challenge_detail_annual_RECONSTRUCTED.json`
//! and `achievements_RECONSTRUCTED.json`.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::catalog::{self, ACHIEVEMENT_CATEGORIES, achievement_category, thousands};
use super::generator::ANNUAL_TIERS;
use super::model::{Challenge, GeneratedWorkout, MemberData};
use super::render::achievement_template;
use super::util::{civil_from_days, days_from_civil, fnv1a, hex32_from};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Minutes of cycling in the month's cycling challenge.
const MONTHLY_TIERS: [u32; 4] = [60, 150, 300, 450];
/// Minutes of yoga in the month's yoga challenge.
const YOGA_TIERS: [u32; 3] = [30, 90, 180];
const ANNUAL_SALT: u64 = 0xa22a_0000_0000_0000;
const MONTHLY_SALT: u64 = 0x3017_0000_0000_0000;
const YOGA_SALT: u64 = 0x7064_0000_0000_0000;

fn year_of(ts: i64) -> i64 {
    civil_from_days(ts.div_euclid(86_400)).0
}

fn tiers(list: &[u32]) -> Vec<(String, f64)> {
    std::iter::once(("Joined".to_owned(), 0.0))
        .chain(list.iter().map(|m| {
            (
                format!("{} Minutes", thousands(u64::from(*m))),
                f64::from(*m),
            )
        }))
        .collect()
}

impl MemberData {
    /// Whole minutes (rounded down) of the summed `end_time - start_time` of completed, not
    /// imported workouts whose `start_time` is in `start..=end`, of `discipline` if given.
    pub fn challenge_minutes(&self, start: i64, end: i64, discipline: Option<&str>) -> f64 {
        let secs: i64 = self
            .workouts
            .iter()
            .filter(|w| w.is_complete() && !w.imported)
            .filter(|w| (start..=end).contains(&w.start_time))
            .filter(|w| discipline.is_none_or(|d| w.discipline == d))
            .filter_map(GeneratedWorkout::elapsed_seconds)
            .sum();
        (secs.max(0) / 60) as f64
    }

    /// "The Annual {year}": all of that UTC year, tiers Joined, 1,000, 3,000, 5,000, 7,500
    /// and 10,000 minutes, joined.
    pub fn annual_challenge(&self, year: i64) -> Challenge {
        let start = days_from_civil(year, 1, 1) * 86_400;
        let end = days_from_civil(year + 1, 1, 1) * 86_400 - 1;
        self.challenge_of(
            hex32_from(ANNUAL_SALT ^ year as u64),
            format!("The Annual {year}"),
            (start, end),
            true,
            None,
            tiers(&ANNUAL_TIERS),
        )
    }

    fn challenge_of(
        &self,
        id: String,
        title: String,
        (start_time, end_time): (i64, i64),
        has_joined: bool,
        discipline: Option<&str>,
        tiers: Vec<(String, f64)>,
    ) -> Challenge {
        let progress_minutes = if has_joined {
            self.challenge_minutes(start_time, end_time, discipline)
        } else {
            0.0
        };
        Challenge {
            id,
            title,
            start_time,
            end_time,
            has_joined,
            discipline: discipline.map(str::to_owned),
            tiers,
            progress_minutes,
        }
    }

    /// The challenges running at `now`: the annual one of the UTC year, the UTC month's
    /// cycling challenge (minutes of cycling; both joined), then the month's yoga challenge,
    /// which the member has not joined.
    pub fn current_challenges(&self, now: i64) -> Vec<Challenge> {
        let (year, month, _) = civil_from_days(now.div_euclid(86_400));
        let start = days_from_civil(year, month, 1) * 86_400;
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let end = days_from_civil(ny, nm, 1) * 86_400 - 1;
        let name = MONTHS
            .get(month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("Monthly");
        let key = (year as u64) << 8 | u64::from(month);
        vec![
            self.annual_challenge(year),
            self.challenge_of(
                hex32_from(MONTHLY_SALT ^ key),
                format!("{name} Cycling Challenge"),
                (start, end),
                true,
                Some("cycling"),
                tiers(&MONTHLY_TIERS),
            ),
            self.challenge_of(
                hex32_from(YOGA_SALT ^ key),
                format!("{name} Yoga Challenge"),
                (start, end),
                false,
                Some("yoga"),
                tiers(&YOGA_TIERS),
            ),
        ]
    }

    /// A challenge by id: a current one, or the annual challenge of an earlier year since
    /// the member joined Peloton.
    pub fn find_challenge(&self, id: &str, now: i64) -> Option<Challenge> {
        if let Some(c) = self
            .current_challenges(now)
            .into_iter()
            .find(|c| c.id == id)
        {
            return Some(c);
        }
        (year_of(self.created_at)..year_of(now))
            .map(|y| self.annual_challenge(y))
            .find(|c| c.id == id)
    }

    /// Earned achievements grouped as `/achievements` lists them: categories in the fake's
    /// order, only those with something earned, each most frequent first (ties by slug).
    /// The counts add up to the overview's `achievement_counts.total_count`.
    pub fn achievement_categories(&self) -> Vec<(String, Vec<(String, u64)>)> {
        let mut by_cat: HashMap<&str, Vec<(String, u64)>> = HashMap::new();
        for (slug, count) in self.achievement_counts() {
            by_cat
                .entry(achievement_category(&slug))
                .or_default()
                .push((slug, count));
        }
        ACHIEVEMENT_CATEGORIES
            .iter()
            .filter_map(|(slug, _)| by_cat.remove(slug).map(|v| ((*slug).to_owned(), v)))
            .collect()
    }
}

fn summary(c: &Challenge) -> Value {
    let image = |what: &str| {
        format!(
            "https://s3.amazonaws.com/challenges-metadata-prod/{}.png",
            hex32_from(fnv1a(&c.id) ^ fnv1a(what))
        )
    };
    let what = c.discipline.as_deref().map_or_else(
        || "workout".to_owned(),
        |d| catalog::display_name(d).to_lowercase(),
    );
    json!({
        "id": c.id,
        "title": c.title,
        "symbol_image_url": image("symbol"),
        "background_image_url": image("background"),
        "start_time": c.start_time,
        "end_time": c.end_time,
        "challenge_type": "individual",
        "description": format!("Every {what} minute counts. Join {} and earn badges as you go.", c.title),
    })
}

fn participants(c: &Challenge) -> Value {
    json!({"total_count": 20_000 + fnv1a(&c.id) % 200_000})
}

/// The highest tier reached (the joined tier at least).
fn current_tier(c: &Challenge) -> usize {
    c.tiers
        .iter()
        .rposition(|(_, m)| c.progress_minutes >= *m)
        .unwrap_or(0)
}

fn tier_id(c: &Challenge, i: usize) -> String {
    hex32_from(fnv1a(&c.id) ^ (i as u64 + 1))
}

/// `GET /api/user/{id}/challenges/current`: joined ones only when `joined_only`.
pub(crate) fn current(m: &MemberData, now: i64, joined_only: bool) -> Value {
    let items: Vec<Value> = m
        .current_challenges(now)
        .iter()
        .filter(|c| c.has_joined || !joined_only)
        .map(|c| {
            let tier = current_tier(c);
            json!({
                "challenge_summary": summary(c),
                "participants": participants(c),
                "progress": {
                    "has_joined": c.has_joined,
                    "current_tier": {
                        "id": tier_id(c, tier),
                        "title": c.tiers.get(tier).map_or("Joined", |t| t.0.as_str()),
                        "metric_display_value": thousands(c.progress_minutes as u64),
                        "metric_display_unit": "min",
                    },
                },
            })
        })
        .collect();
    json!({"challenges": items})
}

/// `GET /api/user/{id}/challenge/{cid}`.
pub(crate) fn detail(c: &Challenge) -> Value {
    let tiers: Vec<Value> = c
        .tiers
        .iter()
        .enumerate()
        .map(|(i, (title, minutes))| {
            json!({
                "id": tier_id(c, i),
                "title": title,
                "detailed_badge_image_url": format!(
                    "https://s3.amazonaws.com/challenges-metadata-prod/badge_{}.png",
                    tier_id(c, i)
                ),
                "metric_value": minutes,
                "metric_display_unit": "min",
            })
        })
        .collect();
    json!({
        "challenge_summary": summary(c),
        "challenge_detail": {
            "detailed_description": format!(
                "{} runs from the first to the last day of its window. Every minute of a \
                 completed workout counts toward the next badge.",
                c.title
            ),
            "tiers": tiers,
        },
        "participants": participants(c),
        "progress": {
            "metric_value": c.progress_minutes,
            "metric_display_unit": "min",
        },
    })
}

/// `GET /api/user/{id}/achievements`.
pub(crate) fn achievements(m: &MemberData) -> Value {
    let categories: Vec<Value> = m
        .achievement_categories()
        .into_iter()
        .map(|(slug, items)| {
            let name = ACHIEVEMENT_CATEGORIES
                .iter()
                .find(|(s, _)| *s == slug)
                .map_or("Special Events", |(_, n)| *n);
            json!({
                "name": name,
                "slug": slug,
                "achievements": items
                    .iter()
                    .map(|(a, count)| json!({"count": count, "template": achievement_template(a, false)}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"categories": categories})
}
