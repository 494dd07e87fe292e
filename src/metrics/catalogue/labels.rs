//! The label sets of the catalogue's families, one type per set. A field's name is its
//! label's name, so a family cannot be written with a label it does not declare, and every
//! label name the exporter writes is spelt once, here.

use crate::metrics::family::Labels;

/// Labels a family's series carry: their names, in order, and their values.
pub trait LabelSet {
    /// The label names, in the order they are written.
    const NAMES: &'static [&'static str];

    /// Appends the labels, in `NAMES` order.
    fn append_to(self, labels: &mut Labels);
}

/// Declares label-set structs: one `String` field per label, the field named as the label.
macro_rules! label_sets {
    ($($(#[$doc:meta])* $set:ident { $($label:ident),+ })*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $set {
            $(pub $label: String),+
        }

        impl LabelSet for $set {
            const NAMES: &'static [&'static str] = &[$(stringify!($label)),+];

            fn append_to(self, labels: &mut Labels) {
                $(labels.push((stringify!($label), self.$label));)+
            }
        }
    )*};
}

/// A family whose series carry no label of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoLabels;

impl LabelSet for NoLabels {
    const NAMES: &'static [&'static str] = &[];

    fn append_to(self, _: &mut Labels) {}
}

label_sets! {
    /// Which account a series is of; written first, and only when the exporter runs
    /// several.
    Account { account }
    /// `peloton_exporter_build_info`.
    Build { version, revision }
    /// Why a poll failed (`state::labels::PollError`).
    Reason { reason }
    /// A Peloton endpoint (`state::labels::Endpoint`).
    Endpoint { endpoint }
    /// A Peloton endpoint and the HTTP status it answered (`error`: none).
    EndpointCode { endpoint, code }
    /// How a token refresh or login ended.
    AuthResult { result }
    /// `peloton_user_info`.
    User { username, user_id }
    /// Where an FTP value comes from.
    Source { source }
    /// A fitness discipline as Peloton names it.
    Discipline { discipline }
    /// A calendar month, `YYYY-MM` in UTC.
    Month { month }
    /// A personal record's discipline and class length.
    ClassLength { discipline, duration_seconds }
    /// Workouts per instructor.
    InstructorDiscipline { instructor, discipline }
    /// A heart-rate or power zone, from 1.
    Zone { zone }
    /// `peloton_latest_workout_info`.
    WorkoutInfo { discipline, title, instructor, workout_type, device_type }
    /// `peloton_live_workout_info`.
    LiveInfo { discipline, title, instructor }
    /// `avg` or `max` of a workout's statistic.
    Stat { stat }
    /// A point of the power curve: its duration in seconds and its window.
    CurvePoint { duration, window }
    /// A duration in seconds of the latest workout's power curve.
    Duration { duration }
    /// How a training load was scored (`power_tss`, `hr_trimp`).
    Method { method }
    /// An achievement category's slug (`workout_milestones`, `streaks`, ...).
    Category { category }
    /// One of Peloton's muscle groups, or `other`.
    MuscleGroup { muscle_group }
    /// A class target's metric and whether the time was `in` or `out` of its range.
    TargetRange { metric, range }
    /// The distance of a split: `500m`, `1km` or `1mi`.
    SplitLength { distance }
    /// The annual challenge's title.
    Challenge { challenge }
    /// The annual challenge's title and one of its tiers.
    ChallengeTier { challenge, tier }
}

/// The label of a histogram's bucket bounds, which the exposition writers add.
pub const BUCKET_BOUND: &str = "le";

impl Account {
    /// The `account` label of a series, when there is an account name.
    pub fn labels(account: Option<&str>) -> Labels {
        let mut labels = Labels::new();
        if let Some(account) = account {
            Self {
                account: account.to_owned(),
            }
            .append_to(&mut labels);
        }
        labels
    }
}
