//! What `cache_info()` counts for a memoized function: a hit, a computation (`misses`) or a
//! wait for another caller's computation (`waited`), results returned but not stored
//! (`uncached`), and `reset_stats` against `cache_clear`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use memo_runtime::{faas_cached, FaasCacheDict};

static COLD_CALLS: AtomicUsize = AtomicUsize::new(0);
/// Holds the leader's body until every other task has missed and started waiting.
static RELEASE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(0);

#[faas_cached]
async fn cold(id: u64) -> u64 {
    COLD_CALLS.fetch_add(1, Ordering::SeqCst);
    drop(RELEASE.acquire().await.expect("never closed"));
    id * 2
}

/// The case: 100 concurrent tasks on one cold key ran the body once but reported
/// 100 misses. A single-threaded runtime polls the tasks in order, so the first leads and the
/// other 99 are all waiting before the leader is released: the counts are exact.
#[test]
fn a_hundred_tasks_on_one_cold_key_are_one_miss_and_ninety_nine_waits() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..100).map(|_| tokio::spawn(cold(21))).collect();
        // Every task runs up to its first await (the leader's semaphore, the waiters' slot).
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        RELEASE.add_permits(1);
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    });
    assert_eq!(results, vec![42; 100]);
    assert_eq!(COLD_CALLS.load(Ordering::SeqCst), 1);
    let info = cold_cache_info();
    assert_eq!((info.hits, info.misses, info.waited), (0, 1, 99));
    assert_eq!(info.uncached, 0);
    assert_eq!(info.hit_ratio(), 0.99, "99 of 100 calls did not compute");
    assert!(
        info.to_string()
            .contains("hits=0, misses=1, waited=99, uncached=0, hit_ratio=0.99"),
        "{info}"
    );
}

static BLOCKING_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn blocking(id: u64) -> u64 {
    BLOCKING_CALLS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    id + 1
}

/// Threads: who waits and who arrives after the value is stored depends on scheduling, but
/// every call is one hit, one computation or one wait, and computations are the misses.
#[test]
fn concurrent_threads_count_one_miss_per_computation() {
    let start = Barrier::new(8);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                start.wait();
                assert_eq!(blocking(1), 2);
            });
        }
    });
    let info = blocking_cache_info();
    assert_eq!(info.misses, BLOCKING_CALLS.load(Ordering::SeqCst) as u64);
    assert_eq!(info.misses, 1);
    assert_eq!(info.hits + info.misses + info.waited, 8);
}

static FALLIBLE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn fallible(id: u32) -> Result<u32, String> {
    let call = FALLIBLE_CALLS.fetch_add(1, Ordering::SeqCst);
    if call < 3 {
        Err(format!("attempt {call} failed"))
    } else {
        Ok(id)
    }
}

#[test]
fn errors_are_misses_that_count_as_uncached() {
    for _ in 0..3 {
        assert!(fallible(5).is_err());
    }
    assert_eq!(fallible(5), Ok(5));
    assert_eq!(fallible(5), Ok(5));
    let info = fallible_cache_info();
    assert_eq!((info.hits, info.misses, info.uncached), (1, 4, 3));
    assert_eq!(info.current_items, 1);
}

#[faas_cached(dedupe = false)]
fn lookup(id: u32) -> Option<String> {
    (id.is_multiple_of(2)).then(|| format!("user {id}"))
}

#[test]
fn nones_are_uncached_with_or_without_dedupe() {
    assert_eq!(lookup(1), None);
    assert_eq!(lookup(1), None);
    assert_eq!(lookup(2).as_deref(), Some("user 2"));
    assert_eq!(lookup(2).as_deref(), Some("user 2"));
    let info = lookup_cache_info();
    assert_eq!((info.hits, info.misses, info.uncached), (1, 3, 2));
}

#[faas_cached(max_size = "64K")]
fn blob(len: usize) -> Vec<u8> {
    vec![7; len]
}

#[test]
fn a_value_too_large_for_max_size_is_uncached() {
    assert_eq!(blob(100_000).len(), 100_000);
    assert_eq!(blob(10).len(), 10);
    let info = blob_cache_info();
    assert_eq!((info.misses, info.uncached, info.current_items), (2, 1, 1));
    assert!(info.deep_sizes);
    assert!(
        info.to_string()
            .contains(&format!("current_size_bytes={}", info.current_size_bytes)),
        "{info}"
    );
}

#[faas_cached(max_items = 8)]
fn doubled(n: u32) -> u32 {
    n * 2
}

/// `reset_stats` zeroes the counters and keeps the entries; `cache_clear` does the reverse.
#[test]
fn reset_stats_and_cache_clear_are_the_two_halves_of_lru_caches_cache_clear() {
    doubled(1);
    doubled(1);
    doubled(2);
    let info = doubled_cache_info();
    assert_eq!((info.hits, info.misses, info.current_items), (1, 2, 2));

    doubled_reset_stats();
    let info = doubled_cache_info();
    assert_eq!((info.hits, info.misses, info.evictions), (0, 0, 0));
    assert_eq!(info.current_items, 2, "entries stay");
    assert_eq!(doubled(1), 2);
    assert_eq!(doubled_cache_info().hits, 1, "counting goes on from zero");

    doubled_cache_clear();
    let info = doubled_cache_info();
    assert_eq!((info.hits, info.current_items), (1, 0), "counters stay");
}

#[test]
fn the_store_counts_its_own_memoized_calls_the_same_way() {
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::new();
    assert_eq!(cache.get(&1), None); // a plain lookup: a miss
    assert_eq!(
        cache.try_get_or_insert_with(1, || Err::<u32, _>("down")),
        Err("down")
    );
    assert_eq!(cache.get_or_insert_with(1, || 10), 10);
    assert_eq!(cache.get_or_insert_with(1, || unreachable!()), 10);
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.uncached), (1, 3, 1));
    cache.reset_stats();
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.uncached), (0, 0, 0));
    assert_eq!(info.current_items, 1);
}

#[faas_cached]
fn unbounded(n: u32) -> u32 {
    n
}

#[test]
fn a_bare_attribute_is_unbounded_and_says_so() {
    unbounded(1);
    let info = unbounded_cache_info();
    assert!(info.is_unbounded());
    assert!(!info.deep_sizes);
    let shown = info.to_string();
    assert!(
        shown.contains("max_items=None, max_size=None (unbounded)"),
        "{shown}"
    );
    assert!(!shown.contains("current_size_bytes"), "{shown}");
}
