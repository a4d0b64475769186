//! The tiers of one store: [`Layers`] (byte-level calls with their accounting, shareable with
//! the I/O threads) and [`Tiers`] (the typed operations the memoization path uses: lookup,
//! store, lease), written once for sync and async callers over the [`Io`] strategy.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::tier::codec::{Codec, Decoded, EncodedKey};
use crate::tier::info::TierInfo;
use crate::tier::stats::TierStats;
use crate::tier::{Lease, LeaseToken, Namespace, Tier, TierError, TierErrorKind};

/// How long a failed [`Tier::attach`] keeps a tier skipped before it is tried again.
const ATTACH_RETRY: Duration = Duration::from_secs(1);

/// The first pause of a caller waiting for another process's lease; it doubles up to
/// [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(1);
const MAX_POLL: Duration = Duration::from_millis(50);

/// One tier of a store, with its counters.
pub(crate) struct Layer {
    tier: Arc<dyn Tier>,
    kind: &'static str,
    location: String,
    stats: TierStats,
    attached: AtomicBool,
    /// Nanoseconds since [`Layers::epoch`] before which a failed attach is not retried.
    retry_attach_at: AtomicU64,
}

/// The byte-level side of a store's tiers: what an I/O thread needs to run a call.
pub(crate) struct Layers {
    layers: Box<[Layer]>,
    ns: Namespace,
    /// The store's name, for logs.
    cache: String,
    epoch: Instant,
}

/// A call to one tier, on bytes.
#[derive(Debug)]
pub(crate) enum Op {
    Get(u64),
    Put {
        hash: u64,
        entry: Arc<[u8]>,
        expires: Option<SystemTime>,
        now: SystemTime,
    },
    Remove(u64),
    Clear,
    Lease {
        hash: u64,
        owner: LeaseToken,
        until: SystemTime,
        now: SystemTime,
    },
    Release {
        hash: u64,
        owner: LeaseToken,
    },
}

/// The answer to an [`Op`].
#[derive(Debug)]
pub(crate) enum Done {
    Got(Option<Vec<u8>>),
    Put,
    Removed(bool),
    Cleared,
    Lease(Lease),
    Released,
}

