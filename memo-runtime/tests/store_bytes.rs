//! The byte bound and byte accounting.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use memo_runtime::{
    ByteSize, CacheError, DeepSize, DeleteReason, FaasCacheDict, MockClock, Policy,
};

type Store = FaasCacheDict<String, Vec<u8>>;

/// The accounted total recomputed from scratch from the live entries. (Values here have
/// `capacity == len`, so that the clones `items()` returns measure like the originals.)
fn recomputed(cache: &Store) -> usize {
    cache.fixed_overhead()
        + cache
            .items()
            .iter()
            .map(|(k, v)| k.deep_size() + v.deep_size() + cache.entry_overhead())
            .sum::<usize>()
}

fn key(i: usize) -> String {
    format!("key-{i:04}")
}

/// Bytes one entry `key(i) -> vec![0; len]` is accounted for.
fn charge(cache: &Store, len: usize) -> usize {
    key(0).deep_size() + vec![0u8; len].deep_size() + cache.entry_overhead()
}

fn store_holding(entries: usize, value_len: usize) -> Store {
    let probe = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_size("1M")
        .build()
        .unwrap();
    let bound = probe.fixed_overhead()
        + entries * charge(&probe, value_len)
        + charge(&probe, value_len) / 2;
    let cache = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_size(bound)
        .build()
        .unwrap();
    // The tests using it assert LRU order.
    assert_eq!(cache.policy(), Policy::Lru);
    cache
}

#[test]
fn byte_size_is_the_fixed_overhead_plus_each_entry() {
    let cache: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
    assert_eq!(cache.byte_size(), cache.fixed_overhead());
    cache.insert(key(1), vec![1; 100]).unwrap();
    cache.insert(key(2), vec![2; 1000]).unwrap();
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + charge(&cache, 100) + charge(&cache, 1000)
    );
    assert_eq!(cache.byte_size(), recomputed(&cache));
    cache.remove(&key(2));
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + charge(&cache, 100)
    );
}

#[test]
fn inserting_evicts_least_recently_used_entries_until_the_new_one_fits() {
    let cache = store_holding(3, 100);
    for i in 0..3 {
        cache.insert(key(i), vec![0; 100]).unwrap();
    }
    cache.get(&key(0));
    cache.insert(key(3), vec![0; 100]).unwrap();
    assert_eq!(cache.keys(), [key(2), key(0), key(3)]);
    // A bigger entry needs two victims.
    let big = charge(&cache, 100) * 2 - charge(&cache, 0);
    cache.insert(key(4), vec![0; big]).unwrap();
    assert_eq!(cache.keys(), [key(3), key(4)]);
    assert!(cache.byte_size() <= cache.max_size().unwrap().as_u64() as usize);
    assert_eq!(cache.info().evictions, 3);
}

