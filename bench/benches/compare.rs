//! faas-memo against `cached`, `moka`, `quick_cache`, `Mutex<lru::LruCache>` and two hashbrown
//! floors, in one process: `cargo bench -p memo-bench --bench compare`.
//!
//! Workloads (numbered as in BENCHMARKS.md):
//! 1. hit latency, `u64 -> u64`, 10 000 warm keys (capacity 100 000), shuffled order, 1 thread;
//! 2. hit latency, a ~24-byte `&str` argument -> a 256-byte `Vec<u8>`, and an `Arc<[u8]>`;
//! 3. miss + insert + eviction at capacity 10 000 on a stream of new keys;
//! 4. hit throughput with 1 and 2 threads sharing one cache;
//! 5. insert under a byte bound while holding 1 000, 100 000 and 1 000 000 entries;
//! 6. hit ratio at capacity 10 000 on a Zipf (s = 0.99) trace of 2 000 000 requests over
//!    1 000 000 keys, and on the same trace with a scan of 20 000 new keys every 100 000.
//!
//! Timed workloads run in rounds; within a round every contender runs once, one after the
//! other, so that a noisy host slows all of them alike. Each table cell is the median round.
//! Without `--bench` (as `cargo test --all-targets` runs it) every size shrinks and there is
//! one round: a smoke test that every contender works.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use cached::proc_macro::cached;
use memo_bench::{
    hit_percent, median, ns, oracle_percent, shuffled, with_scans, zipf_trace, Config, Table,
};
use memo_runtime::{faas_cached, DeepSize, FaasCacheDict, Policy};
use parking_lot::Mutex;

/// A timed contender: runs its whole measurement once and returns nanoseconds per operation.
type Timed<'a> = (&'static str, Box<dyn FnMut() -> f64 + 'a>);

/// Runs every contender once per round, interleaved, and returns each one's median.
fn interleaved(cfg: &Config, contenders: &mut [Timed<'_>]) -> Vec<(&'static str, f64)> {
    let mut samples = vec![Vec::new(); contenders.len()];
    for _ in 0..cfg.rounds {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            samples[i].push(run());
        }
    }
    contenders
        .iter()
        .zip(samples)
        .map(|((name, _), s)| (*name, median(s)))
        .collect()
}

