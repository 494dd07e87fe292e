//! The deployment files under `deploy/`: validated by the real tools, and run.
//!
//! * Kubernetes: every kustomization renders (`kubectl kustomize`) and passes
//!   `kubernetes-validate --strict`; the locked-down properties hold; the ServiceMonitor
//!   finds the Service; the PrometheusRule is generated from `deploy/prometheus/rules/` and
//!   passes `promtool check rules`; the sidecar is
//!   the base container; and the binary, started with the Deployment's exact args and
//!   volumes (secrets as files), turns the readiness probe's path 200 against the fake.
//! * Dockerfile: hadolint at error level, a static build on a distroless base, a numeric
//!   non-root user, no HEALTHCHECK, and a build context cargo can build from.
//! * Compose: `docker-compose config` accepts it; the exporter runs `--demo` exactly as the
//!   file says; the account variant runs against the fake; Prometheus' config and rules,
//!   mounted as compose mounts them, pass promtool and scrape the exporter's service and
//!   port; Grafana's provisioning finds Prometheus and the dashboards.
//! * systemd: `systemd-analyze verify` and `security` (where available); the binary runs
//!   with the unit's ExecStart and the example env file.
//!
//! A tool missing from PATH skips its test with a `SKIP:` line, but fails it when CI=true
//! (`.ci/install-deploy-tools.sh` installs them all); `systemd-analyze` may skip in CI.

use crate::support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use peloton_fake::{FakeOptions, FakePeloton};
use serde_json::Value;
use support::{BIN, ROOT, free_port, python_with, tool};

const BASE: &str = "deploy/kubernetes/base";
const PROMETHEUS_OPERATOR: &str = "deploy/kubernetes/overlays/prometheus-operator";
const SIDECAR: &str = "deploy/kubernetes/overlays/sidecar";
const SECRET_EXAMPLE: &str = "deploy/kubernetes/base/secret.example.yaml";
const PROMETHEUS_RULE: &str = "deploy/kubernetes/overlays/prometheus-operator/prometheusrule.yaml";
const RULE_GENERATOR: &str =
    "deploy/kubernetes/overlays/prometheus-operator/generate-prometheusrule.sh";
const RULE_FILES: &str = "deploy/prometheus/rules";
const DOCKERFILE: &str = "deploy/Dockerfile";
const COMPOSE_DIR: &str = "deploy/compose";
const UNIT: &str = "deploy/systemd/peloton-exporter.service";
const ENV_FILE: &str = "deploy/systemd/peloton-exporter.env";
/// Where the manifests, the unit and the Dockerfile install the binary.
const INSTALLED_BIN: &str = "/usr/local/bin/peloton-exporter";
const CONTAINER: &str = "peloton-exporter";
const DEFAULT_PORT: u16 = 10058;
/// Oldest Kubernetes the manifests are validated against, beside the validator's newest.
const OLDEST_KUBERNETES: &str = "1.29.0";
const READY_WITHIN: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------

/// Says that a check is skipped, on the real stderr: libtest would swallow `eprintln!` of a
/// passing test.
fn skip(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIP: {why}");
}

fn on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// python3 that can `import yaml` (PyYAML), which turns YAML into JSON for these tests.
fn python_yaml() -> Option<PathBuf> {
    python_with(&["yaml"])
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)))
}

/// Runs `cmd`, fails the test unless it succeeds, returns its stdout.
fn succeed(cmd: &mut Command) -> String {
    let out = output(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{} failed ({}):\n{stdout}\n{}",
        describe(cmd),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn repo(path: &str) -> PathBuf {
    Path::new(ROOT).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

// ---------------------------------------------------------------------------------------
// YAML and manifests
// ---------------------------------------------------------------------------------------

/// The non-empty documents of a YAML stream, as JSON values.
fn yaml_docs(python: &Path, yaml: &str) -> Vec<Value> {
    use std::io::Write as _;
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml\n\
             docs = [d for d in yaml.safe_load_all(sys.stdin) if d is not None]\n\
             json.dump(docs, sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not YAML: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let Value::Array(docs) = serde_json::from_slice(&out.stdout).unwrap() else {
        panic!("python did not print a list")
    };
    docs
}

fn render(kubectl: &Path, dir: &str) -> String {
    succeed(Command::new(kubectl).arg("kustomize").arg(repo(dir)))
}

fn kinds(docs: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = docs.iter().map(|d| text(&d["kind"]).to_owned()).collect();
    k.sort();
    k
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {:?}", kinds(docs)))
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn list(v: &Value) -> &[Value] {
    v.as_array()
        .map_or_else(|| panic!("expected a list, got {v}"), Vec::as_slice)
}

fn strings(v: &Value) -> Vec<String> {
    list(v).iter().map(|s| text(s).to_owned()).collect()
}

fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    list(&pod["containers"])
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in the pod"))
}

/// The exporter's pod spec in a rendered kustomization.
fn exporter_pod<'a>(docs: &'a [Value], deployment: &str) -> &'a Value {
    &find(docs, "Deployment", deployment)["spec"]["template"]["spec"]
}

/// `containerPort` of the container port named `name` (or given as a number).
fn container_port(c: &Value, port: &Value) -> u64 {
    if let Some(n) = port.as_u64() {
        return n;
    }
    let name = text(port);
    list(&c["ports"])
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("container has no port named {name}"))
}

/// A Prometheus duration (`1h30m`, `60s`, `500ms`), as the operator's CRD pattern wants.
fn prometheus_duration(s: &str) -> Duration {
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("ms", 1),
        ("m", 60_000),
        ("s", 1_000),
    ];
    let mut rest = s;
    let mut ms = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let n: u64 = number
            .parse()
            .unwrap_or_else(|_| panic!("{s} is not a Prometheus duration"));
        let (unit, scale) = UNITS
            .iter()
            .find(|(u, _)| tail.starts_with(u))
            .unwrap_or_else(|| panic!("{s} is not a Prometheus duration"));
        ms += n * scale;
        rest = tail.strip_prefix(unit).unwrap();
    }
    assert!(ms > 0, "{s:?} is not a positive Prometheus duration");
    Duration::from_millis(ms)
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    let (Some(sel), Some(labels)) = (selector.as_object(), labels.as_object()) else {
        return false;
    };
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

