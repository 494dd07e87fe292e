//! One scrape job name everywhere a user copies it from: the README's scrape config and
//! backfill labels, the docs, compose, the Kubernetes ServiceMonitor, the example
//! Prometheus config, the alert and recording rules, the dashboards' default. With two
//! names, `PelotonExporterDown` fires forever for whoever follows the other one.

use std::path::{Path, PathBuf};

use crate::support::ROOT;

const JOB: &str = "peloton-exporter";

/// Every job name a text sets or selects: `job_name: X`, `job="X"`, `job: X`, `job=X`
/// (a `--label`); not `job=~"$job"` (a variable) nor `job, instance` (a grouping).
fn job_names(text: &str) -> Vec<String> {
    let name_at = |rest: &str| -> String {
        rest.trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in text.match_indices("job") {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[i + 3..];
        let value = if let Some(r) = rest.strip_prefix("_name:") {
            r.trim_start()
        } else if let Some(r) = rest.strip_prefix(": ") {
            r
        } else if let Some(r) = rest.strip_prefix('=') {
            if r.starts_with('~') || r.starts_with("…") {
                continue;
            }
            r
        } else {
            continue;
        };
        let name = name_at(value);
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, exts, out);
        } else if path
            .extension()
            .is_some_and(|e| exts.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
}

#[test]
fn the_finder_finds_what_it_must() {
    assert_eq!(
        job_names(
            "  - job_name: peloton\nup{job=\"x\"} --label job=y job: z job=~\"$job\" by (job, instance)"
        ),
        ["peloton", "x", "y", "z"]
    );
}

#[test]
fn every_place_names_the_same_scrape_job() {
    let root = Path::new(ROOT);
    let mut paths = vec![root.join("README.md"), root.join("src/settings/flags.rs")];
    files(&root.join("docs"), &["md"], &mut paths);
    files(&root.join("deploy"), &["yml", "yaml", "md"], &mut paths);
    // promtool's rule tests feed series of other jobs on purpose.
    paths.retain(|p| !p.components().any(|c| c.as_os_str() == "tests"));
    let mut seen = 0;
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        for name in job_names(&text) {
            seen += 1;
            assert_eq!(name, JOB, "{} names the job {name:?}", path.display());
        }
    }
    // The README's scrape config, the two Prometheus configs and the down alert at least.
    assert!(seen >= 4, "only {seen} job names found");
    for must in [
        "README.md",
        "deploy/prometheus/prometheus.yml",
        "deploy/compose/prometheus.yml",
        "deploy/prometheus/rules/alerts.yml",
    ] {
        let text = std::fs::read_to_string(root.join(must)).unwrap();
        assert!(
            job_names(&text).iter().any(|n| n == JOB),
            "{must} names no job"
        );
    }

    // The ServiceMonitor takes the job from the Service's app.kubernetes.io/name label.
    let k8s = root.join("deploy/kubernetes");
    let monitor =
        std::fs::read_to_string(k8s.join("overlays/prometheus-operator/servicemonitor.yaml"))
            .unwrap();
    assert!(
        monitor.contains("jobLabel: app.kubernetes.io/name"),
        "{monitor}"
    );
    let service = std::fs::read_to_string(k8s.join("base/service.yaml")).unwrap();
    assert!(
        service.contains(&format!("app.kubernetes.io/name: {JOB}\n")),
        "{service}"
    );

    // Each dashboard's job variable defaults to it.
    let mut dashboards = Vec::new();
    files(&root.join("dashboards"), &["json"], &mut dashboards);
    assert!(!dashboards.is_empty());
    for path in dashboards {
        let d: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(vars) = d["templating"]["list"].as_array() else {
            continue;
        };
        for v in vars.iter().filter(|v| v["name"] == "job") {
            assert_eq!(v["current"]["value"], JOB, "{}", path.display());
        }
    }
}
