//! The `on_delete` hook: the reason of every kind of departure (evictions by an insert or by a
//! shrunk bound, expiry, removal, purge, replacement), re-entrancy, and panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use memo_runtime::{DeleteReason, FaasCacheDict, MockClock, Policy};

type Log = Arc<Mutex<Vec<(u32, u32, DeleteReason)>>>;

fn logged(max_items: usize, clock: &MockClock) -> (FaasCacheDict<u32, u32>, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let cache = FaasCacheDict::builder()
        .max_items(max_items)
        .clock(clock.clone())
        .on_delete(move |k: &u32, v: &u32, why| sink.lock().unwrap().push((*k, *v, why)))
        .build()
        .unwrap();
    (cache, log)
}

#[test]
fn every_departure_reaches_the_hook_with_its_reason() {
    let clock = MockClock::new();
    let (cache, log) = logged(2, &clock);
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    cache.insert(3, 30).unwrap(); // evicts 1
    cache.insert(2, 21).unwrap(); // replaces 20
    cache.remove(&3); // removed
    cache
        .insert_with_ttl(4, 40, Some(Duration::from_secs(1)))
        .unwrap();
    clock.advance(Duration::from_secs(1));
    cache.insert(5, 50).unwrap(); // reclaims 4
    cache.purge(); // 2 and 5
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen[..4],
        [
            (1, 10, DeleteReason::Evicted),
            (2, 20, DeleteReason::Replaced),
            (3, 30, DeleteReason::Removed),
            (4, 40, DeleteReason::Expired),
        ]
    );
    let mut purged = seen[4..].to_vec();
    purged.sort_unstable_by_key(|&(k, _, _)| k);
    assert_eq!(
        purged,
        [
            (2, 21, DeleteReason::Removed),
            (5, 50, DeleteReason::Removed)
        ]
    );
}

#[test]
fn a_hook_may_use_the_same_cache_without_deadlock() {
    static CACHE: OnceLock<FaasCacheDict<u32, u32>> = OnceLock::new();
    static SEEN_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);
    let cache = CACHE.get_or_init(|| {
        FaasCacheDict::builder()
            .max_items(2)
            .on_delete(|k: &u32, _: &u32, _| {
                let cache = CACHE.get().expect("initialised before any eviction");
                // Read, write and measure the cache from inside its own hook.
                SEEN_LEN.store(cache.len(), Ordering::SeqCst);
                if *k < 100 {
                    cache.insert(k + 100, 0).unwrap();
                }
                let _ = cache.get(&1);
            })
            .build()
            .unwrap()
    });
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    cache.insert(3, 3).unwrap(); // evicts 1; the hook inserts 101, which evicts 2 (hook: 102)
    assert_ne!(SEEN_LEN.load(Ordering::SeqCst), usize::MAX);
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_panicking_hook_is_caught_counted_and_leaves_the_store_consistent() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let cache: FaasCacheDict<u32, String> = FaasCacheDict::builder()
        .max_items(2)
        .on_delete(move |k: &u32, _: &String, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            if (*k).is_multiple_of(2) {
                panic!("hook failure for {k}");
            }
        })
        .build()
        .unwrap();
    for k in 0..10 {
        cache.insert(k, k.to_string()).unwrap();
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        8,
        "every eviction called the hook"
    );
    assert_eq!(cache.keys(), [8, 9]);
    assert_eq!(cache.info().hook_panics, 4);
    assert!(cache.info().to_string().contains("hook_panics=4"));
    // Still fully usable.
    assert_eq!(cache.remove(&8), Some("8".to_owned()));
    assert_eq!(cache.info().hook_panics, 5);
    cache.insert(20, "20".to_owned()).unwrap();
    assert_eq!(cache.keys(), [9, 20]);
    assert_eq!(cache.len(), 2);
}

#[test]
fn a_panicking_drop_of_an_evicted_value_reaches_the_caller_and_leaves_the_store_usable() {
    struct Bomb(u32);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 == 1 && !std::thread::panicking() {
                panic!("drop of 1");
            }
        }
    }
    let cache: FaasCacheDict<u32, Bomb> = FaasCacheDict::builder().max_items(1).build().unwrap();
    cache.insert(1, Bomb(1)).unwrap();
    // Evicting 1 drops it after the lock is released: the panic reaches this caller, as a
    // panicking drop would from `HashMap::insert`, and the insert itself has completed.
    let inserting = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache.insert(2, Bomb(2)).unwrap();
    }));
    assert!(inserting.is_err());
    assert_eq!(cache.keys(), [2]);
    cache.insert(3, Bomb(3)).unwrap();
    assert_eq!(cache.keys(), [3]);
    assert_eq!(cache.len(), 1);
}

