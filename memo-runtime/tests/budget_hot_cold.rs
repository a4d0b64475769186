//! One memory budget for the process: when it is full, cold entries go first wherever they
//! are, so a hot function keeps its working set while a cold one (a scan of keys seen once)
//! gives up its own entries.
//!
//! One test in this binary: the budget is the process's.

use std::sync::atomic::{AtomicU64, Ordering};

use memo_runtime::faas_cached;

static HOT_RUNS: AtomicU64 = AtomicU64::new(0);
static COLD_RUNS: AtomicU64 = AtomicU64::new(0);

/// Called on the same 50 keys over and over.
#[faas_cached]
fn hot(key: u64) -> Vec<u8> {
    HOT_RUNS.fetch_add(1, Ordering::Relaxed);
    vec![key as u8; 1000]
}

/// Called on a new key every time.
#[faas_cached(policy = "lru")]
fn cold(key: u64) -> Vec<u8> {
    COLD_RUNS.fetch_add(1, Ordering::Relaxed);
    vec![key as u8; 1000]
}

const WORKING_SET: u64 = 50;

#[test]
fn a_hot_function_keeps_its_working_set_while_a_cold_one_fills_the_budget() {
    // Both stores exist (and joined the budget) before it is set.
    hot(u64::MAX);
    cold(u64::MAX);
    hot_cache_clear();
    cold_cache_clear();
    let fixed = (hot_cache().fixed_overhead() + cold_cache().fixed_overhead()) as u64;
    // Deep sizes once the budget counts the stores: the key, the vector and its 1000 bytes.
    let entry = (8 + 24 + 1000 + hot_cache().entry_overhead()) as u64;
    // Room for 80 entries: the hot working set (50) and 30 more, which the cold function
    // wants many more of.
    let limit = fixed + 80 * entry;
    memo_runtime::set_memory_budget(limit).unwrap();
    let budget = memo_runtime::memory_budget().unwrap();
    assert_eq!(budget.limit_bytes, limit);
    assert_eq!(
        budget.used_bytes, fixed,
        "empty stores count their fixed overheads"
    );
    assert_eq!(budget.stores, 2);

    let mut next_cold = 0;
    let mut hot_runs_after_warmup = 0;
    for round in 0..200 {
        for key in 0..WORKING_SET {
            assert_eq!(hot(key)[0], key as u8);
        }
        for _ in 0..WORKING_SET {
            cold(next_cold);
            next_cold += 1;
        }
        if round == 4 {
            hot_runs_after_warmup = HOT_RUNS.load(Ordering::Relaxed);
        }
        let budget = memo_runtime::memory_budget().unwrap();
        assert!(
            budget.used_bytes <= budget.limit_bytes,
            "round {round}: {budget}"
        );
    }

    let hot_info = hot_cache_info();
    let cold_info = cold_cache_info();
    let budget = memo_runtime::memory_budget().unwrap();
    // The hot function computed nothing after its first rounds: its working set stayed.
    assert_eq!(
        HOT_RUNS.load(Ordering::Relaxed),
        hot_runs_after_warmup,
        "{hot_info}\n{cold_info}\n{budget}"
    );
    assert_eq!(hot_info.current_items, WORKING_SET as usize);
    assert!(hot_info.deep_sizes && cold_info.deep_sizes);
    // The cold one gave up its own entries, and holds what the budget leaves it.
    assert_eq!(cold_info.current_items, 30, "{cold_info}");
    assert!(cold_info.evictions >= next_cold - 30 - 1, "{cold_info}");
    assert!(budget.evictions >= cold_info.evictions);
    assert_eq!(budget.refused, 0);
    // The total counted is exactly what the stores hold.
    assert_eq!(
        budget.used_bytes,
        hot_info.current_size_bytes + cold_info.current_size_bytes
    );
    assert!(budget.used_bytes <= limit);

    // The summary line for a log says as much.
    let summary = memo_runtime::cache_summary();
    assert_eq!(summary.caches, 2);
    assert_eq!(summary.items, 80);
    let line = summary.to_string();
    assert!(
        line.contains(&format!("budget={}/{limit} ", budget.used_bytes)),
        "{line}"
    );
}
