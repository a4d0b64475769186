//! Statistics: per-shard counters and the [`CacheInfo`] snapshot.

use std::fmt;
use std::time::Duration;

use crate::size::byte_size::ByteSize;

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

/// A snapshot of a store's statistics, like Python's `functools.lru_cache().cache_info()`.
///
/// Counters are cumulative: clearing or purging a store does not reset them.
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
#[non_exhaustive]
pub struct CacheInfo {
    /// The store's name (`module_path::fn_name` for a memoized function).
    pub name: String,
    /// Lookups that found a live entry.
    pub hits: u64,
    /// Lookups that found nothing or an expired entry.
    pub misses: u64,
    /// Entries removed to respect `max_items` or `max_size`.
    pub evictions: u64,
    /// Entries removed because their TTL ran out.
    pub expirations: u64,
    /// Times an `on_delete` hook panicked; each was caught.
    pub hook_panics: u64,
    /// Live entries now.
    pub current_items: usize,
    /// Accounted bytes now: entries plus the store's fixed overhead.
    pub current_size_bytes: u64,
    /// The item bound.
    pub max_items: Option<usize>,
    /// The byte bound.
    pub max_size_bytes: Option<u64>,
    /// TTL given to entries inserted without one.
    pub default_ttl: Option<Duration>,
}

impl CacheInfo {
    /// `hits / (hits + misses)`, or 0.0 before any lookup.
    pub fn hit_ratio(&self) -> f64 {
        let lookups = self.hits + self.misses;
        if lookups == 0 {
            0.0
        } else {
            self.hits as f64 / lookups as f64
        }
    }
}

impl fmt::Display for CacheInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CacheInfo(name={}, hits={}, misses={}, hit_ratio={:.2}, evictions={}, \
             expirations={}, current_items={}, current_size_bytes={}, max_items=",
            self.name,
            self.hits,
            self.misses,
            self.hit_ratio(),
            self.evictions,
            self.expirations,
            self.current_items,
            self.current_size_bytes,
        )?;
        write_opt(f, self.max_items)?;
        f.write_str(", max_size=")?;
        write_opt(f, self.max_size_bytes.map(ByteSize::from))?;
        f.write_str(", default_ttl=")?;
        write_opt(f, self.default_ttl.map(DebugDisplay))?;
        if self.hook_panics > 0 {
            write!(f, ", hook_panics={}", self.hook_panics)?;
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
