//! Imports run one way. Reads every `crate::`, `super::`, `self::` and child-module path in
//! `src/` (test code excluded: fixtures may be built through any layer), resolves each to
//! the file that defines it, and fails on
//! - an import against the allowed order of folders (docs/architecture.md), naming the file
//!   and line, and
//! - an import cycle between files, naming the files.
//!
//! The checker itself is tested on planted violations below, so this test can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// Each layer and the layers it may import directly; anything reachable from those is
/// allowed too (a command may use the store that the poller below it uses). The leaves
/// (`clock`, `secret`, `logging`) may be imported by all and import nothing.
const ALLOWED: &[(&str, &[&str])] = &[
    ("main", &["cmd"]),
    ("cmd", &["run"]),
    ("run", &["poll", "http", "settings"]),
    ("settings", &["peloton", "metrics"]),
    ("poll", &["peloton", "store", "history", "state", "domain"]),
    ("history", &["exposition", "store"]),
    ("http", &["exposition"]),
    ("exposition", &["metrics"]),
    ("metrics", &["state", "domain"]),
    ("peloton", &["state", "domain"]),
    ("store", &["domain"]),
    ("state", &["domain"]),
    ("domain", &[]),
];
const LEAVES: &[&str] = &["clock", "secret", "logging", "process_stats"];
/// Peloton's response shapes and their conversion: only `peloton/` itself sees them; every
/// other layer gets domain values.
const API_SHAPES: &[&str] = &[
    "peloton/model.rs",
    "peloton/convert.rs",
    "peloton/convert/",
    "peloton/lenient.rs",
];
/// Layers that a scrape runs through: they never reach Peloton, the poller or the store.
const SCRAPE_SIDE: &[&str] = &["http", "exposition", "metrics", "state", "domain"];
const NEVER_FROM_SCRAPE_SIDE: &[&str] = &["peloton", "poll", "store"];

#[test]
fn src_imports_run_one_way_and_have_no_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&root);
    assert!(files.len() > 40, "read only {} files", files.len());
    let report = check(&files);
    assert!(
        report.violations.is_empty() && report.cycles.is_empty(),
        "{}",
        report.describe()
    );
    // The scrape side never imports Peloton, the poller or the store, even transitively.
    let reach = reachable();
    for side in SCRAPE_SIDE {
        for never in NEVER_FROM_SCRAPE_SIDE {
            assert!(
                !reach[side].contains(never),
                "the allowed order lets {side} reach {never}"
            );
        }
    }
}

#[test]
fn the_fake_peloton_crate_has_no_import_cycles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/peloton-fake/src");
    let files = read_tree(&root);
    assert!(files.len() > 10, "read only {} files", files.len());
    let report = check_with(&files, false);
    assert!(report.cycles.is_empty(), "{}", report.describe());
}

#[test]
fn a_planted_import_against_the_order_is_named_with_file_and_line() {
    let files = planted(&[
        ("metrics/mod.rs", "pub mod family;\n"),
        (
            "metrics/family.rs",
            "//! x\n\nuse crate::peloton::client::send;\n",
        ),
        ("peloton/mod.rs", "pub mod client;\n"),
        ("peloton/client.rs", "use crate::state::labels::Endpoint;\n"),
        ("state/mod.rs", "pub mod labels;\n"),
        ("state/labels.rs", "pub enum Endpoint {}\n"),
    ]);
    let report = check(&files);
    assert_eq!(report.violations.len(), 1, "{}", report.describe());
    let text = report.describe();
    assert!(
        text.contains("metrics/family.rs:3") && text.contains("metrics may not import peloton"),
        "{text}"
    );
}

