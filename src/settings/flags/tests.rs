use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::metrics::collectors::{Collector, Collectors, GROUPS};
use crate::settings::poll::DEMO_POLL_INTERVAL;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::parse_args(std::iter::once("peloton-exporter").chain(args.iter().copied()))
}

#[test]
fn defaults() {
    let s = parse(&["--peloton.refresh-token", "r"])
        .unwrap()
        .settings()
        .unwrap();
    assert_eq!(s.http.listen_address.to_string(), "0.0.0.0:10058");
    assert_eq!(s.http.telemetry_path, "/metrics");
    assert_eq!(s.peloton.api_url.as_str(), "https://api.onepeloton.com/");
    assert_eq!(s.peloton.auth_url.as_str(), "https://auth.onepeloton.com/");
    assert_eq!(s.poll.interval, Duration::from_secs(300));
    assert_eq!(s.storage_path, PathBuf::from("data"));
}

#[test]
fn collector_switches_default_on_and_the_last_flag_wins() {
    let collectors = |args: &[&str]| {
        let mut all = vec!["--peloton.refresh-token", "r"];
        all.extend_from_slice(args);
        parse(&all).unwrap().settings().unwrap().collectors
    };
    let on = |c: &Collectors| -> Vec<bool> {
        GROUPS.iter().map(|g| c.is_enabled(g.collector)).collect()
    };
    assert_eq!(on(&collectors(&[])), [true; 5]);
    assert_eq!(
        on(&collectors(&["--no-collector.monthly"])),
        [true, false, true, true, true]
    );
    assert_eq!(
        on(&collectors(&[
            "--collector.latest-workout=false",
            "--no-collector.instructor",
            "--collector.instructor"
        ])),
        [true, true, false, true, true]
    );
    assert_eq!(
        on(&collectors(&[
            "--collector.personal-records",
            "--no-collector.personal-records"
        ])),
        [true, true, true, false, true]
    );
    assert_eq!(
        on(&collectors(&["--no-collector.challenges"])),
        [true, true, true, true, false]
    );
    // A bare switch before a subcommand takes no value from it.
    let cli = parse(&["--collector.monthly", "check-config"]).unwrap();
    assert!(matches!(cli.command, Some(Command::CheckConfig)));
    let err = parse(&["--collector.monthly=maybe"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("--collector.monthly"), "{err}");
}

fn help(args: &[&str]) -> String {
    let err = parse(args).unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
    err.to_string()
}

#[test]
fn help_is_in_sections_and_each_subcommand_shows_only_its_flags() {
    let root = help(&["--help"]);
    for heading in [
        "Web:",
        "Peloton:",
        "Polling:",
        "Storage:",
        "History:",
        "Collectors:",
        "Logging:",
        "Advanced:",
    ] {
        assert!(root.lines().any(|l| l == heading), "{heading} in {root}");
    }
    let server_only = ["--web.", "--remote-write.", "--poll."];
    for (sub, absent, present) in [
        (
            "export",
            &["--web.", "--remote-write.", "--poll.", "collector."][..],
            &[
                "--peloton.api-url",
                "--storage.path",
                "--log.level",
                "--out",
            ][..],
        ),
        (
            "backfill",
            &server_only[..],
            &[
                "--collector.monthly",
                "--peloton.max-request-rate",
                "--from",
            ][..],
        ),
        (
            "login",
            &["--web.", "--peloton.refresh-token", "collector.", "--poll."][..],
            &["--peloton.username", "--storage.path", "--browser"][..],
        ),
        (
            "check-config",
            &[][..],
            &["--web.listen-address", "--poll.interval"][..],
        ),
    ] {
        let text = help(&[sub, "--help"]);
        for flag in absent {
            let shown = text.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with(flag)
                    || l.starts_with(&format!("--{flag}"))
                    || l.starts_with(&format!("--no-{flag}"))
            });
            assert!(!shown, "`{sub} --help` shows {flag}: {text}");
        }
        for flag in present {
            assert!(text.contains(flag), "`{sub} --help` lacks {flag}: {text}");
        }
    }
    // A flag a subcommand does not read is refused there, naming the subcommand; the
    // server's variables do not matter to it.
    let err = parse(&["export", "--web.listen-address=127.0.0.1:1"]).unwrap_err();
    assert!(
        err.to_string().contains("`export` does not use it"),
        "{err}"
    );
    let err = parse(&["export", "--no-collector.monthly"]).unwrap_err();
    assert!(
        err.to_string().contains("`export` does not use it"),
        "{err}"
    );
    let err = parse(&["login", "--web.enable-lifecycle"]).unwrap_err();
    assert!(err.to_string().contains("`login` does not use it"), "{err}");
    let cli = parse(&["backfill", "--out", "-", "--no-collector.monthly"]).unwrap();
    assert!(!cli.collectors.collectors().is_enabled(Collector::Monthly));
    let cli = parse(&["check-config", "--web.listen-address=127.0.0.1:1"]).unwrap();
    assert_eq!(cli.http.listen_address.to_string(), "127.0.0.1:1");
}

