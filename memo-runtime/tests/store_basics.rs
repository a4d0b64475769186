//! LRU order, item bounds, `Display` and the plain map API of `FaasCacheDict`. The order tests
//! build their store with `Policy::Lru` and check it; S3-FIFO's order (the default) has its own
//! tests, in store_s3fifo.rs.

use memo_runtime::{CacheError, FaasCacheDict, Policy};

/// An LRU store: the order tests below (recency on `get`, LRU-first listing, eviction of the
/// least recently used) hold for `Policy::Lru` only, which each of them checks.
fn bounded(max_items: usize) -> FaasCacheDict<u32, String> {
    let cache = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_items(max_items)
        .build()
        .expect("valid settings");
    assert_eq!(cache.policy(), Policy::Lru, "the LRU tests run under LRU");
    cache
}

fn fill(cache: &FaasCacheDict<u32, String>, keys: impl IntoIterator<Item = u32>) {
    for k in keys {
        cache.insert(k, format!("v{k}")).expect("fits");
    }
}

#[test]
fn insert_then_get_returns_a_clone() {
    let cache = bounded(10);
    assert_eq!(cache.insert(1, "one".to_owned()), Ok(None));
    assert_eq!(cache.get(&1).as_deref(), Some("one"));
    assert_eq!(cache.get(&2), None);
    assert_eq!(cache.len(), 1);
    assert!(!cache.is_empty());
}

#[test]
fn replacing_keeps_the_count_and_returns_the_old_value() {
    let cache = bounded(10);
    fill(&cache, [1, 2, 3]);
    assert_eq!(cache.insert(2, "new".to_owned()), Ok(Some("v2".to_owned())));
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get(&2).as_deref(), Some("new"));
}

#[test]
fn replacing_marks_the_entry_most_recently_used() {
    let cache = bounded(10);
    fill(&cache, [1, 2, 3]);
    cache.insert(1, "again".to_owned()).unwrap();
    assert_eq!(cache.keys(), [2, 3, 1]);
}

#[test]
fn get_marks_most_recently_used_and_listing_is_lru_first() {
    let cache = bounded(10);
    fill(&cache, [1, 2, 3, 4]);
    assert_eq!(cache.keys(), [1, 2, 3, 4]);
    cache.get(&2);
    cache.get(&1);
    assert_eq!(cache.keys(), [3, 4, 2, 1]);
    assert_eq!(cache.values(), ["v3", "v4", "v2", "v1"]);
    assert_eq!(
        cache.items(),
        [
            (3, "v3".to_owned()),
            (4, "v4".to_owned()),
            (2, "v2".to_owned()),
            (1, "v1".to_owned())
        ]
    );
}

#[test]
fn a_miss_does_not_change_the_order() {
    let cache = bounded(10);
    fill(&cache, [1, 2]);
    assert_eq!(cache.get(&3), None);
    assert_eq!(cache.keys(), [1, 2]);
}

#[test]
fn inserting_beyond_max_items_evicts_the_least_recently_used() {
    let cache = bounded(3);
    fill(&cache, [1, 2, 3]);
    cache.get(&1);
    fill(&cache, [4]);
    assert_eq!(cache.keys(), [3, 1, 4]);
    fill(&cache, [5, 6]);
    assert_eq!(cache.keys(), [4, 5, 6]);
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.info().evictions, 3);
}

#[test]
fn remove_returns_the_value_and_a_missing_key_is_none() {
    let cache = bounded(10);
    fill(&cache, [1, 2]);
    assert_eq!(cache.remove(&1), Some("v1".to_owned()));
    assert_eq!(cache.remove(&1), None);
    assert_eq!(cache.remove(&99), None);
    assert_eq!(cache.keys(), [2]);
}

#[test]
fn contains_key_neither_counts_nor_reorders() {
    let cache = bounded(10);
    fill(&cache, [1, 2]);
    assert!(cache.contains_key(&1));
    assert!(!cache.contains_key(&3));
    assert_eq!(cache.keys(), [1, 2]);
    let info = cache.info();
    assert_eq!((info.hits, info.misses), (0, 0));
}

#[test]
fn change_max_items_trims_least_recently_used() {
    let cache = bounded(5);
    fill(&cache, 1..=5);
    cache.get(&1);
    cache.change_max_items(2).unwrap();
    assert_eq!(cache.keys(), [5, 1]);
    assert_eq!(cache.max_items(), Some(2));
    cache.change_max_items(4).unwrap();
    fill(&cache, [6, 7]);
    assert_eq!(cache.keys(), [5, 1, 6, 7]);
    cache.remove_item_limit();
    fill(&cache, 10..20);
    assert_eq!(cache.len(), 14);
}