// ---------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------

fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in listen address {addr}"))
}

/// Maps absolute paths inside the container (mount points) to directories of a test.
#[derive(Debug, Default)]
struct Mounts(Vec<(String, PathBuf)>);

impl Mounts {
    fn add(&mut self, inside: &str, host: PathBuf) {
        std::fs::create_dir_all(&host).unwrap();
        self.0.push((inside.trim_end_matches('/').to_owned(), host));
    }

    /// `path` on the host, or None when no mount holds it.
    fn host(&self, path: &str) -> Option<PathBuf> {
        self.0.iter().find_map(|(inside, host)| {
            let rest = path.strip_prefix(inside.as_str())?;
            if rest.is_empty() {
                Some(host.clone())
            } else {
                rest.strip_prefix('/').map(|r| host.join(r))
            }
        })
    }

    /// Rewrites an absolute path in a flag's value (`--x=/path`) or in a bare value.
    /// An absolute path outside every mount is a test failure: it would name the
    /// read-only root filesystem or a file nobody provides.
    fn rewrite(&self, arg: &str) -> String {
        let (prefix, value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (format!("{flag}="), value),
            _ => (String::new(), arg),
        };
        if !value.starts_with('/') {
            return arg.to_owned();
        }
        let host = self
            .host(value)
            .unwrap_or_else(|| panic!("{arg}: {value} is on no volume"));
        format!("{prefix}{}", host.display())
    }
}

/// The binary, started as a deployment file says, until it is stopped.
struct Exporter {
    child: tokio::process::Child,
    log: PathBuf,
    base: String,
}