#[test]
fn api_shapes_stay_at_the_edge_and_the_edge_never_reaches_the_store() {
    let files = planted(&[
        ("poll/mod.rs", "pub mod poller;\n"),
        (
            "poll/poller.rs",
            "use crate::peloton::model::WorkoutPage;\nuse crate::peloton::convert::list_page;\nuse crate::peloton::client::PelotonClient;\n",
        ),
        (
            "peloton/mod.rs",
            "pub mod client;\npub mod convert;\npub mod model;\npub mod auth;\n",
        ),
        (
            "peloton/client.rs",
            "use super::model::WorkoutPage;\npub struct PelotonClient;\n",
        ),
        (
            "peloton/convert.rs",
            "use super::model::WorkoutPage;\npub fn list_page() {}\n",
        ),
        ("peloton/model.rs", "pub struct WorkoutPage;\n"),
        (
            "peloton/auth.rs",
            "use crate::store::token_store::TokenStore;\n",
        ),
        ("store/mod.rs", "pub mod token_store;\n"),
        ("store/token_store.rs", "pub struct TokenStore;\n"),
    ]);
    let text = check(&files).describe();
    assert!(
        text.contains("poll/poller.rs:1: poll may not see Peloton's response shapes (crate::peloton::model::WorkoutPage)"),
        "{text}"
    );
    assert!(
        text.contains("poll/poller.rs:2: poll may not see"),
        "{text}"
    );
    assert!(
        !text.contains("poll/poller.rs:3"),
        "the client is the edge's door: {text}"
    );
    assert!(!text.contains("peloton/client.rs"), "{text}");
    assert!(
        text.contains("peloton/auth.rs:1: peloton may not import store"),
        "{text}"
    );
}

#[test]
fn a_planted_cycle_is_named_even_inside_one_folder_and_through_groups() {
    let files = planted(&[
        ("store/mod.rs", "pub mod a;\npub mod b;\n"),
        ("store/a.rs", "use super::{b::B, c};\npub struct A;\n"),
        (
            "store/b.rs",
            "use crate::store::{\n    a::A,\n};\npub struct B;\n",
        ),
    ]);
    let report = check(&files);
    assert!(report.violations.is_empty(), "{}", report.describe());
    assert_eq!(report.cycles.len(), 1, "{}", report.describe());
    assert_eq!(
        report.cycles[0],
        vec!["store/a.rs".to_owned(), "store/b.rs".to_owned()]
    );
}

#[test]
fn test_code_comments_and_strings_are_not_imports() {
    let files = planted(&[
        ("domain/mod.rs", "pub mod units;\n"),
        (
            "domain/units.rs",
            "// crate::peloton::x\nconst S: &str = \"crate::poll::y\";\n#[cfg(test)]\nmod tests {\n    use crate::peloton::model::Workout;\n}\npub fn f() {}\n",
        ),
        ("domain/tests.rs", "use crate::peloton::model::Me;\n"),
        ("peloton/mod.rs", "pub mod model;\n"),
        ("peloton/model.rs", "pub struct Me;\n"),
    ]);
    let report = check(&files);
    assert!(report.violations.is_empty(), "{}", report.describe());
    // Code after a test module still counts.
    let files = planted(&[
        ("domain/mod.rs", "pub mod units;\n"),
        (
            "domain/units.rs",
            "#[cfg(test)]\nmod tests {\n    fn f() { let _ = \"}\"; }\n}\nuse crate::poll::Poller;\n",
        ),
        ("poll/mod.rs", "pub struct Poller;\n"),
    ]);
    let report = check(&files);
    assert_eq!(report.violations.len(), 1, "{}", report.describe());
    assert!(report.describe().contains("domain/units.rs:5"));
}

// ---------------------------------------------------------------------------------------

/// Path relative to `src/` → source text.
type Tree = BTreeMap<String, String>;

fn read_tree(root: &Path) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap();
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

fn planted(files: &[(&str, &str)]) -> Tree {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect()
}

#[derive(Debug, Default)]
struct Report {
    violations: Vec<String>,
    cycles: Vec<Vec<String>>,
}

impl Report {
    fn describe(&self) -> String {
        let mut s = String::new();
        for v in &self.violations {
            let _ = writeln!(s, "import against the order: {v}");
        }
        for c in &self.cycles {
            let _ = writeln!(s, "import cycle between files: {}", c.join(" -> "));
        }
        if s.is_empty() {
            s.push_str("clean");
        }
        s
    }
}

