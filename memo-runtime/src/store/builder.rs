//! [`Builder`]: configures and validates a [`FaasCacheDict`].

use std::borrow::Cow;
use std::fmt;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::CacheError;
use crate::faas::share::{MemoryShare, ResolvedSize};
use crate::memo::fresh::Freshness;
use crate::size::byte_size::IntoByteSize;
use crate::size::deep_size::DeepSize;
use crate::store::dict::{FaasCacheDict, Settings};
use crate::store::hash::DefaultHashBuilder;
use crate::store::hooks::{DeleteReason, Hook};
use crate::store::policy::Policy;

/// Measures the bytes of a key and a value (their deep or inline sizes).
pub(crate) type Weigher<K, V> = fn(&K, &V) -> usize;

/// The inline size of a key and a value (what a store without deep sizes charges; it computes
/// it directly rather than through this function).
pub(crate) fn inline_weight<K, V>(_: &K, _: &V) -> usize {
    std::mem::size_of::<K>() + std::mem::size_of::<V>()
}

pub(crate) fn deep_weight<K: DeepSize, V: DeepSize>(key: &K, value: &V) -> usize {
    key.deep_size() + value.deep_size()
}

/// Builds a [`FaasCacheDict`]; every setting is optional. Obtain one with
/// [`FaasCacheDict::builder`].
///
/// Bad settings do not panic: [`build`](Self::build) reports the first one as a
/// [`CacheError`] naming it.
///
/// # Examples
///
/// ```
/// use memo_runtime::{DeleteReason, FaasCacheDict};
/// use std::time::Duration;
///
/// let cache: FaasCacheDict<String, String> = FaasCacheDict::builder()
///     .default_ttl(Duration::from_secs(60))
///     .max_size("128M")
///     .max_items(10)
///     .on_delete(|key: &String, _value: &String, why: DeleteReason| {
///         println!("{key} left: {why}");
///     })
///     .build()?;
/// assert_eq!(cache.info().max_items, Some(10));
///
/// let bad = FaasCacheDict::<String, String>::builder().max_size("64Q").build();
/// assert!(bad.unwrap_err().to_string().contains("\"64Q\""));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[must_use = "a builder does nothing until .build() is called"]
pub struct Builder<K, V, S = DefaultHashBuilder> {
    max_items: Option<usize>,
    /// The bound, and the share of the process's memory it was given as, if it was.
    max_size: Option<Result<ResolvedSize, CacheError>>,
    /// Set by generated code for `max_size = "10%"`: a share that cannot be honoured caches
    /// nothing rather than dropping the bound (see `build_lenient`).
    max_size_is_share: bool,
    default_ttl: Option<Duration>,
    on_delete: Option<Hook<K, V>>,
    pub(crate) name: Option<Cow<'static, str>>,
    clock: Clock,
    hasher: S,
    /// `None`: inline sizes.
    weigher: Option<Weigher<K, V>>,
    /// The deep weigher to switch to when the memory budget starts counting the store.
    budget_weigher: Option<Weigher<K, V>>,
    shards: usize,
    policy: Policy,
    pub(crate) dedupe_timeout: Option<Duration>,
    /// Whether the store joins the process's memory budget; `None`: the default (yes for a
    /// memoized function, no for a store built here).
    pub(crate) memory_budget: Option<bool>,
    /// `stale`, `fallback`, `refresh_on_hit`, `refresh_ahead` of a memoized function.
    fresh: Freshness,
    /// Second-level tiers and their settings (see `tier::setup`).
    #[cfg(feature = "tier")]
    pub(crate) tiers: crate::tier::setup::TierSetup<K, V>,
    _types: PhantomData<fn(K, V)>,
}

/// How long a waiter of [`FaasCacheDict::get_or_insert_with`] waits, by default, for a
/// computation that shows no progress before computing itself.
pub const DEFAULT_DEDUPE_TIMEOUT: Duration = Duration::from_secs(30);

