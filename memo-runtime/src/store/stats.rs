//! Statistics: per-shard counters, the memoization layer's counters, and the [`CacheInfo`]
//! snapshot.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::faas::share::ResolvedShare;
use crate::size::byte_size::ByteSize;
use crate::sync::Mutex;
use crate::tier::info::TierInfo;

/// Counters of one shard, updated under its lock.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ShardStats {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) evictions: u64,
    pub(crate) expirations: u64,
}

impl ShardStats {
    pub(crate) fn add(&mut self, other: &ShardStats) {
        self.hits += other.hits;
        self.misses += other.misses;
        self.evictions += other.evictions;
        self.expirations += other.expirations;
    }
}

/// Counters of the memoization layer (`get_or_insert_with` and memoized functions), kept
/// outside the shards: each is written on a slow path only (a caller that waited, a
/// computation whose result was not stored), never on a hit or a plain miss.
///
/// A caller of that layer first looks its key up, which counts a hit or a miss in the shard
/// (the hit path stays as it is). When the lookup missed but the caller was then served
/// without computing, [`CacheInfo`] moves that miss: to `waited` when another caller's
/// computation served it, to `hits` when it found the value on its second look. So `misses`
/// counts computations started.
#[derive(Debug, Default)]
pub(crate) struct MemoStats {
    /// Callers served by another caller's computation.
    waited: AtomicU64,
    /// Callers whose lookup missed but whose second look, before computing, found the value.
    late_hits: AtomicU64,
    /// Computations whose result was returned but not stored.
    uncached: AtomicU64,
    /// Lookups that found an entry (a hit in the shard) but computed anyway: a stale or
    /// expired-but-kept entry, or an early refresh (`stale`, `fallback`, `refresh_ahead`).
    /// Moved from `hits` to `misses`.
    recomputed: AtomicU64,
    /// Computations started without a lookup (`force_refresh`, `<fn>_refresh`): added to
    /// `misses`.
    forced: AtomicU64,
    /// Callers served an expired value at once while another caller recomputed it (`stale`).
    stale_hits: AtomicU64,
    /// Failed recomputations answered with the expired value (`fallback`).
    fallbacks: AtomicU64,
    /// Recomputations of a key that had a value: stale, early (`refresh_ahead`) or forced.
    refreshes: AtomicU64,
    /// The counters as [`reset_stats`](crate::FaasCacheDict::reset_stats) left them, to be
    /// subtracted: the shards' counters are written without a lock (a reader slot's owner
    /// adds with a plain store), so they cannot be zeroed safely from another thread.
    baseline: Mutex<Counters>,
}

impl MemoStats {
    /// A caller that missed was served by another caller's computation.
    pub(crate) fn count_waited(&self) {
        self.waited.fetch_add(1, Ordering::Relaxed);
    }

    /// A caller that missed found the value on its second look.
    pub(crate) fn count_late_hit(&self) {
        self.late_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// A computation's result was returned but not stored.
    pub(crate) fn count_uncached(&self) {
        self.uncached.fetch_add(1, Ordering::Relaxed);
    }

    /// A lookup that found an entry (and counted a hit) leads a recomputation instead.
    pub(crate) fn count_recomputed(&self) {
        self.recomputed.fetch_add(1, Ordering::Relaxed);
    }

    /// A computation forced without a lookup.
    pub(crate) fn count_forced(&self) {
        self.forced.fetch_add(1, Ordering::Relaxed);
    }

    /// A caller was served a stale value.
    pub(crate) fn count_stale_hit(&self) {
        self.stale_hits.fetch_add(1, Ordering::Relaxed);
    }

    /// A failed recomputation was answered with the expired value.
    pub(crate) fn count_fallback(&self) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// A key that had a value is computed again.
    pub(crate) fn count_refresh(&self) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// What [`CacheInfo`] reports, from the raw counters of the shards and hooks: lookups
    /// that missed but were served without computing are moved out of `misses`, and what
    /// [`reset`](Self::reset) recorded is subtracted.
    pub(crate) fn report(&self, raw: Counters) -> Counters {
        self.adjusted(raw).since(&self.baseline.lock())
    }

    /// Makes every counter read zero from now on.
    pub(crate) fn reset(&self, raw: Counters) {
        *self.baseline.lock() = self.adjusted(raw);
    }

    fn adjusted(&self, raw: Counters) -> Counters {
        let waited = self.waited.load(Ordering::Relaxed);
        let late_hits = self.late_hits.load(Ordering::Relaxed);
        let recomputed = self.recomputed.load(Ordering::Relaxed);
        let forced = self.forced.load(Ordering::Relaxed);
        Counters {
            hits: (raw.hits + late_hits).saturating_sub(recomputed),
            // Each waiter and late hit counted a miss first; saturating, because the shards'
            // counters are read without stopping the threads that write them.
            misses: (raw.misses + recomputed + forced).saturating_sub(waited + late_hits),
            waited,
            uncached: self.uncached.load(Ordering::Relaxed),
            stale_hits: self.stale_hits.load(Ordering::Relaxed),
            fallbacks: self.fallbacks.load(Ordering::Relaxed),
            refreshes: self.refreshes.load(Ordering::Relaxed),
            ..raw
        }
    }
}

/// Every counter of a store, as [`CacheInfo`] reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) hits: u64,
    pub(crate) misses: u64,
    pub(crate) waited: u64,
    pub(crate) uncached: u64,
    pub(crate) stale_hits: u64,
    pub(crate) fallbacks: u64,
    pub(crate) refreshes: u64,
    pub(crate) evictions: u64,
    pub(crate) expirations: u64,
    pub(crate) hook_panics: u64,
}

