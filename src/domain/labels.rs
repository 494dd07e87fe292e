//! Bounds on label values that come from Peloton. Every such value becomes part of a
//! series' identity, so an answer with a million distinct strings, or one string of a
//! megabyte, must not become a million series or a megabyte per scrape. Values are cut to a
//! length and their kinds to a count; what is over the count goes to `other`, so sums stay
//! right.

use std::collections::BTreeMap;

/// Longest label value taken from Peloton, in characters.
pub const MAX_CHARS: usize = 128;
/// Longest discipline slug. Peloton's are short (`caesar_bootcamp`).
pub const MAX_SLUG_CHARS: usize = 48;
/// Most distinct disciplines. Peloton has about twenty.
pub const MAX_DISCIPLINES: usize = 64;
/// Most distinct (instructor, discipline) pairs: Peloton has a few hundred instructors'
/// worth of classes in all.
pub const MAX_INSTRUCTOR_PAIRS: usize = 2_000;
/// Most distinct personal-record rows (discipline × class length).
pub const MAX_PERSONAL_RECORDS: usize = 256;
/// Where values over a count go.
pub const OTHER: &str = "other";

/// `s` without control characters, surrounding space, or anything past `MAX_CHARS`.
pub fn text(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect()
}

/// A discipline slug as Peloton writes them (`cycling`, `caesar_bootcamp`): lower-case
/// letters, digits, `_` and `-`; `None` for anything else.
pub fn slug(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_SLUG_CHARS
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    ok.then(|| s.to_owned())
}

/// The key under which `key` is counted in `map`: itself while the map has room for a new
/// key (or already has it), else `OTHER`.
pub fn admit<K: Ord + Clone, V>(map: &BTreeMap<K, V>, key: K, max: usize, other: K) -> K {
    if map.contains_key(&key) || map.len() < max.saturating_sub(1) {
        key
    } else {
        other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_and_cleaned() {
        assert_eq!(text("  Jess King \n"), "Jess King");
        assert_eq!(text("a\u{0}b\tc"), "a b c");
        let long = "é".repeat(10_000);
        assert_eq!(text(&long).chars().count(), MAX_CHARS);
    }

    #[test]
    fn slugs_are_peloton_shaped() {
        assert_eq!(slug("caesar_bootcamp").as_deref(), Some("caesar_bootcamp"));
        assert_eq!(
            slug("a-discipline-from-2030").as_deref(),
            Some("a-discipline-from-2030")
        );
        assert_eq!(slug("Cycling"), None);
        assert_eq!(slug("<script>"), None);
        assert_eq!(slug(&"x".repeat(MAX_SLUG_CHARS + 1)), None);
        assert_eq!(slug(""), None);
    }

    #[test]
    fn admit_keeps_known_keys_and_sends_new_ones_to_other_when_full() {
        let mut map = BTreeMap::new();
        for i in 0..10 {
            let k = admit(&map, i.to_string(), 4, OTHER.to_owned());
            *map.entry(k).or_insert(0) += 1;
        }
        assert_eq!(map.len(), 4, "{map:?}");
        assert_eq!(map[OTHER], 7);
        assert_eq!(admit(&map, "0".to_owned(), 4, OTHER.to_owned()), "0");
    }
}