fn check(files: &Tree) -> Report {
    check_with(files, true)
}

/// `layered`: whether the folders are the exporter's layers (the fake crate has none).
fn check_with(files: &Tree, layered: bool) -> Report {
    let reach = reachable();
    let mut report = Report::default();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in files {
        if is_test_file(file) || file == "lib.rs" {
            continue;
        }
        let code = code_only(text);
        let me = module_of(file);
        let children = declared_modules(&code);
        for (line, path) in paths(&code, &children) {
            let Some(absolute) = absolute(&me, file, &path) else {
                continue;
            };
            let Some(target) = file_of(files, &absolute) else {
                continue;
            };
            if target == *file || is_test_file(&target) {
                continue;
            }
            let (from, to) = (layer(file), layer(&target));
            if layered && from != to && !LEAVES.contains(&to.as_str()) {
                let allowed = reach
                    .get(from.as_str())
                    .is_some_and(|r| r.contains(to.as_str()));
                if !allowed {
                    report.violations.push(format!(
                        "{file}:{line}: {from} may not import {to} ({})",
                        path.join("::")
                    ));
                }
            }
            if layered && from != "peloton" && is_api_shape(&target) {
                report.violations.push(format!(
                    "{file}:{line}: {from} may not see Peloton's response shapes ({}); convert in peloton/convert.rs",
                    path.join("::")
                ));
            }
            edges.entry(file.clone()).or_default().insert(target);
        }
    }
    report.violations.sort();
    report.violations.dedup();
    report.cycles = cycles(&edges);
    report
}

/// Every layer's transitive closure of `ALLOWED`.
fn reachable() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let direct: BTreeMap<_, _> = ALLOWED.iter().copied().collect();
    let mut out = BTreeMap::new();
    for (layer, _) in ALLOWED {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&str> = direct[layer].to_vec();
        while let Some(l) = todo.pop() {
            if seen.insert(l) {
                todo.extend(direct[l].iter().copied());
            }
        }
        out.insert(*layer, seen);
    }
    out
}

fn is_api_shape(file: &str) -> bool {
    API_SHAPES
        .iter()
        .any(|shape| file == *shape || (shape.ends_with('/') && file.starts_with(shape)))
}

fn is_test_file(file: &str) -> bool {
    file.ends_with("/tests.rs") || file == "tests.rs"
}

/// The top-level module a file belongs to (`main` for main.rs).
fn layer(file: &str) -> String {
    let first = file.split('/').next().unwrap_or(file);
    first.trim_end_matches(".rs").to_owned()
}

/// The module path of a file: `store/database.rs` → [store, database].
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Makes a path absolute from the crate root, or `None` when it leaves the crate.
fn absolute(me: &[String], file: &str, path: &[String]) -> Option<Vec<String>> {
    let mut segments = path.iter().peekable();
    let mut base: Vec<String>;
    match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segments.next();
            base = Vec::new();
        }
        Some("self") => {
            segments.next();
            base = me.to_vec();
        }
        Some("super") => {
            base = me.to_vec();
            while segments.peek().map(|s| s.as_str()) == Some("super") {
                segments.next();
                base.pop()?;
            }
            let _ = file;
        }
        _ => {
            // A child module named by the file itself (`pub use child::X` in mod.rs).
            base = me.to_vec();
        }
    }
    base.extend(segments.cloned());
    Some(base)
}

