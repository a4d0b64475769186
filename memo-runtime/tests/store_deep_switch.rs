//! A byte bound set at run time on a store built without one measures deep sizes, and the
//! largest bounds are kept as given.

use memo_runtime::{ByteSize, DeepSize, FaasCacheDict};

#[test]
fn change_byte_size_charges_existing_and_new_entries_their_deep_size() {
    let cache: FaasCacheDict<u32, String> = FaasCacheDict::new();
    let overhead = cache.entry_overhead();
    let big = "x".repeat(1000);
    cache.insert(1, big.clone()).unwrap();
    // Without a bound, the entry is charged its inline size only.
    let inline = cache.fixed_overhead() + 4 + std::mem::size_of::<String>() + overhead;
    assert_eq!(cache.byte_size(), inline);

    cache.change_byte_size("1M").unwrap();
    let deep_one = 1u32.deep_size() + big.deep_size() + overhead;
    assert_eq!(cache.byte_size(), cache.fixed_overhead() + deep_one);

    cache.insert(2, big.clone()).unwrap();
    assert_eq!(cache.byte_size(), cache.fixed_overhead() + 2 * deep_one);
    // A second change keeps deep accounting.
    cache.change_byte_size("2M").unwrap();
    assert_eq!(cache.byte_size(), cache.fixed_overhead() + 2 * deep_one);
}

#[test]
fn a_bound_smaller_than_the_deep_entries_evicts_them() {
    let cache: FaasCacheDict<u32, String> = FaasCacheDict::new();
    for k in 0..10 {
        cache.insert(k, "y".repeat(10_000)).unwrap();
    }
    // Inline sizes would fit ten entries in 15 KiB; deep sizes fit one.
    cache
        .change_byte_size(cache.fixed_overhead() + 15 * 1024)
        .unwrap();
    assert_eq!(cache.len(), 1);
    assert!(cache.byte_size() <= cache.fixed_overhead() + 15 * 1024);
    // An entry alone larger than the bound is refused.
    let err = cache.insert(99, "z".repeat(30_000)).unwrap_err();
    assert!(err.to_string().contains("nothing was evicted"), "{err}");
}

#[test]
fn concurrent_inserts_during_the_switch_are_charged_deeply() {
    let cache: FaasCacheDict<u32, String> = FaasCacheDict::builder().shards(4).build().unwrap();
    let value = "v".repeat(500);
    std::thread::scope(|s| {
        for t in 0..2u32 {
            let (cache, value) = (&cache, &value);
            s.spawn(move || {
                for k in 0..2_000u32 {
                    cache.insert(t * 10_000 + k, value.clone()).unwrap();
                }
            });
        }
        s.spawn(|| cache.change_byte_size("512M").unwrap());
    });
    let per_entry = 0u32.deep_size() + value.deep_size() + cache.entry_overhead();
    assert_eq!(cache.len(), 4_000);
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + 4_000 * per_entry
    );
}

#[test]
fn the_largest_bounds_are_kept_as_given() {
    let cache: FaasCacheDict<u64, u64> = FaasCacheDict::builder()
        .max_size(u64::MAX)
        .max_items(usize::MAX)
        .build()
        .unwrap();
    assert_eq!(cache.max_size(), Some(ByteSize::from(u64::MAX)));
    assert_eq!(cache.max_items(), Some(usize::MAX));
    assert_eq!(cache.info().max_size_bytes, Some(u64::MAX));
    cache.remove_byte_limit();
    cache.remove_item_limit();
    assert_eq!((cache.max_size(), cache.max_items()), (None, None));
}
