//! What a scrape reads: the accounts running now (a reload may swap them), the collector
//! switches, and the outcome of the last configuration load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::HeaderValue;

use crate::exposition::{self, Format};
use crate::metrics::catalogue as c;
use crate::metrics::collectors::Collectors;
use crate::metrics::family::{Def, Family};
use crate::metrics::{self, BuildInfo};
use crate::state::account::AccountState;

#[derive(Debug)]
pub struct Registry {
    accounts: RwLock<Arc<[Arc<AccountState>]>>,
    /// Counts account-set swaps, for the render cache.
    swaps: AtomicU64,
    collectors: Collectors,
    pub reload: ReloadStatus,
    /// Set once the exporter has served data: before a reload swapped the accounts, or
    /// when `/readyz` first said ready.
    was_ready: AtomicBool,
    /// The last body of each format and what it was rendered from. Between polls nothing
    /// changes, so a scrape is a copy of bytes already written: Prometheus, a second
    /// Prometheus and a Grafana agent all scraping cost one render per change.
    cache: Mutex<Rendered>,
    /// Whether scrapes carry `process_*`.
    process: bool,
}

/// `process_*` are read from /proc at most once per this many seconds: the cache key
/// carries the tick, so between ticks scrapes still copy bytes, and a flood of scrapes
/// costs one render per tick. Prometheus scrapes far less often, so each scrape sees
/// fresh values; `rate(process_cpu_seconds_total[1m])` does not notice 5 s.
pub const PROCESS_REFRESH_SECONDS: u64 = 5;

#[derive(Debug, Default)]
struct Rendered {
    key: Vec<u64>,
    /// Classic, OpenMetrics, then each gzipped; each with its length as a header value.
    bodies: [Option<(Bytes, HeaderValue)>; 4],
}

/// What a scrape answers: the body, its content type, and its `Content-Length`, kept with
/// the body so that a scrape between changes allocates nothing for it.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub body: Bytes,
    pub content_type: &'static str,
    pub content_length: HeaderValue,
}

impl Registry {
    pub fn new(accounts: Arc<[Arc<AccountState>]>, collectors: Collectors) -> Self {
        Self {
            accounts: RwLock::new(accounts),
            swaps: AtomicU64::new(0),
            collectors,
            reload: ReloadStatus::loaded_now(),
            was_ready: AtomicBool::new(false),
            cache: Mutex::new(Rendered::default()),
            process: false,
        }
    }

    /// Adds `process_*` to every scrape (the server's registry; tests mostly go without,
    /// so their bodies depend on nothing but what they set).
    pub fn with_process_metrics(mut self) -> Self {
        self.process = true;
        self
    }

    pub fn accounts(&self) -> Arc<[Arc<AccountState>]> {
        self.accounts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Swaps the account set in one step: a scrape sees the old set or the new one.
    pub fn replace_accounts(&self, accounts: Arc<[Arc<AccountState>]>) {
        let mut current = self
            .accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if current.iter().any(|a| a.is_ready()) {
            self.mark_ready();
        }
        *current = accounts;
        self.swaps.fetch_add(1, Ordering::AcqRel);
        drop(current);
    }

    pub fn has_been_ready(&self) -> bool {
        self.was_ready.load(Ordering::Acquire)
    }

    pub fn mark_ready(&self) {
        self.was_ready.store(true, Ordering::Release);
    }

    pub fn collectors(&self) -> &Collectors {
        &self.collectors
    }

    /// The body of a scrape in `format` and its content type, rendered again only when
    /// something it shows has changed.
    pub fn render(&self, format: Format) -> Result<(Bytes, &'static str), RenderError> {
        self.scrape(format, false).map(|s| (s.body, s.content_type))
    }

    /// As `render`, gzipped (Prometheus asks for gzip): compressed once per change too.
    pub fn render_gzip(&self, format: Format) -> Result<(Bytes, &'static str), RenderError> {
        self.scrape(format, true).map(|s| (s.body, s.content_type))
    }

    /// The response to a scrape in `format`, gzipped or not. Between changes this is a
    /// lookup: reference-counted copies of the bytes and the header value, no allocation.
    pub fn scrape(&self, format: Format, gzip: bool) -> Result<Scrape, RenderError> {
        let plain = match format {
            Format::Classic => 0,
            Format::OpenMetrics => 1,
        };
        let slot = if gzip { plain + 2 } else { plain };
        let content_type = exposition::content_type(format);
        let scrape = |(body, content_length): (Bytes, HeaderValue)| Scrape {
            body,
            content_type,
            content_length,
        };
        let accounts = self.accounts();
        // The cached body, if what it was rendered from has not changed since.
        if let Some(hit) = self.cached(slot, |key| {
            key.iter().copied().eq(self.key_parts(&accounts))
        }) {
            return Ok(scrape(hit));
        }
        // Read before the values: a change after this point moves the key on, so a body
        // rendered from newer values is at worst re-rendered once, never served stale.
        let key: Vec<u64> = self.key_parts(&accounts).collect();
        drop(accounts);
        let text = match self.cached(plain, |k| k == key.as_slice()) {
            Some(hit) => hit,
            None => with_length(Bytes::from(exposition::render(format, &self.families())?.0)),
        };
        let body = if gzip {
            with_length(gzip_bytes(&text.0)?)
        } else {
            text.clone()
        };
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.key != key {
            *cache = Rendered {
                key,
                bodies: [None, None, None, None],
            };
        }
        for (slot, value) in [(plain, text), (slot, body.clone())] {
            if let Some(b) = cache.bodies.get_mut(slot) {
                *b = Some(value);
            }
        }
        drop(cache);
        Ok(scrape(body))
    }

    /// The body in `slot` when the key it was rendered from passes `fresh`.
    fn cached(
        &self,
        slot: usize,
        fresh: impl FnOnce(&[u64]) -> bool,
    ) -> Option<(Bytes, HeaderValue)> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if fresh(&cache.key) {
            cache.bodies.get(slot).cloned().flatten()
        } else {
            None
        }
    }

