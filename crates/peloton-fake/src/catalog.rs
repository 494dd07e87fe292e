//! Static tables of the fake Peloton: disciplines, instructors, achievement templates.
//!
//! Everything here is invented but shaped after API.md §4.2/§6 and the fixtures; slugs are the
//! real ones so the exporter's discipline handling is exercised with real keys.

use super::util::{fnv1a, hex32_from};

/// What kind of equipment a discipline's metrics come from; decides the performance graph shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bike,
    Tread,
    Row,
    Floor,
}

#[derive(Debug)]
pub(crate) struct DisciplineInfo {
    pub(crate) slug: &'static str,
    /// `workout_counts[].name` (the overview's display names, e.g. `caesar` → "Rowing").
    pub(crate) display: &'static str,
    /// The workout object's `name`.
    pub(crate) workout_name: &'static str,
    pub(crate) kind: Kind,
    /// Relative frequency in a generated history (0 = never generated, but still counted).
    pub(crate) weight: u32,
    pub(crate) lengths_min: &'static [u32],
    pub(crate) themes: &'static [&'static str],
    /// Probability that the member wore a heart-rate monitor.
    pub(crate) hr_probability: f64,
}

pub(crate) const DISCIPLINES: &[DisciplineInfo] = &[
    DisciplineInfo {
        slug: "cycling",
        display: "Cycling",
        workout_name: "Cycling Workout",
        kind: Kind::Bike,
        weight: 400,
        lengths_min: &[10, 15, 20, 20, 30, 30, 30, 45, 45, 60],
        themes: &[
            "Pop Ride",
            "HIIT Ride",
            "Power Zone Ride",
            "Power Zone Endurance Ride",
            "Climb Ride",
            "Tabata Ride",
            "80s Ride",
            "Intervals & Arms Ride",
            "Low Impact Ride",
            "Rock Ride",
        ],
        hr_probability: 0.85,
    },
    DisciplineInfo {
        slug: "strength",
        display: "Strength",
        workout_name: "Strength Workout",
        kind: Kind::Floor,
        weight: 150,
        lengths_min: &[5, 10, 10, 15, 20, 20, 30],
        themes: &[
            "Upper Body Strength",
            "Lower Body Strength",
            "Core Strength",
            "Full Body Strength",
            "Glutes & Legs Strength",
            "Arms & Shoulders Strength",
        ],
        hr_probability: 0.6,
    },
    DisciplineInfo {
        slug: "stretching",
        display: "Stretching",
        workout_name: "Stretching Workout",
        kind: Kind::Floor,
        weight: 120,
        lengths_min: &[5, 5, 10, 10, 15],
        themes: &[
            "Post-Ride Stretch",
            "Full Body Stretch",
            "Lower Body Stretch",
            "Post-Run Stretch",
        ],
        hr_probability: 0.4,
    },
    DisciplineInfo {
        slug: "running",
        display: "Running",
        workout_name: "Running Workout",
        kind: Kind::Tread,
        weight: 70,
        lengths_min: &[10, 20, 20, 30, 30, 45, 60],
        themes: &[
            "Endurance Run",
            "HIIT Run",
            "Tempo Run",
            "Fun Run",
            "Intervals Run",
        ],
        hr_probability: 0.85,
    },
    DisciplineInfo {
        slug: "walking",
        display: "Walking",
        workout_name: "Walking Workout",
        kind: Kind::Tread,
        weight: 60,
        lengths_min: &[10, 20, 30, 30, 45],
        themes: &["Power Walk", "Hiking Walk", "Walk + Run", "Recovery Walk"],
        hr_probability: 0.75,
    },
    DisciplineInfo {
        slug: "yoga",
        display: "Yoga",
        workout_name: "Yoga Workout",
        kind: Kind::Floor,
        weight: 50,
        lengths_min: &[10, 15, 20, 30, 45, 60],
        themes: &[
            "Yoga Flow",
            "Restorative Yoga",
            "Power Yoga",
            "Yoga for Runners",
        ],
        hr_probability: 0.4,
    },
    DisciplineInfo {
        slug: "meditation",
        display: "Meditation",
        workout_name: "Meditation Workout",
        kind: Kind::Floor,
        weight: 40,
        lengths_min: &[5, 5, 10, 15, 20],
        themes: &[
            "Happiness Meditation",
            "Sleep Meditation",
            "Mindfulness Meditation",
            "Gratitude Meditation",
        ],
        hr_probability: 0.25,
    },
    DisciplineInfo {
        slug: "caesar",
        display: "Rowing",
        workout_name: "Rowing Workout",
        kind: Kind::Row,
        weight: 40,
        lengths_min: &[10, 15, 20, 20, 30],
        themes: &[
            "Endurance Row",
            "Form & Drills Row",
            "Pyramid Row",
            "Power Row",
        ],
        hr_probability: 0.8,
    },
    DisciplineInfo {
        slug: "cardio",
        display: "Cardio",
        workout_name: "Cardio Workout",
        kind: Kind::Floor,
        weight: 30,
        lengths_min: &[10, 15, 20, 30],
        themes: &[
            "HIIT Cardio",
            "Dance Cardio",
            "Shadowboxing",
            "Low Impact Cardio",
        ],
        hr_probability: 0.7,
    },
    DisciplineInfo {
        slug: "bike_bootcamp",
        display: "Bike Bootcamp",
        workout_name: "Bike Bootcamp Workout",
        kind: Kind::Bike,
        weight: 20,
        lengths_min: &[30, 45, 60],
        themes: &["Bike Bootcamp", "Bike Bootcamp: Upper Body"],
        hr_probability: 0.8,
    },
    DisciplineInfo {
        slug: "circuit",
        display: "Tread Bootcamp",
        workout_name: "Bootcamp Workout",
        kind: Kind::Tread,
        weight: 20,
        lengths_min: &[30, 45, 60],
        themes: &["Bootcamp", "Bootcamp: Full Body", "Bootcamp: Core"],
        hr_probability: 0.8,
    },
    DisciplineInfo {
        slug: "caesar_bootcamp",
        display: "Row Bootcamp",
        workout_name: "Row Bootcamp Workout",
        kind: Kind::Row,
        weight: 0,
        lengths_min: &[30, 45],
        themes: &["Row Bootcamp"],
        hr_probability: 0.8,
    },
];

