//! What the store's own methods do with its tiers.
//!
//! | method | tiers |
//! | --- | --- |
//! | `get_or_insert_with` and friends, memoized calls | read through (memory, then each tier), a computed value written to all |
//! | `insert`, `insert_with_ttl` | written through, with the entry's expiry |
//! | [`get_tiered`](FaasCacheDict::get_tiered) | memory, then each tier; a value found fills memory |
//! | [`invalidate`](FaasCacheDict::invalidate) | removed from memory and every tier |
//! | `purge` | memory emptied, the store's namespace cleared in every tier |
//! | `get`, `remove`, `contains_key`, TTL methods, `keys`... | memory only |
//!
//! `get` and `remove` take any borrowed form of the key (`&str` for a `String` key), which the
//! store cannot encode for a tier without requiring `Serialize` of it; the owned-key methods
//! `get_tiered` and `invalidate` reach the tiers.

use std::hash::{BuildHasher, Hash};

use crate::store::dict::FaasCacheDict;
use crate::tier::info::TierInfo;

/// An insert's key and value encoded for the tiers (before the memory store takes them), their
/// expiry and the time of the write.
#[cfg(feature = "tier")]
pub(crate) type Staged = Option<(
    crate::tier::codec::EncodedKey,
    std::sync::Arc<[u8]>,
    Option<std::time::SystemTime>,
    std::time::SystemTime,
)>;
/// Nothing to write without the tier layer.
#[cfg(not(feature = "tier"))]
pub(crate) struct Staged;

impl<K, V, S> FaasCacheDict<K, V, S> {
    /// The TTL of entries inserted without one, in nanoseconds (`NEVER`: none).
    #[cfg(feature = "tier")]
    pub(crate) fn default_ttl_nanos(&self) -> u64 {
        self.default_ttl_nanos
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The store's tiers, if it has any.
    #[cfg(feature = "tier")]
    #[inline]
    pub(crate) fn tiers(&self) -> Option<&crate::tier::chain::Tiers<K, V>> {
        self.tiers.as_deref()
    }

    /// For an insert of `key` and `value` with `ttl_nanos`: their envelope, if the store has
    /// tiers.
    #[inline]
    pub(crate) fn stage_write_through(&self, key: &K, value: &V, ttl_nanos: u64) -> Staged {
        #[cfg(feature = "tier")]
        {
            let tiers = self.tiers()?;
            let encoded = tiers.encode_key(key)?;
            let now = self.clock.system_now();
            let expires = crate::tier::store::expiry_after(now, ttl_nanos);
            let entry = tiers.envelope(&encoded, value, expires)?;
            Some((encoded, entry, expires, now))
        }
        #[cfg(not(feature = "tier"))]
        {
            let _ = (key, value, ttl_nanos);
            Staged
        }
    }

    /// Writes what [`stage_write_through`](Self::stage_write_through) prepared to every tier.
    #[inline]
    pub(crate) fn write_through(&self, staged: Staged) {
        #[cfg(feature = "tier")]
        if let (Some(tiers), Some((key, entry, expires, now))) = (self.tiers(), staged) {
            tiers.put_entry(&key, entry, expires, now);
        }
        #[cfg(not(feature = "tier"))]
        let Staged = staged;
    }

    /// Clears the store's namespace in every tier.
    pub(crate) fn clear_tiers(&self) {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            tiers.clear();
        }
    }

    /// Per-tier statistics, for `info()`.
    pub(crate) fn tier_info(&self) -> Vec<TierInfo> {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return tiers.info();
        }
        Vec::new()
    }
}

/// The absolute expiry of an entry written at `now` with `ttl_nanos` (`NEVER`: none).
#[cfg(feature = "tier")]
pub(crate) fn expiry_after(
    now: std::time::SystemTime,
    ttl_nanos: u64,
) -> Option<std::time::SystemTime> {
    (ttl_nanos != crate::store::shard::NEVER)
        .then(|| now + std::time::Duration::from_nanos(ttl_nanos))
}

/// The TTL, in the memory store's nanoseconds, left at `now` before `expires`.
#[cfg(feature = "tier")]
pub(crate) fn ttl_left(now: std::time::SystemTime, expires: Option<std::time::SystemTime>) -> u64 {
    match expires {
        None => crate::store::shard::NEVER,
        Some(at) => {
            let left = at.duration_since(now).unwrap_or_default();
            crate::clock::duration_nanos(left).max(1)
        }
    }
}

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq,
    V: Clone,
    S: BuildHasher,
{
    /// The live value for `key` in memory or, failing that, in the first tier that has it;
    /// a value found in a tier is put in memory with what remains of its TTL. Counts a hit
    /// (found in memory or a tier) or a miss, and a hit or miss in each tier it looks in.
    ///
    /// Unlike [`get`](Self::get), it takes the owned key type, which the tiers need
    /// encoded. Without tiers (or without the `disk`/`redis` features), it is `get`.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<String, u64> = FaasCacheDict::new();
    /// cache.insert("hello".to_owned(), 5)?;
    /// assert_eq!(cache.get_tiered(&"hello".to_owned()), Some(5));
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn get_tiered(&self, key: &K) -> Option<V>
    where
        K: Clone,
    {
        let (hash, index) = self.locate(key);
        if let Some(value) = self.get_located(hash, index, key) {
            return Some(value);
        }
        #[cfg(not(feature = "tier"))]
        return None;
        #[cfg(feature = "tier")]
        self.get_from_tiers(hash, index, key)
    }

    #[cfg(feature = "tier")]
    #[cold]
    fn get_from_tiers(&self, hash: u64, index: usize, key: &K) -> Option<V>
    where
        K: Clone,
    {
        let tiers = self.tiers()?;
        let encoded = tiers.encode_key(key)?;
        let now = self.clock.system_now();
        let found = crate::tier::chain::block_on(tiers.lookup(
            &crate::tier::chain::Blocking,
            &encoded,
            now,
            true,
        ))?;
        // The miss counted in memory was served: a hit of the cache.
        self.memo_stats.count_late_hit();
        let ttl = ttl_left(now, found.expires);
        if let Err(err) =
            self.insert_expiring_located(hash, index, key.clone(), found.value.clone(), ttl)
        {
            log::debug!(
                "faas-memo cache {:?}: tier value not kept in memory: {err}",
                self.name()
            );
        }
        Some(found.value)
    }

    /// Removes `key` from memory and from every tier; `true` if one of them had it (without
    /// tiers: [`remove`](Self::remove)). The hook
    /// sees the memory entry, if any, with [`DeleteReason::Removed`](crate::DeleteReason).
    ///
    /// [`remove`](Self::remove) reaches memory only (it takes any borrowed form of the key,
    /// which the tiers cannot encode); this is what a memoized function's `_invalidate` calls.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u64, u64> = FaasCacheDict::new();
    /// cache.insert(1, 10)?;
    /// assert!(cache.invalidate(&1));
    /// assert!(!cache.invalidate(&1));
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn invalidate(&self, key: &K) -> bool {
        let in_memory = self.remove(key).is_some();
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return tiers.remove(key) || in_memory;
        }
        in_memory
    }
}