/// Nanoseconds per call of `f` over `passes` passes of `order`.
#[inline(never)]
fn per_op<T: Copy>(order: &[T], passes: usize, f: impl Fn(T) -> u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..passes {
        for &k in order {
            acc = acc.wrapping_add(f(black_box(k)));
        }
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / (passes * order.len()) as f64
}

// ---------------------------------------------------------------------------------------------
// Workload 1: u64 hits.

const W1_CAPACITY: usize = 100_000;

#[faas_cached(max_items = 100_000)]
fn faas_w1(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[faas_cached(ttl = 3600, max_items = 100_000)]
fn faas_w1_ttl(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[cached(max_size = 100_000)]
fn cached_w1(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[cached(max_size = 100_000, ttl_secs = 3600)]
fn cached_w1_ttl(x: u64) -> u64 {
    x.wrapping_mul(x)
}

fn u64_store(policy: Policy, ttl: Option<Duration>, capacity: usize) -> FaasCacheDict<u64, u64> {
    let builder = FaasCacheDict::builder().max_items(capacity).policy(policy);
    let builder = match ttl {
        Some(ttl) => builder.default_ttl(ttl),
        None => builder,
    };
    builder.build().expect("valid settings")
}

fn moka_cache<K, V>(capacity: usize) -> moka::sync::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::sync::Cache::new(capacity as u64)
}

fn lru_cache<K: std::hash::Hash + Eq, V>(capacity: usize) -> Mutex<lru::LruCache<K, V>> {
    Mutex::new(lru::LruCache::new(
        NonZeroUsize::new(capacity).expect("capacity > 0"),
    ))
}

fn workload_1(cfg: &Config) -> (Table, Vec<(&'static str, f64)>) {
    let keys = cfg.size(10_000, 100);
    let order = shuffled(keys, 1);
    let passes = cfg.size(300, 1);
    let hour = Duration::from_secs(3600);

    let store = u64_store(Policy::S3Fifo, None, W1_CAPACITY);
    let store_ttl = u64_store(Policy::S3Fifo, Some(hour), W1_CAPACITY);
    let store_lru = u64_store(Policy::Lru, None, W1_CAPACITY);
    let moka = moka_cache::<u64, u64>(W1_CAPACITY);
    let quick = quick_cache::sync::Cache::<u64, u64>::new(W1_CAPACITY);
    let lru = lru_cache::<u64, u64>(W1_CAPACITY);
    let mut map = hashbrown::HashMap::<u64, u64>::new();
    for &k in &order {
        let v = k.wrapping_mul(k);
        for s in [&store, &store_ttl, &store_lru] {
            s.insert(k, v).expect("fits");
        }
        assert_eq!(faas_w1(k), v);
        assert_eq!(faas_w1_ttl(k), v);
        assert_eq!(cached_w1(k), v);
        assert_eq!(cached_w1_ttl(k), v);
        moka.insert(k, v);
        quick.insert(k, v);
        lru.lock().put(k, v);
        map.insert(k, v);
    }
    moka.run_pending_tasks();
    let locked_map = Mutex::new(map.clone());

    let o = &order;
    let mut contenders: Vec<Timed<'_>> = vec![
        (
            "faas-memo `#[faas_cached(max_items)]`",
            Box::new(|| per_op(o, passes, faas_w1)),
        ),
        (
            "faas-memo `#[faas_cached(ttl, max_items)]`",
            Box::new(|| per_op(o, passes, faas_w1_ttl)),
        ),
        (
            "faas-memo `FaasCacheDict::get` (S3-FIFO)",
            Box::new(|| per_op(o, passes, |k| store.get(&k).unwrap_or(0))),
        ),
        (
            "faas-memo `FaasCacheDict::get` (S3-FIFO, TTL)",
            Box::new(|| per_op(o, passes, |k| store_ttl.get(&k).unwrap_or(0))),
        ),
        (
            "faas-memo `FaasCacheDict::get` (LRU)",
            Box::new(|| per_op(o, passes, |k| store_lru.get(&k).unwrap_or(0))),
        ),
        (
            "cached `#[cached(max_size)]`",
            Box::new(|| per_op(o, passes, cached_w1)),
        ),
        (
            "cached `#[cached(max_size, ttl_secs)]`",
            Box::new(|| per_op(o, passes, cached_w1_ttl)),
        ),
        (
            "moka `sync::Cache::get`",
            Box::new(|| per_op(o, passes, |k| moka.get(&k).unwrap_or(0))),
        ),
        (
            "quick_cache `sync::Cache::get`",
            Box::new(|| per_op(o, passes, |k| quick.get(&k).unwrap_or(0))),
        ),
        (
            "`Mutex<lru::LruCache>::get`",
            Box::new(|| per_op(o, passes, |k| lru.lock().get(&k).copied().unwrap_or(0))),
        ),
        (
            "floor: `Mutex<hashbrown::HashMap>::get`",
            Box::new(|| {
                per_op(o, passes, |k| {
                    locked_map.lock().get(&k).copied().unwrap_or(0)
                })
            }),
        ),
        (
            "floor: `hashbrown::HashMap::get`, unlocked",
            Box::new(|| per_op(o, passes, |k| map.get(&k).copied().unwrap_or(0))),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    let mut table = Table::new(&["contender", "ns per hit"]);
    for (name, value) in &results {
        table.row(vec![(*name).to_owned(), ns(*value)]);
    }
    assert_eq!(faas_w1_cache_info().misses, keys as u64);
    (table, results)
}

// ---------------------------------------------------------------------------------------------
// Workload 2: `&str` argument hits, 256-byte values.

const W2_CAPACITY: usize = 100_000;
const VALUE_LEN: usize = 256;

fn w2_key(i: u64) -> String {
    // 24 bytes, like a session or user id.
    format!("session-{i:016x}")
}

#[faas_cached(max_items = 100_000)]
fn faas_w2_vec(key: &str) -> Vec<u8> {
    vec![key.len() as u8; VALUE_LEN]
}

#[faas_cached(max_items = 100_000)]
fn faas_w2_arc(key: &str) -> Arc<[u8]> {
    vec![key.len() as u8; VALUE_LEN].into()
}

// `cached` keys must be owned: a `&str` argument is converted to a `String` on every call.
#[cached(max_size = 100_000, key = "String", convert = r#"{ key.to_owned() }"#)]
fn cached_w2_vec(key: &str) -> Vec<u8> {
    vec![key.len() as u8; VALUE_LEN]
}

#[cached(max_size = 100_000, key = "String", convert = r#"{ key.to_owned() }"#)]
fn cached_w2_arc(key: &str) -> Arc<[u8]> {
    vec![key.len() as u8; VALUE_LEN].into()
}

/// The store-level contenders of workload 2 for one value type.
struct Stores<V> {
    faas: FaasCacheDict<String, V>,
    moka: moka::sync::Cache<String, V>,
    quick: quick_cache::sync::Cache<String, V>,
    lru: Mutex<lru::LruCache<String, V>>,
    map: hashbrown::HashMap<String, V>,
    locked_map: Mutex<hashbrown::HashMap<String, V>>,
}

impl<V: Clone + Send + Sync + 'static> Stores<V> {
    fn new(keys: &[String], make: impl Fn() -> V) -> Self {
        let faas = FaasCacheDict::builder()
            .max_items(W2_CAPACITY)
            .build()
            .expect("valid settings");
        let moka = moka_cache(W2_CAPACITY);
        let quick = quick_cache::sync::Cache::new(W2_CAPACITY);
        let lru = lru_cache(W2_CAPACITY);
        let mut map = hashbrown::HashMap::new();
        for k in keys {
            faas.insert(k.clone(), make()).expect("fits");
            moka.insert(k.clone(), make());
            quick.insert(k.clone(), make());
            lru.lock().put(k.clone(), make());
            map.insert(k.clone(), make());
        }
        moka.run_pending_tasks();
        let locked_map = Mutex::new(map.clone());
        Stores {
            faas,
            moka,
            quick,
            lru,
            map,
            locked_map,
        }
    }
}

/// Ties a value to the accumulator so that clones are not optimised away.
fn weigh<V: AsRef<[u8]>>(value: Option<V>) -> u64 {
    value.map_or(0, |v| u64::from(v.as_ref()[0]))
}

fn workload_2(cfg: &Config) -> Table {
    let n = cfg.size(10_000, 100);
    let keys: Vec<String> = shuffled(n, 2).into_iter().map(w2_key).collect();
    let make_vec = || vec![24u8; VALUE_LEN];
    let make_arc = || -> Arc<[u8]> { vec![24u8; VALUE_LEN].into() };
    let vecs = Stores::new(&keys, make_vec);
    let arcs = Stores::new(&keys, make_arc);
    for k in &keys {
        faas_w2_vec(k);
        faas_w2_arc(k);
        cached_w2_vec(k);
        cached_w2_arc(k);
    }
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let o = &refs[..];
    let passes = cfg.size(100, 1);
    let (v, a) = (&vecs, &arcs);
    let mut contenders: Vec<Timed<'_>> = vec![
        (
            "faas-memo `#[faas_cached]` -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(Some(faas_w2_vec(k))))),
        ),
        (
            "faas-memo `#[faas_cached]` -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(Some(faas_w2_arc(k))))),
        ),
        (
            "faas-memo `get` -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.faas.get(k)))),
        ),
        (
            "faas-memo `get` -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.faas.get(k)))),
        ),
        (
            "cached `#[cached(max_size)]` -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(Some(cached_w2_vec(k))))),
        ),
        (
            "cached `#[cached(max_size)]` -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(Some(cached_w2_arc(k))))),
        ),
        (
            "moka -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.moka.get(k)))),
        ),
        (
            "moka -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.moka.get(k)))),
        ),
        (
            "quick_cache -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.quick.get(k)))),
        ),
        (
            "quick_cache -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.quick.get(k)))),
        ),
        (
            "`Mutex<lru::LruCache>` -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.lru.lock().get(k).cloned()))),
        ),
        (
            "`Mutex<lru::LruCache>` -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.lru.lock().get(k).cloned()))),
        ),
        (
            "floor: `Mutex<hashbrown>` -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.locked_map.lock().get(k).cloned()))),
        ),
        (
            "floor: `Mutex<hashbrown>` -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.locked_map.lock().get(k).cloned()))),
        ),
        (
            "floor: unlocked hashbrown -> Vec",
            Box::new(|| per_op(o, passes, |k| weigh(v.map.get(k).cloned()))),
        ),
        (
            "floor: unlocked hashbrown -> Arc",
            Box::new(|| per_op(o, passes, |k| weigh(a.map.get(k).cloned()))),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    let mut table = Table::new(&["contender", "-> `Vec<u8>` (256 B)", "-> `Arc<[u8]>`"]);
    for pair in results.chunks(2) {
        let name = pair[0].0.trim_end_matches(" -> Vec");
        table.row(vec![name.to_owned(), ns(pair[0].1), ns(pair[1].1)]);
    }
    assert_eq!(faas_w2_vec_cache_info().misses, n as u64);
    table
}

// ---------------------------------------------------------------------------------------------
// Workload 3: miss + insert + eviction.

const W3_CAPACITY: usize = 10_000;

#[faas_cached(max_items = 10_000)]
fn faas_w3(x: u64) -> u64 {
    x ^ 1
}

#[faas_cached(max_items = 10_000, policy = "lru")]
fn faas_w3_lru(x: u64) -> u64 {
    x ^ 1
}

#[faas_cached(max_items = 10_000, dedupe = false)]
fn faas_w3_undeduped(x: u64) -> u64 {
    x ^ 1
}

#[cached(max_size = 10_000)]
fn cached_w3(x: u64) -> u64 {
    x ^ 1
}

#[cached(max_size = 10_000, ttl_secs = 3600)]
fn cached_w3_ttl(x: u64) -> u64 {
    x ^ 1
}

/// Nanoseconds per call of `f` on `ops` keys never seen before, continuing from `*next`.
#[inline(never)]
fn per_new_key(next: &mut u64, ops: usize, mut f: impl FnMut(u64) -> u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for k in *next..*next + ops as u64 {
        acc = acc.wrapping_add(f(black_box(k)));
    }
    *next += ops as u64;
    black_box(acc);
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn workload_3(cfg: &Config) -> (Table, Vec<(&'static str, f64)>) {
    let cap = W3_CAPACITY;
    let ops = cfg.size(200_000, 1_000);
    let store = u64_store(Policy::S3Fifo, None, cap);
    let store_lru = u64_store(Policy::Lru, None, cap);
    let moka = moka_cache::<u64, u64>(cap);
    let quick = quick_cache::sync::Cache::<u64, u64>::new(cap);
    let lru = lru_cache::<u64, u64>(cap);
    let mut map = hashbrown::HashMap::<u64, u64>::with_capacity(cap + 1);
    for k in 0..cap as u64 {
        store.insert(k, k).expect("fits");
        store_lru.insert(k, k).expect("fits");
        faas_w3(k);
        faas_w3_lru(k);
        faas_w3_undeduped(k);
        cached_w3(k);
        cached_w3_ttl(k);
        moka.insert(k, k);
        quick.insert(k, k);
        lru.lock().put(k, k);
        map.insert(k, k);
    }
    let locked_map = Mutex::new(map.clone());
    let cap64 = cap as u64;
    // Each contender continues its own stream of new keys.
    let mut next = [cap64; 12];
    let [n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11] = &mut next;
    let mut contenders: Vec<Timed<'_>> = vec![
        (
            "faas-memo `#[faas_cached(max_items)]`",
            Box::new(|| per_new_key(n0, ops, faas_w3)),
        ),
        (
            "faas-memo `#[faas_cached(max_items, policy = \"lru\")]`",
            Box::new(|| per_new_key(n1, ops, faas_w3_lru)),
        ),
        (
            "faas-memo `#[faas_cached(max_items, dedupe = false)]`",
            Box::new(|| per_new_key(n11, ops, faas_w3_undeduped)),
        ),
        (
            "faas-memo `get` + `insert` (S3-FIFO)",
            Box::new(|| {
                per_new_key(n2, ops, |k| match store.get(&k) {
                    Some(v) => v,
                    None => store.insert(k, k ^ 1).map_or(0, |_| k),
                })
            }),
        ),
        (
            "faas-memo `get` + `insert` (LRU)",
            Box::new(|| {
                per_new_key(n3, ops, |k| match store_lru.get(&k) {
                    Some(v) => v,
                    None => store_lru.insert(k, k ^ 1).map_or(0, |_| k),
                })
            }),
        ),
        (
            "cached `#[cached(max_size)]`",
            Box::new(|| per_new_key(n4, ops, cached_w3)),
        ),
        (
            "cached `#[cached(max_size, ttl_secs)]`",
            Box::new(|| per_new_key(n5, ops, cached_w3_ttl)),
        ),
        (
            "moka `get` + `insert`",
            Box::new(|| {
                per_new_key(n6, ops, |k| match moka.get(&k) {
                    Some(v) => v,
                    None => {
                        moka.insert(k, k ^ 1);
                        k
                    }
                })
            }),
        ),
        (
            "quick_cache `get` + `insert`",
            Box::new(|| {
                per_new_key(n7, ops, |k| match quick.get(&k) {
                    Some(v) => v,
                    None => {
                        quick.insert(k, k ^ 1);
                        k
                    }
                })
            }),
        ),
        // Memoizing through a `Mutex` takes it twice on a miss: once to look, once to insert
        // (holding it while computing would serialise every caller).
        (
            "`Mutex<lru::LruCache>` `get` + `put`",
            Box::new(|| {
                per_new_key(n8, ops, |k| {
                    let found = lru.lock().get(&k).copied();
                    match found {
                        Some(v) => v,
                        None => {
                            lru.lock().put(k, k ^ 1);
                            k
                        }
                    }
                })
            }),
        ),
        (
            "floor: `Mutex<hashbrown>` get + insert + remove",
            Box::new(|| {
                per_new_key(n9, ops, |k| {
                    let found = locked_map.lock().get(&k).copied();
                    match found {
                        Some(v) => v,
                        None => {
                            let mut map = locked_map.lock();
                            map.insert(k, k ^ 1);
                            map.remove(&(k - cap64)).unwrap_or(0)
                        }
                    }
                })
            }),
        ),
        (
            "floor: unlocked hashbrown get + insert + remove",
            Box::new(|| {
                per_new_key(n10, ops, |k| match map.get(&k) {
                    Some(&v) => v,
                    None => {
                        map.insert(k, k ^ 1);
                        map.remove(&(k - cap64)).unwrap_or(0)
                    }
                })
            }),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    drop(contenders);
    assert!(store.len() <= cap && store_lru.len() <= cap);
    assert!(faas_w3_cache_info().current_items <= cap);
    let mut table = Table::new(&["contender", "ns per miss"]);
    for (name, value) in &results {
        table.row(vec![(*name).to_owned(), ns(*value)]);
    }
    (table, results)
}

// ---------------------------------------------------------------------------------------------
// Workload 4: hit throughput across threads.

/// Million hits per second of `threads` threads hitting one cache, each through its own
/// shuffled order of the same keys.
fn throughput<F: Fn(u64) -> u64 + Sync>(threads: usize, keys: usize, passes: usize, f: F) -> f64 {
    let orders: Vec<Vec<u64>> = (0..threads)
        .map(|t| shuffled(keys, 40 + t as u64))
        .collect();
    let barrier = Barrier::new(threads);
    let slowest = std::thread::scope(|s| {
        let handles: Vec<_> = orders
            .iter()
            .map(|order| {
                let (f, barrier) = (&f, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    per_op(order, passes, f) * (passes * order.len()) as f64
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .fold(0.0f64, f64::max)
    });
    (threads * keys * passes) as f64 / slowest * 1_000.0
}

#[faas_cached(max_items = 100_000)]
fn faas_w4(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[cached(max_size = 100_000)]
fn cached_w4(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[cached(max_size = 100_000, ttl_secs = 3600)]
fn cached_w4_ttl(x: u64) -> u64 {
    x.wrapping_mul(3)
}

fn workload_4(cfg: &Config) -> (Table, Vec<(&'static str, f64, f64)>) {
    let keys = cfg.size(10_000, 100);
    let passes = cfg.size(500, 1);
    let store = u64_store(Policy::S3Fifo, None, W1_CAPACITY);
    let store_ttl = u64_store(Policy::S3Fifo, Some(Duration::from_secs(3600)), W1_CAPACITY);
    let store_lru = u64_store(Policy::Lru, None, W1_CAPACITY);
    let moka = moka_cache::<u64, u64>(W1_CAPACITY);
    let quick = quick_cache::sync::Cache::<u64, u64>::new(W1_CAPACITY);
    let lru = lru_cache::<u64, u64>(W1_CAPACITY);
    let mut map = hashbrown::HashMap::<u64, u64>::new();
    for k in 0..keys as u64 {
        let v = k.wrapping_mul(3);
        for s in [&store, &store_ttl, &store_lru] {
            s.insert(k, v).expect("fits");
        }
        faas_w4(k);
        cached_w4(k);
        cached_w4_ttl(k);
        moka.insert(k, v);
        quick.insert(k, v);
        lru.lock().put(k, v);
        map.insert(k, v);
    }
    moka.run_pending_tasks();
    let locked_map = Mutex::new(map.clone());
    // Each contender measures 1 then 2 threads; the pair is one round's sample.
    let mut samples: Vec<(&'static str, Vec<f64>, Vec<f64>)> = Vec::new();
    macro_rules! contender {
        ($name:expr, $f:expr) => {{
            let f = $f;
            (
                $name,
                Box::new(move |threads: usize| throughput(threads, keys, passes, &f))
                    as Box<dyn Fn(usize) -> f64 + Sync + '_>,
            )
        }};
    }
    let contenders = [
        contender!("faas-memo `#[faas_cached(max_items)]`", faas_w4),
        contender!("faas-memo `get` (S3-FIFO)", |k| store.get(&k).unwrap_or(0)),
        contender!("faas-memo `get` (S3-FIFO, TTL)", |k| store_ttl
            .get(&k)
            .unwrap_or(0)),
        contender!("faas-memo `get` (LRU)", |k| store_lru.get(&k).unwrap_or(0)),
        contender!("cached `#[cached(max_size)]`", cached_w4),
        contender!("cached `#[cached(max_size, ttl_secs)]`", cached_w4_ttl),
        contender!("moka", |k| moka.get(&k).unwrap_or(0)),
        contender!("quick_cache", |k| quick.get(&k).unwrap_or(0)),
        contender!("`Mutex<lru::LruCache>`", |k| lru
            .lock()
            .get(&k)
            .copied()
            .unwrap_or(0)),
        contender!("floor: `Mutex<hashbrown>`", |k| locked_map
            .lock()
            .get(&k)
            .copied()
            .unwrap_or(0)),
        contender!("floor: unlocked hashbrown, read-only", |k| map
            .get(&k)
            .copied()
            .unwrap_or(0)),
    ];
    for (name, _) in &contenders {
        samples.push((name, Vec::new(), Vec::new()));
    }
    for _ in 0..cfg.rounds {
        for (i, (_, run)) in contenders.iter().enumerate() {
            samples[i].1.push(run(1));
            samples[i].2.push(run(2));
        }
    }
    let results: Vec<_> = samples
        .into_iter()
        .map(|(name, one, two)| (name, median(one), median(two)))
        .collect();
    let mut table = Table::new(&["contender", "1 thread", "2 threads", "2T / 1T"]);
    for (name, one, two) in &results {
        table.row(vec![
            (*name).to_owned(),
            format!("{one:.1} M/s"),
            format!("{two:.1} M/s"),
            format!("{:.2}x", two / one),
        ]);
    }
    (table, results)
}

// ---------------------------------------------------------------------------------------------
// Workload 5: insert under a byte bound at growing sizes.

type Blob = Vec<u8>;

fn blob() -> Blob {
    vec![7; 32]
}

/// A faas-memo store whose byte bound holds exactly `entries` entries of `u64 -> blob()`.
fn byte_bounded(entries: usize) -> FaasCacheDict<u64, Blob> {
    let probe: FaasCacheDict<u64, Blob> = FaasCacheDict::builder()
        .max_size("1G")
        .build()
        .expect("valid");
    let charge = 0u64.deep_size() + blob().deep_size() + probe.entry_overhead();
    let bound = probe.fixed_overhead() + entries * charge;
    let cache = FaasCacheDict::builder()
        .max_size(bound)
        .build()
        .expect("valid");
    for k in 0..entries as u64 {
        cache.insert(k, blob()).expect("fits");
    }
    assert_eq!(cache.len(), entries);
    cache
}

#[derive(Clone)]
struct BlobWeighter;

impl quick_cache::Weighter<u64, Blob> for BlobWeighter {
    fn weight(&self, _key: &u64, value: &Blob) -> u64 {
        8 + value.deep_size() as u64
    }
}

/// The least an evicting map does per insert at capacity: an unlocked `hashbrown` map with a
/// FIFO of its keys, inserting the new key and removing the oldest (no lock, no policy, no
/// accounting). Its growth from 1 000 to 1 000 000 entries is that of the memory hierarchy.
struct FifoFloor {
    map: hashbrown::HashMap<u64, Blob>,
    order: std::collections::VecDeque<u64>,
}

impl FifoFloor {
    fn new(entries: usize) -> Self {
        let mut floor = FifoFloor {
            map: hashbrown::HashMap::with_capacity(entries + 1),
            order: std::collections::VecDeque::with_capacity(entries + 1),
        };
        for k in 0..entries as u64 {
            floor.map.insert(k, blob());
            floor.order.push_back(k);
        }
        floor
    }

    fn insert(&mut self, key: u64, value: Blob) {
        self.map.insert(key, value);
        self.order.push_back(key);
        let oldest = self.order.pop_front().expect("full");
        black_box(self.map.remove(&oldest));
    }
}

/// Nanoseconds per insert of `ops` new keys (continuing from `*next`) with fresh values, which
/// are built before the clock starts.
#[inline(never)]
fn per_insert(next: &mut u64, ops: usize, mut insert: impl FnMut(u64, Blob)) -> f64 {
    let values: Vec<Blob> = (0..ops).map(|_| blob()).collect();
    let start = Instant::now();
    for v in values {
        insert(*next, v);
        *next += 1;
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn workload_5(cfg: &Config) -> Table {
    let sizes: Vec<usize> = [1_000, 100_000, 1_000_000]
        .iter()
        .map(|&n| cfg.size(n, 10))
        .collect();
    let ops = cfg.size(200_000, 100);
    let faas: Vec<_> = sizes.iter().map(|&n| byte_bounded(n)).collect();
    let quick: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let weight = 8 + blob().deep_size() as u64;
            let cache = quick_cache::sync::Cache::with_weighter(n, n as u64 * weight, BlobWeighter);
            for k in 0..n as u64 {
                cache.insert(k, blob());
            }
            cache
        })
        .collect();
    let lru: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let cache = lru_cache::<u64, Blob>(n);
            for k in 0..n as u64 {
                cache.lock().put(k, blob());
            }
            cache
        })
        .collect();
    let mut floor: Vec<FifoFloor> = sizes.iter().map(|&n| FifoFloor::new(n)).collect();
    const NAMES: [&str; 4] = [
        "faas-memo `insert`, `max_size`",
        "quick_cache `insert`, weighted",
        "`Mutex<lru::LruCache>` `put` (item bound)",
        "floor: unlocked hashbrown + FIFO of keys",
    ];
    // One contender per cache and size, each continuing its own stream of new keys; grouped by
    // size, so that a round visits the sizes in turn, like the other workloads' contenders.
    let mut contenders: Vec<Timed<'_>> = Vec::new();
    for ((((f, q), l), fl), &n) in faas
        .iter()
        .zip(&quick)
        .zip(&lru)
        .zip(floor.iter_mut())
        .zip(&sizes)
    {
        let [mut n0, mut n1, mut n2, mut n3] = [n as u64; 4];
        contenders.push((
            NAMES[0],
            Box::new(move || per_insert(&mut n0, ops, |k, v| drop(f.insert(k, v).expect("fits")))),
        ));
        contenders.push((
            NAMES[1],
            Box::new(move || per_insert(&mut n1, ops, |k, v| q.insert(k, v))),
        ));
        contenders.push((
            NAMES[2],
            Box::new(move || per_insert(&mut n2, ops, |k, v| drop(black_box(l.lock().put(k, v))))),
        ));
        contenders.push((
            NAMES[3],
            Box::new(move || per_insert(&mut n3, ops, |k, v| fl.insert(k, v))),
        ));
    }
    let medians = interleaved(cfg, &mut contenders);
    drop(contenders);
    for (store, &n) in faas.iter().zip(&sizes) {
        assert!(store.byte_size() <= store.max_size().expect("bounded").as_u64() as usize);
        assert_eq!(store.len(), n);
    }
    let mut header = vec!["contender".to_owned()];
    header.extend(sizes.iter().map(|n| format!("{n} entries")));
    header.push(format!("{} / {}", sizes[2], sizes[0]));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(&header);
    for (c, name) in NAMES.iter().enumerate() {
        // `medians` holds size after size, the contenders in `NAMES` order within each.
        let row: Vec<f64> = medians
            .iter()
            .skip(c)
            .step_by(NAMES.len())
            .map(|m| m.1)
            .collect();
        let mut cells = vec![(*name).to_owned()];
        cells.extend(row.iter().map(|&v| ns(v)));
        cells.push(format!("{:.2}x", row[2] / row[0]));
        table.row(cells);
    }
    table
}

// ---------------------------------------------------------------------------------------------
// Workload 6: hit ratio.

const W6_CAPACITY: usize = 10_000;

static FAAS_CALLS: AtomicU64 = AtomicU64::new(0);
static CACHED_CALLS: AtomicU64 = AtomicU64::new(0);

// One function per trace, so that each trace starts from an empty cache.
#[faas_cached(max_items = 10_000)]
fn faas_w6(x: u64) -> u64 {
    FAAS_CALLS.fetch_add(1, Ordering::Relaxed);
    x
}

#[faas_cached(max_items = 10_000)]
fn faas_w6_scan(x: u64) -> u64 {
    FAAS_CALLS.fetch_add(1, Ordering::Relaxed);
    x
}

#[cached(max_size = 10_000)]
fn cached_w6(x: u64) -> u64 {
    CACHED_CALLS.fetch_add(1, Ordering::Relaxed);
    x
}

#[cached(max_size = 10_000)]
fn cached_w6_scan(x: u64) -> u64 {
    CACHED_CALLS.fetch_add(1, Ordering::Relaxed);
    x
}

/// Hit ratio of a memoized function: a call that did not run the body was a hit.
fn memoized_percent(trace: &[memo_bench::Request], calls: &AtomicU64, f: fn(u64) -> u64) -> f64 {
    hit_percent(trace, |k| {
        let before = calls.load(Ordering::Relaxed);
        black_box(f(k));
        calls.load(Ordering::Relaxed) == before
    })
}

fn workload_6(cfg: &Config) -> (Table, Vec<(&'static str, f64, f64)>) {
    let keys = cfg.size(1_000_000, 10_000);
    let requests = cfg.size(2_000_000, 20_000);
    let cap = W6_CAPACITY;
    let zipf = zipf_trace(keys, requests, 0.99, 6);
    let scanned = with_scans(&zipf, cfg.size(100_000, 1_000), cfg.size(20_000, 200));
    let traces = [&zipf, &scanned];
    let run = |name: &'static str, f: &mut dyn FnMut(&[memo_bench::Request]) -> f64| {
        (name, f(traces[0]), f(traces[1]))
    };
    // The memoized functions have one static store each: one function per trace.
    let memoized = |name: &'static str, calls: &AtomicU64, fs: [fn(u64) -> u64; 2]| {
        (
            name,
            memoized_percent(traces[0], calls, fs[0]),
            memoized_percent(traces[1], calls, fs[1]),
        )
    };
    let results = vec![
        run("faas-memo S3-FIFO (default)", &mut |t| {
            let c = u64_store(Policy::S3Fifo, None, cap);
            hit_percent(t, |k| c.get(&k).is_some() || c.insert(k, k).is_err())
        }),
        run("faas-memo LRU", &mut |t| {
            let c = u64_store(Policy::Lru, None, cap);
            hit_percent(t, |k| c.get(&k).is_some() || c.insert(k, k).is_err())
        }),
        memoized(
            "faas-memo `#[faas_cached(max_items)]`",
            &FAAS_CALLS,
            [faas_w6, faas_w6_scan],
        ),
        memoized(
            "cached `#[cached(max_size)]`",
            &CACHED_CALLS,
            [cached_w6, cached_w6_scan],
        ),
        run("quick_cache", &mut |t| {
            let c = quick_cache::sync::Cache::<u64, u64>::new(cap);
            hit_percent(t, |k| {
                c.get(&k).is_some() || {
                    c.insert(k, k);
                    false
                }
            })
        }),
        run("moka", &mut |t| {
            let c = moka_cache::<u64, u64>(cap);
            hit_percent(t, |k| {
                c.get(&k).is_some() || {
                    c.insert(k, k);
                    false
                }
            })
        }),
        run("`Mutex<lru::LruCache>`", &mut |t| {
            let c = lru_cache::<u64, u64>(cap);
            hit_percent(t, |k| {
                let mut c = c.lock();
                c.get(&k).is_some() || c.put(k, k).is_some()
            })
        }),
        run("static oracle (the 10 000 most popular keys)", &mut |t| {
            oracle_percent(t, cap)
        }),
    ];
    let mut table = Table::new(&["contender", "Zipf", "Zipf + scans"]);
    for (name, a, b) in &results {
        table.row(vec![
            (*name).to_owned(),
            format!("{a:.2} %"),
            format!("{b:.2} %"),
        ]);
    }
    (table, results)
}

// ---------------------------------------------------------------------------------------------

fn find<'a, T>(results: &'a [(&'static str, T)], prefix: &str) -> &'a T {
    &results
        .iter()
        .find(|(name, _)| name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no contender {prefix:?}"))
        .1
}

/// Whether workload `n` runs: all of them, or those listed in `MEMO_BENCH_ONLY` (`"1,3"`).
fn selected(n: u32) -> bool {
    match std::env::var("MEMO_BENCH_ONLY") {
        Ok(list) => list.split(',').any(|w| w.trim() == n.to_string()),
        Err(_) => true,
    }
}

fn main() {
    let cfg = Config::from_args();
    let started = Instant::now();
    if selected(1) {
        report_1(&cfg);
    }
    if selected(2) {
        println!("## 2. Hit latency, `&str` argument (24 bytes), 10 000 warm keys\n");
        println!("{}", workload_2(&cfg).render());
    }
    if selected(3) {
        report_3(&cfg);
    }
    if selected(4) {
        let (t4, _) = workload_4(&cfg);
        println!("## 4. Hit throughput, one shared cache, 10 000 warm keys\n");
        println!("{}", t4.render());
    }
    if selected(5) {
        let t5 = workload_5(&cfg);
        println!("## 5. Insert with eviction under a byte bound (u64 -> 32-byte Vec<u8>)\n");
        println!("{}", t5.render());
    }
    if selected(6) {
        let (t6, _) = workload_6(&cfg);
        println!(
            "## 6. Hit ratio, capacity 10 000, Zipf s = 0.99, 2 000 000 requests over 1 000 000 \
             keys; + a 20 000-key scan every 100 000 requests\n"
        );
        println!("{}", t6.render());
    }
    println!(
        "{} rounds, medians; {:.0} s in all",
        cfg.rounds,
        started.elapsed().as_secs_f64()
    );
}

fn report_1(cfg: &Config) {
    let (t1, r1) = workload_1(cfg);
    println!("## 1. Hit latency, u64 -> u64, 10 000 warm keys, shuffled, 1 thread\n");
    println!("{}", t1.render());
    let memo_ttl = *find(&r1, "faas-memo `#[faas_cached(ttl, max_items)]`");
    let quick = *find(&r1, "quick_cache");
    let floor = *find(&r1, "floor: `Mutex<hashbrown");
    let cached_ttl = *find(&r1, "cached `#[cached(max_size, ttl_secs)]`");
    println!(
        "`#[faas_cached(ttl, max_items)]` hit: {:.2}x quick_cache, {:.2}x the Mutex<hashbrown> \
         floor; `cached` with `ttl_secs` takes {:.2}x as long\n",
        memo_ttl / quick,
        memo_ttl / floor,
        cached_ttl / memo_ttl
    );
}

fn report_3(cfg: &Config) {
    let (t3, r3) = workload_3(cfg);
    println!("## 3. Miss + insert + eviction at capacity 10 000, new keys\n");
    println!("{}", t3.render());
    println!(
        "faas-memo store miss: {:.2}x `Mutex<lru::LruCache>`\n",
        find(&r3, "faas-memo `get` + `insert` (S3-FIFO)") / find(&r3, "`Mutex<lru")
    );
}