#[test]
fn an_entry_larger_than_the_bound_is_refused_and_evicts_nothing() {
    let evicted = Arc::new(AtomicUsize::new(0));
    let seen = evicted.clone();
    let probe = store_holding(3, 100);
    let cache: Store = FaasCacheDict::builder()
        .max_size(probe.max_size().unwrap())
        .on_delete(move |_: &String, _: &Vec<u8>, _| {
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    for i in 0..3 {
        cache.insert(key(i), vec![0; 100]).unwrap();
    }
    let before = cache.byte_size();
    let err = cache.insert(key(9), vec![0; 10_000]).unwrap_err();
    match &err {
        CacheError::DataTooLarge {
            entry_bytes,
            max_size_bytes,
            ..
        } => {
            assert_eq!(*entry_bytes as usize, charge(&cache, 10_000));
            assert_eq!(*max_size_bytes, cache.max_size().unwrap().as_u64());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err
        .to_string()
        .contains(&charge(&cache, 10_000).to_string()));
    assert_eq!(cache.keys(), [key(0), key(1), key(2)]);
    assert_eq!(cache.byte_size(), before);
    assert_eq!(evicted.load(Ordering::SeqCst), 0);
    assert_eq!(cache.info().evictions, 0);
    // Replacing an existing key with an oversize value keeps the old one too.
    assert!(cache.insert(key(1), vec![0; 10_000]).is_err());
    assert_eq!(cache.get(&key(1)), Some(vec![0; 100]));
}

#[test]
fn a_small_byte_bound_still_accepts_small_entries() {
    let probe: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
    let bound = probe.fixed_overhead() + 200;
    let cache: Store = FaasCacheDict::builder().max_size(bound).build().unwrap();
    cache.insert("a".to_owned(), vec![]).unwrap();
    assert_eq!(cache.len(), 1);
    assert!(cache.insert("b".to_owned(), vec![0; 500]).is_err());
    assert_eq!(cache.keys(), ["a"]);
}

#[test]
fn a_bound_below_the_fixed_overhead_is_rejected() {
    let err = FaasCacheDict::<String, Vec<u8>>::builder()
        .max_size(100)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            CacheError::InvalidBound {
                name: "max_size",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("fixed overhead"), "{err}");
}

#[test]
fn size_strings_and_numbers_are_accepted_in_every_documented_form() {
    let mib = 1024 * 1024;
    for (input, bytes) in [
        ("64M", 64 * mib),
        ("64MiB", 64 * mib),
        ("64 mib", 64 * mib),
        ("64 m", 64 * mib),
        ("1.5G", 1536 * mib),
        ("2T", 2 << 40),
        ("512K", 512 * 1024),
        ("1048576", mib),
        ("1048576B", mib),
    ] {
        let cache: Store = FaasCacheDict::builder().max_size(input).build().unwrap();
        assert_eq!(cache.max_size(), Some(ByteSize::from(bytes)), "{input}");
    }
    let cache: Store = FaasCacheDict::builder().max_size(mib).build().unwrap();
    assert_eq!(cache.max_size().unwrap().as_u64(), mib);
    let cache: Store = FaasCacheDict::builder()
        .max_size(ByteSize::from(mib))
        .build()
        .unwrap();
    assert_eq!(cache.max_size().unwrap().to_string(), "1M");
}

/// `MB` could be 10^6 or 2^20 bytes: the builder, `ByteSize` and `change_byte_size` refuse it
/// (like the attribute), naming the input and suggesting `M` or `MiB`.
#[test]
fn decimal_looking_units_are_refused_everywhere_with_a_suggestion() {
    for (input, unit) in [
        ("64MB", "MB"),
        ("64 mb", "MB"),
        ("1.5Gb", "GB"),
        ("512kB", "KB"),
    ] {
        let letter = &unit[..1];
        let reason =
            format!("`{unit}` is ambiguous (decimal or binary?): write `{letter}` or `{letter}iB`");
        assert_names_input(&size_error(input), input, &reason);
        let parsed = input.parse::<ByteSize>().unwrap_err();
        assert_names_input(&parsed, input, &reason);
        let cache: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
        assert_names_input(&cache.change_byte_size(input).unwrap_err(), input, &reason);
        assert_eq!(cache.max_size(), Some(ByteSize::from(1 << 20)));
    }
}

/// The builder's error for this size.
fn size_error(size: impl memo_runtime::IntoByteSize) -> CacheError {
    FaasCacheDict::<String, Vec<u8>>::builder()
        .max_size(size)
        .build()
        .unwrap_err()
}

/// `err` is an `InvalidSize` that carries `input` and whose message quotes it, then says why.
fn assert_names_input(err: &CacheError, input: &str, reason: &str) {
    assert!(
        matches!(err, CacheError::InvalidSize { input: named, .. } if named == input),
        "{input:?}: {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("invalid size {input:?}: ")),
        "{input:?}: {message}"
    );
    assert!(message.contains(reason), "{input:?}: {message}");
}

#[test]
fn invalid_size_strings_are_errors_whose_message_names_the_input() {
    for (input, reason) in [
        ("64Q", "unknown unit"),
        ("", "the size is empty"),
        ("  ", "the size is empty"),
        ("-1", "the size is negative"),
        ("0", "greater than zero"),
        ("abc", "does not start with a number"),
        ("1.5", "whole number"),
        ("99999999999T", "does not fit in 64 bits"),
        ("1..5M", "more than one `.`"),
        ("M", "does not start with a number"),
    ] {
        let err = size_error(input);
        assert_names_input(&err, input, reason);
        assert_eq!(size_error(input.to_owned()), err, "{input:?} as a String");
        // The same input through `change_byte_size` gives the same error and keeps the bound.
        let cache: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
        assert_eq!(cache.change_byte_size(input).unwrap_err(), err, "{input:?}");
        assert_eq!(cache.max_size(), Some(ByteSize::from(1 << 20)));
    }
}

#[test]
fn invalid_size_numbers_are_errors_whose_message_names_the_input() {
    // Every integer type is a size input (`IntoByteSize`), the signed ones and u128 included.
    let too_wide = u128::from(u64::MAX) + 1;
    for (err, input, reason) in [
        (size_error(0), "0", "greater than zero"),
        (size_error(0u64), "0", "greater than zero"),
        (size_error(ByteSize::from(0)), "0", "greater than zero"),
        (size_error(-5i32), "-5", "the size is negative"),
        (size_error(-1i64), "-1", "the size is negative"),
        (
            size_error(i128::MIN),
            "-170141183460469231731687303715884105728",
            "the size is negative",
        ),
        (
            size_error(too_wide),
            "18446744073709551616",
            "does not fit in 64 bits",
        ),
    ] {
        assert_names_input(&err, input, reason);
    }
    let cache: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
    let err = cache.change_byte_size(-5i32).unwrap_err();
    assert_eq!(err.to_string(), "invalid size \"-5\": the size is negative");
    assert_eq!(cache.max_size(), Some(ByteSize::from(1 << 20)));
    // A wide integer that fits in 64 bits is a valid bound.
    let cache: Store = FaasCacheDict::builder()
        .max_size(1u128 << 40)
        .build()
        .unwrap();
    assert_eq!(cache.max_size(), Some(ByteSize::from(1 << 40)));
}

/// Under LRU, shrinking the byte bound reclaims the expired entries first, then evicts live
/// ones least recently used first (as `get`s ordered them, not as they were inserted), and the
/// hook sees each with its reason, in that order.
#[test]
fn change_byte_size_under_lru_trims_expired_entries_first_then_by_recency() {
    let clock = MockClock::new();
    let departed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = departed.clone();
    let cache: Store = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_size("1M")
        .clock(clock.clone())
        .on_delete(move |k: &String, _: &Vec<u8>, why| log.lock().unwrap().push((k.clone(), why)))
        .build()
        .unwrap();
    assert_eq!(cache.policy(), Policy::Lru);
    let sec = Duration::from_secs(1);
    for i in 0..6 {
        // 1 and 4 expire after a second; the others never.
        let ttl = (i % 3 == 1).then_some(sec);
        cache.insert_with_ttl(key(i), vec![0; 100], ttl).unwrap();
    }
    // Recency, least recent first: 2 3 5 0 4 1 (4 and 1 are the most recently used).
    for i in [0, 4, 1] {
        cache.get(&key(i)).unwrap();
    }
    assert_eq!(
        cache.keys(),
        [key(2), key(3), key(5), key(0), key(4), key(1)]
    );
    clock.advance(sec);
    // Room for two entries: the two expired go (although the most recently used), then the
    // least recently used live ones, until the two most recent live ones remain.
    let two = cache.fixed_overhead() + 2 * charge(&cache, 100);
    cache.change_byte_size(two).unwrap();
    assert_eq!(cache.keys(), [key(5), key(0)]);
    assert_eq!(cache.byte_size(), two);
    let departed = departed.lock().unwrap().clone();
    let (expired, evicted) = departed.split_at(2);
    let mut expired = expired.to_vec();
    expired.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        expired,
        [
            (key(1), DeleteReason::Expired),
            (key(4), DeleteReason::Expired)
        ]
    );
    assert_eq!(
        evicted,
        [
            (key(2), DeleteReason::Evicted),
            (key(3), DeleteReason::Evicted)
        ]
    );
    let info = cache.info();
    assert_eq!((info.expirations, info.evictions), (2, 2));
    // A later hit reorders what is left, and the next trim follows it.
    cache.get(&key(5)).unwrap();
    let one = cache.fixed_overhead() + charge(&cache, 100);
    cache.change_byte_size(one).unwrap();
    assert_eq!(cache.keys(), [key(5)]);
}

#[test]
fn a_rejected_byte_bound_changes_nothing_and_the_bound_can_be_removed() {
    let cache: Store = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_size("1M")
        .build()
        .unwrap();
    for i in 0..2 {
        cache.insert(key(i), vec![0; 100]).unwrap();
    }
    let two = cache.fixed_overhead() + 2 * charge(&cache, 100);
    cache.change_byte_size(two).unwrap();
    assert!(cache.change_byte_size("64Q").is_err());
    assert!(cache.change_byte_size(10).is_err());
    assert_eq!(cache.max_size().unwrap().as_u64() as usize, two);
    assert_eq!(cache.len(), 2);
    cache.remove_byte_limit();
    assert_eq!(cache.max_size(), None);
    for i in 10..20 {
        cache.insert(key(i), vec![0; 100]).unwrap();
    }
    assert_eq!(cache.len(), 12);
}

#[test]
fn a_growing_replacement_evicts_others_but_never_itself() {
    let cache = store_holding(3, 100);
    for i in 0..3 {
        cache.insert(key(i), vec![0; 100]).unwrap();
    }
    let two_slots = 2 * charge(&cache, 100) - charge(&cache, 0);
    cache.insert(key(0), vec![0; two_slots]).unwrap();
    assert_eq!(cache.keys(), [key(2), key(0)]);
    assert_eq!(cache.byte_size(), recomputed(&cache));
}

#[test]
fn without_deep_sizes_entries_are_accounted_by_inline_size() {
    struct Opaque(#[allow(dead_code)] [u8; 40]);
    let cache: FaasCacheDict<u64, Opaque> = FaasCacheDict::new();
    cache.insert(1, Opaque([0; 40])).unwrap();
    cache.insert(2, Opaque([0; 40])).unwrap();
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + 2 * (8 + 40 + cache.entry_overhead())
    );
}

#[test]
fn measure_deep_size_accounts_heap_bytes_without_a_bound() {
    let cache: Store = FaasCacheDict::builder()
        .measure_deep_size()
        .build()
        .unwrap();
    cache.insert(key(1), vec![0; 4096]).unwrap();
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + charge(&cache, 4096)
    );
    assert_eq!(cache.max_size(), None);
}

/// A million random operations (inserts with and without TTL, removals, TTL changes, clock
/// advances, lookups) under both bounds; every 10 000 operations the running byte total must
/// equal the total recomputed from scratch from the live entries.
fn the_byte_total_never_drifts(policy: Policy) {
    let clock = MockClock::new();
    let cache: Store = FaasCacheDict::builder()
        .policy(policy)
        .max_size("256K")
        .max_items(2_000)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(cache.policy(), policy);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rand = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    // Under Miri (~100x slower) a few thousand operations, which still evict and expire.
    let (steps, check_every) = if cfg!(miri) {
        (3_000u32, 300)
    } else {
        (1_000_000, 10_000)
    };
    let mut checks = 0;
    for step in 0..steps {
        let k = key(rand(5_000) as usize);
        match rand(10) {
            0..=4 => {
                let value = vec![0; rand(300) as usize];
                let ttl = match rand(3) {
                    0 => None,
                    _ => Some(Duration::from_millis(1 + rand(2_000))),
                };
                cache.insert_with_ttl(k, value, ttl).unwrap();
            }
            5 => {
                cache.remove(&k);
            }
            6 => {
                cache.set_ttl(&k, Some(Duration::from_millis(rand(500) + 1)));
            }
            7 => clock.advance(Duration::from_millis(rand(50))),
            _ => {
                cache.get(&k);
            }
        }
        if step % check_every == 0 {
            assert_eq!(
                cache.byte_size(),
                recomputed(&cache),
                "{policy:?} step {step}"
            );
            assert!(cache.byte_size() <= 256 * 1024, "{policy:?} step {step}");
            checks += 1;
        }
    }
    assert_eq!(checks, steps / check_every);
    assert_eq!(cache.byte_size(), recomputed(&cache));
    assert!(cache.byte_size() <= 256 * 1024);
    let info = cache.info();
    assert!(info.evictions > 0 && info.expirations > 0, "{info}");
}

#[test]
fn the_byte_total_never_drifts_over_a_million_operations_under_s3fifo() {
    the_byte_total_never_drifts(Policy::S3Fifo);
}

#[test]
fn the_byte_total_never_drifts_over_a_million_operations_under_lru() {
    the_byte_total_never_drifts(Policy::Lru);
}

/// Whatever the sizes, an entry just written (new or replacing) is in the store afterwards:
/// the evictions it causes take other entries, even when the store's node storage moves the
/// written entry while it evicts.
fn a_written_entry_always_stays(policy: Policy) {
    let probe: Store = FaasCacheDict::builder().max_size("1M").build().unwrap();
    let cache: Store = FaasCacheDict::builder()
        .policy(policy)
        .max_size(probe.fixed_overhead() + 8 * charge(&probe, 100))
        .build()
        .unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut rand = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let steps = if cfg!(miri) { 500 } else { 50_000 };
    for step in 0..steps {
        let k = key(rand(12) as usize);
        // Mostly small values, sometimes one that needs the room of several entries.
        let len = if rand(4) == 0 {
            100 + rand(500)
        } else {
            rand(100)
        } as usize;
        if rand(3) == 0 {
            cache.get(&k);
        }
        cache.insert(k.clone(), vec![0; len]).unwrap();
        assert!(
            cache.contains_key(&k),
            "step {step}: {k} (len {len}) was evicted by its own insert under {policy:?}"
        );
        assert_eq!(cache.get(&k).map(|v| v.len()), Some(len));
    }
    assert_eq!(cache.byte_size(), recomputed(&cache));
}

#[test]
fn a_written_entry_always_stays_under_s3fifo() {
    a_written_entry_always_stays(Policy::S3Fifo);
}

#[test]
fn a_written_entry_always_stays_under_lru() {
    a_written_entry_always_stays(Policy::Lru);
}