#[test]
fn hooks_see_purge_of_expired_entries_as_expired() {
    let clock = MockClock::new();
    let (cache, log) = logged(10, &clock);
    cache
        .insert_with_ttl(1, 1, Some(Duration::from_secs(1)))
        .unwrap();
    cache.insert(2, 2).unwrap();
    clock.advance(Duration::from_secs(2));
    cache.purge();
    let seen = log.lock().unwrap().clone();
    assert_eq!(
        seen,
        [(1, 1, DeleteReason::Expired), (2, 2, DeleteReason::Removed)]
    );
}

/// A store of `u32`s with a byte bound (so entries are measured) and the hook logging.
fn logged_with(
    policy: Policy,
    max_items: usize,
    clock: &MockClock,
) -> (FaasCacheDict<u32, u32>, Log) {
    let log: Log = Arc::default();
    let sink = log.clone();
    let cache = FaasCacheDict::builder()
        .policy(policy)
        .max_items(max_items)
        .max_size("1M")
        .clock(clock.clone())
        .on_delete(move |k: &u32, v: &u32, why| sink.lock().unwrap().push((*k, *v, why)))
        .build()
        .unwrap();
    assert_eq!(cache.policy(), policy);
    (cache, log)
}

#[test]
fn entries_trimmed_by_change_max_items_are_reported_evicted() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let clock = MockClock::new();
        let (cache, log) = logged_with(policy, 5, &clock);
        for k in 1..=5 {
            cache.insert(k, k * 10).unwrap();
        }
        cache.change_max_items(2).unwrap();
        // Never hit: under both policies the oldest go first.
        assert_eq!(
            *log.lock().unwrap(),
            [
                (1, 10, DeleteReason::Evicted),
                (2, 20, DeleteReason::Evicted),
                (3, 30, DeleteReason::Evicted),
            ],
            "{policy:?}"
        );
        assert_eq!(cache.keys(), [4, 5], "{policy:?}");
        assert_eq!(cache.info().evictions, 3, "{policy:?}");
    }
}

#[test]
fn entries_trimmed_by_change_byte_size_are_reported_evicted() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let clock = MockClock::new();
        let (cache, log) = logged_with(policy, 100, &clock);
        for k in 1..=4 {
            cache.insert(k, k * 10).unwrap();
        }
        let entry = 4 + 4 + cache.entry_overhead();
        cache
            .change_byte_size(cache.fixed_overhead() + 2 * entry)
            .unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            [
                (1, 10, DeleteReason::Evicted),
                (2, 20, DeleteReason::Evicted)
            ],
            "{policy:?}"
        );
        assert_eq!(cache.keys(), [3, 4], "{policy:?}");
        assert_eq!(cache.byte_size(), cache.fixed_overhead() + 2 * entry);
    }
}

#[test]
fn an_entry_expired_by_expire_at_is_reported_expired_once_a_write_reclaims_it() {
    let clock = MockClock::new();
    let (cache, log) = logged(10, &clock);
    cache.insert(1, 10).unwrap();
    cache.insert(2, 20).unwrap();
    cache.insert(3, 30).unwrap();
    // 1: a deadline in the past; 2: one that the clock then passes.
    assert!(cache.expire_at(&1, clock.system_now() - Duration::from_secs(5)));
    assert!(cache.expire_at(&2, clock.system_now() + Duration::from_secs(1)));
    assert!(!cache.contains_key(&1), "expired at once");
    clock.advance(Duration::from_secs(1));
    assert!(!cache.contains_key(&2));
    // A write reclaims both; neither is reported as removed or replaced, even when the key is
    // written again.
    assert_eq!(cache.insert(1, 11), Ok(None));
    assert_eq!(cache.insert(4, 40), Ok(None));
    let mut seen = log.lock().unwrap().clone();
    seen.sort_unstable_by_key(|&(k, _, _)| k);
    assert_eq!(
        seen,
        [
            (1, 10, DeleteReason::Expired),
            (2, 20, DeleteReason::Expired)
        ]
    );
    let info = cache.info();
    assert_eq!((info.expirations, info.evictions), (2, 0));
    assert_eq!(cache.get(&1), Some(11));
}

#[test]
fn purge_reports_every_live_entry_removed() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let clock = MockClock::new();
        let (cache, log) = logged_with(policy, 10, &clock);
        for k in 1..=3 {
            cache.insert(k, k * 10).unwrap();
        }
        cache.get(&2);
        cache.purge();
        let mut seen = log.lock().unwrap().clone();
        seen.sort_unstable_by_key(|&(k, _, _)| k);
        assert_eq!(
            seen,
            [
                (1, 10, DeleteReason::Removed),
                (2, 20, DeleteReason::Removed),
                (3, 30, DeleteReason::Removed),
            ],
            "{policy:?}"
        );
        assert!(cache.is_empty());
        let info = cache.info();
        assert_eq!((info.evictions, info.expirations), (0, 0), "{policy:?}");
    }
}