#[test]
fn zero_item_bound_is_an_error_that_changes_nothing() {
    let err = FaasCacheDict::<u32, u32>::builder()
        .max_items(0)
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        CacheError::InvalidBound {
            name: "max_items",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "invalid max_items = 0: the item bound must be at least 1"
    );

    let cache = bounded(3);
    fill(&cache, [1, 2, 3]);
    assert!(cache.change_max_items(0).is_err());
    assert_eq!(cache.max_items(), Some(3));
    assert_eq!(cache.len(), 3);
}

#[test]
fn purge_removes_everything_and_keeps_counters() {
    let cache = bounded(10);
    fill(&cache, [1, 2, 3]);
    cache.get(&1);
    cache.purge();
    assert!(cache.is_empty());
    assert_eq!(cache.keys(), Vec::<u32>::new());
    assert_eq!(cache.info().hits, 1);
    fill(&cache, [4]);
    assert_eq!(cache.keys(), [4]);
}

#[test]
fn borrowed_forms_look_up_owned_keys() {
    let cache: FaasCacheDict<String, u32> = FaasCacheDict::new();
    cache.insert("alpha".to_owned(), 1).unwrap();
    assert_eq!(cache.get("alpha"), Some(1));
    assert!(cache.contains_key("alpha"));
    assert_eq!(cache.remove("alpha"), Some(1));
}

#[test]
fn a_custom_hasher_can_be_given() {
    let cache: FaasCacheDict<u64, u64, std::collections::hash_map::RandomState> =
        FaasCacheDict::builder()
            .policy(Policy::Lru)
            .hasher(std::collections::hash_map::RandomState::new())
            .max_items(2)
            .build()
            .unwrap();
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    cache.insert(3, 30).unwrap();
    assert_eq!(cache.keys(), [2, 3]);
}

#[test]
fn info_reports_counters_sizes_and_settings() {
    let cache: FaasCacheDict<u32, String> = FaasCacheDict::builder()
        .max_items(2)
        .name("profiles")
        .build()
        .unwrap();
    fill(&cache, [1, 2, 3]);
    cache.get(&3);
    cache.get(&1);
    let info = cache.info();
    assert_eq!(info.name, "profiles");
    assert_eq!((info.hits, info.misses, info.evictions), (1, 1, 1));
    assert_eq!(info.current_items, 2);
    assert_eq!(info.current_size_bytes, cache.byte_size() as u64);
    assert_eq!(info.max_items, Some(2));
    assert_eq!(info.max_size_bytes, None);
    assert_eq!(info.default_ttl, None);
    assert_eq!(info.hit_ratio(), 0.5);
    assert_eq!(
        info.to_string(),
        "CacheInfo(name=profiles, hits=1, misses=1, waited=0, uncached=0, hit_ratio=0.50, \
         evictions=1, expirations=0, current_items=2, max_items=2, max_size=None, \
         default_ttl=None)"
    );
    assert!(
        !info.deep_sizes,
        "no max_size: inline sizes, left out of Display"
    );
}

#[test]
fn hit_ratio_is_zero_before_any_lookup() {
    assert_eq!(bounded(1).info().hit_ratio(), 0.0);
}

#[test]
fn display_reads_like_the_python_package() {
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .max_items(10)
        .default_ttl(std::time::Duration::from_millis(500))
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    let shown = cache.to_string();
    assert!(shown.starts_with("<FaasCacheDict@0x"), "{shown}");
    assert!(
        shown.ends_with(&format!(
            "; default_ttl=500ms, max_memory=None, max_items=10, current_memory_bytes={}, \
             current_items=1>",
            cache.byte_size()
        )),
        "{shown}"
    );
}