impl Exporter {
    /// Starts the binary with `args` and `env` (and no other PELOTON_* variable) and
    /// waits until `ready_path` answers 200.
    async fn start(
        args: &[String],
        env: &BTreeMap<String, String>,
        port: u16,
        ready_path: &str,
        log_dir: &Path,
    ) -> Self {
        let log = log_dir.join("exporter.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(args)
            .current_dir(log_dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .kill_on_drop(true);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PELOTON_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env);
        let child = cmd.spawn().expect("the binary starts");
        let mut exporter = Self {
            child,
            log,
            base: format!("http://127.0.0.1:{port}"),
        };
        exporter.wait_for(ready_path).await;
        exporter
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_for(&mut self, path: &str) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "exited with {status} before {path} was 200:\n{}",
                    self.log()
                );
            }
            let last = match client
                .get(format!("{}{path}", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => return,
                Ok(r) => format!("status {}", r.status()),
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "{path} not 200 within {READY_WITHIN:?} ({last}):\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// SIGTERM, as Kubernetes, Docker and systemd stop it: it must exit 0, promptly.
    async fn terminate(mut self) {
        let pid = self.child.id().expect("still running").to_string();
        succeed(Command::new("kill").args(["-TERM", &pid]));
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("not stopped 10 s after SIGTERM:\n{}", self.log()))
            .unwrap();
        assert!(
            status.success(),
            "exit after SIGTERM: {status}\n{}",
            self.log()
        );
    }
}

async fn fake() -> FakePeloton {
    FakePeloton::start(FakeOptions::default())
        .await
        .expect("the fake Peloton starts")
}

fn fake_env(fake: &FakePeloton) -> [(String, String); 2] {
    [
        ("PELOTON_API_URL".to_owned(), fake.api_url()),
        ("PELOTON_AUTH_URL".to_owned(), fake.auth_url()),
    ]
}

/// Replaces the value of `--web.listen-address` (which must name `port`) by a free
/// loopback port; returns that port.
fn relisten(args: &mut [String], expected_port: u64) -> Option<u16> {
    let arg = args
        .iter_mut()
        .find(|a| a.starts_with("--web.listen-address="))?;
    let addr = arg.trim_start_matches("--web.listen-address=");
    assert_eq!(
        u64::from(port_of(addr)),
        expected_port,
        "{arg} does not listen on the probed port"
    );
    let port = free_port();
    *arg = format!("--web.listen-address=127.0.0.1:{port}");
    Some(port)
}

// ---------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------

#[test]
fn kustomizations_render_and_pass_kubernetes_validate_strict() {
    let (Some(kubectl), Some(validate), Some(python)) =
        (tool("kubectl"), tool("kubernetes-validate"), python_yaml())
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let expected: [(&str, &[&str]); 3] = [
        (BASE, &["Deployment", "PersistentVolumeClaim", "Service"]),
        (
            PROMETHEUS_OPERATOR,
            &[
                "Deployment",
                "PersistentVolumeClaim",
                "PrometheusRule",
                "Service",
                "ServiceMonitor",
            ],
        ),
        (SIDECAR, &["Deployment", "PersistentVolumeClaim", "Service"]),
    ];
    let mut files = vec![repo(SECRET_EXAMPLE)];
    for (i, (kustomization, kinds_wanted)) in expected.iter().enumerate() {
        let rendered = render(&kubectl, kustomization);
        assert_eq!(
            kinds(&yaml_docs(&python, &rendered)),
            kinds_wanted.to_vec(),
            "{kustomization} renders other kinds than expected"
        );
        let file = dir.path().join(format!("rendered-{i}.yaml"));
        std::fs::write(&file, rendered).unwrap();
        files.push(file);
    }
    for version in [None, Some(OLDEST_KUBERNETES)] {
        let mut cmd = Command::new(&validate);
        cmd.arg("--strict");
        if let Some(v) = version {
            cmd.args(["--kubernetes-version", v]);
        }
        let out = succeed(cmd.args(&files));
        eprintln!("{out}");
        // Without a schema, kubernetes-validate only warns: that is expected for the
        // Prometheus Operator's CRDs and nothing else (a mistyped apiVersion warns too).
        for line in out.lines().filter(|l| !l.starts_with("INFO")) {
            assert!(
                line.starts_with("WARN") && line.contains("monitoring.coreos.com/v1"),
                "kubernetes-validate: {line}"
            );
        }
        assert!(
            out.lines().filter(|l| l.contains(" passed ")).count() >= 10,
            "too few resources validated:\n{out}"
        );
    }
}

#[test]
fn deployment_is_single_and_locked_down() {
    let (Some(kubectl), Some(python)) = (tool("kubectl"), python_yaml()) else {
        return;
    };
    let docs = yaml_docs(&python, &render(&kubectl, BASE));
    let deployment = find(&docs, "Deployment", CONTAINER);
    assert_eq!(
        deployment["spec"]["replicas"], 1,
        "one exporter per account"
    );
    assert_eq!(
        deployment["spec"]["strategy"]["type"], "Recreate",
        "an update must never run two exporters of one account"
    );
    let pod = exporter_pod(&docs, CONTAINER);
    assert!(labels_match(
        &deployment["spec"]["selector"]["matchLabels"],
        &deployment["spec"]["template"]["metadata"]["labels"]
    ));
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = container(pod, CONTAINER);
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert!(sc["runAsUser"].as_u64().is_some_and(|u| u > 0));
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);
    assert!(sc["capabilities"]["add"].is_null());
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][kind][resource].is_string(),
                "resources.{kind}.{resource} is not set"
            );
        }
    }
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(
            container_port(c, &c[probe]["httpGet"]["port"]),
            u64::from(DEFAULT_PORT)
        );
    }
    // --storage.path is on the PersistentVolumeClaim of this kustomization.
    let args = strings(&c["args"]);
    let storage = args
        .iter()
        .find_map(|a| a.strip_prefix("--storage.path="))
        .expect("--storage.path is set");
    let mount = list(&c["volumeMounts"])
        .iter()
        .find(|m| {
            let mp = text(&m["mountPath"]);
            storage == mp || storage.starts_with(&format!("{mp}/"))
        })
        .unwrap_or_else(|| panic!("--storage.path={storage} is on no volume"));
    assert_ne!(mount["readOnly"], true, "--storage.path must be writable");
    let volume = list(&pod["volumes"])
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let claim = text(&volume["persistentVolumeClaim"]["claimName"]);
    find(&docs, "PersistentVolumeClaim", claim);
}

#[test]
fn service_and_service_monitor_select_the_exporter() {
    let (Some(kubectl), Some(python)) = (tool("kubectl"), python_yaml()) else {
        return;
    };
    for kustomization in [PROMETHEUS_OPERATOR, SIDECAR] {
        let docs = yaml_docs(&python, &render(&kubectl, kustomization));
        let service = find(&docs, "Service", CONTAINER);
        let deployment = docs
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .expect("a Deployment");
        let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
        assert!(
            labels_match(&service["spec"]["selector"], pod_labels),
            "{kustomization}: the Service does not select the exporter's pods"
        );
        let c = container(&deployment["spec"]["template"]["spec"], CONTAINER);
        for port in list(&service["spec"]["ports"]) {
            assert_eq!(
                container_port(c, &port["targetPort"]),
                u64::from(DEFAULT_PORT),
                "{kustomization}: Service port {port}"
            );
        }
        assert_eq!(
            service["spec"]["publishNotReadyAddresses"], true,
            "peloton_up 0 must stay scrapable while /readyz is 503"
        );
        if kustomization != PROMETHEUS_OPERATOR {
            continue;
        }
        let monitor = find(&docs, "ServiceMonitor", CONTAINER);
        assert!(
            labels_match(
                &monitor["spec"]["selector"]["matchLabels"],
                &service["metadata"]["labels"]
            ),
            "the ServiceMonitor does not select the Service"
        );
        let port_names: Vec<&str> = list(&service["spec"]["ports"])
            .iter()
            .map(|p| text(&p["name"]))
            .collect();
        for endpoint in list(&monitor["spec"]["endpoints"]) {
            assert!(
                port_names.contains(&text(&endpoint["port"])),
                "ServiceMonitor port {} is not a Service port {port_names:?}",
                endpoint["port"]
            );
            assert_eq!(endpoint["path"], "/metrics");
            // kubernetes-validate has no schema for CRDs: check what the operator would.
            let interval = prometheus_duration(text(&endpoint["interval"]));
            let timeout = prometheus_duration(text(&endpoint["scrapeTimeout"]));
            assert!(
                timeout <= interval,
                "scrapeTimeout > interval in {endpoint}"
            );
        }
        let job_label = text(&monitor["spec"]["jobLabel"]);
        assert_eq!(
            service["metadata"]["labels"][job_label], CONTAINER,
            "the rules expect job=\"{CONTAINER}\""
        );
    }
}

