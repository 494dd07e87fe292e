//! Peloton traffic through an HTTP CONNECT proxy (from `HTTPS_PROXY` or
//! `--peloton.proxy-url`) to a fake Peloton behind TLS whose CA is trusted only through
//! `--peloton.ca-file`; the TLS error without it; the proxy password kept out of the logs;
//! remote write not sent through Peloton's proxy; start-up errors naming the flags.
//!
//! The exporter runs as the real binary with a cleared environment: proxy variables are
//! process-wide, so they cannot be set for an in-process exporter without affecting every
//! other test in this binary.

use crate::common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use common::*;
use peloton_fake::{FakeOptions, FakePeloton};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const PROXY_USER: &str = "proxyuser";
const PROXY_PASSWORD: &str = "proxy-pw-4f9a2c71e8";

/// A private CA and a server certificate for 127.0.0.1 and localhost, all PEM.
struct Pki {
    ca: String,
    cert: String,
    key: String,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "proxy_tls test CA");
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    Pki {
        ca: issuer.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// Terminates TLS with the test's certificate and pipes the plain bytes to `upstream`
/// (one of the fake's HTTP listeners). Failed handshakes are dropped: that is what a
/// client that does not trust the CA causes.
async fn tls_front(upstream: SocketAddr, pki: &Pki) -> SocketAddr {
    let certs = CertificateDer::pem_slice_iter(pki.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki.key.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// A minimal HTTP proxy that only tunnels (CONNECT) and logs every request line it gets.
/// With `auth`, a CONNECT without that `Proxy-Authorization` is answered 407.
#[derive(Clone)]
struct Proxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    async fn start(auth: Option<(&str, &str)>) -> Proxy {
        let expected = auth.map(|(user, pw)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"))
            )
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            log: Arc::default(),
        };
        let log = proxy.log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(tunnel(client, log.clone(), expected.clone()));
            }
        });
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn url_with_password(&self) -> String {
        format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{}", self.addr)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

async fn tunnel(mut client: TcpStream, log: Arc<Mutex<Vec<String>>>, auth: Option<String>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let body_start = loop {
        let Ok(n) = client.read(&mut buf).await else {
            return;
        };
        if n == 0 || head.len() > 16 * 1024 {
            return;
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..body_start]).into_owned();
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default().to_owned();
    let authorized = auth.is_none_or(|want| {
        lines.any(|l| {
            l.split_once(':').is_some_and(|(name, value)| {
                name.eq_ignore_ascii_case("proxy-authorization") && value.trim() == want
            })
        })
    });
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock()
        .unwrap()
        .push(format!("{method} {target} authorized={authorized}"));
    if method != "CONNECT" {
        let _ = client
            .write_all(b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    if !authorized {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return;
    }
    // Anything the client sent after the request head belongs to the tunnel.
    if upstream.write_all(&head[body_start..]).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// The fake Peloton behind TLS: its API and auth listeners each get a TLS front.
struct TlsPeloton {
    fake: FakePeloton,
    api: SocketAddr,
    auth: SocketAddr,
}

impl TlsPeloton {
    async fn start(pki: &Pki) -> TlsPeloton {
        let fake = fake(FakeOptions {
            workouts: 12,
            ..FakeOptions::default()
        })
        .await;
        let plain =
            |url: String| -> SocketAddr { url.trim_start_matches("http://").parse().unwrap() };
        let api = tls_front(plain(fake.api_url()), pki).await;
        let auth = tls_front(plain(fake.auth_url()), pki).await;
        TlsPeloton { fake, api, auth }
    }

    /// The usual test flags, with the TLS fronts as Peloton's URLs.
    fn args(&self, dir: &Path, port: u16) -> Vec<String> {
        let mut a: Vec<String> = args_with_token(&self.fake, dir)
            .into_iter()
            .filter(|a| {
                !a.starts_with("--peloton.api-url")
                    && !a.starts_with("--peloton.auth-url")
                    && !a.starts_with("--web.listen-address")
            })
            .collect();
        a.push(format!("--peloton.api-url=https://{}", self.api));
        a.push(format!("--peloton.auth-url=https://{}", self.auth));
        a.push(format!("--web.listen-address=127.0.0.1:{port}"));
        a
    }

    /// What a proxy's log says when both Peloton hosts were reached through it.
    fn connects(&self) -> [String; 2] {
        [
            format!("CONNECT {} authorized=true", self.api),
            format!("CONNECT {} authorized=true", self.auth),
        ]
    }
}

/// The real binary with a cleared environment plus `envs`, logging to a file (a pipe that
/// nobody reads could fill up and stall it).
fn ca_file(dir: &Path, pki: &Pki) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &pki.ca).unwrap();
    path
}

fn assert_no_proxy_secret(text: &str) {
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{PROXY_USER}:{PROXY_PASSWORD}"));
    assert!(!text.contains(PROXY_PASSWORD), "the proxy password leaked");
    assert!(
        !text.contains(&basic),
        "the proxy credentials leaked (base64)"
    );
    assert!(!text.contains("panicked"), "a panic:\n{text}");
}

/// `HTTPS_PROXY` from the environment (with credentials the proxy insists on) carries every
/// Peloton request (API and Auth0 token endpoint), and the TLS-inspecting setup works with
/// the CA from `--peloton.ca-file` only (the cleared environment has no other way to trust
/// it). The credentials stay out of the debug log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_from_the_environment_with_the_ca_from_the_flag() {
    let pki = pki();
    let peloton = TlsPeloton::start(&pki).await;
    let proxy = Proxy::start(Some((PROXY_USER, PROXY_PASSWORD))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = peloton.args(dir.path(), free_port());
    args.push(format!(
        "--peloton.ca-file={}",
        ca_file(dir.path(), &pki).display()
    ));
    args.push("--log.level=debug".to_owned());
    let exporter = ExporterProcess::spawn(
        &args,
        &[("HTTPS_PROXY", &proxy.url_with_password())],
        dir.path().join("stderr.log"),
    );
    let s = wait_synced(exporter.addr).await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    let workouts: f64 = series(&s, "peloton_workouts_total")
        .iter()
        .map(|(_, v)| v)
        .sum();
    assert!(workouts > 0.0, "workouts synced: {s:?}");
    let logs = exporter.stop();
    let seen = proxy.log();
    for connect in peloton.connects() {
        assert!(seen.contains(&connect), "{connect} not in {seen:?}\n{logs}");
    }
    assert!(
        seen.iter().all(|l| l.starts_with("CONNECT ")),
        "everything went through tunnels: {seen:?}"
    );
    assert_no_proxy_secret(&logs);
}

/// `--peloton.proxy-url` (with credentials) wins over a proxy in the environment, its
/// password reaches neither the trace log nor `/metrics`, and remote write to the user's
/// own receiver does not go through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_flag_wins_over_the_environment_and_keeps_its_password() {
    let pki = pki();
    let peloton = TlsPeloton::start(&pki).await;
    let proxy = Proxy::start(Some((PROXY_USER, PROXY_PASSWORD))).await;
    let decoy = Proxy::start(None).await;
    let (receiver, pushes) = remote_write_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = peloton.args(dir.path(), free_port());
    args.push(format!(
        "--peloton.ca-file={}",
        ca_file(dir.path(), &pki).display()
    ));
    args.push(format!("--remote-write.url=http://{receiver}/api/v1/write"));
    args.push("--log.level=trace".to_owned());
    let exporter = ExporterProcess::spawn(
        &args,
        &[
            ("PELOTON_PROXY_URL", &proxy.url_with_password()),
            ("HTTPS_PROXY", &decoy.url()),
            ("https_proxy", &decoy.url()),
        ],
        dir.path().join("stderr.log"),
    );
    let s = wait_synced(exporter.addr).await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    let s = wait_for_samples(exporter.addr, "remote write pushed", |s| {
        value(s, "peloton_remote_write_samples_total") > Some(0.0)
    })
    .await;
    let metrics = reqwest::get(format!("http://{}/metrics", exporter.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let logs = exporter.stop();
    assert!(logs.lines().count() > 20, "trace logs were captured");
    let seen = proxy.log();
    for connect in peloton.connects() {
        assert!(seen.contains(&connect), "{connect} not in {seen:?}");
    }
    assert!(
        seen.iter().all(|l| l.ends_with("authorized=true")),
        "every request carried the flag's credentials: {seen:?}"
    );
    assert!(decoy.log().is_empty(), "the environment's proxy was used");
    assert!(pushes.load(Ordering::SeqCst) > 0);
    assert!(
        !seen.iter().any(|l| l.contains(&receiver.to_string())),
        "remote write went through Peloton's proxy: {seen:?}"
    );
    assert!(value(&s, "peloton_remote_write_failures_total") == Some(0.0));
    assert_no_proxy_secret(&logs);
    assert_no_proxy_secret(&metrics);
}

/// NO_PROXY still applies with `--peloton.proxy-url`: listed hosts are reached directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_applies_to_the_proxy_flag() {
    let pki = pki();
    let peloton = TlsPeloton::start(&pki).await;
    let proxy = Proxy::start(None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = peloton.args(dir.path(), free_port());
    args.push(format!(
        "--peloton.ca-file={}",
        ca_file(dir.path(), &pki).display()
    ));
    args.push(format!("--peloton.proxy-url={}", proxy.url()));
    let exporter = ExporterProcess::spawn(
        &args,
        &[("NO_PROXY", "example.invalid, 127.0.0.1")],
        dir.path().join("stderr.log"),
    );
    let s = wait_synced(exporter.addr).await;
    assert_eq!(value(&s, "peloton_up"), Some(1.0));
    let logs = exporter.stop();
    assert!(proxy.log().is_empty(), "{:?}\n{logs}", proxy.log());
}

/// Without `--peloton.ca-file` the proxy's TLS certificate is not trusted: a clear error
/// that names the way out, `peloton_up 0`, the process keeps running, no panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_ca_file_tls_fails_clearly() {
    let pki = pki();
    let peloton = TlsPeloton::start(&pki).await;
    let proxy = Proxy::start(Some((PROXY_USER, PROXY_PASSWORD))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut args = peloton.args(dir.path(), free_port());
    args.push(format!("--peloton.proxy-url={}", proxy.url_with_password()));
    args.push("--log.level=debug".to_owned());
    let exporter = ExporterProcess::spawn(&args, &[], dir.path().join("stderr.log"));
    // The token refresh says it first, then the poll that could not sign in.
    let hint = "trust its CA with --peloton.ca-file";
    eventually(
        Duration::from_secs(60),
        "a failed poll with the TLS error in the log",
        || async {
            exporter
                .logs()
                .lines()
                .any(|l| l.contains("poll failed") && l.contains(hint))
                .then_some(())
        },
    )
    .await;
    let s = wait_for_samples(exporter.addr, "peloton_up", |s| {
        value(s, "peloton_up").is_some()
    })
    .await;
    assert_eq!(value(&s, "peloton_up"), Some(0.0));
    let logs = exporter.stop();
    for line in logs.lines().filter(|l| l.contains(hint)) {
        assert!(
            line.contains("invalid peer certificate: UnknownIssuer"),
            "{line}"
        );
    }
    assert!(
        proxy.log().contains(&peloton.connects()[1]),
        "the token request went through the proxy: {:?}",
        proxy.log()
    );
    assert_no_proxy_secret(&logs);
}

/// The CA bundle is re-read on SIGHUP: trusting the wrong CA fails every poll; putting
/// the right one in the file and reloading brings the account up without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_trusts_a_new_ca_bundle() {
    let other = pki();
    let pki = pki();
    let peloton = TlsPeloton::start(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = ca_file(dir.path(), &other);
    let mut args = peloton.args(dir.path(), free_port());
    args.push(format!("--peloton.ca-file={}", ca.display()));
    let exporter = ExporterProcess::spawn(&args, &[], dir.path().join("stderr.log"));
    wait_for_samples(exporter.addr, "peloton_up 0", |s| {
        value(s, "peloton_up") == Some(0.0)
    })
    .await;
    std::fs::write(&ca, &pki.ca).unwrap();
    exporter.hangup();
    let s = wait_synced(exporter.addr).await;
    assert_eq!(
        value(&s, "peloton_config_last_reload_successful"),
        Some(1.0)
    );
    let logs = exporter.stop();
    assert!(logs.contains("invalid peer certificate"), "{logs}");
    assert!(logs.contains("configuration reloaded"), "{logs}");
}

/// Bad values stop start-up with one line naming the flag, never quoting a password.
#[test]
fn bad_proxy_or_ca_file_stops_start_up_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let no_cert = dir.path().join("key-only.pem");
    std::fs::write(
        &no_cert,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBWwk7mWjE1IYmYDS14yy+BflN7YjdDUtY5qOqyaZ6JZ\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    let base = [
        "--peloton.refresh-token=r".to_owned(),
        format!("--storage.path={}", dir.path().display()),
        "--web.listen-address=127.0.0.1:0".to_owned(),
    ];
    for (extra, flag) in [
        (
            format!("--peloton.proxy-url=socks5://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:1080"),
            "--peloton.proxy-url",
        ),
        (
            format!("--peloton.proxy-url={PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:3128"),
            "--peloton.proxy-url",
        ),
        (
            format!("--peloton.ca-file={}", missing.display()),
            "--peloton.ca-file",
        ),
        (
            format!("--peloton.ca-file={}", no_cert.display()),
            "--peloton.ca-file",
        ),
    ] {
        let out = Command::new(BIN)
            .args(&base)
            .arg(&extra)
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(flag), "{err}");
        assert!(!err.contains(PROXY_PASSWORD), "{err}");
    }
}

/// A remote-write receiver that accepts everything and counts the requests.
async fn remote_write_receiver() -> (SocketAddr, Arc<AtomicU64>) {
    let pushes = Arc::new(AtomicU64::new(0));
    let counted = pushes.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, pushes)
}