/// Used for slugs the fake has never heard of (`add_workout("boxing")`): they behave like a
/// floor class so the exporter sees an unknown discipline with ordinary fields.
const UNKNOWN_LENGTHS: &[u32] = &[10, 20, 30];

pub(crate) fn discipline(slug: &str) -> Option<&'static DisciplineInfo> {
    DISCIPLINES.iter().find(|d| d.slug == slug)
}

pub(crate) fn kind_of(slug: &str) -> Kind {
    discipline(slug).map_or(Kind::Floor, |d| d.kind)
}

pub(crate) fn display_name(slug: &str) -> String {
    discipline(slug).map_or_else(|| title_case(slug), |d| d.display.to_owned())
}

pub(crate) fn workout_name(slug: &str) -> String {
    discipline(slug).map_or_else(
        || format!("{} Workout", title_case(slug)),
        |d| d.workout_name.to_owned(),
    )
}

pub(crate) fn lengths_min(slug: &str) -> &'static [u32] {
    discipline(slug).map_or(UNKNOWN_LENGTHS, |d| d.lengths_min)
}

pub(crate) fn hr_probability(slug: &str) -> f64 {
    discipline(slug).map_or(0.6, |d| d.hr_probability)
}

pub(crate) fn theme(slug: &str, pick: u64) -> String {
    match discipline(slug) {
        Some(d) if !d.themes.is_empty() => {
            let i = (pick % d.themes.len() as u64) as usize;
            d.themes
                .get(i)
                .map_or_else(|| d.display.to_owned(), |t| (*t).to_owned())
        }
        _ => title_case(slug),
    }
}

pub(crate) fn title_case(slug: &str) -> String {
    slug.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_uppercase().collect::<String>() + c.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn icon_url(slug: &str, count: u64) -> String {
    let prefix = if count == 0 { "zero" } else { "nonzero" };
    format!(
        "https://s3.amazonaws.com/static-cdn.pelotoncycle.com/workout-count-icons/{prefix}-{slug}2.png"
    )
}

pub(crate) fn device(kind: Kind, outdoor: bool, pick: u64) -> (&'static str, &'static str) {
    const APPS: [(&str, &str); 4] = [
        ("iPhone", "iOS_app"),
        ("android", "android"),
        ("fire_tv", "fire_tv"),
        ("web", "web"),
    ];
    match kind {
        _ if outdoor => ("iPhone", "iOS_app"),
        Kind::Bike => ("home_bike_v1", "home_bike"),
        Kind::Tread => ("home_tread", "home_tread"),
        Kind::Row => ("caesar", "caesar"),
        Kind::Floor => {
            // Floor classes are mostly taken on the bike's screen or a phone.
            if pick.is_multiple_of(3) {
                ("home_bike_v1", "home_bike")
            } else {
                APPS.get((pick % APPS.len() as u64) as usize)
                    .copied()
                    .unwrap_or(("iPhone", "iOS_app"))
            }
        }
    }
}

pub(crate) fn device_display_name(device_type: &str) -> &'static str {
    match device_type {
        "home_bike_v1" => "Bike",
        "home_tread" => "Tread",
        "caesar" => "Row",
        _ => "App",
    }
}