#[test]
fn help_prints_env_then_default_on_every_flag() {
    let mut texts = vec![help(&["--help"])];
    for sub in ["export", "backfill", "login", "check-config"] {
        texts.push(help(&[sub, "--help"]));
    }
    let cmd = Cli::clap_command();
    let mut long = cmd.clone();
    texts.push(long.render_long_help().to_string());
    for text in texts {
        // clap wraps long lines; a flag's help is one paragraph.
        let joined = text.replace("\n          ", " ");
        for line in joined.lines() {
            if let (Some(env), Some(default)) = (line.find("[env:"), line.find("[default:")) {
                assert!(env < default, "default before env: {line}");
            }
        }
    }
    for arg in cmd.get_arguments() {
        let Some(env) = arg.get_env() else { continue };
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        if arg.is_hide_env_set() {
            let name = env.to_string_lossy();
            assert!(help.contains(&format!("[env: {name}=]")), "{help}");
        }
        if help.contains("[default:") {
            assert!(
                arg.is_hide_env_set(),
                "{}: a written default needs the env written first",
                arg.get_id()
            );
        }
    }
}

#[test]
fn repeatable_flags_still_accumulate() {
    let cli = parse(&[
        "--remote-write.label=job=peloton-exporter",
        "--remote-write.label=env=home",
        "--poll.interval=1m",
        "--poll.interval=2m",
    ])
    .unwrap();
    assert_eq!(cli.remote_write.labels.len(), 2);
    assert_eq!(
        cli.settings().unwrap().poll.interval,
        Duration::from_secs(120)
    );
}

#[test]
fn bad_values_name_the_flag() {
    for (args, flag) in [
        (&["--poll.interval", "soon"][..], "--poll.interval"),
        (&["--peloton.api-url", "not a url"][..], "--peloton.api-url"),
        (&["--peloton.auth-url", "ftp://x"][..], "--peloton.auth-url"),
        (
            &["--web.listen-address", "nowhere"][..],
            "--web.listen-address",
        ),
        (
            &["--web.telemetry-path", "metrics"][..],
            "--web.telemetry-path",
        ),
        (&["--log.format", "xml"][..], "--log.format"),
    ] {
        let err = parse(args).unwrap_err().to_string();
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn secret_files_are_read_and_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("rt");
    std::fs::write(&f, "token-value\n").unwrap();
    let s = parse(&["--peloton.refresh-token-file", f.to_str().unwrap()])
        .unwrap()
        .settings()
        .unwrap();
    assert_eq!(
        s.accounts[0].refresh_token.as_ref().unwrap().expose(),
        "token-value"
    );
}

#[test]
fn unreadable_or_empty_secret_file_names_the_flag_not_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let err = parse(&["--peloton.access-token-file", missing.to_str().unwrap()])
        .unwrap()
        .settings()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--peloton.access-token-file:"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let err = parse(&["--peloton.refresh-token-file", empty.to_str().unwrap()])
        .unwrap()
        .settings()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("--peloton.refresh-token-file") && err.contains("empty"),
        "{err}"
    );
}

#[test]
fn token_and_token_file_conflict() {
    let err = parse(&[
        "--peloton.access-token",
        "a",
        "--peloton.access-token-file",
        "/x",
    ])
    .unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
}

#[test]
fn help_never_shows_secret_env_values() {
    // SAFETY of the test: env is process-global; this test only reads the rendered help.
    let help = {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        cmd.render_long_help().to_string()
    };
    assert!(help.contains("PELOTON_REFRESH_TOKEN"));
    let arg = <Cli as clap::CommandFactory>::command()
        .get_arguments()
        .filter(|a| {
            matches!(
                a.get_id().as_str(),
                "access_token" | "refresh_token" | "username" | "password"
            )
        })
        .all(clap::Arg::is_hide_env_values_set);
    assert!(arg);
}