/// The file that defines the longest prefix of `path` that is a module with a file.
fn file_of(files: &Tree, path: &[String]) -> Option<String> {
    for n in (1..=path.len()).rev() {
        let stem = path[..n].join("/");
        for candidate in [format!("{stem}.rs"), format!("{stem}/mod.rs")] {
            if files.contains_key(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// Module names declared in this file with `mod x;` or `mod x {`.
fn declared_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    for pair in words.windows(2) {
        if pair[0] == "mod" && !pair[1].is_empty() {
            out.insert(pair[1].to_owned());
        }
    }
    out
}

/// The text with comments, string and char literals blanked (newlines kept) and
/// `#[cfg(test)]` items removed.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // Raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some('\n') => out.push('\n'),
                    _ => {}
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && is_char_literal(&chars, i) {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    remove_test_items(&out)
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// `'a'`, `'\n'`, `'\u{1F600}'` are char literals; `'a` (a lifetime) is not.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// Drops each `#[cfg(test)]` item: up to its `;` or its balanced `{ … }`.
fn remove_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, ch) in item.char_indices().skip(MARK.len()) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        // Keep line numbers true for what follows.
        out.extend(item[..end].chars().filter(|c| *c == '\n'));
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Every module path in the code with its line: `crate::`, `self::`, `super::` paths
/// anywhere, and `use child::…` of a module this file declares. Groups are expanded.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<(usize, Vec<String>)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if ident_before(&chars, i) || !(chars[i].is_alphabetic() || chars[i] == '_') {
            i += 1;
            continue;
        }
        let (word, after) = ident(&chars, i);
        let starts_path = matches!(word.as_str(), "crate" | "self" | "super")
            || (children.contains(&word) && after_use(&chars, i));
        if starts_path && at(&chars, after, "::") {
            let line = chars[..i].iter().filter(|c| **c == '\n').count() + 1;
            let mut found = Vec::new();
            let end = parse_tree(&chars, i, Vec::new(), &mut found);
            out.extend(found.into_iter().map(|p| (line, p)));
            i = end.max(after);
        } else {
            i = after.max(i + 1);
        }
    }
    out
}

/// Whether the word at `i` directly follows `use` (after `pub`, `pub(crate)` and so on).
fn after_use(chars: &[char], i: usize) -> bool {
    let before: String = chars[..i].iter().collect();
    let trimmed = before.trim_end();
    trimmed.ends_with("use") && !trimmed.ends_with("_use")
}

fn ident(chars: &[char], mut i: usize) -> (String, usize) {
    let start = i;
    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    (chars[start..i].iter().collect(), i)
}

fn at(chars: &[char], i: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Parses `a::b::{c, d::e}` from `i`, pushing each full path; returns where it ended.
fn parse_tree(
    chars: &[char],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    loop {
        i = skip_space(chars, i);
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                i = skip_space(chars, i);
                match chars.get(i) {
                    None => return i,
                    Some('}') => return i + 1,
                    Some(',') => i += 1,
                    Some(_) => {
                        let before = i;
                        i = parse_tree(chars, i, path.clone(), out);
                        // Skip `as name` and anything else up to the next separator.
                        while i < chars.len() && !matches!(chars[i], ',' | '}') {
                            i += 1;
                        }
                        if i == before {
                            i += 1;
                        }
                    }
                }
            }
        }
        if chars.get(i) == Some(&'*') {
            out.push(path);
            return i + 1;
        }
        let (word, after) = ident(chars, i);
        if word.is_empty() {
            if !path.is_empty() {
                out.push(path);
            }
            return i;
        }
        path.push(word);
        i = skip_space(chars, after);
        if at(chars, i, "::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Strongly connected components of more than one file (Tarjan), each sorted.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &str) {
            self.index.insert(v.to_owned(), self.next);
            self.low.insert(v.to_owned(), self.next);
            self.next += 1;
            self.stack.push(v.to_owned());
            self.on_stack.insert(v.to_owned());
            let targets: Vec<String> = self
                .edges
                .get(v)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default();
            for w in targets {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let low = self.low[v].min(self.low[&w]);
                    self.low.insert(v.to_owned(), low);
                } else if self.on_stack.contains(&w) {
                    let low = self.low[v].min(self.index[&w]);
                    self.low.insert(v.to_owned(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.out.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: Vec<String> = edges.keys().cloned().collect();
    for v in nodes {
        if !t.index.contains_key(&v) {
            t.visit(&v);
        }
    }
    t.out.sort();
    t.out
}