/// The PrometheusRule carries exactly the rules of `deploy/prometheus/rules/`, as its
/// generator writes them, and they pass promtool.
#[test]
fn prometheus_rule_is_generated_from_the_rule_files_and_passes_promtool() {
    let (Some(kubectl), Some(python), Some(promtool)) =
        (tool("kubectl"), python_yaml(), tool("promtool"))
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("prometheusrule.yaml");
    succeed(
        Command::new("bash")
            .arg(repo(RULE_GENERATOR))
            .arg(&generated),
    );
    assert!(
        std::fs::read_to_string(&generated).unwrap() == read(PROMETHEUS_RULE),
        "{PROMETHEUS_RULE} is stale: run {RULE_GENERATOR}"
    );

    let docs = yaml_docs(&python, &render(&kubectl, PROMETHEUS_OPERATOR));
    let rule = find(&docs, "PrometheusRule", CONTAINER);
    let mut sources: Vec<PathBuf> = std::fs::read_dir(repo(RULE_FILES))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    sources.sort();
    assert!(!sources.is_empty(), "no rule files in {RULE_FILES}");
    let mut expected = Vec::new();
    for source in &sources {
        let doc = yaml_docs(&python, &std::fs::read_to_string(source).unwrap());
        expected.extend(list(&doc.first().unwrap()["groups"]).iter().cloned());
    }
    assert_eq!(
        list(&rule["spec"]["groups"]),
        expected.as_slice(),
        "the PrometheusRule's groups are not those of {RULE_FILES}"
    );

    // JSON is YAML: promtool reads it as a rules file.
    let file = dir.path().join("rules.yml");
    let groups = serde_json::json!({ "groups": rule["spec"]["groups"] });
    std::fs::write(&file, serde_json::to_string_pretty(&groups).unwrap()).unwrap();
    let out = succeed(Command::new(promtool).args(["check", "rules"]).arg(&file));
    eprintln!("{out}");
}

#[test]
fn sidecar_is_the_base_container_without_readiness() {
    let (Some(kubectl), Some(python)) = (tool("kubectl"), python_yaml()) else {
        return;
    };
    let base = yaml_docs(&python, &render(&kubectl, BASE));
    let sidecar = yaml_docs(&python, &render(&kubectl, SIDECAR));
    let base_pod = exporter_pod(&base, CONTAINER);
    let workload = sidecar
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("the workload");
    let pod = &workload["spec"]["template"]["spec"];
    let containers = list(&pod["containers"]);
    assert_eq!(
        containers.len(),
        2,
        "the workload's container and the exporter"
    );
    assert_eq!(
        containers.get(1).map(|c| &c["name"]),
        Some(&Value::from(CONTAINER)),
        "the exporter is the second container"
    );
    let mut expected = container(base_pod, CONTAINER).clone();
    expected.as_object_mut().unwrap().remove("readinessProbe");
    assert_eq!(
        container(pod, CONTAINER),
        &expected,
        "the sidecar container differs from the base one by more than its readinessProbe"
    );
    for mount in list(&expected["volumeMounts"]) {
        let name = &mount["name"];
        let want = list(&base_pod["volumes"])
            .iter()
            .find(|v| &v["name"] == name)
            .unwrap();
        let got = list(&pod["volumes"]).iter().find(|v| &v["name"] == name);
        assert_eq!(got, Some(want), "volume {name} of the sidecar");
    }
    assert_eq!(
        pod["securityContext"]["fsGroup"],
        base_pod["securityContext"]["fsGroup"]
    );
    assert_eq!(workload["spec"]["replicas"], 1);
    let claim = text(
        &list(&pod["volumes"])
            .iter()
            .find(|v| !v["persistentVolumeClaim"].is_null())
            .expect("a PersistentVolumeClaim volume")["persistentVolumeClaim"]["claimName"],
    );
    find(&sidecar, "PersistentVolumeClaim", claim);
}