    #[cfg(test)]
    fn key(&self) -> Vec<u64> {
        self.key_parts(&self.accounts()).collect()
    }

    /// What a body shows, as counters that move on every change: account-set swaps, the
    /// reload status, the `process_*` tick, and each account's snapshot and telemetry.
    fn key_parts<'a>(
        &'a self,
        accounts: &'a [Arc<AccountState>],
    ) -> impl Iterator<Item = u64> + 'a {
        let process = self
            .process
            .then(|| crate::clock::now_unix().unsigned_abs() / PROCESS_REFRESH_SECONDS);
        [
            self.swaps.load(Ordering::Acquire),
            self.reload.generation.load(Ordering::Acquire),
        ]
        .into_iter()
        .chain(process)
        .chain(accounts.iter().flat_map(|a| {
            let (snapshot, telemetry) = a.generation();
            [snapshot, telemetry]
        }))
    }

    /// Every family a scrape writes, in catalogue order.
    pub fn families(&self) -> Vec<Family> {
        let views: Vec<_> = self
            .accounts()
            .iter()
            .map(|a| metrics::AccountView::of(a))
            .collect();
        let mut families = metrics::families(BuildInfo::CURRENT, &views, &self.collectors);
        families.extend(self.reload.families());
        if self.process {
            families.extend(metrics::process::families(&crate::process_stats::read()));
        }
        let order = |d: &Def| c::ALL.iter().position(|x| x == d).unwrap_or(usize::MAX);
        families.sort_by_key(|f| order(&f.def));
        families
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot encode metrics: {0}")]
    Encode(#[from] std::fmt::Error),
    #[error("cannot compress metrics: {0}")]
    Compress(#[from] std::io::Error),
}

fn with_length(body: Bytes) -> (Bytes, HeaderValue) {
    let length = HeaderValue::from(body.len());
    (body, length)
}

fn gzip_bytes(text: &[u8]) -> Result<Bytes, std::io::Error> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 4),
        flate2::Compression::default(),
    );
    encoder.write_all(text)?;
    Ok(Bytes::from(encoder.finish()?))
}

/// `peloton_config_last_reload_successful` and its timestamp, as Prometheus has them. The
/// web config file is watched on its own; while the version on disk is refused (say, an
/// empty file that would drop basic auth), the gauge is 0 too, so the one alert covers it.
#[derive(Debug)]
pub struct ReloadStatus {
    successful: AtomicBool,
    web_config_refused: AtomicBool,
    /// f64 bits of the Unix time of the last successful load.
    success_time: AtomicU64,
    generation: AtomicU64,
}

impl ReloadStatus {
    fn loaded_now() -> Self {
        let s = Self {
            successful: AtomicBool::new(true),
            web_config_refused: AtomicBool::new(false),
            success_time: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        };
        s.succeeded();
        s
    }