pub(crate) fn metrics_type(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Bike => Some("cycling"),
        Kind::Tread => Some("running"),
        Kind::Row => Some("caesar"),
        Kind::Floor => None,
    }
}

#[derive(Debug)]
pub(crate) struct Instructor {
    pub(crate) first: &'static str,
    pub(crate) last: &'static str,
    pub(crate) username: &'static str,
    pub(crate) disciplines: &'static [&'static str],
    pub(crate) quote: &'static str,
}

impl Instructor {
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.first, self.last)
    }
    pub(crate) fn id(&self) -> String {
        hex32_from(fnv1a(self.username))
    }
    pub(crate) fn user_id(&self) -> String {
        hex32_from(fnv1a(self.username) ^ 0x5eed_0000_0000_0001)
    }
}

pub(crate) const INSTRUCTORS: &[Instructor] = &[
    Instructor {
        first: "Ava",
        last: "Reyes",
        username: "ava_rides",
        disciplines: &["cycling", "strength", "bike_bootcamp"],
        quote: "Show up for yourself.",
    },
    Instructor {
        first: "Marcus",
        last: "Bell",
        username: "marcusbell",
        disciplines: &["cycling", "running", "circuit"],
        quote: "Earn it today.",
    },
    Instructor {
        first: "Lena",
        last: "Fischer",
        username: "lena_flows",
        disciplines: &["yoga", "meditation", "stretching"],
        quote: "Breathe into the hard parts.",
    },
    Instructor {
        first: "Jordan",
        last: "Okafor",
        username: "jordan_runs",
        disciplines: &["running", "walking", "circuit", "strength"],
        quote: "One more step.",
    },
    Instructor {
        first: "Priya",
        last: "Natarajan",
        username: "priya_n",
        disciplines: &["yoga", "meditation", "stretching"],
        quote: "Be where your feet are.",
    },
    Instructor {
        first: "Diego",
        last: "Alvarez",
        username: "diego_power",
        disciplines: &["cycling", "strength", "cardio"],
        quote: "Strong is a choice.",
    },
    Instructor {
        first: "Hannah",
        last: "Kim",
        username: "hannahkim",
        disciplines: &["cycling", "stretching", "bike_bootcamp"],
        quote: "Celebrate every ride.",
    },
    Instructor {
        first: "Sam",
        last: "Whitaker",
        username: "sam_rows",
        disciplines: &["caesar", "caesar_bootcamp", "strength"],
        quote: "Legs, core, arms.",
    },
    Instructor {
        first: "Nina",
        last: "Costa",
        username: "nina_costa",
        disciplines: &["cardio", "strength", "stretching"],
        quote: "Joy is a workout too.",
    },
    Instructor {
        first: "Theo",
        last: "Brandt",
        username: "theo_b",
        disciplines: &["cycling", "cardio"],
        quote: "Find your edge.",
    },
    Instructor {
        first: "Maya",
        last: "Thompson",
        username: "maya_t",
        disciplines: &["running", "walking", "stretching"],
        quote: "Miles are made of minutes.",
    },
    Instructor {
        first: "Owen",
        last: "Gallagher",
        username: "owen_g",
        disciplines: &["caesar", "cycling"],
        quote: "Drive with the legs.",
    },
    Instructor {
        first: "Isla",
        last: "Morgan",
        username: "isla_m",
        disciplines: &["meditation", "yoga"],
        quote: "Stillness is strength.",
    },
    Instructor {
        first: "Rafael",
        last: "Santos",
        username: "rafa_santos",
        disciplines: &["strength", "circuit", "running"],
        quote: "Lift heavy, rest well.",
    },
    Instructor {
        first: "Chloe",
        last: "Dubois",
        username: "chloe_d",
        disciplines: &["walking", "yoga", "cycling"],
        quote: "Go at your pace.",
    },
    Instructor {
        first: "Kai",
        last: "Nakamura",
        username: "kai_n",
        disciplines: &["cycling", "strength"],
        quote: "Commit to the climb.",
    },
];

/// An instructor who teaches `slug` (any instructor for unknown slugs), chosen by `pick`.
pub(crate) fn instructor_for(slug: &str, pick: u64) -> Option<&'static Instructor> {
    let teaching: Vec<&Instructor> = INSTRUCTORS
        .iter()
        .filter(|i| i.disciplines.contains(&slug))
        .collect();
    let pool: Vec<&Instructor> = if teaching.is_empty() {
        INSTRUCTORS.iter().collect()
    } else {
        teaching
    };
    if pool.is_empty() {
        return None;
    }
    pool.get((pick % pool.len() as u64) as usize).copied()
}