impl<K, V> Builder<K, V> {
    pub(crate) fn new() -> Self {
        Builder {
            max_items: None,
            max_size: None,
            max_size_is_share: false,
            default_ttl: None,
            on_delete: None,
            name: None,
            clock: Clock::system(),
            hasher: DefaultHashBuilder::default(),
            weigher: None,
            budget_weigher: None,
            shards: 1,
            policy: Policy::default(),
            dedupe_timeout: Some(DEFAULT_DEDUPE_TIMEOUT),
            memory_budget: None,
            fresh: Freshness::default(),
            #[cfg(feature = "tier")]
            tiers: crate::tier::setup::TierSetup::default(),
            _types: PhantomData,
        }
    }
}

impl<K, V, S> Builder<K, V, S> {
    /// Bounds the number of entries; inserting beyond it evicts the least recently used.
    /// Zero is rejected by [`build`](Self::build).
    pub fn max_items(mut self, max_items: usize) -> Self {
        self.max_items = Some(max_items);
        self
    }

    /// Bounds the accounted bytes: the deep size of every key and value, a per-entry overhead
    /// and the store's fixed overhead. Accepts `"512K"`, `"64M"`, `"64MiB"`, `"1.5G"` (binary
    /// units, K = 1024; `"64MB"` is refused as ambiguous, see [`ByteSize`](crate::ByteSize)), a
    /// [`ByteSize`](crate::ByteSize), an integer number of bytes, or a share of the memory the
    /// process may use, `"10%"` ([`MemoryShare`], resolved now against
    /// [`process_memory`](crate::process_memory)). Also turns on deep-size accounting (see
    /// [`measure_deep_size`](Self::measure_deep_size)).
    ///
    /// An invalid size (`"64Q"`, `"64MB"`, `0`, `-1`, `"150%"`) is reported by
    /// [`build`](Self::build).
    pub fn max_size(mut self, size: impl IntoByteSize) -> Self
    where
        K: DeepSize,
        V: DeepSize,
    {
        self.max_size = Some(size.into_resolved_size());
        self.measure_deep_size()
    }

    /// `max_size` with an explicit weigher, for generated code that asserts `DeepSize` itself.
    #[doc(hidden)]
    pub fn max_size_weighed(mut self, size: u64, weigher: Weigher<K, V>) -> Self {
        self.max_size = Some(size.into_resolved_size());
        self.weigher = Some(weigher);
        self
    }

    /// `max_size = "10%"` with an explicit weigher, for generated code: a share of the
    /// process's memory, in millionths (checked at compile time).
    #[doc(hidden)]
    pub fn max_size_share_weighed(mut self, millionths: u32, weigher: Weigher<K, V>) -> Self {
        self.max_size = Some(MemoryShare::from_millionths(millionths).into_resolved_size());
        self.max_size_is_share = true;
        self.weigher = Some(weigher);
        self
    }

    /// For generated code without `max_size`: the deep weigher (if the key and value implement
    /// `DeepSize`) that the store switches to when the memory budget starts counting it.
    #[doc(hidden)]
    pub fn budget_weigher(mut self, weigher: Option<Weigher<K, V>>) -> Self {
        self.budget_weigher = weigher;
        self
    }

    /// Accounts each entry by the deep size of its key and value ([`DeepSize`]) rather than by
    /// their inline size, without setting a bound: [`FaasCacheDict::byte_size`] then reports
    /// the real memory of heap-owning types such as `String`.
    pub fn measure_deep_size(mut self) -> Self
    where
        K: DeepSize,
        V: DeepSize,
    {
        self.weigher = Some(deep_weight::<K, V>);
        self
    }

    /// Time to live of entries inserted without one of their own. Zero is rejected by
    /// [`build`](Self::build).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// Called for every entry that leaves the store, with the reason. It runs after the store's
    /// lock is released, on the thread that caused the removal, so it may use the store; a panic
    /// in it is caught, logged and counted in [`CacheInfo::hook_panics`](crate::CacheInfo).
    pub fn on_delete<F>(mut self, hook: F) -> Self
    where
        F: Fn(&K, &V, DeleteReason) + Send + Sync + 'static,
    {
        self.on_delete = Some(Box::new(hook));
        self
    }