/// The rendered Deployment's container, run for real: its args, env and volumes (the
/// Secret's keys written as files, from the Secret example), the API URLs pointed at the
/// fake; its readiness probe's path must turn 200 and its liveness probe's must be 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_runs_as_the_kubernetes_deployment_says() {
    let (Some(kubectl), Some(python)) = (tool("kubectl"), python_yaml()) else {
        return;
    };
    let docs = yaml_docs(&python, &render(&kubectl, BASE));
    let secret_example = yaml_docs(&python, &read(SECRET_EXAMPLE));
    let secret = find(&secret_example, "Secret", CONTAINER);
    let pod = exporter_pod(&docs, CONTAINER);
    let c = container(pod, CONTAINER);
    assert!(
        c["command"].is_null(),
        "the image's ENTRYPOINT is the binary"
    );
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();

    let mut mounts = Mounts::default();
    let mut storage_volume = None;
    for m in list(&c["volumeMounts"]) {
        let inside = text(&m["mountPath"]);
        let host = dir.path().join("root").join(inside.trim_start_matches('/'));
        mounts.add(inside, host.clone());
        let volume = list(&pod["volumes"])
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap_or_else(|| panic!("no volume {}", m["name"]));
        if !volume["secret"].is_null() {
            assert_eq!(volume["secret"]["secretName"], secret["metadata"]["name"]);
            let data = secret["stringData"].as_object().expect("stringData");
            let items = volume["secret"]["items"].as_array();
            for key in data.keys() {
                // A real Secret holds the member's token; the fake has its own.
                assert_eq!(key, "refresh-token", "unexpected key {key} in the Secret");
                let path = match items {
                    None => Some(key.clone()),
                    Some(items) => items
                        .iter()
                        .find(|i| &i["key"] == key)
                        .map(|i| text(&i["path"]).to_owned()),
                };
                if let Some(path) = path {
                    std::fs::write(host.join(path), format!("{}\n", fake.refresh_token())).unwrap();
                }
            }
        } else if !volume["persistentVolumeClaim"].is_null() {
            storage_volume = Some(host);
        } else {
            assert!(
                !volume["emptyDir"].is_null(),
                "the test knows Secret, PVC and emptyDir volumes, not {volume}"
            );
        }
    }
    let storage = storage_volume.expect("a PersistentVolumeClaim is mounted");

    let mut args: Vec<String> = strings(&c["args"])
        .iter()
        .map(|a| mounts.rewrite(a))
        .collect();
    for flag in ["--peloton.api-url", "--peloton.auth-url"] {
        assert!(
            !args.iter().any(|a| a.starts_with(flag)),
            "{flag} is Peloton's by default; the manifest leaves it"
        );
    }
    let ready = &c["readinessProbe"]["httpGet"];
    let probed = container_port(c, &ready["port"]);
    let port = relisten(&mut args, probed).unwrap_or_else(|| {
        assert_eq!(probed, u64::from(DEFAULT_PORT));
        let port = free_port();
        args.push(format!("--web.listen-address=127.0.0.1:{port}"));
        port
    });
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    if let Some(vars) = c["env"].as_array() {
        for var in vars {
            let value = var["value"]
                .as_str()
                .unwrap_or_else(|| panic!("the test knows plain env values, not {var}"));
            env.insert(text(&var["name"]).to_owned(), mounts.rewrite(value));
        }
    }
    for (k, v) in fake_env(&fake) {
        assert!(!env.contains_key(&k), "the manifest sets {k}");
        env.insert(k, v);
    }

    let exporter = Exporter::start(&args, &env, port, text(&ready["path"]), dir.path()).await;
    let (status, _) = exporter
        .get(text(&c["livenessProbe"]["httpGet"]["path"]))
        .await;
    assert_eq!(status, 200, "liveness probe");
    assert!(
        storage
            .join(peloton_exporter::store::database::FILE_NAME)
            .is_file(),
        "the state is not on the PersistentVolumeClaim:\n{}",
        exporter.log()
    );
    exporter.terminate().await;
    fake.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// YAML lint
// ---------------------------------------------------------------------------------------

#[test]
fn yaml_passes_yamllint_strict() {
    let Some(yamllint) = tool("yamllint") else {
        return;
    };
    let out = succeed(
        Command::new(yamllint)
            .args(["--strict", "--format", "parsable", "-d", "default"])
            .arg(repo("deploy/kubernetes"))
            .arg(repo(COMPOSE_DIR)),
    );
    assert!(out.trim().is_empty(), "yamllint:\n{out}");
}

// ---------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------

/// The Dockerfile's instructions: (keyword in upper case, arguments), continuation lines
/// joined, comments and the parser directive dropped.
fn dockerfile() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in read(DOCKERFILE).lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, args) = current.split_once(' ').unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), args.trim().to_owned()));
        current.clear();
    }
    out
}

#[test]
fn dockerfile_passes_hadolint() {
    let Some(hadolint) = tool("hadolint") else {
        return;
    };
    let out = succeed(
        Command::new(hadolint)
            .args(["--no-color", "--failure-threshold", "error"])
            .arg(repo(DOCKERFILE)),
    );
    eprintln!("hadolint: {}", if out.is_empty() { "clean" } else { &out });
}

#[test]
fn dockerfile_builds_static_and_runs_as_numeric_non_root() {
    let instructions = dockerfile();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert!(stages.len() >= 2, "a multi-stage build");
    let last = *stages.last().unwrap();
    let (build, runtime) = instructions.split_at(last);
    let runtime_base = &runtime.first().unwrap().1;
    assert!(
        runtime_base.starts_with("gcr.io/distroless/static"),
        "runtime base {runtime_base}: distroless/static has CA certificates and no libc"
    );
    assert!(
        build.iter().any(|(k, a)| k == "RUN"
            && a.contains("cargo build --profile release-static --locked --target")
            && a.contains("unknown-linux-musl")),
        "the binary is built for musl, from the lock file"
    );
    assert!(
        !instructions.iter().any(|(k, _)| k == "HEALTHCHECK"),
        "no HEALTHCHECK: orchestrators probe /healthz and /readyz"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|(k, _)| k == "USER")
        .map(|(_, a)| a.as_str())
        .expect("a USER in the runtime stage");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u > 0)
            && user.split(':').all(|p| p.parse::<u32>().is_ok()),
        "USER {user} must be numeric and not root"
    );
    let entrypoint = runtime
        .iter()
        .find(|(k, _)| k == "ENTRYPOINT")
        .map(|(_, a)| serde_json::from_str::<Vec<String>>(a).expect("ENTRYPOINT in exec form"))
        .expect("an ENTRYPOINT");
    assert_eq!(entrypoint, [INSTALLED_BIN]);
    assert!(
        runtime
            .iter()
            .any(|(k, a)| k == "COPY" && a.ends_with(&format!(" {INSTALLED_BIN}"))),
        "the binary is copied to {INSTALLED_BIN}"
    );
    assert!(
        runtime
            .iter()
            .any(|(k, a)| k == "EXPOSE" && a == &DEFAULT_PORT.to_string()),
        "EXPOSE {DEFAULT_PORT}"
    );
}

