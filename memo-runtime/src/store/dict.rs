//! [`FaasCacheDict`]: the thread-safe store.

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use hashbrown::Equivalent;

use crate::clock::{duration_nanos, Clock};
use crate::error::CacheError;
use crate::faas::budget::Reservation;
use crate::faas::link::StoreFaas;
use crate::faas::share::ResolvedShare;
use crate::memo::dedupe::InFlight;
use crate::memo::fresh::Freshness;
use crate::size::byte_size::{ByteSize, IntoByteSize};
use crate::store::builder::{Builder, Weigher};
use crate::store::hash::DefaultHashBuilder;
use crate::store::hooks::{dispose, notify, DeleteReason, Departed, Departures, Hook};
use crate::store::policy::Policy;
use crate::store::shard::{entry_overhead, slab_slack, Room, Shard, NEVER};
use crate::store::stats::{write_opt, CacheInfo, Counters, DebugDisplay, MemoStats, ShardStats};
use crate::sync::read_mostly::{ReadGuard, ReadMostly, ReaderSlot};
use crate::sync::CachePadded;

/// A shard behind its lock, on cache lines of its own.
type LockedShard<K, V> = CachePadded<ReadMostly<Shard<K, V>>>;

/// "No bound" in the atomic bound fields (zero is never a valid bound).
const UNBOUNDED: u64 = 0;

/// `tracking` bit: the store has several shards and keeps their total in `usage`.
const TRACK_USAGE: u8 = 1;
/// `tracking` bit: the store counts its bytes in the process's memory budget.
pub(crate) const TRACK_BUDGET: u8 = 2;

/// A thread-safe map bounded by item count, by bytes and by a per-key time to live: the Rust
/// counterpart of Python's `FaaSCacheDict`.
///
/// Every method takes `&self`; the store is `Send + Sync` when `K` and `V` are, so it can live
/// in a `static` and serve every invocation of a warm function.
///
/// - **Eviction**: by [`Policy`]. The default, [`Policy::S3Fifo`], is scan-resistant and its
///   hits take a shared lock that scales across threads; [`Policy::Lru`] keeps the exact
///   least-recently-used order of `faas-cache-dict` ([`get`](Self::get) and
///   [`insert`](Self::insert) make an entry the most recently used; [`keys`](Self::keys),
///   [`values`](Self::values) and [`items`](Self::items) list the least recently used first).
/// - **Bytes**: each entry is accounted as the deep size of its key and value plus a fixed
///   per-entry overhead (its node and hash-table slot), kept as a running total;
///   [`byte_size`](Self::byte_size) adds the store's fixed overhead. Without
///   [`Builder::max_size`] or [`Builder::measure_deep_size`], keys and values are accounted by
///   their inline size only (no [`DeepSize`](crate::DeepSize) needed).
/// - **Expiry**: an expired entry is never returned or counted, and its memory is reclaimed by
///   the next operation on its shard, through a timer wheel (no scan of the store).
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, Policy};
///
/// let cache: FaasCacheDict<String, u64> =
///     FaasCacheDict::builder().policy(Policy::Lru).max_items(2).build()?;
/// cache.insert("a".to_owned(), 1)?;
/// cache.insert("b".to_owned(), 2)?;
/// assert_eq!(cache.get("a"), Some(1)); // "a" is now the most recently used
/// cache.insert("c".to_owned(), 3)?; // evicts "b"
/// assert_eq!(cache.keys(), ["a", "c"]);
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
pub struct FaasCacheDict<K, V, S = DefaultHashBuilder> {
    shards: Box<[LockedShard<K, V>]>,
    policy: Policy,
    /// Entries and bytes of all shards, maintained only when there is more than one.
    usage: CachePadded<Usage>,
    /// What a write publishes of a shard's changes ([`TRACK_USAGE`], [`TRACK_BUDGET`]); zero
    /// for a one-shard store outside the budget, whose writes publish nothing. Read under the
    /// shard's lock, so that the budget can start counting a store between two writes.
    pub(crate) tracking: AtomicU8,
    hasher: S,
    pub(crate) clock: Clock,
    /// Unset: keys and values are charged their inline size. Set once, by the builder or by
    /// the first [`change_byte_size`](Self::change_byte_size) of a store that had no weigher.
    weigher: OnceLock<Weigher<K, V>>,
    /// The deep weigher a memoized function without `max_size` switches to when the budget
    /// starts counting it (its key and value implement `DeepSize`), so that heap bytes count.
    budget_weigher: Option<Weigher<K, V>>,
    hook: Option<Hook<K, V>>,
    max_items: AtomicU64,
    max_bytes: AtomicU64,
    pub(crate) default_ttl_nanos: AtomicU64,
    entry_overhead: usize,
    fixed_bytes: usize,
    hook_panics: AtomicU64,
    /// Outcomes of the memoization layer's calls, and the baseline of `reset_stats`.
    pub(crate) memo_stats: MemoStats,
    evict_cursor: AtomicUsize,
    /// Borrowed for a memoized function's name, a string of the program that the store does
    /// not own (nor count in its fixed overhead).
    name: Cow<'static, str>,
    /// Computations in flight for [`get_or_insert_with`](Self::get_or_insert_with) and
    /// friends; created on first use.
    pub(crate) in_flight: OnceLock<Box<InFlight<K, V>>>,
    /// How long a waiter waits for a leader that shows no progress before taking over.
    pub(crate) dedupe_timeout: Option<Duration>,
    /// Second-level tiers (disk, Redis) that misses read through; see `tier::store`.
    #[cfg(feature = "tier")]
    pub(crate) tiers: Option<Box<crate::tier::chain::Tiers<K, V>>>,
    /// FaaS state: the memory share of the byte bound.
    pub(crate) faas: StoreFaas,
    /// What a memoized function with `stale`, `fallback`, `refresh_on_hit` or
    /// `refresh_ahead` needs of its store (all zero otherwise: see `memo::fresh`).
    pub(crate) fresh: Freshness,
}