    pub fn succeeded(&self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.success_time.store(now.to_bits(), Ordering::Release);
        self.successful.store(true, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn failed(&self) {
        self.successful.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether the web config file on disk is the version in force (`false`: refused).
    pub fn web_config_in_force(&self, in_force: bool) {
        if self.web_config_refused.swap(!in_force, Ordering::AcqRel) == in_force {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    pub fn is_successful(&self) -> bool {
        self.successful.load(Ordering::Acquire) && !self.web_config_refused.load(Ordering::Acquire)
    }

    pub fn success_time(&self) -> f64 {
        f64::from_bits(self.success_time.load(Ordering::Acquire))
    }

    fn families(&self) -> [Family; 2] {
        let ok = if self.is_successful() { 1.0 } else { 0.0 };
        [
            c::CONFIG_RELOAD_OK.with_value(Some(ok)),
            c::CONFIG_RELOAD_TIME.with_value(Some(self.success_time())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::snapshot::Snapshot;
    use crate::state::telemetry::Telemetry;

    fn registry() -> (Registry, Arc<AccountState>) {
        let account = Arc::new(AccountState::new(None, Arc::new(Telemetry::default())));
        let registry = Registry::new(Arc::from(vec![account.clone()]), Collectors::default());
        (registry, account)
    }

    fn same(a: &Bytes, b: &Bytes) -> bool {
        a.as_ptr() == b.as_ptr()
    }

    #[test]
    fn process_metrics_are_written_once_and_refreshed_by_the_tick() {
        let (registry, _) = registry();
        let registry = registry.with_process_metrics();
        let (body, _) = registry.render(Format::Classic).unwrap();
        let text = String::from_utf8_lossy(&body).into_owned();
        if std::path::Path::new("/proc/self/stat").exists() {
            for name in [
                "process_cpu_seconds_total ",
                "process_resident_memory_bytes ",
                "process_virtual_memory_bytes ",
                "process_open_fds ",
                "process_max_fds ",
                "process_start_time_seconds ",
            ] {
                assert_eq!(
                    text.matches(&format!("\n{name}")).count(),
                    1,
                    "{name}: {text}"
                );
            }
        }
        // Within a tick the body is the cached one; the key moves with the tick.
        let key = registry.key();
        let tick = crate::clock::now_unix().unsigned_abs() / PROCESS_REFRESH_SECONDS;
        assert!(key.contains(&tick) || key.contains(&(tick - 1)));
        let (without, _) = Registry::new(Arc::from(Vec::new()), Collectors::default())
            .render(Format::Classic)
            .unwrap();
        assert!(!String::from_utf8_lossy(&without).contains("process_"));
    }

    #[test]
    fn a_scrape_renders_only_after_a_change() {
        let (registry, account) = registry();
        let (first, _) = registry.render(Format::Classic).unwrap();
        let (again, _) = registry.render(Format::Classic).unwrap();
        assert!(
            same(&first, &again),
            "nothing changed, yet it rendered again"
        );
        let (om, content_type) = registry.render(Format::OpenMetrics).unwrap();
        assert!(content_type.starts_with("application/openmetrics-text"));
        assert!(!same(&om, &first));

        account.telemetry.poll_started();
        let (after_poll, _) = registry.render(Format::Classic).unwrap();
        assert!(!same(&after_poll, &first));
        assert!(String::from_utf8_lossy(&after_poll).contains("peloton_polls_total 1"));

        account.publish(Snapshot {
            up: true,
            ..Snapshot::default()
        });
        let (after_publish, _) = registry.render(Format::Classic).unwrap();
        assert!(String::from_utf8_lossy(&after_publish).contains("peloton_up 1"));

        registry.reload.web_config_in_force(false);
        let (refused, _) = registry.render(Format::Classic).unwrap();
        assert!(
            String::from_utf8_lossy(&refused).contains("peloton_config_last_reload_successful 0")
        );
        registry.reload.web_config_in_force(true);
        let (back, _) = registry.render(Format::Classic).unwrap();
        assert!(String::from_utf8_lossy(&back).contains("peloton_config_last_reload_successful 1"));

        registry.reload.failed();
        let (after_reload, _) = registry.render(Format::Classic).unwrap();
        assert!(
            String::from_utf8_lossy(&after_reload)
                .contains("peloton_config_last_reload_successful 0")
        );

        // The gzipped body is the same text, compressed once per change.
        let (zipped, _) = registry.render_gzip(Format::Classic).unwrap();
        let (zipped_again, _) = registry.render_gzip(Format::Classic).unwrap();
        assert!(same(&zipped, &zipped_again));
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut text)
            .unwrap();
        assert_eq!(text, after_reload.to_vec());
        assert!(
            zipped.len() * 3 < text.len(),
            "{} of {}",
            zipped.len(),
            text.len()
        );

        registry.replace_accounts(Arc::from(Vec::new()));
        let (no_accounts, _) = registry.render(Format::Classic).unwrap();
        assert!(!String::from_utf8_lossy(&no_accounts).contains("peloton_up"));
        let (om_again, _) = registry.render(Format::OpenMetrics).unwrap();
        assert!(!String::from_utf8_lossy(&om_again).contains("peloton_up"));
    }
}