/// The build stage copies only some files; cargo must find everything it needs in them.
#[test]
fn dockerfile_build_context_is_enough_for_cargo() {
    let instructions = dockerfile();
    let dir = tempfile::tempdir().unwrap();
    let mut copied = Vec::new();
    for (k, args) in &instructions {
        if k == "FROM" && !copied.is_empty() {
            break; // the runtime stage
        }
        if k != "COPY" || args.starts_with("--from") {
            continue;
        }
        let parts: Vec<&str> = args
            .split_whitespace()
            .filter(|p| !p.starts_with("--"))
            .collect();
        let Some((_, sources)) = parts.split_last() else {
            panic!("COPY {args}")
        };
        for source in sources {
            let from = repo(source);
            assert!(from.exists(), "COPY {source}: not in the repository");
            let status = Command::new("cp")
                .arg("-r")
                .arg(&from)
                .arg(dir.path().join(source))
                .status()
                .unwrap();
            assert!(status.success());
            copied.push((*source).to_owned());
        }
    }
    for needed in ["Cargo.toml", "Cargo.lock", "src"] {
        assert!(
            copied.iter().any(|c| c == needed),
            "the build does not COPY {needed}"
        );
    }
    if repo("build.rs").exists() {
        assert!(
            copied.iter().any(|c| c == "build.rs"),
            "the build does not COPY build.rs"
        );
    }
    // Every target the manifest declares must be found (benches, examples, tests).
    succeed(
        Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
                "--locked",
            ])
            .current_dir(dir.path()),
    );
}

// ---------------------------------------------------------------------------------------
// Compose
// ---------------------------------------------------------------------------------------

/// `docker-compose config` of the given files, as JSON.
fn compose_config(compose: &Path, files: &[&str]) -> Value {
    let mut cmd = Command::new(compose);
    cmd.current_dir(repo(COMPOSE_DIR));
    for f in files {
        cmd.args(["-f", f]);
    }
    serde_json::from_str(&succeed(cmd.args(["config", "--format", "json"]))).unwrap()
}

/// The runtime stage's ENV, which the container also runs with.
fn image_env() -> BTreeMap<String, String> {
    let instructions = dockerfile();
    let last = instructions.iter().rposition(|(k, _)| k == "FROM").unwrap();
    let mut env = BTreeMap::new();
    for (k, args) in instructions.iter().skip(last) {
        if k == "ENV" {
            for pair in args.split_whitespace() {
                let (name, value) = pair.split_once('=').expect("ENV in NAME=value form");
                env.insert(name.to_owned(), value.trim_matches('"').to_owned());
            }
        }
    }
    env
}