impl Counters {
    /// Counts since `baseline`.
    fn since(self, baseline: &Counters) -> Counters {
        Counters {
            hits: self.hits.saturating_sub(baseline.hits),
            misses: self.misses.saturating_sub(baseline.misses),
            waited: self.waited.saturating_sub(baseline.waited),
            uncached: self.uncached.saturating_sub(baseline.uncached),
            stale_hits: self.stale_hits.saturating_sub(baseline.stale_hits),
            fallbacks: self.fallbacks.saturating_sub(baseline.fallbacks),
            refreshes: self.refreshes.saturating_sub(baseline.refreshes),
            evictions: self.evictions.saturating_sub(baseline.evictions),
            expirations: self.expirations.saturating_sub(baseline.expirations),
            hook_panics: self.hook_panics.saturating_sub(baseline.hook_panics),
        }
    }
}

/// A snapshot of a store's statistics, like Python's `functools.lru_cache().cache_info()`.
///
/// Counters count from the store's creation or its last
/// [`reset_stats`](crate::FaasCacheDict::reset_stats) (`<fn>_reset_stats()` for a memoized
/// function). Clearing or purging a store (`<fn>_cache_clear()`) removes its entries but keeps
/// the counters, unlike `functools`' `cache_clear()`, which does both: call both for that.
///
/// For a memoized function (and [`get_or_insert_with`](crate::FaasCacheDict::get_or_insert_with)),
/// every call is exactly one of: a hit (`hits`), a computation (`misses`), or a wait for
/// another caller's computation of the same key (`waited`); `uncached` counts the computations
/// whose result was not stored. For the store's own [`get`](crate::FaasCacheDict::get), a
/// lookup is a hit or a miss.
///
/// # Examples
///
/// ```
/// use memo_runtime::FaasCacheDict;
///
/// let cache: FaasCacheDict<&str, u32> = FaasCacheDict::builder().max_items(10).name("demo").build()?;
/// cache.insert("a", 1)?;
/// assert_eq!(cache.get(&"a"), Some(1));
/// assert_eq!(cache.get(&"b"), None);
/// let info = cache.info();
/// assert_eq!((info.hits, info.misses, info.current_items), (1, 1, 1));
/// assert_eq!(info.hit_ratio(), 0.5);
/// assert!(info.to_string().starts_with("CacheInfo(name=demo, hits=1, misses=1"));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CacheInfo {
    /// The store's name (`module_path::fn_name` for a memoized function).
    pub name: String,
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found nothing (or an expired entry) and were not served otherwise: for a
    /// memoized function, the computations started (the body ran). A caller served by another
    /// caller's computation is counted in `waited`, not here.
    pub misses: u64,
    /// Callers whose lookup missed and who waited for another caller computing the same key,
    /// then took its value (stampede protection: they did not run the body).
    pub waited: u64,
    /// Computations whose result was returned to its caller but not stored: an `Err` or `None`
    /// under `result` / `option` (the next call computes again), or a value too large for
    /// `max_size`. Each is also one of the `misses`.
    pub uncached: u64,
    /// Callers served an expired value at once while another caller recomputed it (`stale`);
    /// each is also one of the `hits`.
    pub stale_hits: u64,
    /// Recomputations that failed (an `Err`) and were answered with the cached value instead:
    /// an expired one within `fallback`, or a live one refreshed early; each is also one of
    /// the `misses`.
    pub fallbacks: u64,
    /// Computations of a key that still had a value: a stale one (`stale`), a live one
    /// refreshed early (`refresh_ahead`), or a forced refresh (`force_refresh`,
    /// `<fn>_refresh`); each is also one of the `misses`.
    pub refreshes: u64,
    /// Entries removed to respect `max_items` or `max_size`.
    pub evictions: u64,
    /// Entries removed because their TTL ran out.
    pub expirations: u64,
    /// Times an `on_delete` hook panicked; each was caught.
    pub hook_panics: u64,
    /// Live entries now.
    pub current_items: usize,
    /// Accounted bytes now: entries (key and value sizes plus a per-entry overhead) and the
    /// store's fixed overhead. With [`deep_sizes`](Self::deep_sizes) the sizes of keys and
    /// values include the heap bytes they own; without (no `max_size`), only their inline size
    /// (`size_of`): then a `String` counts 24 bytes whatever its length, and `Display` leaves
    /// the figure out.
    pub current_size_bytes: u64,
    /// Whether keys and values are measured by their deep size ([`DeepSize`](crate::DeepSize)):
    /// true with a `max_size` (or [`measure_deep_size`](crate::Builder::measure_deep_size)).
    pub deep_sizes: bool,
    /// The item bound. With neither `max_items` nor `max_size` the store is unbounded: it
    /// grows until entries expire or are removed.
    pub max_items: Option<usize>,
    /// The byte bound.
    pub max_size_bytes: Option<u64>,
    /// The share of the process's memory that the byte bound was given as (`max_size =
    /// "10%"`), with the memory it is a share of and where that figure came from (cgroup,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, physical memory).
    pub max_size_share: Option<ResolvedShare>,
    /// Whether the store is in the process's memory budget
    /// ([`set_memory_budget`](crate::set_memory_budget)): memoized functions are, unless
    /// `memory_budget = false`; other stores when built with
    /// [`memory_budget(true)`](crate::Builder::memory_budget).
    pub in_memory_budget: bool,
    /// TTL given to entries inserted without one.
    pub default_ttl: Option<Duration>,
    /// The second-level tiers (disk, Redis) in the order a miss reads them; empty without.
    pub tiers: Vec<TierInfo>,
}

