//! Checking basic-auth passwords without letting wrong ones hurt right ones.
//!
//! bcrypt is slow on purpose, so a flood of wrong passwords is a way to burn CPU and to
//! make an authorised scraper wait. Four things keep the scraper served:
//! - a pair that verified is remembered (a bounded LRU of digests) and failures never
//!   evict it, so the scraper's next request costs no bcrypt at all;
//! - bcrypt runs on at most [`pool_size`] blocking threads at once, never on the async
//!   workers that serve cached scrapes;
//! - each client address has a budget of verifications ([`FAILURE_BURST`], refilled one
//!   per [`FAILURE_REFILL`]); over it, the answer is 429 at once, without a bcrypt;
//! - concurrent requests with the same pair wait for one verification.
//!
//! An unknown user is checked against a dummy hash of the highest configured cost, so the
//! time of an answer does not tell which users exist.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, watch};

use crate::secret::Secret;

/// The client's address, put on each request by the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// Verifications one client address may start before it has to wait.
pub const FAILURE_BURST: u32 = 10;
/// One more verification is allowed per this much time.
pub const FAILURE_REFILL: Duration = Duration::from_secs(6);
/// Client addresses whose budget is tracked; the fullest buckets are forgotten first.
const TRACKED_CLIENTS: usize = 4096;
/// Distinct verified pairs remembered (users × passwords in use: a handful).
const VERIFIED_ENTRIES: usize = 64;
/// Wrong pairs remembered, so that a scraper with a stale password costs one bcrypt a
/// minute rather than one per scrape.
const REJECTED_ENTRIES: usize = 1024;
const REJECTED_TTL: Duration = Duration::from_secs(60);

/// bcrypt verifications running at once in the whole process: one per core, at most 4,
/// so that scrapes, the pollers and the runtime keep CPU.
pub fn pool_size() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

static POOL: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(pool_size())));

/// The answer to one request's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Denied,
    /// Too many verifications from this address: retry after this long.
    Throttled(Duration),
}

/// A digest of user, hash and password: the caches never hold a password.
type Key = [u8; 32];

fn key(user: &str, hash: &str, password: &str) -> Key {
    let mut h = Sha256::new();
    for part in [user, hash, password] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// A bcrypt hash with the given cost that no password matches (its output is all zero
/// bits, a preimage nobody has): verifying against it takes as long as against a real one.
pub fn dummy_hash(cost: u32) -> Secret {
    Secret::new(format!("$2b${cost:02}${}", ".".repeat(53)))
}

/// The users of one web-config version and what has been verified against them.
#[derive(Debug)]
pub struct Users {
    /// Username → bcrypt hash.
    hashes: std::collections::BTreeMap<String, Secret>,
    dummy: Secret,
    verified: Mutex<Lru>,
    rejected: Mutex<HashMap<Key, Instant>>,
    /// Verifications in progress, so that concurrent requests with one pair share one.
    inflight: Mutex<HashMap<Key, watch::Receiver<Option<bool>>>>,
}

impl Users {
    pub fn new(hashes: std::collections::BTreeMap<String, Secret>) -> Self {
        let cost = hashes
            .values()
            .filter_map(|h| h.expose().parse::<bcrypt::HashParts>().ok())
            .map(|p| p.get_cost())
            .max()
            .unwrap_or(bcrypt::DEFAULT_COST);
        Self {
            hashes,
            dummy: dummy_hash(cost),
            verified: Mutex::new(Lru::default()),
            rejected: Mutex::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.hashes.keys()
    }

    /// Verified pairs currently remembered.
    pub fn verified_len(&self) -> usize {
        lock(&self.verified).order.len()
    }

    /// Whether this pair is remembered as verified (for tests and diagnostics).
    pub fn is_verified(&self, user: &str, password: &str) -> bool {
        self.hashes
            .get(user)
            .is_some_and(|h| lock(&self.verified).contains(&key(user, h.expose(), password)))
    }

    /// Checks `user` and `password`; `limiter` charges `client` for every bcrypt run.
    pub async fn check(
        &self,
        user: &str,
        password: &str,
        client: Option<IpAddr>,
        limiter: &FailureLimiter,
    ) -> Verdict {
        let known = self.hashes.get(user);
        let hash = known.unwrap_or(&self.dummy);
        let key = key(user, hash.expose(), password);
        loop {
            if lock(&self.verified).touch(&key) {
                return Verdict::Allowed;
            }
            if self.recently_rejected(&key) {
                return Verdict::Denied;
            }
            let leader = {
                let mut inflight = lock(&self.inflight);
                if let Some(rx) = inflight.get(&key) {
                    Err(rx.clone())
                } else {
                    let (tx, rx) = watch::channel(None);
                    inflight.insert(key, rx);
                    Ok(tx)
                }
            };
            let tx = match leader {
                Ok(tx) => tx,
                Err(mut rx) => {
                    // Another request verifies this very pair: its answer is ours. If it
                    // was cancelled (request timeout), look again.
                    if let Ok(v) = rx.wait_for(Option::is_some).await
                        && let Some(ok) = *v
                    {
                        return if ok {
                            Verdict::Allowed
                        } else {
                            Verdict::Denied
                        };
                    }
                    continue;
                }
            };
            let _done = Inflight {
                users: self,
                key: &key,
            };
            if let Some(ip) = client
                && let Err(wait) = limiter.charge(ip)
            {
                return Verdict::Throttled(wait);
            }
            let ok = verify(password, hash).await && known.is_some();
            if ok {
                lock(&self.verified).insert(key);
                if let Some(ip) = client {
                    limiter.refund(ip);
                }
            } else {
                self.reject(key);
            }
            let _ = tx.send(Some(ok));
            return if ok {
                Verdict::Allowed
            } else {
                Verdict::Denied
            };
        }
    }

    fn recently_rejected(&self, key: &Key) -> bool {
        lock(&self.rejected)
            .get(key)
            .is_some_and(|at| at.elapsed() < REJECTED_TTL)
    }

    fn reject(&self, key: Key) {
        let mut rejected = lock(&self.rejected);
        if rejected.len() >= REJECTED_ENTRIES {
            rejected.retain(|_, at| at.elapsed() < REJECTED_TTL);
            if rejected.len() >= REJECTED_ENTRIES {
                // Only wrong pairs live here: forgetting them costs a bcrypt, nothing more.
                rejected.clear();
            }
        }
        rejected.insert(key, Instant::now());
    }
}

/// Removes a finished (or cancelled) verification from the in-flight table.
struct Inflight<'a> {
    users: &'a Users,
    key: &'a Key,
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        lock(&self.users.inflight).remove(self.key);
    }
}

