//! `peloton-exporter check-config`: everything start-up validates (flags, the config file,
//! secret files, the web config), without opening the store or contacting Peloton, and a
//! summary of what would run. GitOps pipelines run it before rolling out a change.

use std::io::Write;
use std::path::Path;

use crate::http::web_config::LiveWebConfig;
use crate::metrics::collectors::GROUPS;
use crate::peloton::transport::redact;
use crate::run;
use crate::secret::Secret;
use crate::settings::resolved::{AccountSettings, Settings};

/// Validates what `cli.settings()` could not (the web config) and writes the summary.
pub fn run(settings: &Settings, out: &mut impl Write) -> anyhow::Result<()> {
    let web = match &settings.http.web_config_file {
        Some(path) => Some(
            LiveWebConfig::load(path)
                .map_err(|e| anyhow::anyhow!("--web.config.file: {}: {e}", path.display()))?,
        ),
        None => None,
    };
    for account in &settings.accounts {
        check_storage(&account.storage_path)?;
        // The demo signs in to its own fake.
        check_credentials(account, settings.demo)?;
    }
    writeln!(out, "configuration is valid; the exporter would run with:")?;
    let field = |out: &mut dyn Write, name: &str, value: &dyn std::fmt::Display| {
        writeln!(out, "  {name:<22} {value}")
    };
    field(out, "listen address", &settings.http.listen_address)?;
    field(out, "telemetry path", &settings.http.telemetry_path)?;
    let web_summary = match &web {
        Some(w) => {
            let c = w.current();
            format!(
                "{} (TLS {}, basic auth {})",
                w.path().display(),
                on_off(c.tls().is_some()),
                on_off(c.requires_auth())
            )
        }
        None => "none (plain HTTP, no auth)".to_owned(),
    };
    field(out, "web config", &web_summary)?;
    if let Some(w) = &web {
        for warning in w
            .current()
            .certificate_warnings(settings.http.listen_address)
        {
            writeln!(out, "  warning: web config certificate: {warning}")?;
        }
    }
    field(
        out,
        "lifecycle API",
        &if settings.http.enable_lifecycle {
            "on (POST /-/reload)"
        } else {
            "off (reload with SIGHUP)"
        },
    )?;
    let peloton = &settings.peloton;
    if settings.demo {
        // The demo replaces both URLs with its own fake's, on a port picked at start.
        let fake = "the demo's fake Peloton, http://127.0.0.1:<a free port>/ (--demo)";
        field(out, "Peloton API", &fake)?;
        field(out, "Peloton auth", &fake)?;
    } else {
        field(out, "Peloton API", &peloton.api_url)?;
        field(out, "Peloton auth", &peloton.auth_url)?;
    }
    let a = &peloton.auth0;
    field(
        out,
        "Auth0 client",
        &format!(
            "client id {}, audience {}, scope \"{}\", redirect URI {}",
            a.client_id, a.audience, a.scope, a.redirect_uri
        ),
    )?;
    let proxy = match &peloton.transport.proxy {
        Some(p) => format!("{p} (--peloton.proxy-url; NO_PROXY applies)"),
        None => "from HTTPS_PROXY / HTTP_PROXY / NO_PROXY, if set".to_owned(),
    };
    field(out, "proxy", &proxy)?;
    let ca = match &peloton.transport.ca {
        Some(ca) => format!(
            "system roots + {} certificate(s) from {}",
            ca.len(),
            ca.path().display()
        ),
        None => "system roots".to_owned(),
    };
    field(out, "trusted CAs", &ca)?;
    field(
        out,
        "poll interval",
        &humantime::format_duration(settings.poll.interval),
    )?;
    field(
        out,
        "profile interval",
        &humantime::format_duration(settings.poll.profile_interval),
    )?;
    field(
        out,
        "request rate",
        &format!("{} per second at most", settings.poll.max_request_rate),
    )?;
    field(
        out,
        "timeout, retries",
        &format!(
            "{}, {} (first after {})",
            humantime::format_duration(peloton.timeout),
            peloton.retry.max_retries,
            humantime::format_duration(peloton.retry.retry_backoff)
        ),
    )?;
    let collectors: Vec<String> = GROUPS
        .iter()
        .map(|g| {
            format!(
                "{} {}",
                g.name,
                on_off(settings.collectors.is_enabled(g.collector))
            )
        })
        .collect();
    field(out, "collectors", &collectors.join(", "))?;
    let remote = match &settings.remote_write.url {
        Some(url) => redact(url),
        None => "off".to_owned(),
    };
    field(out, "remote write", &remote)?;
    field(out, "demo", &on_off(settings.demo))?;
    writeln!(out, "  accounts ({}):", settings.accounts.len())?;
    for account in &settings.accounts {
        writeln!(out, "    {}", account_line(account))?;
    }
    Ok(())
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn account_line(a: &AccountSettings) -> String {
    let shown = |s: &Option<Secret>| if s.is_some() { "***" } else { "-" };
    format!(
        "{}: refresh token {}, access token {}, sign-in {}, storage {}",
        a.name.as_deref().unwrap_or("(flags)"),
        shown(&a.refresh_token),
        shown(&a.access_token),
        if a.username.is_some() && a.password.is_some() {
            "*** / ***"
        } else {
            "-"
        },
        a.storage_path.display()
    )
}

/// Start-up's own checks of the credentials (the demo signs in to its own fake).
fn check_credentials(a: &AccountSettings, demo: bool) -> anyhow::Result<()> {
    if demo {
        return Ok(());
    }
    run::accounts::check_credentials(a)
}

/// The exporter creates the directory; what exists there must be a directory.
fn check_storage(path: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_dir() => Err(anyhow::anyhow!(
            "--storage.path: {} is not a directory",
            path.display()
        )),
        _ => Ok(()),
    }
}