#[derive(Debug, Default)]
struct Usage {
    items: AtomicUsize,
    bytes: AtomicUsize,
}

/// An entry weighed and about to be inserted.
struct Staged<K, V> {
    hash: u64,
    key: K,
    value: V,
    charge: usize,
    /// Whether `charge` was measured with the store's weigher (else: inline sizes).
    weighed: bool,
    expires: u64,
}

/// Validated builder settings.
pub(crate) struct Settings<K, V, S> {
    pub(crate) max_items: Option<usize>,
    pub(crate) default_ttl: Option<Duration>,
    pub(crate) on_delete: Option<Hook<K, V>>,
    pub(crate) name: Cow<'static, str>,
    pub(crate) clock: Clock,
    pub(crate) hasher: S,
    pub(crate) weigher: Option<Weigher<K, V>>,
    pub(crate) budget_weigher: Option<Weigher<K, V>>,
    pub(crate) shards: usize,
    pub(crate) policy: Policy,
    pub(crate) dedupe_timeout: Option<Duration>,
    pub(crate) fresh: Freshness,
    #[cfg(feature = "tier")]
    pub(crate) tiers: Option<crate::tier::chain::Tiers<K, V>>,
}

impl<K: Hash + Eq, V> FaasCacheDict<K, V> {
    /// An unbounded store whose entries never expire.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache = FaasCacheDict::new();
    /// cache.insert(1u32, "one")?;
    /// assert_eq!(cache.get(&1), Some("one"));
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn new() -> Self {
        Builder::new()
            .build()
            .unwrap_or_else(|_| unreachable!("default settings are valid"))
    }
}

impl<K: Hash + Eq, V> Default for FaasCacheDict<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, V> FaasCacheDict<K, V> {
    /// A [`Builder`] to set bounds, TTL, hook, name, clock and hasher.
    pub fn builder() -> Builder<K, V> {
        Builder::new()
    }
}

impl<K, V, S> FaasCacheDict<K, V, S> {
    pub(crate) fn from_settings(settings: Settings<K, V, S>) -> Self {
        let slots = crate::sync::read_mostly::default_slots();
        let shards: Box<[_]> = (0..settings.shards)
            .map(|_| CachePadded(ReadMostly::new(Shard::new(settings.policy), slots)))
            .collect();
        let owned_name = match &settings.name {
            Cow::Owned(name) => name.len(),
            Cow::Borrowed(_) => 0,
        };
        let fixed_bytes = fixed_overhead_of::<K, V, S>(shards.len(), slots, owned_name);
        FaasCacheDict {
            shards,
            policy: settings.policy,
            usage: CachePadded::default(),
            tracking: AtomicU8::new(if settings.shards > 1 { TRACK_USAGE } else { 0 }),
            hasher: settings.hasher,
            clock: settings.clock,
            weigher: settings.weigher.map_or_else(OnceLock::new, OnceLock::from),
            budget_weigher: settings.budget_weigher,
            hook: settings.on_delete,
            max_items: AtomicU64::new(settings.max_items.map_or(UNBOUNDED, |n| n as u64)),
            max_bytes: AtomicU64::new(UNBOUNDED),
            default_ttl_nanos: AtomicU64::new(settings.default_ttl.map_or(NEVER, duration_nanos)),
            entry_overhead: entry_overhead::<K, V>(settings.policy),
            fixed_bytes,
            hook_panics: AtomicU64::new(0),
            memo_stats: MemoStats::default(),
            evict_cursor: AtomicUsize::new(0),
            name: settings.name,
            in_flight: OnceLock::new(),
            dedupe_timeout: settings.dedupe_timeout,
            #[cfg(feature = "tier")]
            tiers: settings.tiers.map(Box::new),
            faas: StoreFaas::default(),
            fresh: settings.fresh,
        }
    }

    /// The eviction policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The store's name, as in [`CacheInfo::name`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Accounted bytes of one entry beyond the sizes of its key and value: its node and its
    /// hash-table slot.
    pub fn entry_overhead(&self) -> usize {
        self.entry_overhead
    }

    /// Bytes the store accounts for itself whatever it holds: its structure, its shards and
    /// their worst-case spare node storage. Counted against `max_size`.
    pub fn fixed_overhead(&self) -> usize {
        self.fixed_bytes
    }

    /// The item bound, if any.
    pub fn max_items(&self) -> Option<usize> {
        bound(&self.max_items).map(|n| n as usize)
    }

    /// The byte bound, if any.
    pub fn max_size(&self) -> Option<ByteSize> {
        bound(&self.max_bytes).map(ByteSize::from)
    }

    /// The TTL that [`insert`](Self::insert) gives new entries.
    pub fn default_ttl(&self) -> Option<Duration> {
        let nanos = self.default_ttl_nanos.load(Ordering::Relaxed);
        (nanos != NEVER).then(|| Duration::from_nanos(nanos))
    }