impl CacheInfo {
    /// The share of calls served without computing: `(hits + waited) / (hits + misses +
    /// waited)`, or 0.0 before any lookup. For the store's own `get`, where nobody waits, it is
    /// `hits / (hits + misses)`.
    pub fn hit_ratio(&self) -> f64 {
        let served = self.hits + self.waited;
        let lookups = served + self.misses;
        if lookups == 0 {
            0.0
        } else {
            served as f64 / lookups as f64
        }
    }

    /// Whether the store has neither an item bound nor a byte bound (a bare `#[faas_cached]`):
    /// it grows until entries expire or are removed.
    pub fn is_unbounded(&self) -> bool {
        self.max_items.is_none() && self.max_size_bytes.is_none()
    }
}

/// One line, in the manner of `functools`' `CacheInfo(hits=.., misses=.., maxsize=.., ..)`:
/// `CacheInfo(name=.., hits=.., misses=.., waited=.., uncached=.., hit_ratio=.., evictions=..,
/// expirations=.., current_items=.., [current_size_bytes=.., ]max_items=.., max_size=..,
/// default_ttl=..)`. A store with neither bound (a bare `#[faas_cached]`) says so:
/// `max_items=None, max_size=None (unbounded)`. `current_size_bytes` is shown only when keys
/// and values are measured by their deep size (with a `max_size`).
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// #[faas_cached(max_items = 100)]
/// fn cube(n: u64) -> u64 {
///     n * n * n
/// }
///
/// fn main() {
///     square(3);
///     let shown = square_cache_info().to_string();
///     assert!(shown.contains("max_items=None, max_size=None (unbounded)"), "{shown}");
///     assert!(!shown.contains("current_size_bytes"), "{shown}");
///     let shown = cube_cache_info().to_string();
///     assert!(shown.contains("max_items=100, max_size=None,"), "{shown}");
/// }
/// ```
impl fmt::Display for CacheInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CacheInfo(name={}, hits={}, misses={}, waited={}, uncached={}, hit_ratio={:.2}, \
             evictions={}, expirations={}, current_items={}, ",
            self.name,
            self.hits,
            self.misses,
            self.waited,
            self.uncached,
            self.hit_ratio(),
            self.evictions,
            self.expirations,
            self.current_items,
        )?;
        // Without deep sizes the figure ignores every heap byte: leave it out rather than
        // print a number that looks like memory use.
        if self.deep_sizes {
            write!(f, "current_size_bytes={}, ", self.current_size_bytes)?;
        }
        f.write_str("max_items=")?;
        write_opt(f, self.max_items)?;
        f.write_str(", max_size=")?;
        write_opt(f, self.max_size_bytes.map(ByteSize::from))?;
        if let Some(share) = &self.max_size_share {
            write!(f, " ({share})")?;
        }
        if self.is_unbounded() {
            f.write_str(" (unbounded)")?;
        }
        f.write_str(", default_ttl=")?;
        write_opt(f, self.default_ttl.map(DebugDisplay))?;
        if self.hook_panics > 0 {
            write!(f, ", hook_panics={}", self.hook_panics)?;
        }
        // Only stores that serve stale values, fall back or refresh have these.
        if self.stale_hits + self.fallbacks + self.refreshes > 0 {
            write!(
                f,
                ", stale_hits={}, fallbacks={}, refreshes={}",
                self.stale_hits, self.fallbacks, self.refreshes
            )?;
        }
        for tier in &self.tiers {
            write!(f, ", {tier}")?;
        }
        f.write_str(")")
    }
}

/// Writes `Some(x)` as `x` and `None` as `None`.
pub(crate) fn write_opt<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    value: Option<T>,
) -> fmt::Result {
    match value {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("None"),
    }
}

/// Displays a `Duration` with its `Debug` units (`500ms`, `60s`).
pub(crate) struct DebugDisplay(pub(crate) Duration);

impl fmt::Display for DebugDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}
