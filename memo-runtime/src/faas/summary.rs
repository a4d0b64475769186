//! [`CacheSummary`]: every cache of the process in one line, for a per-invocation log.

use std::fmt;

use crate::faas::budget::{memory_budget, MemoryBudget};
use crate::faas::registry::caches;
use crate::store::stats::CacheInfo;

/// The caches of the process added up ([`cache_summary`]): counters, sizes and the memory
/// budget's use, for one log line per invocation (`Display`) or a JSON log (feature `serde`).
///
/// # Examples
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(max_items = 100)]
/// fn lookup(id: u64) -> u64 {
///     id + 1
/// }
///
/// let before = memo_runtime::cache_summary();
/// lookup(1);
/// lookup(1);
/// // This invocation's counters: what happened since `before`.
/// let now = memo_runtime::cache_summary().since(&before);
/// assert_eq!((now.hits, now.misses), (1, 1));
/// let line = now.to_string();
/// assert!(line.starts_with("faas-memo: caches=1 hits=1 misses=1 "), "{line}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct CacheSummary {
    /// Caches counted: memoized functions called so far and stores built with
    /// [`build_shared`](crate::Builder::build_shared).
    pub caches: usize,
    /// [`CacheInfo::hits`] added up.
    pub hits: u64,
    /// [`CacheInfo::misses`] added up: computations.
    pub misses: u64,
    /// [`CacheInfo::waited`] added up.
    pub waited: u64,
    /// [`CacheInfo::uncached`] added up.
    pub uncached: u64,
    /// [`CacheInfo::evictions`] added up.
    pub evictions: u64,
    /// [`CacheInfo::expirations`] added up.
    pub expirations: u64,
    /// Live entries now.
    pub items: usize,
    /// Accounted bytes now ([`CacheInfo::current_size_bytes`] added up).
    pub bytes: u64,
    /// The process's memory budget and its use, if one is set.
    pub budget: Option<MemoryBudget>,
}

impl CacheSummary {
    /// The sum of `caches`, without a budget.
    pub fn of(caches: &[CacheInfo]) -> Self {
        caches.iter().fold(
            CacheSummary {
                caches: caches.len(),
                ..CacheSummary::default()
            },
            |mut sum, info| {
                sum.hits += info.hits;
                sum.misses += info.misses;
                sum.waited += info.waited;
                sum.uncached += info.uncached;
                sum.evictions += info.evictions;
                sum.expirations += info.expirations;
                sum.items += info.current_items;
                sum.bytes += info.current_size_bytes;
                sum
            },
        )
    }

    /// The counters since `earlier` (a summary taken at the start of an invocation), with the
    /// sizes and the budget as they are now.
    pub fn since(&self, earlier: &CacheSummary) -> CacheSummary {
        CacheSummary {
            hits: self.hits.saturating_sub(earlier.hits),
            misses: self.misses.saturating_sub(earlier.misses),
            waited: self.waited.saturating_sub(earlier.waited),
            uncached: self.uncached.saturating_sub(earlier.uncached),
            evictions: self.evictions.saturating_sub(earlier.evictions),
            expirations: self.expirations.saturating_sub(earlier.expirations),
            ..self.clone()
        }
    }

    /// `(hits + waited) / (hits + misses + waited)`, or 0.0 before any call.
    pub fn hit_ratio(&self) -> f64 {
        let served = self.hits + self.waited;
        let calls = served + self.misses;
        if calls == 0 {
            0.0
        } else {
            served as f64 / calls as f64
        }
    }
}

impl fmt::Display for CacheSummary {
    /// One line of `key=value` pairs: `faas-memo: caches=2 hits=10 misses=2 waited=0
    /// uncached=0 hit_ratio=83.3% evictions=0 expirations=0 items=2 bytes=16832
    /// budget=16832/67108864 budget_used=0.0%` (`budget=none` without one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "faas-memo: caches={} hits={} misses={} waited={} uncached={} hit_ratio={:.1}% \
             evictions={} expirations={} items={} bytes={} ",
            self.caches,
            self.hits,
            self.misses,
            self.waited,
            self.uncached,
            self.hit_ratio() * 100.0,
            self.evictions,
            self.expirations,
            self.items,
            self.bytes,
        )?;
        match &self.budget {
            Some(budget) => write!(
                f,
                "budget={}/{} budget_used={:.1}%",
                budget.used_bytes,
                budget.limit_bytes,
                budget.used_ratio() * 100.0
            ),
            None => f.write_str("budget=none"),
        }
    }
}

/// Every cache of the process ([`caches`]) added up, with the memory budget's use: one call
/// for a per-invocation log line.
///
/// ```
/// println!("{}", memo_runtime::cache_summary());
/// ```
pub fn cache_summary() -> CacheSummary {
    CacheSummary {
        budget: memory_budget(),
        ..CacheSummary::of(&caches())
    }
}
