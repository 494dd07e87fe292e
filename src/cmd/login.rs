//! `peloton-exporter login`: signs in once with email and password (asked for on the
//! terminal when not configured, the password without echo; read from stdin lines when
//! stdin is not a terminal), stores the tokens in the account's database under
//! `--storage.path`, and says how to start the exporter with them.
//!
//! Accounts that need an extra verification step sign in with a browser instead:
//! `login --browser` prints an authorize URL and keeps the PKCE verifier in the database;
//! `login --callback-url URL` exchanges the code of the address the browser landed on.

use std::fmt::Write as _;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::json;
use url::Url;

use crate::peloton::client::parse_profile;
use crate::peloton::jwt;
use crate::peloton::login::{self, Callback, LoginError, Pkce, SignedIn, Signer};
use crate::peloton::wire::{self, send};
use crate::secret::Secret;
use crate::settings::flags::LoginArgs;
use crate::settings::resolved::Settings;
use crate::state::labels::Endpoint;
use crate::state::telemetry::Telemetry;
use crate::store::database::Store;
use crate::store::stored_tokens::StoredTokens;
use crate::store::token_store::TokenStore;

/// Where `login --browser` keeps its verifier until `--callback-url` comes.
const PENDING_KEY: &str = "pending_browser_login";
/// Auth0 codes live minutes; a browser sign-in started longer ago than this is stale.
const PENDING_TTL: Duration = Duration::from_secs(60 * 60);

pub async fn run(settings: &Settings, args: &LoginArgs) -> anyhow::Result<()> {
    let [account] = settings.accounts.as_slice() else {
        bail!(
            "login signs in one account: run it once per account without --config.file, with --storage.path <storage>/<name>"
        );
    };
    if account.name.is_some() {
        bail!(
            "login signs in one account: run it without --config.file, with --storage.path <storage>/<name>"
        );
    }
    let storage = account.storage_path.clone();
    let (store, _) = crate::run::accounts::open_store(&storage)?;
    let store = Arc::new(store);
    let tokens = TokenStore::new(store.clone(), &storage);
    let signer = Signer::with_transport(
        &settings.peloton.auth_url,
        settings.peloton.timeout,
        &settings.peloton.transport,
    )?
    .with_client(settings.peloton.auth0.clone());
    let telemetry = Telemetry::default();

    let signed_in = if let Some(pasted) = &args.callback_url {
        finish_browser(&store, &signer, pasted, &telemetry).await?
    } else if args.browser {
        start_browser(&store, settings)?;
        return Ok(());
    } else {
        let username = match &account.username {
            Some(u) => u.clone(),
            None => ask_username()?,
        };
        let password = match &account.password {
            Some(p) => p.clone(),
            None => ask_password()?,
        };
        match signer.sign_in(&username, &password, &telemetry).await {
            Ok(s) => s,
            Err(LoginError::VerificationRequired) => {
                start_browser(&store, settings)?;
                bail!(
                    "the account needs an extra verification step (email code or MFA) that a headless sign-in cannot complete: follow the browser steps above"
                );
            }
            // A person can answer a captcha or convince bot detection; a script cannot.
            Err(e @ (LoginError::Captcha { .. } | LoginError::BotCheck { .. })) => {
                start_browser(&store, settings)?;
                bail!("{e}; the browser steps are above");
            }
            Err(LoginError::WrongPassword) => bail!(
                "wrong email or password: Peloton rejected the sign-in. Check them at https://members.onepeloton.com and run `peloton-exporter login` again"
            ),
            Err(e) => return Err(anyhow!(e)),
        }
    };

    let expires_at = jwt::claims(signed_in.access_token.expose())
        .and_then(|c| c.exp)
        .or_else(|| signed_in.expires_in.map(|s| crate::clock::now_unix() + s));
    tokens
        .save(&StoredTokens {
            refresh_token: signed_in.refresh_token.clone(),
            access_token: Some(signed_in.access_token.clone()),
            access_token_expires_at: expires_at,
        })
        .context("cannot store the tokens")?;
    let who = whoami(settings, &signed_in).await;
    print_success(settings, &storage, store.path(), who.as_deref())
}

fn ask_username() -> anyhow::Result<Secret> {
    let line = if std::io::stdin().is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(b"Peloton email or username: ");
        let _ = err.flush();
        drop(err);
        read_line()?
    } else {
        read_line()?
    };
    let line = line.trim();
    if line.is_empty() {
        bail!("no username given: type it, or set --peloton.username");
    }
    Ok(Secret::new(line))
}

fn ask_password() -> anyhow::Result<Secret> {
    let password = if std::io::stdin().is_terminal() {
        super::hidden_input::prompt_hidden("Peloton password (not shown): ")
            .context("cannot read the password from the terminal")?
    } else {
        read_line()?
    };
    if password.is_empty() {
        bail!("no password given: type it, or set --peloton.password-file");
    }
    Ok(Secret::new(password))
}

/// One line of stdin without its line end; an error at end of input.
fn read_line() -> anyhow::Result<String> {
    let mut line = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read stdin")?;
    if n == 0 {
        bail!(
            "stdin ended before the username/password: pipe them one per line, or set --peloton.username and --peloton.password-file"
        );
    }
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

/// Prints an address to sign in at with a browser and keeps its verifier for
/// `--callback-url`.
fn start_browser(store: &Store, settings: &Settings) -> anyhow::Result<()> {
    let pkce = Pkce::new()?;
    let url = login::authorize_url(&settings.peloton.auth_url, &settings.peloton.auth0, &pkce)?;
    let pending = json!({
        "verifier": pkce.verifier.expose(),
        "state": pkce.state,
        "created_at": crate::clock::now_unix(),
    });
    store
        .set_meta(PENDING_KEY, &pending.to_string())
        .context("cannot keep the browser sign-in's verifier")?;
    let again = command_line("login ", settings, &storage_hint(settings));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Sign in with a browser, where Peloton can ask for the extra verification:\n\n\
         1. Open this address and sign in:\n\n   {url}\n\n\
         2. The browser ends on {}?code=… (the page may show an error: that is fine).\n   \
            Copy that whole address from the address bar at once; the code expires within minutes.\n\n\
         3. Finish here with:\n\n   {again} --callback-url '<the address>'\n",
        settings.peloton.auth0.redirect_uri
    );
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("stdout")?;
    Ok(())
}