#[test]
fn demo_defaults() {
    let s = parse(&["--demo"]).unwrap().settings().unwrap();
    assert_eq!(s.poll.interval, DEMO_POLL_INTERVAL);
    assert!(s.storage_path.starts_with(std::env::temp_dir()));
}

#[test]
fn username_and_password_go_together() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pw");
    std::fs::write(&f, " spaced secret-pw \nignored\n").unwrap();
    let s = parse(&[
        "--peloton.username",
        " me@example.com ",
        "--peloton.password-file",
        f.to_str().unwrap(),
    ])
    .unwrap()
    .settings()
    .unwrap();
    let a = &s.accounts[0];
    assert_eq!(a.username.as_ref().unwrap().expose(), "me@example.com");
    assert_eq!(a.password.as_ref().unwrap().expose(), " spaced secret-pw ");

    let err = parse(&["--peloton.username", "me"])
        .unwrap()
        .settings()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--peloton.username:"), "{err}");
    let err = parse(&["--peloton.password", "secret-pw"])
        .unwrap()
        .settings()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--peloton.password:") && !err.contains("secret-pw"));
    // `login` asks for the password itself.
    let s = parse(&["login", "--peloton.username", "me"])
        .unwrap()
        .settings()
        .unwrap();
    assert!(s.accounts[0].password.is_none());
    assert!(
        parse(&["--peloton.password", "a", "--peloton.password-file", "/x"]).is_err(),
        "flag and file conflict"
    );
}

#[test]
fn proxy_url_is_checked_named_and_never_shown() {
    let pw = "proxy-secret-9e1f";
    for bad in [
        format!("socks5://u:{pw}@proxy:1080"),
        format!("u:{pw}@proxy:3128"),
        format!("http://u:{pw}@proxy:3128/some/path"),
        format!("http://u:{pw} @"),
    ] {
        let cli = parse(&["--peloton.refresh-token", "r", "--peloton.proxy-url", &bad]).unwrap();
        assert!(!format!("{cli:?}").contains(pw));
        let err = cli.settings().unwrap_err().to_string();
        assert!(err.starts_with("--peloton.proxy-url: "), "{err}");
        assert!(!err.contains(pw), "{err}");
    }
    let url = format!("https://u:{pw}@proxy.example:8443");
    let cli = parse(&["--peloton.refresh-token", "r", "--peloton.proxy-url", &url]).unwrap();
    let debug = format!("{cli:?}");
    assert!(!debug.contains(pw) && debug.contains("https://***@proxy.example:8443/"));
    let s = cli.settings().unwrap();
    assert!(!format!("{s:?}").contains(pw));
    assert_eq!(
        s.peloton.transport.proxy.unwrap().to_string(),
        "https://***@proxy.example:8443/"
    );
    assert!(
        <Cli as clap::CommandFactory>::command()
            .get_arguments()
            .find(|a| a.get_id() == "proxy_url")
            .is_some_and(clap::Arg::is_hide_env_values_set)
    );
}