    /// Changes the TTL of entries inserted from now on; existing entries keep theirs.
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidBound`] for `Some(Duration::ZERO)`.
    pub fn set_default_ttl(&self, ttl: Option<Duration>) -> Result<(), CacheError> {
        if ttl == Some(Duration::ZERO) {
            return Err(CacheError::InvalidBound {
                name: "default_ttl",
                value: "0s".to_owned(),
                reason: "a time to live must be greater than zero (use None for no expiry)",
            });
        }
        self.default_ttl_nanos
            .store(ttl.map_or(NEVER, duration_nanos), Ordering::Relaxed);
        Ok(())
    }

    /// `Err(DataTooLarge)` for an entry of `charge` bytes that alone exceeds the byte bound.
    #[inline]
    fn check_fits(&self, charge: usize) -> Result<(), CacheError> {
        let available = self.entry_byte_limit();
        if charge > available {
            return Err(CacheError::DataTooLarge {
                entry_bytes: charge as u64,
                available_bytes: available as u64,
                max_size_bytes: bound(&self.max_bytes).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }

    /// Bytes available to entries under the byte bound, `usize::MAX` without one.
    fn entry_byte_limit(&self) -> usize {
        bound(&self.max_bytes).map_or(usize::MAX, |max| {
            usize::try_from(max)
                .unwrap_or(usize::MAX)
                .saturating_sub(self.fixed_bytes)
        })
    }

    /// What a shard may hold given what the others hold.
    fn room_for(&self, shard: &Shard<K, V>) -> Room {
        let items = bound(&self.max_items).map_or(usize::MAX, |n| n as usize);
        let bytes = self.entry_byte_limit();
        if self.shards.len() == 1 {
            return Room { items, bytes };
        }
        let other_items = self
            .usage
            .items
            .load(Ordering::Relaxed)
            .saturating_sub(shard.len());
        let other_bytes = self
            .usage
            .bytes
            .load(Ordering::Relaxed)
            .saturating_sub(shard.bytes());
        Room {
            items: items.saturating_sub(other_items),
            bytes: bytes.saturating_sub(other_bytes),
        }
    }

    /// Runs `f` on a locked shard, then publishes how its size changed.
    #[inline]
    pub(crate) fn with_shard<R>(&self, index: usize, f: impl FnOnce(&mut Shard<K, V>) -> R) -> R {
        let mut shard = self.shards[index].write();
        let tracking = self.tracking.load(Ordering::Relaxed);
        if tracking == 0 {
            return f(&mut shard);
        }
        let before = (shard.len(), shard.bytes());
        let result = f(&mut shard);
        self.publish(tracking, before, (shard.len(), shard.bytes()), 0);
        result
    }

    /// [`with_shard`](Self::with_shard) for an insert that reserved its bytes in the budget:
    /// the shard's change replaces the reservation in one atomic step (released instead if
    /// `f` panics).
    fn with_shard_reserved<R>(
        &self,
        index: usize,
        reservation: Reservation,
        f: impl FnOnce(&mut Shard<K, V>) -> R,
    ) -> R {
        let mut shard = self.shards[index].write();
        let tracking = self.tracking.load(Ordering::Relaxed);
        let before = (shard.len(), shard.bytes());
        let result = f(&mut shard);
        let reserved = reservation.consume();
        self.publish(tracking, before, (shard.len(), shard.bytes()), reserved);
        result
    }

    /// Publishes a shard's change of `(items, bytes)`: to the store's total when it has
    /// several shards, to the budget when it is in it (`reserved` of those bytes are counted
    /// there already).
    #[inline]
    fn publish(
        &self,
        tracking: u8,
        (items, bytes): (usize, usize),
        (new_items, new_bytes): (usize, usize),
        reserved: u64,
    ) {
        if tracking & TRACK_USAGE != 0 {
            if new_items != items {
                self.usage
                    .items
                    .fetch_add(new_items.wrapping_sub(items), Ordering::Relaxed);
            }
            if new_bytes != bytes {
                self.usage
                    .bytes
                    .fetch_add(new_bytes.wrapping_sub(bytes), Ordering::Relaxed);
            }
        }
        if tracking & TRACK_BUDGET != 0 {
            let delta = (new_bytes as u64).wrapping_sub(bytes as u64);
            if delta != 0 || reserved != 0 {
                self.faas.count(delta, reserved);
            }
        }
    }

    /// Starts counting the store's bytes in the process's memory budget, with every shard
    /// locked so that no write falls between the count and the switch. Once only.
    pub(crate) fn start_budget_accounting(&self) {
        let mut guards: Vec<_> = self.shards.iter().map(|shard| shard.write()).collect();
        if self.tracking.load(Ordering::Relaxed) & TRACK_BUDGET != 0 {
            return;
        }
        if let Some(deep) = self.budget_weigher {
            if self.weigher.set(deep).is_ok() {
                // As `change_byte_size` does: inserts weigh deeply from now on (one that
                // weighed before the switch weighs again under its shard's lock).
                for shard in &mut guards {
                    let before = shard.bytes();
                    shard.recharge(deep, self.entry_overhead);
                    if self.shards.len() > 1 {
                        self.usage
                            .bytes
                            .fetch_add(shard.bytes().wrapping_sub(before), Ordering::Relaxed);
                    }
                }
            }
        }
        let bytes = guards
            .iter()
            .fold(self.fixed_bytes, |sum, shard| sum + shard.bytes());
        self.faas.count(bytes as u64, 0);
        self.tracking.fetch_or(TRACK_BUDGET, Ordering::Relaxed);
        drop(guards);
    }

    /// Frees memory for the budget in one shard (the next in turn): its expired entries if it
    /// has any, else one entry (only a cold one with `cold_only`). Tries every shard.
    pub(crate) fn free_for_budget(&self, cold_only: bool) -> bool {
        let count = self.shards.len();
        let start = self.evict_cursor.fetch_add(1, Ordering::Relaxed);
        for step in 0..count {
            let index = (start + step) & (count - 1);
            let mut out = Departures::new();
            let freed = self.with_shard(index, |shard| {
                shard.expire_due(&self.clock, &mut out);
                if !out.is_empty() {
                    return true;
                }
                if cold_only {
                    shard.evict_cold(&mut out)
                } else {
                    shard.evict_one(&mut out)
                }
            });
            self.finish(out);
            if freed {
                return true;
            }
        }
        false
    }

    fn over_bounds(&self) -> bool {
        let items = bound(&self.max_items).map_or(usize::MAX, |n| n as usize);
        self.usage.items.load(Ordering::Relaxed) > items
            || self.usage.bytes.load(Ordering::Relaxed) > self.entry_byte_limit()
    }

    /// With several shards, evicts from shards other than `keep` (which holds only the entry
    /// just written) until the store fits its bounds again.
    fn evict_elsewhere(&self, keep: usize, out: &mut Departures<K, V>) {
        if self.shards.len() == 1 {
            return;
        }
        let mut fruitless = 0;
        while self.over_bounds() && fruitless < self.shards.len() {
            let index = self.evict_cursor.fetch_add(1, Ordering::Relaxed) & (self.shards.len() - 1);
            let evicted = index != keep
                && self.with_shard(index, |shard| {
                    shard.expire_due(&self.clock, out);
                    shard.evict_one(out)
                });
            fruitless = if evicted { 0 } else { fruitless + 1 };
        }
    }

    #[inline(always)]
    fn finish(&self, out: Departures<K, V>) {
        // Without a hook, entries whose drop does nothing need no further visit.
        let trivial = self.hook.is_none() && !std::mem::needs_drop::<Departed<K, V>>();
        if !trivial && !out.is_empty() {
            dispose(self.hook.as_ref(), out, &self.hook_panics, &self.name);
        }
    }

    fn each_shard(&self, mut f: impl FnMut(&mut Shard<K, V>, &mut Departures<K, V>)) {
        for index in 0..self.shards.len() {
            let mut out = Departures::new();
            self.with_shard(index, |shard| f(shard, &mut out));
            self.finish(out);
        }
    }

    /// Live entries now.
    pub fn len(&self) -> usize {
        let mut len = 0;
        self.each_shard(|shard, out| {
            shard.expire_due(&self.clock, out);
            len += shard.len();
        });
        len
    }

    /// Whether there is no live entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Accounted bytes now: the entries (key and value sizes plus per-entry overhead) and the
    /// store's fixed overhead. Expired entries are reclaimed first and not counted.
    pub fn byte_size(&self) -> usize {
        let mut bytes = self.fixed_bytes;
        self.each_shard(|shard, out| {
            shard.expire_due(&self.clock, out);
            bytes += shard.bytes();
        });
        bytes
    }

    /// Removes every entry; the hook sees each with [`DeleteReason::Removed`] (or `Expired` for
    /// those whose time had run out). Counters are kept.
    pub fn purge(&self) {
        self.each_shard(|shard, out| shard.purge(&self.clock, out));
        self.clear_tiers();
    }

    /// Live keys, in the policy's order (see [`Policy`]): LRU lists the least recently used
    /// first.
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        self.collect(|k, _| k.clone())
    }

    /// Live values, in the order of [`keys`](Self::keys).
    pub fn values(&self) -> Vec<V>
    where
        V: Clone,
    {
        self.collect(|_, v| v.clone())
    }

    /// Live `(key, value)` pairs, in the order of [`keys`](Self::keys).
    pub fn items(&self) -> Vec<(K, V)>
    where
        K: Clone,
        V: Clone,
    {
        self.collect(|k, v| (k.clone(), v.clone()))
    }

    fn collect<T>(&self, mut f: impl FnMut(&K, &V) -> T) -> Vec<T> {
        let mut all = Vec::new();
        self.each_shard(|shard, out| {
            shard.expire_due(&self.clock, out);
            all.reserve(shard.len());
            shard.for_each(|k, v| all.push(f(k, v)));
        });
        all
    }

    /// Sets a new item bound and evicts (expired entries first, then as the policy picks) until
    /// the store fits.
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidBound`] for zero; the bound is then unchanged.
    pub fn change_max_items(&self, max_items: usize) -> Result<(), CacheError> {
        if max_items == 0 {
            return Err(CacheError::InvalidBound {
                name: "max_items",
                value: "0".to_owned(),
                reason: "the item bound must be at least 1",
            });
        }
        self.max_items.store(max_items as u64, Ordering::Relaxed);
        self.trim();
        Ok(())
    }

    /// Removes the item bound.
    pub fn remove_item_limit(&self) {
        self.max_items.store(UNBOUNDED, Ordering::Relaxed);
    }

    /// Sets a new byte bound (`"64M"`, a [`ByteSize`], an integer) and evicts (expired entries
    /// first, then as the policy picks) until the store fits.
    ///
    /// Entries are measured by their deep size ([`DeepSize`](crate::DeepSize)). A store built
    /// without [`Builder::max_size`] or [`Builder::measure_deep_size`] charged its entries their
    /// inline size until now: the first call measures every entry anew (once, shard by shard)
    /// and every later insert is measured deeply.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u32, String> = FaasCacheDict::new();
    /// cache.insert(1, "x".repeat(1000))?;
    /// cache.change_byte_size("64K")?;
    /// // The string's 1 000 heap bytes now count.
    /// assert!(cache.byte_size() > cache.fixed_overhead() + 1000);
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] for an invalid size, [`CacheError::InvalidBound`] for one
    /// smaller than the store's fixed overhead; the bound is then unchanged.
    pub fn change_byte_size(&self, size: impl IntoByteSize) -> Result<(), CacheError>
    where
        K: crate::DeepSize,
        V: crate::DeepSize,
    {
        let (size, share) = size.into_resolved_size()?;
        self.check_byte_bound(size, share.as_ref())?;
        if self
            .weigher
            .set(crate::store::builder::deep_weight::<K, V>)
            .is_ok()
        {
            // Inserts from now on weigh deeply (and re-weigh under the shard lock if they
            // weighed before the switch); entries already in are charged anew here.
            for index in 0..self.shards.len() {
                self.with_shard(index, |shard| {
                    shard.recharge(
                        crate::store::builder::deep_weight::<K, V>,
                        self.entry_overhead,
                    );
                });
            }
        }
        self.set_byte_bound(Some(size));
        self.faas.set_share(share);
        self.trim();
        if self.tracking.load(Ordering::Relaxed) & TRACK_BUDGET != 0 {
            // Entries measured deeply now may count more than the budget holds.
            crate::faas::budget::counting().settle();
        }
        Ok(())
    }

    /// Removes the byte bound.
    pub fn remove_byte_limit(&self) {
        self.set_byte_bound(None);
        self.faas.set_share(None);
    }

    /// `Err` for a byte bound that cannot hold the store's fixed overhead; the error names the
    /// share of the process's memory it came from, if it did.
    pub(crate) fn check_byte_bound(
        &self,
        size: ByteSize,
        share: Option<&ResolvedShare>,
    ) -> Result<(), CacheError> {
        if size.as_u64() <= self.fixed_bytes as u64 {
            return Err(CacheError::InvalidBound {
                name: "max_size",
                value: match share {
                    Some(share) => format!("{share} = {} bytes", size.as_u64()),
                    None => size.as_u64().to_string(),
                },
                reason: "the byte bound must exceed the store's fixed overhead \
                         (FaasCacheDict::fixed_overhead)",
            });
        }
        Ok(())
    }

    /// A byte bound that holds nothing: for a share of the process's memory that came out
    /// below the fixed overhead (or could not be resolved) in generated code, which must not
    /// fail; every value is then returned uncached.
    pub(crate) fn set_byte_bound_to_nothing(&self) {
        self.set_byte_bound(Some(ByteSize::from(self.fixed_bytes as u64 + 1)));
    }

    pub(crate) fn set_byte_bound(&self, size: Option<ByteSize>) {
        self.max_bytes
            .store(size.map_or(UNBOUNDED, ByteSize::as_u64), Ordering::Relaxed);
    }

    /// Reclaims expired entries everywhere, then evicts until the bounds hold.
    fn trim(&self) {
        self.each_shard(|shard, out| shard.expire_due(&self.clock, out));
        if self.shards.len() == 1 {
            self.each_shard(|shard, out| shard.trim(self.room_for(shard), &self.clock, out));
        } else {
            let mut out = Departures::new();
            self.evict_elsewhere(usize::MAX, &mut out);
            self.finish(out);
        }
    }

    /// A snapshot of counters, sizes and settings.
    pub fn info(&self) -> CacheInfo {
        let (mut items, mut bytes) = (0, self.fixed_bytes);
        let raw = self.raw_counters(|shard| {
            items += shard.len();
            bytes += shard.bytes();
        });
        let counters = self.memo_stats.report(raw);
        CacheInfo {
            name: self.name.to_string(),
            hits: counters.hits,
            misses: counters.misses,
            waited: counters.waited,
            uncached: counters.uncached,
            stale_hits: counters.stale_hits,
            fallbacks: counters.fallbacks,
            refreshes: counters.refreshes,
            evictions: counters.evictions,
            expirations: counters.expirations,
            hook_panics: counters.hook_panics,
            current_items: items,
            current_size_bytes: bytes as u64,
            deep_sizes: self.weigher.get().is_some(),
            max_items: self.max_items(),
            max_size_bytes: self.max_size().map(ByteSize::as_u64),
            max_size_share: self.faas.share(),
            in_memory_budget: self.faas.budgeted(),
            default_ttl: self.default_ttl(),
            tiers: self.tier_info(),
        }
    }

    /// Sets every counter of [`info`](Self::info) (hits, misses, waited, uncached, evictions,
    /// expirations, hook panics) back to zero, and keeps the entries: what
    /// `functools.lru_cache`'s `cache_clear()` does to the statistics. [`purge`](Self::purge)
    /// is the other half (it removes the entries and keeps the counters).
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u32, u32> = FaasCacheDict::new();
    /// cache.insert(1, 10)?;
    /// assert_eq!(cache.get(&1), Some(10));
    /// assert_eq!(cache.info().hits, 1);
    /// cache.reset_stats();
    /// let info = cache.info();
    /// assert_eq!((info.hits, info.misses, info.current_items), (0, 0, 1));
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn reset_stats(&self) {
        let raw = self.raw_counters(|_| {});
        self.memo_stats.reset(raw);
    }

    /// The counters of the shards, their reader slots and the hooks, as they are written;
    /// `each` sees every shard once its expired entries are reclaimed.
    fn raw_counters(&self, mut each: impl FnMut(&Shard<K, V>)) -> Counters {
        let mut stats = ShardStats::default();
        self.each_shard(|shard, out| {
            shard.expire_due(&self.clock, out);
            stats.add(&shard.stats);
            each(shard);
        });
        // Lookups under the shared lock count in the reader slots.
        for shard in self.shards.iter() {
            for slot in shard.slots() {
                stats.hits += slot.hits();
                stats.misses += slot.misses();
            }
        }
        Counters {
            hits: stats.hits,
            misses: stats.misses,
            evictions: stats.evictions,
            expirations: stats.expirations,
            hook_panics: self.hook_panics.load(Ordering::Relaxed),
            ..Counters::default()
        }
    }
}

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    #[inline]
    pub(crate) fn locate<Q: ?Sized + Hash>(&self, key: &Q) -> (u64, usize) {
        let hash = self.hasher.hash_one(key);
        // hashbrown picks buckets with the low bits and tags with the top seven: take the
        // shard from bits in between so that neither loses entropy.
        let index = (hash >> 32) as usize & (self.shards.len() - 1);
        (hash, index)
    }

    /// The shard that holds `key`, for tests of the sharded eviction order.
    #[doc(hidden)]
    pub fn shard_index<Q: ?Sized + Hash>(&self, key: &Q) -> usize {
        self.locate(key).1
    }

    /// Stores `value` with the default TTL and returns the value it replaced (a replaced entry
    /// counts as used).
    ///
    /// Evicts entries as the policy picks until the new one fits the bounds (expired ones are
    /// reclaimed first). The hook sees a replaced live value as [`DeleteReason::Replaced`] and
    /// an overwritten expired one as [`DeleteReason::Expired`].
    ///
    /// # Errors
    ///
    /// [`CacheError::DataTooLarge`] when the entry alone exceeds the byte bound; nothing is
    /// stored or evicted.
    pub fn insert(&self, key: K, value: V) -> Result<Option<V>, CacheError> {
        let ttl = self.default_ttl_nanos.load(Ordering::Relaxed);
        self.insert_expiring(key, value, ttl)
    }

    /// Like [`insert`](Self::insert), with this entry's own TTL (`None`: never expires).
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); also [`CacheError::InvalidBound`] for a zero TTL.
    pub fn insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: Option<Duration>,
    ) -> Result<Option<V>, CacheError> {
        if ttl == Some(Duration::ZERO) {
            return Err(CacheError::InvalidBound {
                name: "ttl",
                value: "0s".to_owned(),
                reason: "a time to live must be greater than zero (use None for no expiry)",
            });
        }
        self.insert_expiring(key, value, ttl.map_or(NEVER, duration_nanos))
    }

    fn insert_expiring(&self, key: K, value: V, ttl_nanos: u64) -> Result<Option<V>, CacheError> {
        let (hash, index) = self.locate(&key);
        // Encoded before the insert takes the key and value, written once it succeeded.
        let staged = self.stage_write_through(&key, &value, ttl_nanos);
        let replaced = self.insert_expiring_located(hash, index, key, value, ttl_nanos)?;
        self.write_through(staged);
        Ok(replaced)
    }

    /// [`insert`](Self::insert) of a key already hashed by [`locate`](Self::locate).
    pub(crate) fn insert_located(
        &self,
        hash: u64,
        index: usize,
        key: K,
        value: V,
    ) -> Result<Option<V>, CacheError> {
        let ttl = self.default_ttl_nanos.load(Ordering::Relaxed);
        self.insert_expiring_located(hash, index, key, value, ttl)
    }

    pub(crate) fn insert_expiring_located(
        &self,
        hash: u64,
        index: usize,
        key: K,
        value: V,
        ttl_nanos: u64,
    ) -> Result<Option<V>, CacheError> {
        let weigher = self.weigher.get();
        let weight = match weigher {
            None => std::mem::size_of::<K>() + std::mem::size_of::<V>(),
            Some(weigh) => weigh(&key, &value),
        };
        let charge = weight.saturating_add(self.entry_overhead);
        self.check_fits(charge)?;
        let expires = if ttl_nanos == NEVER {
            NEVER
        } else {
            // A store that keeps expired values for a while (`stale`, `fallback`) keeps the
            // entry that much longer; it is fresh until `expires - grace`.
            self.clock
                .now_nanos()
                .saturating_add(ttl_nanos.saturating_add(self.fresh.grace))
        };
        let mut out = Departures::new();
        let entry = Staged {
            hash,
            key,
            value,
            charge,
            weighed: weigher.is_some(),
            expires,
        };
        let replaced = if self.tracking.load(Ordering::Relaxed) & TRACK_BUDGET == 0 {
            self.with_shard(index, |shard| self.shard_insert(shard, entry, &mut out))?
        } else {
            self.insert_budgeted(index, entry, &mut out)?
        };
        self.evict_elsewhere(index, &mut out);
        self.finish(out);
        Ok(replaced.map(|(key, old)| {
            notify(
                self.hook.as_ref(),
                &key,
                &old,
                DeleteReason::Replaced,
                &self.hook_panics,
                &self.name,
            );
            old
        }))
    }

    /// The insert of an entry in the process's memory budget: its bytes are reserved there
    /// first (which may evict in any store of the budget), then replaced by the entry's.
    #[inline(never)]
    fn insert_budgeted(
        &self,
        index: usize,
        entry: Staged<K, V>,
        out: &mut Departures<K, V>,
    ) -> Result<Option<(K, V)>, CacheError> {
        let requester = self as *const Self as *const ();
        let reservation =
            crate::faas::budget::counting().reserve(entry.charge as u64, requester)?;
        self.with_shard_reserved(index, reservation, |shard| {
            self.shard_insert(shard, entry, out)
        })
    }

    /// The part of an insert under the shard's lock.
    #[inline(always)]
    fn shard_insert(
        &self,
        shard: &mut Shard<K, V>,
        entry: Staged<K, V>,
        out: &mut Departures<K, V>,
    ) -> Result<Option<(K, V)>, CacheError> {
        let Staged {
            hash,
            key,
            value,
            mut charge,
            weighed,
            expires,
        } = entry;
        if !weighed {
            if let Some(weigh) = self.weigher.get() {
                // `change_byte_size` switched to deep sizes since this entry was weighed.
                charge = weigh(&key, &value).saturating_add(self.entry_overhead);
                self.check_fits(charge)?;
            }
        }
        let room = self.room_for(shard);
        Ok(shard.insert(hash, key, value, charge, expires, room, &self.clock, out))
    }

    /// A clone of the live value for `key`, marked as used (under LRU, made the most recently
    /// used). Counts a hit or miss.
    ///
    /// `key` may be any borrowed form of `K` (`&str` for `String`), or a type that implements
    /// [`Equivalent`] and hashes like `K`.
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
        V: Clone,
    {
        let (hash, index) = self.locate(key);
        self.get_located(hash, index, key)
    }

    #[inline]
    pub(crate) fn get_located<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        if self.policy == Policy::S3Fifo {
            self.get_shared(hash, index, key)
        } else {
            self.get_exclusive(hash, index, key)
        }
    }

    /// The hot path: a shared lock, nothing shared written (see `Shard::get_shared`). Kept
    /// small so that it inlines into callers, and free of calls (but `Q`'s and `V`'s own) on
    /// the way of a thread that owns its reader slot: anything else goes to
    /// [`get_shared_slow`](Self::get_shared_slow).
    #[inline]
    fn get_shared<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        match self.shards[index].try_read_owned() {
            Some(shard) => Self::lookup_shared(&shard, hash, key, &self.clock),
            None => self.get_shared_slow(hash, index, key),
        }
    }

    /// [`get_shared`](Self::get_shared) for a thread without a slot of its own, or one that
    /// found a writer inside: the full `read`, which claims slots and waits.
    #[cold]
    #[inline(never)]
    fn get_shared_slow<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        Self::lookup_shared(&self.shards[index].read(), hash, key, &self.clock)
    }

    /// The lookup of [`get_shared`](Self::get_shared) in a read-locked shard, counted in the
    /// reader's slot.
    #[inline(always)]
    fn lookup_shared<Q>(
        shard: &ReadGuard<'_, Shard<K, V>>,
        hash: u64,
        key: &Q,
        clock: &Clock,
    ) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        let found = shard.get_shared(hash, key, clock).cloned();
        if found.is_some() {
            shard.count_hit();
        } else {
            shard.count_miss();
        }
        found
    }

    /// A lookup that reorders (LRU): under the exclusive lock.
    #[inline(never)]
    fn get_exclusive<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        let mut out = Departures::new();
        let value = self.with_shard(index, |shard| {
            shard.get(hash, key, &self.clock, &mut out).cloned()
        });
        self.finish(out);
        value
    }

    /// [`get_located`](Self::get_located) that also returns the entry's expiry and the time
    /// it was checked against (`now` is 0 for an entry that never expires).
    #[inline]
    pub(crate) fn get_timed_located<Q>(
        &self,
        hash: u64,
        index: usize,
        key: &Q,
    ) -> Option<(V, u64, u64)>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        if self.policy == Policy::S3Fifo {
            // As `get_shared`: the slow read (a thread without a slot of its own, or a writer
            // inside) out of line, so that this path stays small.
            match self.shards[index].try_read_owned() {
                Some(shard) => Self::lookup_timed(&shard, hash, key, &self.clock),
                None => self.get_timed_slow(hash, index, key),
            }
        } else {
            let mut out = Departures::new();
            let found = self.with_shard(index, |shard| {
                shard
                    .get_timed(hash, key, &self.clock, &mut out)
                    .map(|(v, expires, now)| (v.clone(), expires, now))
            });
            self.finish(out);
            found
        }
    }

    #[cold]
    #[inline(never)]
    fn get_timed_slow<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<(V, u64, u64)>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        Self::lookup_timed(&self.shards[index].read(), hash, key, &self.clock)
    }

    #[inline(always)]
    fn lookup_timed<Q>(
        shard: &ReadGuard<'_, Shard<K, V>>,
        hash: u64,
        key: &Q,
        clock: &Clock,
    ) -> Option<(V, u64, u64)>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        let found = shard
            .get_shared_timed(hash, key, clock)
            .map(|(v, expires, now)| (v.clone(), expires, now));
        if found.is_some() {
            shard.count_hit();
        } else {
            shard.count_miss();
        }
        found
    }

    /// The live value of a key and its expiry, without counting a lookup.
    pub(crate) fn peek_timed_located<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<(V, u64)>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        self.shards[index]
            .read()
            .peek_timed(hash, key, &self.clock)
            .map(|(v, expires)| (v.clone(), expires))
    }

    /// Moves a live entry's expiry to `expires` if that is later (`refresh_on_hit`).
    pub(crate) fn extend_located<Q>(&self, hash: u64, index: usize, key: &Q, expires: u64)
    where
        Q: ?Sized + Equivalent<K>,
    {
        let mut out = Departures::new();
        self.with_shard(index, |shard| {
            if shard
                .expiry_of(hash, key, &self.clock)
                .is_some_and(|old| old < expires)
            {
                shard.set_expiry(hash, key, expires, &self.clock, &mut out);
            }
        });
        self.finish(out);
    }

    /// The live value of a key without counting a lookup or changing the order.
    pub(crate) fn peek_located<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<V>
    where
        Q: ?Sized + Equivalent<K>,
        V: Clone,
    {
        self.shards[index]
            .read()
            .peek(hash, key, &self.clock)
            .cloned()
    }

    /// Whether a live entry exists for `key`; does not count as a lookup or change the order.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        self.shards[index].read().contains(hash, key, &self.clock)
    }

    /// Removes the live entry for `key` and returns its value; the hook sees
    /// [`DeleteReason::Removed`]. `None` if absent or expired.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        let mut out = Departures::new();
        let removed = self.with_shard(index, |shard| {
            shard.remove(hash, key, &self.clock, &mut out)
        });
        self.finish(out);
        removed.map(|(key, value)| {
            notify(
                self.hook.as_ref(),
                &key,
                &value,
                DeleteReason::Removed,
                &self.hook_panics,
                &self.name,
            );
            value
        })
    }

    /// Time left before `key` expires; `None` if it is absent, expired or never expires.
    pub fn get_ttl<Q>(&self, key: &Q) -> Option<Duration>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        let expires = self.shards[index]
            .read()
            .expiry_of(hash, key, &self.clock)?;
        // Without the time an expired value is kept for (`stale`, `fallback`): the fresh life.
        (expires != NEVER).then(|| {
            Duration::from_nanos(
                expires
                    .saturating_sub(self.fresh.grace)
                    .saturating_sub(self.clock.now_nanos()),
            )
        })
    }

    /// Gives a live entry a new TTL counted from now (`None`: never expires). `false` if the
    /// key is absent or expired.
    pub fn set_ttl<Q>(&self, key: &Q, ttl: Option<Duration>) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let expires = match ttl {
            Some(ttl) => self.clock.now_nanos().saturating_add(duration_nanos(ttl)),
            None => NEVER,
        };
        self.set_expiry(key, expires)
    }

    /// Makes a live entry expire at a wall-clock time (at once if it is in the past). `false`
    /// if the key is absent or expired.
    pub fn expire_at<Q>(&self, key: &Q, at: SystemTime) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        self.set_expiry(key, self.clock.nanos_at(at))
    }

    fn set_expiry<Q>(&self, key: &Q, expires: u64) -> bool
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        let mut out = Departures::new();
        let found = self.with_shard(index, |shard| {
            shard.set_expiry(hash, key, expires, &self.clock, &mut out)
        });
        self.finish(out);
        found
    }

    /// Whether the entry for `key` has expired: `Some(true)` while an expired entry waits to
    /// be reclaimed, `Some(false)` for a live one, `None` for an unknown (or reclaimed) key.
    pub fn is_expired<Q>(&self, key: &Q) -> Option<bool>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        self.shards[index].read().is_expired(hash, key, &self.clock)
    }
}

