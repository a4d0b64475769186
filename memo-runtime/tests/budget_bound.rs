//! The process's memory budget bounds the total of every store in it: the total counted never
//! passes the budget (not even by one entry), from one thread or from several at once, and it
//! is exactly what the stores hold. Stores outside the budget are not counted.
//!
//! The budget is the process's: the tests of this binary take turns (`SERIAL`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use memo_runtime::{faas_cached, CacheError, FaasCacheDict};

static SERIAL: Mutex<()> = Mutex::new(());

/// Values of varied sizes: 0 to 1 999 heap bytes.
fn payload(key: u64) -> String {
    "x".repeat((key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 53) as usize)
}

#[faas_cached]
fn fifo(key: u64) -> String {
    payload(key)
}

#[faas_cached(policy = "lru", ttl = 3600)]
fn lru(key: u64) -> String {
    payload(key)
}

#[faas_cached(memory_budget = false)]
fn outside(key: u64) -> String {
    payload(key)
}

fn shared_store() -> Arc<FaasCacheDict<u64, String>> {
    FaasCacheDict::builder()
        .name("shared")
        .shards(4)
        .measure_deep_size()
        .memory_budget(true)
        .build_shared()
        .unwrap()
}

/// The largest entry the tests insert: key, `String` and its heap bytes, overhead.
fn largest_entry(store: &FaasCacheDict<u64, String>) -> u64 {
    (8 + 24 + 2000 + store.entry_overhead()) as u64
}

/// The budget's total, and the bytes the stores in it hold, from their own counts.
fn totals(shared: &FaasCacheDict<u64, String>) -> (u64, u64) {
    let used = memo_runtime::memory_budget().unwrap().used_bytes;
    let held = fifo_cache_info().current_size_bytes
        + lru_cache_info().current_size_bytes
        + shared.info().current_size_bytes;
    (used, held)
}

/// Sets a budget for the three stores (created first), of room for about `entries` entries.
fn setup(entries: u64) -> (Arc<FaasCacheDict<u64, String>>, u64) {
    fifo(0);
    lru(0);
    outside(0);
    fifo_cache_clear();
    lru_cache_clear();
    let shared = shared_store();
    let fixed = (fifo_cache().fixed_overhead()
        + lru_cache().fixed_overhead()
        + shared.fixed_overhead()) as u64;
    let limit = fixed + entries * 1100;
    memo_runtime::set_memory_budget(limit).unwrap();
    (shared, limit)
}

#[test]
fn one_thread_never_passes_the_budget_and_counts_exactly() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (shared, limit) = setup(60);
    let before = memo_runtime::memory_budget().unwrap();
    assert!(fifo_cache_info().in_memory_budget && shared.info().in_memory_budget);
    assert!(!outside_cache_info().in_memory_budget);
    for key in 1..3_000u64 {
        match key % 3 {
            0 => drop(fifo(key)),
            1 => drop(lru(key)),
            _ => drop(shared.insert(key, payload(key)).unwrap()),
        }
        outside(key);
        let (used, held) = totals(&shared);
        assert!(used <= limit, "insert {key}: {used} > {limit}");
        assert_eq!(used, held, "insert {key}: counted {used}, held {held}");
    }
    let budget = memo_runtime::memory_budget().unwrap();
    assert!(budget.evictions > before.evictions + 1_000, "{budget:?}");
    assert_eq!(budget.refused, before.refused);
    // The function outside the budget kept everything.
    assert_eq!(outside_cache_info().current_items, 3_000);

    // Lowering the budget evicts at once; a store dropped gives its bytes back.
    memo_runtime::set_memory_budget(limit / 2).unwrap();
    let (used, held) = totals(&shared);
    assert!(used <= limit / 2 && used == held);
    let shared_bytes = shared.info().current_size_bytes;
    drop(shared);
    let after = memo_runtime::memory_budget().unwrap().used_bytes;
    assert_eq!(after, used - shared_bytes);
    assert_eq!(memo_runtime::memory_budget().unwrap().stores, 2);

    // An entry larger than the whole budget is refused and named so.
    memo_runtime::set_memory_budget(500u64).unwrap();
    let store = shared_store();
    match store.insert(1, "y".repeat(1000)) {
        Err(CacheError::OverBudget {
            entry_bytes,
            budget_bytes,
        }) => assert!(entry_bytes > 1000 && budget_bytes == 500),
        other => panic!("{other:?}"),
    }
    assert!(store.is_empty());
    memo_runtime::remove_memory_budget();
    assert!(memo_runtime::memory_budget().is_none());
}

#[test]
fn threads_inserting_at_once_never_pass_the_budget() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (shared, limit) = setup(40);
    let largest = largest_entry(&shared);
    let before = memo_runtime::memory_budget().unwrap();
    let finished = AtomicUsize::new(0);
    let mut highest = 0;
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let (shared, finished) = (&shared, &finished);
            scope.spawn(move || {
                for i in 0..4_000u64 {
                    let key = thread * 1_000_000 + i;
                    match i % 3 {
                        0 => drop(fifo(key)),
                        1 => drop(lru(key % 500)),
                        _ => drop(shared.insert(key % 700, payload(key))),
                    }
                }
                finished.fetch_add(1, Ordering::Release);
            });
        }
        // The watcher samples the total while the inserts run.
        let watcher = scope.spawn(|| {
            let mut highest = 0;
            while finished.load(Ordering::Acquire) < 4 {
                let used = memo_runtime::memory_budget().unwrap().used_bytes;
                highest = highest.max(used);
                std::thread::yield_now();
            }
            highest
        });
        highest = watcher.join().unwrap();
    });
    assert!(
        highest <= limit,
        "the total reached {highest}, over the budget of {limit} (an entry is at most {largest})"
    );
    let (used, held) = totals(&shared);
    assert_eq!(used, held, "counted {used}, held {held}");
    assert!(used <= limit);
    let budget = memo_runtime::memory_budget().unwrap();
    // Nothing was refused: an insert that found no room waited for other threads' entries.
    assert_eq!(budget.refused, before.refused, "{budget:?}");
    assert!(budget.evictions > before.evictions + 1_000, "{budget:?}");
}