/// Runs bcrypt on the shared pool. The permit moves into the blocking task, so a request
/// that times out does not free a thread that is still hashing.
async fn verify(password: &str, hash: &Secret) -> bool {
    let Ok(permit) = POOL.clone().acquire_owned().await else {
        return false;
    };
    let (password, hash) = (Secret::new(password), hash.clone());
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        bcrypt::verify(password.expose(), hash.expose()).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Verified pairs, least recently used first. Small enough that a linear scan is cheaper
/// than a linked map.
#[derive(Debug, Default)]
struct Lru {
    order: Vec<Key>,
}

impl Lru {
    fn contains(&self, key: &Key) -> bool {
        self.order.contains(key)
    }

    fn touch(&mut self, key: &Key) -> bool {
        let Some(pos) = self.order.iter().position(|k| k == key) else {
            return false;
        };
        let k = self.order.remove(pos);
        self.order.push(k);
        true
    }

    fn insert(&mut self, key: Key) {
        if self.touch(&key) {
            return;
        }
        if self.order.len() >= VERIFIED_ENTRIES {
            self.order.remove(0);
        }
        self.order.push(key);
    }
}

/// Per client address, a bucket of bcrypt verifications. Outlives web-config reloads.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant) -> f64 {
        let gained = now.duration_since(self.at).as_secs_f64() / FAILURE_REFILL.as_secs_f64();
        (self.tokens + gained).min(f64::from(FAILURE_BURST))
    }
}

/// IPv6 clients usually own a whole /64: they are one client.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or_else(
            || IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            IpAddr::V4,
        ),
        v4 @ IpAddr::V4(_) => v4,
    }
}

impl FailureLimiter {
    /// Takes one verification from `ip`'s budget, or says how long until there is one.
    pub fn charge(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let ip = client_key(ip);
        let mut buckets = lock(&self.buckets);
        if !buckets.contains_key(&ip) && buckets.len() >= TRACKED_CLIENTS {
            let full = f64::from(FAILURE_BURST);
            buckets.retain(|_, b| b.refilled(now) < full);
            if buckets.len() >= TRACKED_CLIENTS
                && let Some(oldest) = buckets.iter().min_by_key(|(_, b)| b.at).map(|(k, _)| *k)
            {
                buckets.remove(&oldest);
            }
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: f64::from(FAILURE_BURST),
            at: now,
        });
        let tokens = bucket.refilled(now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        Err(FAILURE_REFILL.mul_f64(1.0 - tokens))
    }