    /// The name shown by [`CacheInfo`](crate::CacheInfo) and in logs.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(Cow::Owned(name.into()));
        self
    }

    /// A name that lives as long as the program, which the store then need not own nor count
    /// in its fixed overhead: for generated code, whose compile-time check of `max_size` must
    /// not depend on the name.
    #[doc(hidden)]
    pub fn static_name(mut self, name: &'static str) -> Self {
        self.name = Some(Cow::Borrowed(name));
        self
    }

    /// For generated code: how a memoized function treats expired entries and hits
    /// (`stale`, `fallback` in nanoseconds; `refresh_on_hit`, `refresh_ahead`). The store then
    /// keeps every entry `max(stale, fallback)` past its TTL (see `memo::fresh`).
    #[doc(hidden)]
    pub fn memo_freshness(
        mut self,
        stale_nanos: u64,
        fallback_nanos: u64,
        refresh_on_hit: bool,
        refresh_ahead: bool,
    ) -> Self {
        self.fresh = Freshness::new(stale_nanos, fallback_nanos, refresh_on_hit, refresh_ahead);
        self
    }

    /// The time source for TTLs: a [`MockClock`](crate::MockClock) in tests.
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Replaces the default keyed hasher ([`DefaultHashBuilder`]).
    pub fn hasher<S2>(self, hasher: S2) -> Builder<K, V, S2> {
        Builder {
            max_items: self.max_items,
            max_size: self.max_size,
            max_size_is_share: self.max_size_is_share,
            default_ttl: self.default_ttl,
            on_delete: self.on_delete,
            name: self.name,
            clock: self.clock,
            hasher,
            weigher: self.weigher,
            budget_weigher: self.budget_weigher,
            shards: self.shards,
            policy: self.policy,
            dedupe_timeout: self.dedupe_timeout,
            memory_budget: self.memory_budget,
            fresh: self.fresh,
            #[cfg(feature = "tier")]
            tiers: self.tiers,
            _types: PhantomData,
        }
    }

    /// The eviction policy: [`Policy::S3Fifo`] (the default) or [`Policy::Lru`].
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Splits the store into `shards` independently locked parts (a power of two, 1 to 1024;
    /// default 1) so that threads working on different keys do not wait for each other.
    ///
    /// Bounds hold for the whole store, not per shard: after every operation the store is
    /// within them. While inserts run at the same time on several shards, the total may exceed
    /// a bound by up to one entry per inserting thread for the moment between an insert and
    /// the evictions it triggers in other shards. The order changes: each shard keeps its own
    /// eviction order, an insert evicts from its own shard first (from the others only when
    /// its own is empty), and `keys()` lists shard after shard.
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// How long callers of [`FaasCacheDict::get_or_insert_with`] (and of a memoized function)
    /// wait for another caller computing the same key when that computation shows no progress,
    /// before one of them computes instead. An async computation shows progress each time its
    /// future is polled, so its waiters take over only a future nobody polls any more; a
    /// blocking one shows none, so its waiters compute themselves once they have waited the
    /// whole timeout: raise it (or pass `None`) for computations that may take longer.
    /// Default [`DEFAULT_DEDUPE_TIMEOUT`] (30 s); `None` waits as long as it takes.
    pub fn dedupe_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.dedupe_timeout = timeout;
        self
    }

    /// Whether the store joins the process's memory budget
    /// ([`set_memory_budget`](crate::set_memory_budget), `FAAS_MEMO_BUDGET`), shared with every
    /// memoized function: its bytes count in the budget's total, and an insert anywhere may
    /// evict its cold entries (and its inserts those of other stores). Default `false` here
    /// (memoized functions are in it unless `memory_budget = false`). The budget reaches the
    /// store while it lives, so a store in it is built with
    /// [`build_shared`](Self::build_shared); [`build`](Self::build) refuses it.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let sessions = FaasCacheDict::<u64, String>::builder()
    ///     .name("sessions")
    ///     .max_items(10_000)
    ///     .memory_budget(true)
    ///     .build_shared()?;
    /// sessions.insert(1, "alice".to_owned())?;
    /// assert!(sessions.info().in_memory_budget);
    /// assert!(memo_runtime::caches().iter().any(|info| info.name == "sessions"));
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn memory_budget(mut self, join: bool) -> Self {
        self.memory_budget = Some(join);
        self
    }

    /// Validates the settings and creates the store in an [`Arc`], registered for the life of
    /// the store: [`caches`](crate::caches) and [`cache_summary`](crate::cache_summary) list
    /// it, and with [`memory_budget(true)`](Self::memory_budget) it is in the process's memory
    /// budget.
    ///
    /// # Errors
    ///
    /// As [`build`](Self::build).
    pub fn build_shared(mut self) -> Result<Arc<FaasCacheDict<K, V, S>>, CacheError>
    where
        K: Hash + Eq + Send + Sync + 'static,
        V: Send + Sync + 'static,
        S: BuildHasher + Send + Sync + 'static,
    {
        let budgeted = self.memory_budget.take().unwrap_or(false);
        let store = Arc::new(self.build()?);
        crate::faas::member::register_shared(&store, budgeted);
        Ok(store)
    }

    /// Validates the settings and creates the store.
    ///
    /// # Errors
    ///
    /// - [`CacheError::InvalidSize`] for a `max_size` that is not a valid size;
    /// - [`CacheError::InvalidBound`] for `max_items(0)`, a zero `default_ttl`, a shard count
    ///   that is not a power of two in 1..=1024, a `max_size` too small to hold even the
    ///   store's fixed overhead, or `memory_budget(true)` (build such a store with
    ///   [`build_shared`](Self::build_shared)).
    pub fn build(mut self) -> Result<FaasCacheDict<K, V, S>, CacheError>
    where
        K: Hash + Eq,
        S: BuildHasher,
    {
        if self.memory_budget == Some(true) {
            return Err(CacheError::InvalidBound {
                name: "memory_budget",
                value: "true".to_owned(),
                reason: "a store in the process's memory budget is reached by it while it \
                         lives: build it with build_shared()",
            });
        }
        if self.max_items == Some(0) {
            return Err(CacheError::InvalidBound {
                name: "max_items",
                value: "0".to_owned(),
                reason: "the item bound must be at least 1",
            });
        }
        if self.default_ttl == Some(Duration::ZERO) {
            return Err(CacheError::InvalidBound {
                name: "default_ttl",
                value: "0s".to_owned(),
                reason: "a time to live must be greater than zero (omit it for no expiry)",
            });
        }
        if !(1..=1024).contains(&self.shards) || !self.shards.is_power_of_two() {
            return Err(CacheError::InvalidBound {
                name: "shards",
                value: self.shards.to_string(),
                reason: "the shard count must be a power of two from 1 to 1024",
            });
        }
        let max_size = self.max_size.take().transpose()?;
        #[cfg(feature = "tier")]
        let tiers = self.open_tiers(true)?;
        let dict = self.into_dict(
            #[cfg(feature = "tier")]
            tiers,
        );
        if let Some((size, share)) = max_size {
            dict.check_byte_bound(size, share.as_ref())?;
            dict.set_byte_bound(Some(size));
            dict.faas.set_share(share);
        }
        Ok(dict)
    }

    /// Like [`build`](Self::build), but drops an invalid setting with an error log instead of
    /// failing. For code generated by `#[faas_cached]`, whose options were checked at compile
    /// time: it must never panic.
    #[doc(hidden)]
    pub fn build_lenient(mut self) -> FaasCacheDict<K, V, S>
    where
        K: Hash + Eq,
        S: BuildHasher,
    {
        let name = self.name.clone().unwrap_or_default();
        let dropped = |setting: &str, err: &dyn fmt::Display| {
            log::error!("faas-memo cache {name:?}: {setting} ignored: {err}");
        };
        if self.max_items == Some(0) {
            dropped("max_items", &"zero");
            self.max_items = None;
        }
        if self.default_ttl == Some(Duration::ZERO) {
            dropped("ttl", &"zero");
            self.default_ttl = None;
        }
        if !(1..=1024).contains(&self.shards) || !self.shards.is_power_of_two() {
            dropped("shards", &self.shards);
            self.shards = 1;
        }
        let is_share = self.max_size_is_share;
        // A share of the process's memory that cannot be honoured (the memory is unknown, or
        // the share is below the store's fixed overhead) caches nothing: dropping the bound
        // would let the store grow without limit in a container that asked for little.
        let nothing = |err: &dyn fmt::Display| {
            log::error!(
                "faas-memo cache {name:?}: max_size {err}; nothing will be cached (every \
                 value is computed and returned uncached)"
            );
        };
        let mut unresolved_share = false;
        let max_size = match self.max_size.take() {
            Some(Ok(size)) => Some(size),
            Some(Err(err)) if is_share => {
                nothing(&err);
                unresolved_share = true;
                None
            }
            Some(Err(err)) => {
                dropped("max_size", &err);
                None
            }
            None => None,
        };
        #[cfg(feature = "tier")]
        let tiers = self.open_tiers(false).unwrap_or_else(|err| {
            dropped("tiers", &err);
            None
        });
        let dict = self.into_dict(
            #[cfg(feature = "tier")]
            tiers,
        );
        if unresolved_share {
            dict.set_byte_bound_to_nothing();
        }
        if let Some((size, share)) = max_size {
            match dict.check_byte_bound(size, share.as_ref()) {
                Ok(()) => dict.set_byte_bound(Some(size)),
                Err(err) if share.is_some() => {
                    nothing(&err);
                    dict.set_byte_bound_to_nothing();
                }
                Err(err) => dropped("max_size", &err),
            }
            dict.faas.set_share(share);
        }
        dict
    }

    fn into_dict(
        self,
        #[cfg(feature = "tier")] tiers: Option<crate::tier::chain::Tiers<K, V>>,
    ) -> FaasCacheDict<K, V, S> {
        FaasCacheDict::from_settings(Settings {
            max_items: self.max_items,
            default_ttl: self.default_ttl,
            on_delete: self.on_delete,
            name: self.name.unwrap_or(Cow::Borrowed("FaasCacheDict")),
            clock: self.clock,
            hasher: self.hasher,
            weigher: self.weigher,
            budget_weigher: self.budget_weigher,
            shards: self.shards,
            policy: self.policy,
            dedupe_timeout: self.dedupe_timeout,
            fresh: self.fresh,
            #[cfg(feature = "tier")]
            tiers,
        })
    }
}

