//! deploy/prometheus/: the example scrape config, the recording and alerting rules, and
//! their promtool unit tests; and the rules evaluated by a real Prometheus that scrapes
//! the demo exporter.

use crate::support;

use std::path::Path;

const CONFIG: &str = "deploy/prometheus/prometheus.yml";
const RULES: &str = "deploy/prometheus/rules";
const TESTS: &str = "deploy/prometheus/tests";

/// A copy of deploy/prometheus/ (config, rules, tests) in `dir`, with `edit` applied to
/// the rule file `rule_file`'s text.
fn broken_copy(dir: &Path, rule_file: &str, edit: impl Fn(&str) -> String) {
    for sub in ["rules", "tests"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::copy(support::repo().join(CONFIG), dir.join("prometheus.yml")).unwrap();
    for file in support::files(RULES, ".yml")
        .into_iter()
        .chain(support::files(TESTS, ".yml"))
    {
        let rel = file.trim_start_matches("deploy/prometheus/");
        let text = std::fs::read_to_string(support::repo().join(&file)).unwrap();
        let text = if rel == format!("rules/{rule_file}") {
            let edited = edit(&text);
            assert_ne!(edited, text, "the edit of {rule_file} changed nothing");
            edited
        } else {
            text
        };
        std::fs::write(dir.join(rel), text).unwrap();
    }
}

fn promtool(promtool: &Path, args: &[&str]) -> std::process::Output {
    support::run(promtool, args)
}

#[test]
fn promtool_accepts_the_config_and_the_rules() {
    let Some(promtool_bin) = support::tool("promtool") else {
        return;
    };
    // `check config` also loads the rule files the config names.
    let out = promtool(&promtool_bin, &["check", "config", CONFIG]);
    assert!(
        out.status.success(),
        "promtool check config:\n{}",
        support::text(&out)
    );
    assert!(
        support::text(&out).contains("2 rule files found"),
        "{}",
        support::text(&out)
    );
    let rules = support::files(RULES, ".yml");
    let mut args = vec!["check", "rules"];
    args.extend(rules.iter().map(String::as_str));
    let out = promtool(&promtool_bin, &args);
    assert!(
        out.status.success(),
        "promtool check rules:\n{}",
        support::text(&out)
    );

    // The checks are real: a bad duration and a broken expression are rejected.
    let dir = tempfile::tempdir().unwrap();
    broken_copy(dir.path(), "alerts.yml", |t| {
        t.replacen("for: 1h", "for: an hour", 1)
    });
    let config = dir.path().join("prometheus.yml").display().to_string();
    let out = promtool(&promtool_bin, &["check", "config", &config]);
    assert!(
        !out.status.success(),
        "promtool accepted `for: an hour`:\n{}",
        support::text(&out)
    );
    broken_copy(dir.path(), "recording.yml", |t| {
        t.replacen(
            "(increase(peloton_workouts_total[1d]))",
            "(increase(peloton_workouts_total[1d])",
            1,
        )
    });
    let broken = dir.path().join("rules/recording.yml").display().to_string();
    let out = promtool(&promtool_bin, &["check", "rules", &broken]);
    assert!(
        !out.status.success(),
        "promtool accepted an unclosed parenthesis:\n{}",
        support::text(&out)
    );
}

fn test_rules(promtool_bin: &Path, dir: &Path) -> std::process::Output {
    let mut args = vec!["test".to_owned(), "rules".to_owned()];
    args.extend(support::files(TESTS, ".yml").iter().map(|f| {
        dir.join(f.trim_start_matches("deploy/prometheus/"))
            .display()
            .to_string()
    }));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    promtool(promtool_bin, &args)
}

#[test]
fn promtool_unit_tests_pass() {
    let Some(promtool_bin) = support::tool("promtool") else {
        return;
    };
    let out = test_rules(&promtool_bin, &support::repo().join("deploy/prometheus"));
    assert!(
        out.status.success(),
        "promtool test rules:\n{}",
        support::text(&out)
    );
    eprint!("{}", support::text(&out));

    // The unit tests are real: each of these changes to the rules fails them.
    let breakages: [(&str, &str, &str, &str); 6] = [
        (
            "alerts.yml",
            "12 * 3600",
            "6 * 3600",
            "token alert fires at 6 h instead of 12 h",
        ),
        (
            "alerts.yml",
            "for: 1h",
            "for: 30m",
            "polls alert after 30 min",
        ),
        (
            "alerts.yml",
            "(day_of_week() + 6) % 7",
            "day_of_week()",
            "weeks starting on Sunday",
        ),
        (
            "alerts.yml",
            "day_of_week() == 6 or ",
            "",
            "streak alert on Sunday only",
        ),
        (
            "alerts.yml",
            "up{job=\"peloton-exporter\"} == 0 or ",
            "",
            "exporter-down alert on absence only",
        ),
        (
            "recording.yml",
            "by (job, account, discipline)",
            "by (job, discipline)",
            "accounts added up",
        ),
    ];
    for (file, from, to, what) in breakages {
        let dir = tempfile::tempdir().unwrap();
        broken_copy(dir.path(), file, |t| t.replacen(from, to, 1));
        let out = test_rules(&promtool_bin, dir.path());
        assert!(
            !out.status.success(),
            "promtool test rules passed with {what}"
        );
    }
}

const RULE_COVERAGE: &str = r#"
import pathlib, sys, yaml
rules_dir, tests_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
alerts, records = set(), set()
for f in sorted(rules_dir.glob("*.yml")):
    for g in yaml.safe_load(f.read_text())["groups"]:
        for r in g["rules"]:
            (alerts if "alert" in r else records).add(r.get("alert") or r.get("record"))
firing, queried = set(), ""
for f in sorted(tests_dir.glob("*.yml")):
    for t in yaml.safe_load(f.read_text())["tests"]:
        for a in t.get("alert_rule_test", []):
            if a.get("exp_alerts"):
                firing.add(a["alertname"])
        for e in t.get("promql_expr_test", []):
            queried += e["expr"] + "\n"
missing = sorted(alerts - firing) + sorted(r for r in records if r not in queried)
if missing:
    print("rules without a unit test that makes them fire / reads them: " + ", ".join(missing))
    sys.exit(1)
print(f"{len(alerts)} alerts and {len(records)} recording rules tested")
"#;

#[test]
fn every_rule_has_a_unit_test() {
    let Some(python) = support::python_with(&["yaml"]) else {
        return;
    };
    let out = support::run(&python, &["-c", RULE_COVERAGE, RULES, TESTS]);
    assert!(out.status.success(), "{}", support::text(&out));

    // The coverage check is real: an alert no test expects to fire is reported.
    let dir = tempfile::tempdir().unwrap();
    broken_copy(dir.path(), "alerts.yml", |t| {
        t.replacen(
            "alert: PelotonPollsFailing",
            "alert: PelotonPollsFailingForLong",
            1,
        )
    });
    let rules = dir.path().join("rules").display().to_string();
    let tests = dir.path().join("tests").display().to_string();
    let out = support::run(&python, &["-c", RULE_COVERAGE, &rules, &tests]);
    assert!(
        !out.status.success(),
        "an untested alert went unnoticed: {}",
        support::text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_evaluate_on_a_real_prometheus_scraping_the_demo() {
    let Some(python) = support::python_with(&["promql_parser", "yaml"]) else {
        return;
    };
    let Some(prometheus) = support::tool("prometheus") else {
        return;
    };
    let rule_files = support::files(RULES, ".yml");
    let dir = tempfile::tempdir().unwrap();
    let (mut exporter, target) = support::start_demo_exporter(dir.path()).await;
    let paths: Vec<_> = rule_files.iter().map(|f| support::repo().join(f)).collect();
    let (mut prom, api) = support::start_prometheus(&prometheus, dir.path(), &target, &paths).await;
    api.wait_for_history(5).await;

    let mut args = vec!["rules"];
    args.extend(rule_files.iter().map(String::as_str));
    let rules = support::list_queries(&python, &args);
    assert!(rules.len() >= 10, "{rules:?}");

    let mut failures = Vec::new();
    // Every rule evaluates without error on the exporter's real series.
    for (name, health, error) in api.rules().await.unwrap() {
        if health != "ok" {
            failures.push(format!("{name}: {health} {error}"));
        }
    }
    for rule in &rules {
        if let Some(e) = &rule.error {
            failures.push(format!("{}: {e}", rule.source));
        }
        // Every metric a rule reads is exported (`up` is Prometheus's own)...
        for m in rule.metrics.iter().filter(|m| *m != "up") {
            if !api.metric_exists(m).await.unwrap() {
                failures.push(format!(
                    "{}: no series of {m}: the exporter does not export it",
                    rule.source
                ));
            }
        }
        // ... and every recording rule produces series.
        if let Some(record) = &rule.record
            && !api.metric_exists(record).await.unwrap()
        {
            failures.push(format!("{}: records nothing", rule.source));
        }
    }
    exporter.assert_running();
    prom.assert_running();
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The check is real: a metric the exporter does not have is noticed.
    assert!(!api.metric_exists("peloton_weekly_streaks").await.unwrap());
    assert!(api.metric_exists("peloton_weekly_streak").await.unwrap());
}