/// The fixed overhead of a store with these types, shard count and length of the name it owns
/// (a memoized function's name is a `&'static str`, owned by nobody): the store itself, its shards with their worst-case spare node storage, and its registry of
/// computations in flight (allocated on first use).
pub(crate) const fn fixed_overhead_of<K, V, S>(
    shards: usize,
    slots: usize,
    name_len: usize,
) -> usize {
    std::mem::size_of::<FaasCacheDict<K, V, S>>()
        + std::mem::size_of::<InFlight<K, V>>()
        + name_len
        + shards
            * (std::mem::size_of::<CachePadded<ReadMostly<Shard<K, V>>>>()
                + slots * std::mem::size_of::<CachePadded<ReaderSlot>>()
                + crate::store::policy::MIN_SKETCH_BYTES
                + slab_slack::<K, V>())
}

#[inline]
fn bound(atomic: &AtomicU64) -> Option<u64> {
    let value = atomic.load(Ordering::Relaxed);
    (value != UNBOUNDED).then_some(value)
}

impl<K, V, S> fmt::Display for FaasCacheDict<K, V, S> {
    /// `<FaasCacheDict@0x..; default_ttl=10s, max_memory=128M, max_items=10,
    /// current_memory_bytes=496, current_items=1>`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.info();
        write!(f, "<FaasCacheDict@{:p}; default_ttl=", self)?;
        write_opt(f, info.default_ttl.map(DebugDisplay))?;
        f.write_str(", max_memory=")?;
        write_opt(f, self.max_size())?;
        f.write_str(", max_items=")?;
        write_opt(f, info.max_items)?;
        write!(
            f,
            ", current_memory_bytes={}, current_items={}>",
            info.current_size_bytes, info.current_items
        )
    }
}

impl<K, V, S> fmt::Debug for FaasCacheDict<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaasCacheDict")
            .field("name", &self.name)
            .field("shards", &self.shards.len())
            .field("policy", &self.policy)
            .field("max_items", &self.max_items())
            .field("max_size", &self.max_size())
            .field("default_ttl", &self.default_ttl())
            .finish_non_exhaustive()
    }
}