/// Starts the compose file's exporter service as compose would: the image's ENV, the
/// service's command and environment, its volumes, tmpfs and secrets on test directories.
async fn run_compose_exporter(
    service: &Value,
    config: &Value,
    extra_env: &[(String, String)],
    secret_value: &str,
    dir: &Path,
) -> (Exporter, Option<PathBuf>) {
    assert!(
        service["entrypoint"].is_null(),
        "the image's ENTRYPOINT is the binary"
    );
    let mut mounts = Mounts::default();
    for v in service["volumes"].as_array().map_or(&[][..], Vec::as_slice) {
        let target = text(&v["target"]);
        mounts.add(
            target,
            dir.join("root").join(target.trim_start_matches('/')),
        );
    }
    for t in service["tmpfs"].as_array().map_or(&[][..], Vec::as_slice) {
        let target = text(t);
        mounts.add(
            target,
            dir.join("root").join(target.trim_start_matches('/')),
        );
    }
    for s in service["secrets"].as_array().map_or(&[][..], Vec::as_slice) {
        let source = text(&s["source"]);
        assert!(
            config["secrets"][source].is_object(),
            "secret {source} is not defined"
        );
        let target = s["target"]
            .as_str()
            .map_or_else(|| format!("/run/secrets/{source}"), ToOwned::to_owned);
        let host = dir.join("root").join(target.trim_start_matches('/'));
        std::fs::create_dir_all(host.parent().unwrap()).unwrap();
        std::fs::write(&host, format!("{secret_value}\n")).unwrap();
        mounts.0.push((target, host));
    }
    let mut env: BTreeMap<String, String> = image_env()
        .iter()
        .map(|(k, v)| (k.clone(), mounts.rewrite(v)))
        .collect();
    if let Some(vars) = service["environment"].as_object() {
        for (k, v) in vars {
            env.insert(k.clone(), mounts.rewrite(text(v)));
        }
    }
    let published: Vec<u64> = list(&service["ports"])
        .iter()
        .filter_map(|p| p["target"].as_u64())
        .collect();
    let mut args: Vec<String> = strings(&service["command"])
        .iter()
        .map(|a| mounts.rewrite(a))
        .collect();
    let port = relisten(&mut args, u64::from(DEFAULT_PORT)).unwrap_or_else(|| {
        let port = free_port();
        env.insert(
            "PELOTON_WEB_LISTEN_ADDRESS".to_owned(),
            format!("127.0.0.1:{port}"),
        );
        port
    });
    assert_eq!(published, [u64::from(DEFAULT_PORT)], "published ports");
    env.extend(extra_env.iter().cloned());
    let storage = args
        .iter()
        .find_map(|a| a.strip_prefix("--storage.path="))
        .or_else(|| env.get("PELOTON_STORAGE_PATH").map(String::as_str))
        .map(PathBuf::from);
    let exporter = Exporter::start(&args, &env, port, "/readyz", dir).await;
    (exporter, storage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_demo_runs_as_compose_says() {
    let Some(compose) = tool("docker-compose") else {
        return;
    };
    let config = compose_config(&compose, &["compose.yaml"]);
    let service = &config["services"][CONTAINER];
    assert!(
        strings(&service["command"]).iter().any(|a| a == "--demo"),
        "the compose demo runs --demo"
    );
    assert_eq!(service["read_only"], true);
    assert_eq!(strings(&service["cap_drop"]), ["ALL"]);
    let dir = tempfile::tempdir().unwrap();
    let (exporter, _) = run_compose_exporter(service, &config, &[], "unused", dir.path()).await;
    let (status, body) = exporter.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        body.lines().any(|l| l == "peloton_up 1"),
        "the demo is up:\n{body}"
    );
    exporter.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_account_variant_runs_against_the_fake() {
    let Some(compose) = tool("docker-compose") else {
        return;
    };
    let config = compose_config(&compose, &["compose.yaml", "compose.account.yaml"]);
    let service = &config["services"][CONTAINER];
    assert!(
        !strings(&service["command"]).iter().any(|a| a == "--demo"),
        "the account variant replaces --demo"
    );
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let (exporter, storage) = run_compose_exporter(
        service,
        &config,
        &fake_env(&fake),
        &fake.refresh_token(),
        dir.path(),
    )
    .await;
    let storage = storage.expect("--storage.path is set");
    assert!(
        storage
            .join(peloton_exporter::store::database::FILE_NAME)
            .is_file(),
        "the state is not on the volume:\n{}",
        exporter.log()
    );
    exporter.terminate().await;
    fake.shutdown().await;
}

/// Copies the bind mounts of a compose service into `root`, where the container sees them.
fn bind_mounts(service: &Value, root: &Path) -> Vec<(String, PathBuf)> {
    let mut mounts = Vec::new();
    for v in list(&service["volumes"])
        .iter()
        .filter(|v| v["type"] == "bind")
    {
        let source = PathBuf::from(text(&v["source"]));
        let target = text(&v["target"]);
        assert!(source.exists(), "{} does not exist", source.display());
        let inside = root.join(target.trim_start_matches('/'));
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        succeed(Command::new("cp").arg("-rT").arg(&source).arg(&inside));
        mounts.push((target.to_owned(), source));
    }
    mounts
}

/// Prometheus' config and rules, where compose mounts them, pass promtool, and it scrapes
/// the exporter's service and port; Grafana's provisioning finds Prometheus and the
/// dashboards where compose puts them.
#[test]
fn compose_prometheus_and_grafana_find_what_they_need() {
    let (Some(compose), Some(python), Some(promtool)) =
        (tool("docker-compose"), python_yaml(), tool("promtool"))
    else {
        return;
    };
    let config = compose_config(&compose, &["compose.yaml"]);
    let services = config["services"].as_object().unwrap();
    let dir = tempfile::tempdir().unwrap();

    let prometheus = dir.path().join("prometheus");
    bind_mounts(&services["prometheus"], &prometheus);
    let config_file = prometheus.join("etc/prometheus/prometheus.yml");
    assert!(
        strings(&services["prometheus"]["command"])
            .contains(&"--config.file=/etc/prometheus/prometheus.yml".to_owned())
    );
    let out = succeed(
        Command::new(promtool)
            .args(["check", "config"])
            .arg(&config_file),
    );
    eprintln!("{out}");
    assert!(
        out.matches("rules found").count() >= 2,
        "Prometheus loads no rule files:\n{out}"
    );
    let prom = yaml_docs(&python, &std::fs::read_to_string(&config_file).unwrap());
    let targets: Vec<String> = list(&prom.first().unwrap()["scrape_configs"])
        .iter()
        .flat_map(|sc| list(&sc["static_configs"]).iter())
        .flat_map(|s| strings(&s["targets"]))
        .collect();
    assert_eq!(
        targets,
        [format!("{CONTAINER}:{DEFAULT_PORT}")],
        "Prometheus scrapes the exporter service on its port"
    );
    assert!(services.contains_key(CONTAINER));

    // Grafana: the data sources point at the prometheus service, the dashboard
    // providers at the mounted dashboards.
    let grafana = dir.path().join("grafana");
    bind_mounts(&services["grafana"], &grafana);
    let provisioning = grafana.join("etc/grafana/provisioning");
    let yaml_in = |sub: &str| -> Vec<Value> {
        let mut docs = Vec::new();
        for entry in std::fs::read_dir(provisioning.join(sub)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            docs.extend(yaml_docs(&python, &text));
        }
        docs
    };
    let datasources = yaml_in("datasources");
    let urls: Vec<&str> = datasources
        .iter()
        .flat_map(|d| list(&d["datasources"]).iter())
        .map(|d| text(&d["url"]))
        .collect();
    assert_eq!(urls, ["http://prometheus:9090"], "Grafana's data sources");
    assert!(services.contains_key("prometheus"));
    let providers = yaml_in("dashboards");
    let paths: Vec<&str> = providers
        .iter()
        .flat_map(|d| list(&d["providers"]).iter())
        .map(|p| text(&p["options"]["path"]))
        .collect();
    assert!(!paths.is_empty(), "no dashboard provider");
    for path in paths {
        let dashboards = grafana.join(path.trim_start_matches('/'));
        let count = std::fs::read_dir(&dashboards)
            .unwrap_or_else(|e| panic!("dashboard path {path}: {e}"))
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count();
        assert!(count > 0, "no dashboards at {path}");
    }
}

// ---------------------------------------------------------------------------------------
// systemd
// ---------------------------------------------------------------------------------------

/// `Key=value` settings of the unit, continuation lines joined, in order.
fn unit_settings() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in read(UNIT).lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with(['#', ';', '['])) {
            continue;
        }
        if let Some(part) = trimmed.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (k, v) = current.split_once('=').expect("Key=value");
        out.push((k.trim().to_owned(), v.trim().to_owned()));
        current.clear();
    }
    out
}