    /// Gives back what a verification that succeeded took: right passwords never run out.
    pub fn refund(&self, ip: IpAddr) {
        let now = Instant::now();
        if let Some(b) = lock(&self.buckets).get_mut(&client_key(ip)) {
            *b = Bucket {
                tokens: (b.refilled(now) + 1.0).min(f64::from(FAILURE_BURST)),
                at: now,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn users(cost: u32) -> Users {
        let mut h = BTreeMap::new();
        h.insert(
            "alice".to_owned(),
            Secret::new(bcrypt::hash("wonderland", cost).unwrap()),
        );
        Users::new(h)
    }

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn the_dummy_hash_parses_matches_nothing_and_has_the_cost() {
        for cost in [4, 10, 12] {
            let d = dummy_hash(cost);
            let parts: bcrypt::HashParts = d.expose().parse().unwrap();
            assert_eq!(parts.get_cost(), cost);
        }
        assert!(!bcrypt::verify("", dummy_hash(4).expose()).unwrap());
        assert_eq!(users(5).dummy.expose().get(..7), Some("$2b$05$"));
    }

    #[tokio::test]
    async fn failures_never_evict_a_verified_pair() {
        let u = users(4);
        let limiter = FailureLimiter::default();
        assert_eq!(
            u.check("alice", "wonderland", IP, &limiter).await,
            Verdict::Allowed
        );
        // Many more wrong pairs than either cache holds, from many addresses.
        for i in 0..(REJECTED_ENTRIES + VERIFIED_ENTRIES + 10) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i as u32));
            let v = u
                .check("alice", &format!("guess-{i}"), Some(ip), &limiter)
                .await;
            assert_eq!(v, Verdict::Denied);
        }
        assert!(u.is_verified("alice", "wonderland"));
        assert_eq!(u.verified_len(), 1);
    }

    #[tokio::test]
    async fn an_address_over_its_budget_is_throttled_without_a_bcrypt() {
        let u = users(4);
        let limiter = FailureLimiter::default();
        for i in 0..FAILURE_BURST {
            let v = u.check("alice", &format!("guess-{i}"), IP, &limiter).await;
            assert_eq!(v, Verdict::Denied);
        }
        let started = Instant::now();
        let Verdict::Throttled(wait) = u.check("alice", "one-more", IP, &limiter).await else {
            panic!("not throttled");
        };
        assert!(wait > Duration::ZERO && wait <= FAILURE_REFILL, "{wait:?}");
        assert!(started.elapsed() < Duration::from_secs(1));
        // A wrong pair already answered costs nothing and is still answered.
        assert_eq!(
            u.check("alice", "guess-0", IP, &limiter).await,
            Verdict::Denied
        );
        // Another address has its own budget, and so has the right password once verified.
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            u.check("alice", "wonderland", other, &limiter).await,
            Verdict::Allowed
        );
        assert_eq!(
            u.check("alice", "wonderland", IP, &limiter).await,
            Verdict::Allowed,
            "a verified pair needs no budget"
        );
    }

    #[test]
    fn the_limiter_table_is_bounded() {
        let limiter = FailureLimiter::default();
        for i in 0..(TRACKED_CLIENTS as u32 + 100) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(i));
            for _ in 0..FAILURE_BURST {
                let _ = limiter.charge(ip);
            }
        }
        assert!(lock(&limiter.buckets).len() <= TRACKED_CLIENTS);
        // An IPv6 /64 is one client.
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unknown_users_take_as_long_as_known_ones() {
        let u = Arc::new(users(8));
        let limiter = Arc::new(FailureLimiter::default());
        let time = |user: &'static str, pw: &'static str| {
            let (u, limiter) = (u.clone(), limiter.clone());
            async move {
                let t = Instant::now();
                assert_eq!(u.check(user, pw, None, &limiter).await, Verdict::Denied);
                t.elapsed()
            }
        };
        // The fastest of three: a busy machine only ever adds time.
        let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
        for i in 0..3 {
            let pw: &'static str = ["nope-0", "nope-1", "nope-2"][i];
            known = known.min(time("alice", pw).await);
            unknown = unknown.min(time("mallory", pw).await);
        }
        // Same cost, so the same order of magnitude; the old code answered unknown users
        // from a cheap path.
        assert!(
            unknown * 4 > known && known * 4 > unknown,
            "known {known:?}, unknown {unknown:?}"
        );
    }
}