impl<K, V, S> fmt::Debug for Builder<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_items", &self.max_items)
            .field("max_size", &self.max_size)
            .field("default_ttl", &self.default_ttl)
            .field("on_delete", &self.on_delete.is_some())
            .field("name", &self.name)
            .field("clock", &self.clock)
            .field("shards", &self.shards)
            .field("policy", &self.policy)
            .field("dedupe_timeout", &self.dedupe_timeout)
            .field("memory_budget", &self.memory_budget)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FaasCacheDict;

    /// Generated code must never fail: a share of the process's memory that cannot be
    /// resolved (no source on this system) caches nothing, while an invalid size in bytes
    /// (which the macro rejects at compile time) would be dropped.
    #[test]
    fn an_unresolvable_share_caches_nothing_in_generated_code() {
        let unknown = || {
            Err(CacheError::InvalidSize {
                input: "10%".to_owned(),
                reason: "unknown memory".to_owned(),
            })
        };
        let mut builder = FaasCacheDict::<u64, u64>::builder();
        builder.max_size = Some(unknown());
        builder.max_size_is_share = true;
        let store = builder.build_lenient();
        assert!(store.max_size().is_some());
        assert!(store.insert(1, 1).is_err(), "nothing fits");
        assert_eq!(store.get_or_insert_with(2, || 4), 4);
        assert!(store.is_empty());

        let mut builder = FaasCacheDict::<u64, u64>::builder();
        builder.max_size = Some(unknown());
        let store = builder.build_lenient();
        assert_eq!(store.max_size(), None, "a bad size in bytes is dropped");
    }
}
