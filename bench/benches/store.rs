//! Store benchmarks: `cargo bench -p memo-bench --bench store`.
//!
//! - insert with eviction under a byte bound while the store holds 1 000, 100 000 and
//!   1 000 000 entries: the cost per operation must not grow with the store;
//! - a hit (`get`) on a warm store;
//! - a memoized call that hits, against a direct `get` on the same store.
//!
//! A plain harness: each measurement is repeated in rounds that interleave the cases, so that a
//! noisy host slows all of them alike, and the median round is reported. Ratios between cases
//! measured in the same run are what to quote. Without `--bench` (as `cargo test` runs it) it
//! does one tiny round, to prove that it works.

use std::hint::black_box;
use std::time::Instant;

use memo_bench::{median, shuffled, Config};
use memo_runtime::{faas_cached, DeepSize, FaasCacheDict};

type Value = Vec<u8>;

fn value() -> Value {
    vec![7; 32]
}

/// A store whose byte bound holds exactly `entries` entries of `u64 -> value()`.
fn byte_bounded(entries: usize) -> FaasCacheDict<u64, Value> {
    let probe: FaasCacheDict<u64, Value> = FaasCacheDict::builder().max_size("1G").build().unwrap();
    let charge = 0u64.deep_size() + value().deep_size() + probe.entry_overhead();
    let bound = probe.fixed_overhead() + entries * charge;
    let cache = FaasCacheDict::builder().max_size(bound).build().unwrap();
    for k in 0..entries as u64 {
        cache.insert(k, value()).unwrap();
    }
    assert_eq!(cache.len(), entries);
    cache
}

/// Nanoseconds per insert of a new key into a full store (each insert evicts one entry).
fn insert_evict_ns(cache: &FaasCacheDict<u64, Value>, next_key: &mut u64, ops: usize) -> f64 {
    let values: Vec<Value> = (0..ops).map(|_| value()).collect();
    let start = Instant::now();
    for v in values {
        cache.insert(*next_key, v).unwrap();
        *next_key += 1;
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn bench_insert_evict(cfg: &Config) {
    let sizes: Vec<usize> = [1_000, 100_000, 1_000_000]
        .iter()
        .map(|&n| cfg.size(n, 10))
        .collect();
    let stores: Vec<_> = sizes.iter().map(|&n| byte_bounded(n)).collect();
    let mut next_keys: Vec<u64> = sizes.iter().map(|&n| n as u64).collect();
    let ops = cfg.size(200_000, 100);
    let mut samples = vec![Vec::new(); sizes.len()];
    for _ in 0..cfg.rounds {
        for (i, store) in stores.iter().enumerate() {
            samples[i].push(insert_evict_ns(store, &mut next_keys[i], ops));
        }
    }
    let medians: Vec<f64> = samples.into_iter().map(median).collect();
    println!("insert with eviction under a byte bound (u64 -> 32-byte Vec<u8>):");
    for (n, ns) in sizes.iter().zip(&medians) {
        println!("  {n:>9} entries: {ns:7.1} ns/op");
    }
    println!(
        "  ratio {} / {} entries: {:.2}x",
        sizes[2],
        sizes[0],
        medians[2] / medians[0]
    );
    for store in &stores {
        assert!(store.byte_size() <= store.max_size().unwrap().as_u64() as usize);
    }
}

#[faas_cached(max_items = 100_000)]
fn memoized_square(x: u64) -> u64 {
    x.wrapping_mul(x)
}

fn bench_hits(cfg: &Config) {
    let keys = cfg.size(10_000, 100);
    let order = shuffled(keys, 3);
    let store: FaasCacheDict<u64, u64> =
        FaasCacheDict::builder().max_items(100_000).build().unwrap();
    for &k in &order {
        store.insert(k, k).unwrap();
        memoized_square(k);
    }
    let memo_store = memoized_square_cache();
    let passes = cfg.size(300, 2);
    let per_op = |f: &dyn Fn(u64) -> u64| {
        let start = Instant::now();
        let mut acc = 0u64;
        for _ in 0..passes {
            for &k in &order {
                acc = acc.wrapping_add(f(black_box(k)));
            }
        }
        black_box(acc);
        start.elapsed().as_nanos() as f64 / (passes * order.len()) as f64
    };
    let (mut get, mut memo_get, mut memoized) = (Vec::new(), Vec::new(), Vec::new());
    // The ratio is taken within each round (the two measurements run back to back), then the
    // median of those: steadier on a noisy host than the ratio of two medians.
    let mut ratios = Vec::new();
    for _ in 0..cfg.rounds * 2 {
        get.push(per_op(&|k| store.get(&k).unwrap_or(0)));
        let direct = per_op(&|k| memo_store.get(&(k,)).unwrap_or(0));
        let call = per_op(&|k| memoized_square(k));
        memo_get.push(direct);
        memoized.push(call);
        ratios.push(call / direct);
    }
    let (get, memo_get, memoized) = (median(get), median(memo_get), median(memoized));
    println!("hits, u64 -> u64, {keys} warm keys in shuffled order, 1 thread:");
    println!("  FaasCacheDict::get:                   {get:6.1} ns/op");
    println!("  get on the memoized function's store: {memo_get:6.1} ns/op");
    println!("  memoized call (#[faas_cached]):       {memoized:6.1} ns/op");
    println!(
        "  memoized call / direct get on its store: {:.2}x (median of the ratios of {} rounds)",
        median(ratios),
        cfg.rounds * 2
    );
}

fn main() {
    let cfg = Config::from_args();
    bench_insert_evict(&cfg);
    bench_hits(&cfg);
}
