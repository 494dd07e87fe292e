//! The web config in force while the server runs: re-read on a timer, a changed valid
//! version swapped in, an invalid or weakening one logged once and refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use super::config::WebConfig;
use super::error::{WebConfigError, err};
use super::parse::load;
use super::reload_guard::weakens;
use super::source::Loader;
use crate::http::basic_auth::FailureLimiter;

/// How often the file (and the certificates it names) is checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// The web config in force, replaced when the file changes.
pub struct LiveWebConfig {
    path: PathBuf,
    current: RwLock<(Arc<WebConfig>, [u8; 32])>,
    /// Fingerprint of the last version refused, so a broken file is logged once.
    refused: Mutex<Option<[u8; 32]>>,
    /// Per client address budget of password checks; it outlives versions of the file.
    pub(super) limiter: FailureLimiter,
    /// Where the server listens, once it does: the certificate should name it.
    listen: Mutex<Option<SocketAddr>>,
}

impl std::fmt::Debug for LiveWebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveWebConfig")
            .field("path", &self.path)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl LiveWebConfig {
    /// Loads and validates the file; errors name the field at fault.
    pub fn load(path: &Path) -> Result<LiveWebConfig, WebConfigError> {
        let mut loader = Loader::default();
        let config = load(&mut loader, path)?;
        Ok(LiveWebConfig {
            path: path.to_owned(),
            current: RwLock::new((Arc::new(config), loader.finish())),
            refused: Mutex::new(None),
            limiter: FailureLimiter::default(),
            listen: Mutex::new(None),
        })
    }

    /// Records the listen address and warns about the served certificate (expired,
    /// expiring, or not naming it); the same check runs after each reload. It only
    /// warns: a certificate about to expire still serves better than none.
    pub fn listening_on(&self, addr: SocketAddr) {
        *self.listen.lock().unwrap_or_else(PoisonError::into_inner) = Some(addr);
        self.warn_about_certificate();
    }

    /// The warnings about the served certificate, each also logged.
    pub fn warn_about_certificate(&self) -> Vec<String> {
        let Some(addr) = *self.listen.lock().unwrap_or_else(PoisonError::into_inner) else {
            return Vec::new();
        };
        let warnings = self.current().certificate_warnings(addr);
        for w in &warnings {
            tracing::warn!(path = %self.path.display(), "web config certificate: {w}");
        }
        warnings
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn current(&self) -> Arc<WebConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .clone()
    }

    /// Re-reads the file. `Ok(true)` when a changed version is now in force, `Ok(false)`
    /// when nothing changed; an error leaves the running version in force.
    pub fn reload(&self) -> Result<bool, WebConfigError> {
        self.reload_fingerprinted().0
    }

    fn reload_fingerprinted(&self) -> (Result<bool, WebConfigError>, [u8; 32]) {
        let mut loader = Loader::default();
        let result = load(&mut loader, &self.path);
        let fingerprint = loader.finish();
        if self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            == fingerprint
        {
            return (Ok(false), fingerprint);
        }
        let config = match result {
            Ok(c) => c,
            Err(e) => return (Err(e), fingerprint),
        };
        if let Some(why) = weakens(&config, &self.current()) {
            return (Err(err(why)), fingerprint);
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) =
            (Arc::new(config), fingerprint);
        self.warn_about_certificate();
        (Ok(true), fingerprint)
    }

    /// Reloads every `every` until `shutdown` turns true, logging what changed or why a
    /// new version was refused (once per version). `report` hears after each look whether
    /// the file on disk is the version in force (`false`: it was refused).
    pub async fn watch(
        self: Arc<Self>,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
        report: impl Fn(bool) + Send + Sync + 'static,
    ) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            let this = Arc::clone(&self);
            let result = tokio::task::spawn_blocking(move || this.reload_fingerprinted()).await;
            let Ok((result, fingerprint)) = result else {
                continue;
            };
            report(result.is_ok());
            let mut refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
            match result {
                Ok(true) => {
                    *refused = None;
                    let c = self.current();
                    tracing::info!(
                        path = %self.path.display(),
                        tls = c.tls.is_some(),
                        basic_auth = c.requires_auth(),
                        "web config reloaded"
                    );
                }
                Ok(false) => {}
                Err(e) => {
                    if *refused != Some(fingerprint) {
                        *refused = Some(fingerprint);
                        tracing::error!(
                            path = %self.path.display(),
                            error = %e,
                            "invalid web config; keeping the running one"
                        );
                    }
                }
            }
        }
    }
}