fn unit_value(settings: &[(String, String)], key: &str) -> String {
    settings
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| panic!("the unit has no {key}="), |(_, v)| v.clone())
}

#[test]
fn systemd_unit_verifies_and_is_hardened() {
    let settings = unit_settings();
    for (key, value) in [
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
    ] {
        assert_eq!(unit_value(&settings, key), value, "{key}=");
    }
    let state = unit_value(&settings, "StateDirectory");
    let (credential, _) = unit_value(&settings, "LoadCredential")
        .split_once(':')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .expect("LoadCredential=ID:PATH");
    let exec = unit_value(&settings, "ExecStart");
    assert!(exec.starts_with(&format!("{INSTALLED_BIN} ")), "{exec}");
    assert!(
        exec.contains(&format!("--storage.path=%S/{state} ")),
        "{exec}"
    );
    assert!(
        exec.contains(&format!("--peloton.refresh-token-file=%d/{credential}")),
        "{exec}"
    );

    let Some(analyze) = on_path("systemd-analyze") else {
        // "Where available": skips in CI as well.
        skip("systemd-analyze not on PATH (no systemd on this machine)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // verify wants ExecStart's binary to exist: use the one cargo built.
    let unit = dir.path().join("peloton-exporter.service");
    std::fs::write(&unit, read(UNIT).replace(INSTALLED_BIN, BIN)).unwrap();
    let out = output(Command::new(&analyze).arg("verify").arg(&unit));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Unknown keys and bad values are only warnings, exit status 0: fail on them too.
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("peloton-exporter.service"))
        .collect();
    assert!(
        out.status.success() && complaints.is_empty(),
        "systemd-analyze verify ({}):\n{stderr}",
        out.status
    );
    // Exposure level at most 2.0 of 10 ("OK"); it is 1.2 as written.
    let out = output(
        Command::new(&analyze)
            .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
            .arg(&unit),
    );
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{}", report.lines().last().unwrap_or_default());
    assert!(out.status.success(), "systemd-analyze security:\n{report}");
}

fn env_file() -> Vec<(String, String, bool)> {
    read(ENV_FILE)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (commented, l) = match l.strip_prefix('#') {
                Some(rest) => (true, rest.trim()),
                None => (false, l),
            };
            let (k, v) = l.split_once('=')?;
            (k.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !k.is_empty())
                .then(|| (k.to_owned(), v.to_owned(), !commented))
        })
        .collect()
}

#[test]
fn systemd_env_file_names_only_known_variables() {
    // Help is wrapped: compare with whitespace runs collapsed.
    let help = succeed(Command::new(BIN).arg("--help"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let vars = env_file();
    assert!(vars.len() >= 3, "{vars:?}");
    for (name, _, _) in vars {
        assert!(
            help.contains(&format!("[env: {name}")),
            "{ENV_FILE}: the binary knows no {name}"
        );
    }
}

/// ExecStart as systemd would run it: %S and %d on test directories, the credential
/// written there, the example env file as EnvironmentFile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_runs_as_the_systemd_unit_says() {
    let settings = unit_settings();
    let state = unit_value(&settings, "StateDirectory");
    let (credential, _) = unit_value(&settings, "LoadCredential")
        .split_once(':')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .unwrap();
    let exec = unit_value(&settings, "ExecStart");
    assert!(
        !exec.contains(['"', '\'', '$']),
        "the test splits ExecStart on spaces: {exec}"
    );
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let state_root = dir.path().join("var-lib");
    let credentials = dir.path().join("credentials");
    std::fs::create_dir_all(state_root.join(&state)).unwrap();
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(credentials.join(&credential), fake.refresh_token()).unwrap();
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some(INSTALLED_BIN));
    let mut args: Vec<String> = words
        .map(|w| {
            w.replace("%S", &state_root.display().to_string())
                .replace("%d", &credentials.display().to_string())
        })
        .collect();
    assert!(
        !args.iter().any(|a| a.contains('%')),
        "unknown specifier: {args:?}"
    );
    let mut env: BTreeMap<String, String> = env_file()
        .into_iter()
        .filter(|(_, _, active)| *active)
        .map(|(k, v, _)| (k, v))
        .collect();
    let port = relisten(&mut args, u64::from(DEFAULT_PORT)).unwrap_or_else(|| {
        let addr = env
            .get("PELOTON_WEB_LISTEN_ADDRESS")
            .map_or(DEFAULT_PORT, |a| port_of(a));
        assert_eq!(addr, DEFAULT_PORT);
        let port = free_port();
        env.insert(
            "PELOTON_WEB_LISTEN_ADDRESS".to_owned(),
            format!("127.0.0.1:{port}"),
        );
        port
    });
    env.extend(fake_env(&fake));
    let exporter = Exporter::start(&args, &env, port, "/readyz", dir.path()).await;
    assert!(
        state_root
            .join(&state)
            .join(peloton_exporter::store::database::FILE_NAME)
            .is_file(),
        "the state is not in the StateDirectory:\n{}",
        exporter.log()
    );
    exporter.terminate().await;
    fake.shutdown().await;
}