#[test]
fn display_shows_the_byte_bound_and_the_default_ttl() {
    let cache: FaasCacheDict<String, String> = FaasCacheDict::builder()
        .default_ttl(std::time::Duration::from_secs(10))
        .max_size("128M")
        .max_items(10)
        .build()
        .unwrap();
    cache.insert("a".to_owned(), "1".to_owned()).unwrap();
    let shown = cache.to_string();
    assert!(shown.starts_with("<FaasCacheDict@0x"), "{shown}");
    // The address is the store's own.
    assert_eq!(
        shown,
        format!(
            "<FaasCacheDict@{:p}; default_ttl=10s, max_memory=128M, max_items=10, \
             current_memory_bytes={}, current_items=1>",
            &cache,
            cache.byte_size()
        )
    );
    // The bytes are the deep sizes of key and value, the entry overhead and the fixed
    // overhead.
    let entry = 2 * (24 + 1) + cache.entry_overhead();
    assert_eq!(cache.byte_size(), cache.fixed_overhead() + entry);

    // Changed settings show: a bound that is no whole number of units prints in bytes, a
    // fractional TTL in `Debug` units, removed bounds as `None`.
    cache.change_byte_size(5_000_000).unwrap();
    cache
        .set_default_ttl(Some(std::time::Duration::from_millis(1500)))
        .unwrap();
    cache.insert("b".to_owned(), "2".to_owned()).unwrap();
    let tail = |cache: &FaasCacheDict<String, String>| {
        let shown = cache.to_string();
        shown[shown.find(';').unwrap()..].to_owned()
    };
    assert_eq!(
        tail(&cache),
        format!(
            "; default_ttl=1.5s, max_memory=5000000, max_items=10, current_memory_bytes={}, \
             current_items=2>",
            cache.fixed_overhead() + 2 * entry
        )
    );
    cache.change_byte_size("1.5G").unwrap();
    cache.remove_item_limit();
    cache.set_default_ttl(None).unwrap();
    assert!(
        tail(&cache).starts_with("; default_ttl=None, max_memory=1536M, max_items=None, "),
        "{}",
        tail(&cache)
    );
    cache.remove_byte_limit();
    assert!(
        tail(&cache).starts_with("; default_ttl=None, max_memory=None, max_items=None, "),
        "{}",
        tail(&cache)
    );
}

#[test]
fn the_store_is_send_and_sync_and_fits_in_a_static() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FaasCacheDict<String, Vec<u8>>>();

    static CACHE: std::sync::OnceLock<FaasCacheDict<u32, u32>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(FaasCacheDict::new);
    cache.insert(7, 49).unwrap();
    assert_eq!(CACHE.get().unwrap().get(&7), Some(49));
}

#[test]
fn shards_must_be_a_power_of_two() {
    for bad in [0, 3, 2048] {
        let err = FaasCacheDict::<u32, u32>::builder()
            .shards(bad)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("shards"), "{err}");
    }
}

#[test]
fn sharded_store_keeps_the_item_bound_exact() {
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .max_items(10)
        .shards(8)
        .build()
        .unwrap();
    for k in 0..1_000 {
        cache.insert(k, k).unwrap();
        assert!(cache.len() <= 10);
    }
    assert_eq!(cache.len(), 10);
    // The most recent insert always survives its own insertion.
    assert_eq!(cache.get(&999), Some(999));
    assert_eq!(cache.info().evictions, 990);
}

/// The documented order of a sharded store (`Builder::shards`): each shard keeps its own LRU
/// list, an insert evicts from its own shard first, and `keys()` lists shard after shard.
#[test]
fn a_sharded_store_evicts_from_the_inserting_keys_shard_first() {
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .shards(4)
        .max_items(16)
        .build()
        .unwrap();
    for k in 0..16 {
        cache.insert(k, k).unwrap();
    }
    // keys(): contiguous per shard, in shard order, LRU order within each.
    let keys = cache.keys();
    let shards: Vec<usize> = keys.iter().map(|k| cache.shard_index(k)).collect();
    assert!(shards.windows(2).all(|w| w[0] <= w[1]), "{shards:?}");
    for shard in 0..4 {
        let mine: Vec<u32> = keys
            .iter()
            .copied()
            .filter(|k| cache.shard_index(k) == shard)
            .collect();
        let mut sorted = mine.clone();
        sorted.sort_unstable();
        assert_eq!(mine, sorted, "insertion (= LRU) order within shard {shard}");
    }
    // A new key evicts the least recently used entry of its own shard.
    for k in 100..200 {
        let shard = cache.shard_index(&k);
        let lru_of_shard = cache
            .keys()
            .into_iter()
            .find(|key| cache.shard_index(key) == shard);
        cache.insert(k, k).unwrap();
        assert_eq!(cache.len(), 16);
        if let Some(victim) = lru_of_shard {
            assert!(
                !cache.contains_key(&victim),
                "{victim} should have been evicted for {k}"
            );
        }
    }
}