#[test]
fn ca_file_must_hold_usable_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let settings = |path: &Path| {
        parse(&[
            "--peloton.refresh-token",
            "r",
            "--peloton.ca-file",
            path.to_str().unwrap(),
        ])
        .unwrap()
        .settings()
    };
    let missing = dir.path().join("missing.pem");
    let key_only = dir.path().join("key.pem");
    std::fs::write(
        &key_only,
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBWwk7mWjE1IYmYDS14yy+BflN7YjdDUtY5qOqyaZ6JZ\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let bad_base64 = dir.path().join("bad.pem");
    std::fs::write(
        &bad_base64,
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let not_a_cert = dir.path().join("garbage.pem");
    std::fs::write(
        &not_a_cert,
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for (path, says) in [
        (&missing, "cannot read"),
        (&key_only, "no certificate"),
        (&bad_base64, "not valid PEM"),
        (&not_a_cert, "certificate 1 is not usable"),
        (&dir.path().to_owned(), "cannot read"),
    ] {
        let err = settings(path).unwrap_err().to_string();
        assert!(err.starts_with("--peloton.ca-file: "), "{err}");
        assert!(err.contains(says), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    // Two certificates, each a CA, plus other PEM blocks that are skipped.
    let ca = |name: &str| {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        rcgen::CertifiedIssuer::self_signed(p, rcgen::KeyPair::generate().unwrap())
            .unwrap()
            .pem()
    };
    let bundle = dir.path().join("bundle.pem");
    let key = std::fs::read_to_string(&key_only).unwrap();
    std::fs::write(&bundle, format!("{}{key}{}", ca("one"), ca("two"))).unwrap();
    let s = settings(&bundle).unwrap();
    let loaded = s.peloton.transport.ca.as_ref().unwrap();
    assert_eq!(loaded.len(), 2);
    crate::peloton::wire::http_client(
        Duration::from_secs(1),
        Duration::from_secs(1),
        &s.peloton.transport,
    )
    .unwrap();
}

/// The long names of the flags that `sub` refuses (hidden there, an error when given).
fn refused(sub: &str) -> Vec<String> {
    let cmd = Cli::clap_command();
    let Some(sub) = cmd.find_subcommand(sub) else {
        panic!("no subcommand {sub}");
    };
    let mut out: Vec<String> = sub
        .get_arguments()
        .filter(|a| a.is_hide_set())
        .filter_map(|a| a.get_long().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[test]
fn each_subcommand_refuses_exactly_the_groups_it_does_not_read() {
    // By namespace, so that a flag added to a group needs no edit here: `--web.*`,
    // `--remote-write.*` and `--poll.*` are the server's alone.
    let server = |long: &str| {
        ["web.", "remote-write.", "poll."]
            .iter()
            .any(|p| long.starts_with(p))
    };
    let collector = |long: &str| GROUPS.iter().any(|g| long == g.flag || long == g.no_flag);
    // `login` signs in with a password and makes requests one at a time, without retries.
    let tokens_and_pacing = |long: &str| {
        long.ends_with("-token")
            || long.ends_with("-token-file")
            || matches!(
                long,
                "peloton.max-retries" | "peloton.retry-backoff" | "peloton.max-request-rate"
            )
    };
    let root = Cli::clap_command();
    let expected = |refuses: &dyn Fn(&str) -> bool| {
        let mut v: Vec<String> = root
            .get_arguments()
            .filter(|a| a.is_global_set())
            .filter_map(|a| a.get_long())
            .filter(|long| refuses(long))
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    assert_eq!(refused("backfill"), expected(&server));
    assert_eq!(
        refused("export"),
        expected(&|l: &str| server(l) || collector(l))
    );
    assert_eq!(
        refused("login"),
        expected(&|l: &str| server(l) || collector(l) || tokens_and_pacing(l))
    );
    assert!(refused("check-config").is_empty());
    // Not vacuous: the namespaces hold flags.
    for long in [
        "web.listen-address",
        "poll.interval",
        "peloton.refresh-token-file",
    ] {
        assert!(refused("login").iter().any(|l| l == long), "{long}");
    }
}

#[test]
fn the_command_line_passes_clap_s_own_checks() {
    Cli::clap_command().debug_assert();
}

#[test]
fn debug_of_flags_and_settings_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "file-password-3c2b\n").unwrap();
    let secrets = [
        "v1.refresh-7f6e",
        "eyJ.access-5d4c",
        "user-a1b2@example.com",
        "proxy-pw-9e8d",
        "remote-pw-0f1e",
        "file-password-3c2b",
    ];
    let cli = parse(&[
        "--peloton.refresh-token=v1.refresh-7f6e",
        "--peloton.access-token=eyJ.access-5d4c",
        "--peloton.username=user-a1b2@example.com",
        &format!("--peloton.password-file={}", file.display()),
        "--peloton.proxy-url=http://u:proxy-pw-9e8d@proxy:3128",
        "--remote-write.url=https://u:remote-pw-0f1e@prom.example/api/v1/write",
    ])
    .unwrap();
    let settings = cli.settings().unwrap();
    let text = format!("{cli:?} {settings:?}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("***"), "{text}");
}

#[test]
fn a_password_keeps_its_spaces_and_a_token_does_not() {
    let s = parse(&[
        "--peloton.refresh-token",
        "  v1.token  ",
        "--peloton.username",
        "me",
        "--peloton.password",
        " pw ",
    ])
    .unwrap()
    .settings()
    .unwrap();
    let a = &s.accounts[0];
    assert_eq!(a.refresh_token.as_ref().unwrap().expose(), "v1.token");
    assert_eq!(a.password.as_ref().unwrap().expose(), " pw ");
    let err = parse(&["--peloton.username", "me", "--peloton.password", ""])
        .unwrap()
        .settings()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--peloton.password: "), "{err}");
}