async fn finish_browser(
    store: &Store,
    signer: &Signer,
    pasted: &str,
    telemetry: &Telemetry,
) -> anyhow::Result<SignedIn> {
    let pasted = if pasted == "-" {
        read_line()?
    } else {
        pasted.to_owned()
    };
    let url = Url::parse(pasted.trim()).map_err(|_| {
        anyhow!(
            "--callback-url: not an address; paste the whole https://members.onepeloton.com/callback?code=… address, in quotes"
        )
    })?;
    let pending = store
        .meta(PENDING_KEY)?
        .filter(|v| !v.is_empty())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok());
    let Some(pending) = pending else {
        bail!(
            "--callback-url: no browser sign-in was started for this --storage.path; run `peloton-exporter login --browser` first"
        );
    };
    let field = |k: &str| {
        pending
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let created = pending
        .get("created_at")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    if crate::clock::now_unix() - created > PENDING_TTL.as_secs() as i64 {
        bail!(
            "--callback-url: the browser sign-in was started more than an hour ago; run `peloton-exporter login --browser` again"
        );
    }
    let (verifier, state) = (Secret::new(field("verifier")), field("state"));
    let code = match login::parse_callback(&url, &state) {
        Callback::Code(code) => code,
        Callback::Error(LoginError::PagesChanged { .. }) => bail!(
            "--callback-url: this address does not belong to the last `login --browser` (its state differs, or it has no code); paste the address of that sign-in, or start again"
        ),
        Callback::Error(e) => return Err(anyhow!(e)),
    };
    let signed_in = signer.exchange_code(&code, &verifier, telemetry).await?;
    store.set_meta(PENDING_KEY, "")?;
    Ok(signed_in)
}

/// The member's username, to show whose tokens were stored (`None` if the API says no).
async fn whoami(settings: &Settings, signed_in: &SignedIn) -> Option<String> {
    let http = wire::http_client(
        settings.peloton.timeout,
        Duration::from_secs(10),
        &settings.peloton.transport,
    )
    .ok()?;
    let url = settings.peloton.api_url.join("/api/me").ok()?;
    let request = http.get(url).bearer_auth(signed_in.access_token.expose());
    let telemetry = Telemetry::default();
    match send(request, Endpoint::Me, &telemetry).await {
        Ok(body) => parse_profile(&body)
            .ok()
            .map(|p| p.username.unwrap_or(p.user_id)),
        Err(e) => {
            crate::cmd::console::note(format_args!(
                "warning: signed in, but Peloton's API did not accept the token yet: {e}"
            ));
            None
        }
    }
}

fn print_success(
    settings: &Settings,
    storage: &Path,
    db: &Path,
    who: Option<&str>,
) -> anyhow::Result<()> {
    let who = who.map(|w| format!(" as {w}")).unwrap_or_default();
    let storage = std::fs::canonicalize(storage).unwrap_or_else(|_| storage.to_owned());
    let mut out = String::new();
    if settings.demo {
        // The demo's Peloton ran inside this command, on ports that closed with it, and its
        // temporary storage is gone too: only a new demo can use the demo member.
        let _ = writeln!(
            out,
            "Signed in{who} on the demo's fake Peloton, which stopped with this command.\n\
             Run the exporter on the demo member (it signs in by itself):\n\n   peloton-exporter --demo\n\n\
             For your own account: peloton-exporter login --storage.path DIR (docs/login.md)."
        );
        std::io::stdout()
            .lock()
            .write_all(out.as_bytes())
            .context("stdout")?;
        return Ok(());
    }
    let _ = writeln!(
        out,
        "Signed in{who}. The tokens are stored in {} (readable by you only).\n\
         Start the exporter with the same storage path; it renews the tokens itself and needs no password:\n\n   {}\n",
        db.display(),
        command_line("", settings, &storage)
    );
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("stdout")?;
    Ok(())
}

/// `peloton-exporter [subcommand ]--storage.path DIR` plus the URL flags when they are not
/// Peloton's.
fn command_line(subcommand: &str, settings: &Settings, storage: &Path) -> String {
    let mut line = format!(
        "peloton-exporter {subcommand}--storage.path {}",
        shell_quote(&storage.display().to_string())
    );
    for (flag, url, default) in [
        (
            "--peloton.api-url",
            &settings.peloton.api_url,
            "https://api.onepeloton.com/",
        ),
        (
            "--peloton.auth-url",
            &settings.peloton.auth_url,
            "https://auth.onepeloton.com/",
        ),
    ] {
        if url.as_str() != default {
            let _ = write!(line, " {flag} {}", shell_quote(url.as_str()));
        }
    }
    line
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The account's storage directory, absolute when it exists.
fn storage_hint(settings: &Settings) -> PathBuf {
    settings.accounts.first().map_or_else(
        || settings.storage_path.clone(),
        |a| std::fs::canonicalize(&a.storage_path).unwrap_or_else(|_| a.storage_path.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/var/lib/peloton"), "/var/lib/peloton");
        assert_eq!(shell_quote("/my dir/it's"), r"'/my dir/it'\''s'");
    }
}