impl Layers {
    pub(crate) fn new(tiers: Vec<Arc<dyn Tier>>, ns: Namespace, cache: String) -> Self {
        let layers = tiers
            .into_iter()
            .map(|tier| Layer {
                kind: tier.kind(),
                location: tier.location(),
                tier,
                stats: TierStats::default(),
                attached: AtomicBool::new(false),
                retry_attach_at: AtomicU64::new(0),
            })
            .collect();
        Layers {
            layers,
            ns,
            cache,
            epoch: Instant::now(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.layers.len()
    }

    fn blocks(&self, layer: usize) -> bool {
        self.layers[layer].tier.blocks()
    }

    /// Runs `op` on tier `layer`, timing it and counting its error; `None` if it failed or the
    /// tier is skipped for now (its last attach failed).
    pub(crate) fn exec(&self, layer: usize, op: Op) -> Option<Done> {
        let l = &self.layers[layer];
        if l.tier.skipping() {
            l.stats.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let started = Instant::now();
        if !self.ensure_attached(l, started) {
            return None;
        }
        let ns = &self.ns;
        let tier = &*l.tier;
        let result = match op {
            Op::Get(hash) => tier.get(ns, hash).map(Done::Got),
            Op::Put {
                hash,
                entry,
                expires,
                now,
            } => tier.put(ns, hash, &entry, expires, now).map(|()| Done::Put),
            Op::Remove(hash) => tier.remove(ns, hash).map(Done::Removed),
            Op::Clear => tier.clear(ns).map(|()| Done::Cleared),
            Op::Lease {
                hash,
                owner,
                until,
                now,
            } => tier.lease(ns, hash, owner, until, now).map(Done::Lease),
            Op::Release { hash, owner } => tier.release(ns, hash, owner).map(|()| Done::Released),
        };
        l.stats.add_time(started.elapsed());
        match result {
            Ok(done) => {
                if let Done::Put = done {
                    l.stats.writes.fetch_add(1, Ordering::Relaxed);
                }
                Some(done)
            }
            Err(err) => {
                self.failed(l, &err);
                None
            }
        }
    }

    fn failed(&self, l: &Layer, err: &TierError) {
        l.stats.error(&self.cache, l.kind, &l.location, err);
    }

    /// Attaches the namespace to the tier before its first call; after a failure, skips the
    /// tier for [`ATTACH_RETRY`] (each skipped call counted as an error of the same kind).
    fn ensure_attached(&self, l: &Layer, now: Instant) -> bool {
        if l.attached.load(Ordering::Acquire) {
            return true;
        }
        let elapsed = u64::try_from(now.duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX);
        if elapsed < l.retry_attach_at.load(Ordering::Relaxed) {
            self.failed(
                l,
                &TierError::new(TierErrorKind::Unavailable, "skipped after a failed attach"),
            );
            return false;
        }
        match l.tier.attach(&self.ns) {
            Ok(()) => {
                l.attached.store(true, Ordering::Release);
                true
            }
            Err(err) => {
                let retry = elapsed.saturating_add(ATTACH_RETRY.as_nanos() as u64);
                l.retry_attach_at.store(retry, Ordering::Relaxed);
                self.failed(l, &err);
                false
            }
        }
    }

    /// Whether every tier skips its calls now: then a caller need not even encode for them.
    pub(crate) fn all_skipping(&self) -> bool {
        self.layers.iter().all(|l| l.tier.skipping())
    }

    /// Counts a call skipped by every tier.
    fn skipped_by_all(&self) {
        for l in self.layers.iter() {
            l.stats.skipped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn info(&self) -> Vec<TierInfo> {
        self.layers
            .iter()
            .map(|l| {
                let bytes = if l.attached.load(Ordering::Acquire) {
                    l.tier.bytes(&self.ns)
                } else {
                    None
                };
                l.stats
                    .snapshot(l.kind, l.location.clone(), bytes, l.tier.health())
            })
            .collect()
    }
}

/// How tier calls run: on the caller's thread ([`Blocking`]), or, for an async caller, on the
/// I/O threads when the tier blocks ([`NonBlocking`]). The typed operations below are written
/// once, as async functions over this trait; a sync caller drives them with [`block_on`], and
/// they never wait on anything but these calls.
pub(crate) trait Io {
    fn exec(
        &self,
        layers: &Arc<Layers>,
        layer: usize,
        op: Op,
    ) -> impl Future<Output = Option<Done>>;
    fn sleep(&self, pause: Duration) -> impl Future<Output = ()>;
}

/// Tier calls on the caller's thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocking;

/// Tier calls of blocking tiers on the I/O threads; pauses on the runtime's timer thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NonBlocking;

impl Io for Blocking {
    async fn exec(&self, layers: &Arc<Layers>, layer: usize, op: Op) -> Option<Done> {
        layers.exec(layer, op)
    }
    async fn sleep(&self, pause: Duration) {
        std::thread::sleep(pause);
    }
}

impl Io for NonBlocking {
    async fn exec(&self, layers: &Arc<Layers>, layer: usize, op: Op) -> Option<Done> {
        if !layers.blocks(layer) {
            return layers.exec(layer, op);
        }
        let layers = layers.clone();
        crate::tier::io::run(move || layers.exec(layer, op))
            .await
            .flatten()
    }
    async fn sleep(&self, pause: Duration) {
        crate::memo::dedupe::sleep_until(Instant::now() + pause).await;
    }
}

/// Runs a future on the current thread to completion. The futures of [`Blocking`] never wait,
/// so this polls once; the parking loop keeps it correct for any future.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    static NOOP: std::sync::OnceLock<std::task::Waker> = std::sync::OnceLock::new();
    let mut future = std::pin::pin!(future);
    let noop = NOOP.get_or_init(|| std::task::Waker::from(Arc::new(Noop)));
    let mut cx = std::task::Context::from_waker(noop);
    if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
        return out;
    }
    // Not ready at once: poll with a waker that can wake this thread.
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// A value found in a tier.
#[derive(Debug)]
pub(crate) struct Found<V> {
    pub(crate) value: V,
    pub(crate) expires: Option<SystemTime>,
    /// Whether it came from another process's computation that this one waited for.
    pub(crate) waited: bool,
}

/// What a leader does after looking in the tiers.
#[derive(Debug)]
pub(crate) enum Before<V> {
    /// A tier had the value.
    Found(Found<V>),
    /// Compute it; then [`Tiers::after`] with this.
    Compute(Pending),
}

/// A computation the tiers wait for: the encoded key (`None` if it could not be encoded: the
/// tiers are then skipped) and the lease this process holds, if any.
#[derive(Debug)]
pub(crate) struct Pending {
    key: Option<EncodedKey>,
    lease: Option<(usize, LeaseToken)>,
}

/// The typed tiers of a store of `K` and `V`.
pub(crate) struct Tiers<K, V> {
    layers: Arc<Layers>,
    codec: Codec<K, V>,
    /// How long a leader's cross-process lease lasts.
    lease_ttl: Duration,
}

impl<K, V> std::fmt::Debug for Tiers<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tiers")
            .field("namespace", &self.layers.ns)
            .field("tiers", &self.layers.len())
            .finish_non_exhaustive()
    }
}

impl Pending {
    /// Whether [`Tiers::after`] has anything to do (a key to write, or a lease to release).
    pub(crate) fn writes(&self) -> bool {
        self.key.is_some() || self.lease.is_some()
    }
}

impl<K, V> Tiers<K, V> {
    pub(crate) fn new(layers: Layers, codec: Codec<K, V>, lease_ttl: Duration) -> Self {
        Tiers {
            layers: Arc::new(layers),
            codec,
            lease_ttl,
        }
    }

    pub(crate) fn info(&self) -> Vec<TierInfo> {
        self.layers.info()
    }

    /// The key's bytes and hash; `None` (an `Encode` error counted on every tier) if serde
    /// failed.
    pub(crate) fn encode_key(&self, key: &K) -> Option<EncodedKey> {
        match self.codec.key(key) {
            Ok(encoded) => Some(encoded),
            Err(why) => {
                self.encode_failed(&format!("key: {why}"));
                None
            }
        }
    }

    fn encode_failed(&self, why: &str) {
        let err = TierError::new(TierErrorKind::Encode, why);
        for l in self.layers.layers.iter() {
            self.layers.failed(l, &err);
        }
    }

    /// The tier that grants leases: the last one, shared by the most processes.
    fn lease_layer(&self) -> usize {
        self.layers.len() - 1
    }

    /// Looks `key` up in each tier from the first; a value found past the first tier is
    /// copied to the ones before it. `count`: whether misses count in the stats (not while
    /// polling for another process's value).
    pub(crate) async fn lookup<I: Io>(
        &self,
        io: &I,
        key: &EncodedKey,
        now: SystemTime,
        count: bool,
    ) -> Option<Found<V>> {
        for layer in 0..self.layers.len() {
            let stats = &self.layers.layers[layer].stats;
            let Some(Done::Got(bytes)) = io.exec(&self.layers, layer, Op::Get(key.hash)).await
            else {
                continue;
            };
            let decoded = bytes.map(|bytes| (self.codec.open(key, &bytes, now), bytes));
            match decoded {
                Some((Decoded::Value(value, expires), bytes)) => {
                    stats.hits.fetch_add(1, Ordering::Relaxed);
                    let entry: Arc<[u8]> = bytes.into();
                    for nearer in 0..layer {
                        let op = Op::Put {
                            hash: key.hash,
                            entry: entry.clone(),
                            expires,
                            now,
                        };
                        io.exec(&self.layers, nearer, op).await;
                    }
                    return Some(Found {
                        value,
                        expires,
                        waited: false,
                    });
                }
                Some((Decoded::Invalid(why), _)) => {
                    log::debug!(
                        "faas-memo cache {:?}: deleting an unreadable {} entry: {why}",
                        self.layers.cache,
                        self.layers.layers[layer].kind
                    );
                    io.exec(&self.layers, layer, Op::Remove(key.hash)).await;
                }
                Some((Decoded::Expired | Decoded::OtherKey, _)) | None => {}
            }
            if count {
                stats.misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        None
    }

    /// A leader's first step: the value from a tier, or the go-ahead to compute it. With
    /// `lease`, the go-ahead comes once this process holds the key's lease in the last tier,
    /// or after waiting for another process that held it to store the value (then `Found`),
    /// or once that process's lease expired; never later than twice the lease's length.
    pub(crate) async fn before<I: Io>(
        &self,
        io: &I,
        key: &K,
        lease: bool,
        clock: &impl Fn() -> SystemTime,
    ) -> Before<V> {
        if self.layers.all_skipping() {
            // Every tier is down (circuit breakers open): no encoding, no call, no write
            // after the computation either (`key: None`).
            self.layers.skipped_by_all();
            return Before::Compute(Pending {
                key: None,
                lease: None,
            });
        }
        let Some(encoded) = self.encode_key(key) else {
            return Before::Compute(Pending {
                key: None,
                lease: None,
            });
        };
        if let Some(found) = self.lookup(io, &encoded, clock(), true).await {
            return Before::Found(found);
        }
        let lease = if lease {
            match self.acquire(io, &encoded, clock).await {
                Ok(lease) => lease,
                Err(found) => return Before::Found(found),
            }
        } else {
            None
        };
        Before::Compute(Pending {
            key: Some(encoded),
            lease,
        })
    }

    /// A computation that writes its value to the tiers without reading them first (a forced
    /// refresh): the encoded key, no lease.
    pub(crate) fn pending_write(&self, key: &K) -> Pending {
        let key = if self.layers.all_skipping() {
            self.layers.skipped_by_all();
            None
        } else {
            self.encode_key(key)
        };
        Pending { key, lease: None }
    }

    /// Takes the key's lease, or waits for its holder's value (`Err`). `Ok(None)`: compute
    /// without a lease (the tier has none, failed, or the wait ran out).
    async fn acquire<I: Io>(
        &self,
        io: &I,
        key: &EncodedKey,
        clock: &impl Fn() -> SystemTime,
    ) -> Result<Option<(usize, LeaseToken)>, Found<V>> {
        let layer = self.lease_layer();
        let owner = LeaseToken::random();
        let started = Instant::now();
        let mut pause = FIRST_POLL;
        let mut waited = false;
        loop {
            let now = clock();
            let op = Op::Lease {
                hash: key.hash,
                owner,
                until: now + self.lease_ttl,
                now,
            };
            match io.exec(&self.layers, layer, op).await {
                Some(Done::Lease(Lease::Acquired)) => {
                    // The holder before us may have stored the value and released between our
                    // lookup and now.
                    if let Some(found) = self.lookup(io, key, clock(), false).await {
                        let op = Op::Release {
                            hash: key.hash,
                            owner,
                        };
                        io.exec(&self.layers, layer, op).await;
                        return Err(found);
                    }
                    return Ok(Some((layer, owner)));
                }
                Some(Done::Lease(Lease::Held { .. })) => {
                    if !waited {
                        waited = true;
                        let stats = &self.layers.layers[layer].stats;
                        stats.lease_waits.fetch_add(1, Ordering::Relaxed);
                    }
                    // Never wait forever: a holder's lease ends after `lease_ttl`, and the
                    // next one's too; after two of them, compute.
                    if started.elapsed() >= self.lease_ttl * 2 {
                        return Ok(None);
                    }
                    io.sleep(pause).await;
                    pause = (pause * 2).min(MAX_POLL);
                    if let Some(found) = self.lookup(io, key, clock(), false).await {
                        return Err(Found {
                            waited: true,
                            ..found
                        });
                    }
                }
                _ => return Ok(None),
            }
        }
    }

    /// A leader's last step: stores the computed value (if cacheable) in every tier, until
    /// `expires`, then gives the lease back.
    pub(crate) async fn after<I: Io>(
        &self,
        io: &I,
        pending: Pending,
        value: Option<&V>,
        expires: Option<SystemTime>,
        now: SystemTime,
    ) {
        let Some(key) = pending.key else { return };
        if let Some(value) = value {
            self.store(io, &key, value, expires, now).await;
        }
        if let Some((layer, owner)) = pending.lease {
            let op = Op::Release {
                hash: key.hash,
                owner,
            };
            io.exec(&self.layers, layer, op).await;
        }
    }

    /// The envelope of `value` for `key`; `None` (an `Encode` error counted) if serde failed.
    pub(crate) fn envelope(
        &self,
        key: &EncodedKey,
        value: &V,
        expires: Option<SystemTime>,
    ) -> Option<Arc<[u8]>> {
        match self.codec.envelope(key, value, expires) {
            Ok(entry) => Some(entry.into()),
            Err(why) => {
                self.encode_failed(&format!("value: {why}"));
                None
            }
        }
    }

    /// Writes an envelope to every tier, from this thread.
    pub(crate) fn put_entry(
        &self,
        key: &EncodedKey,
        entry: Arc<[u8]>,
        expires: Option<SystemTime>,
        now: SystemTime,
    ) {
        block_on(self.put_all(&Blocking, key, entry, expires, now));
    }

    async fn put_all<I: Io>(
        &self,
        io: &I,
        key: &EncodedKey,
        entry: Arc<[u8]>,
        expires: Option<SystemTime>,
        now: SystemTime,
    ) {
        for layer in 0..self.layers.len() {
            let op = Op::Put {
                hash: key.hash,
                entry: entry.clone(),
                expires,
                now,
            };
            io.exec(&self.layers, layer, op).await;
        }
    }

    /// Writes `value` for `key` to every tier.
    pub(crate) async fn store<I: Io>(
        &self,
        io: &I,
        key: &EncodedKey,
        value: &V,
        expires: Option<SystemTime>,
        now: SystemTime,
    ) {
        if let Some(entry) = self.envelope(key, value, expires) {
            self.put_all(io, key, entry, expires, now).await;
        }
    }

    /// Removes `key` from every tier; whether one had it.
    pub(crate) fn remove(&self, key: &K) -> bool {
        let Some(key) = self.encode_key(key) else {
            return false;
        };
        let mut removed = false;
        for layer in 0..self.layers.len() {
            if let Some(Done::Removed(true)) = self.layers.exec(layer, Op::Remove(key.hash)) {
                removed = true;
            }
        }
        removed
    }

    /// Removes every entry of the store's namespace from every tier.
    pub(crate) fn clear(&self) {
        for layer in 0..self.layers.len() {
            self.layers.exec(layer, Op::Clear);
        }
    }
}