pub(crate) fn instructor_by_id(id: &str) -> Option<&'static Instructor> {
    INSTRUCTORS.iter().find(|i| i.id() == id)
}

/// Name and description of an achievement template, derived from its slug so that templates
/// for unknown disciplines (`first_boxing`) exist too.
pub(crate) fn achievement_meta(slug: &str) -> (String, String) {
    match slug {
        "best_output" => (
            "Best Output".into(),
            "Personal best output in a workout.".into(),
        ),
        "two_to_tango" => (
            "Dynamic Duo".into(),
            "Awarded for working out with a friend.".into(),
        ),
        "threes_company" => (
            "Three's Company".into(),
            "Awarded for working out with 2 friends.".into(),
        ),
        "3_squad" => (
            "Pack".into(),
            "Awarded for working out with 3 friends.".into(),
        ),
        "socialite" => (
            "Squad".into(),
            "Awarded for working out with 5 friends.".into(),
        ),
        _ => {
            if let Some(d) = slug.strip_prefix("first_") {
                let name = display_name(d);
                (
                    format!("First {name}"),
                    format!(
                        "Awarded for completing your first {name} workout. This is just the start."
                    ),
                )
            } else if let Some(n) = slug.strip_prefix("milestone_") {
                (
                    format!("{n} Workouts"),
                    format!("Awarded for completing {n} workouts."),
                )
            } else if let Some((n, unit)) = slug
                .strip_prefix("streak_")
                .and_then(|rest| rest.split_once('_'))
            {
                let period = title_case(unit.trim_end_matches('s'));
                (
                    format!("{n} {period} Streak"),
                    format!("Awarded for working out {n} {unit} in a row."),
                )
            } else if let Some((year, tier)) = slug
                .strip_prefix("the_annual_")
                .and_then(|rest| rest.trim_end_matches("_minutes").split_once('_'))
            {
                let minutes = thousands(tier.parse().unwrap_or(0));
                (
                    format!("The Annual {year}: {minutes} Minutes"),
                    format!("Awarded for {minutes} minutes of workouts in The Annual {year}."),
                )
            } else {
                let name = title_case(slug);
                (name.clone(), format!("Awarded for {name}."))
            }
        }
    }
}

/// `1234` → `"1,234"`, as Peloton shows minutes.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Categories of `/api/user/{id}/achievements`, in the order they are listed. Only
/// `special_events` and `workout_milestones` were seen in real answers; the rest are the
/// fake's choice.
pub(crate) const ACHIEVEMENT_CATEGORIES: &[(&str, &str)] = &[
    ("workout_milestones", "Workout Milestones"),
    ("personal_records", "Personal Records"),
    ("streaks", "Streaks"),
    ("challenges", "Challenges"),
    ("social", "Social"),
    ("special_events", "Special Events"),
];

/// The category slug of an achievement template; anything unknown is a special event.
pub(crate) fn achievement_category(slug: &str) -> &'static str {
    if slug.starts_with("first_") || slug.starts_with("milestone_") {
        "workout_milestones"
    } else if slug == "best_output" {
        "personal_records"
    } else if slug.starts_with("streak_") {
        "streaks"
    } else if slug.starts_with("the_annual_") {
        "challenges"
    } else if matches!(
        slug,
        "two_to_tango" | "threes_company" | "3_squad" | "socialite"
    ) {
        "social"
    } else {
        "special_events"
    }
}

pub(crate) fn achievement_id(slug: &str) -> String {
    hex32_from(fnv1a(slug) ^ 0xac41_e7e0_0000_0000)
}

pub(crate) fn achievement_image(slug: &str) -> String {
    format!(
        "https://s3.amazonaws.com/peloton-achievement-images-prod/{}",
        hex32_from(fnv1a(slug))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_discipline_has_an_instructor() {
        for d in DISCIPLINES {
            assert!(
                INSTRUCTORS.iter().any(|i| i.disciplines.contains(&d.slug)),
                "{}",
                d.slug
            );
            assert!(!d.lengths_min.is_empty());
        }
        assert_eq!(title_case("bike_bootcamp"), "Bike Bootcamp");
        assert_eq!(display_name("boxing"), "Boxing");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(achievement_meta("streak_7_days").0, "7 Day Streak");
        assert_eq!(achievement_meta("streak_12_weeks").0, "12 Week Streak");
        assert_eq!(
            achievement_meta("the_annual_2026_1000_minutes").0,
            "The Annual 2026: 1,000 Minutes"
        );
        assert_eq!(achievement_category("new_year_2026"), "special_events");
    }
}
