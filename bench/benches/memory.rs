//! What a byte-bounded cache really holds: `cargo bench -p memo-bench --bench memory`.
//!
//! Each contender gets the same byte budget and the same stream of new `String -> Vec<u8>`
//! entries; a counting global allocator measures the heap it holds afterwards. faas-memo bounds
//! the deep size of keys and values plus its per-entry and fixed overhead; quick_cache and moka
//! bound what their weigher returns, here the key and value lengths (what a user would write),
//! so their own overhead and the values' spare capacity come on top.
//!
//! Without `--bench` (as `cargo test --all-targets` runs it) the stream is shorter.

use std::time::Instant;

use memo_bench::{Rng, Table};
use memo_runtime::{FaasCacheDict, Policy};

#[path = "../../memo-runtime/tests/common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{live, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BUDGET: usize = 16 << 20;

/// The stream: keys of 12 to 30 bytes, values of `0..max_len` bytes with some spare capacity.
fn entries(n: usize, max_len: u64, seed: u64) -> impl Iterator<Item = (String, Vec<u8>)> {
    let mut rng = Rng::new(seed);
    (0..n).map(move |i| {
        let key = format!("session-{i:0w$}", w = 4 + rng.below(18) as usize);
        let len = rng.below(max_len) as usize;
        let mut value = Vec::with_capacity(len + rng.below(32) as usize);
        value.resize(len, 1);
        (key, value)
    })
}

/// Heap bytes the cache built by `build` holds after `fill` ran, measured on this thread.
fn held<C>(build: impl FnOnce() -> C, fill: impl FnOnce(&C)) -> (usize, C) {
    let before = live();
    let cache = build();
    fill(&cache);
    let real = usize::try_from(live() - before).expect("a cache holds its own heap");
    (real, cache)
}

#[derive(Clone)]
struct LenWeighter;

impl quick_cache::Weighter<String, Vec<u8>> for LenWeighter {
    fn weight(&self, key: &String, value: &Vec<u8>) -> u64 {
        (key.len() + value.len()) as u64
    }
}

fn run(table: &mut Table, n: usize, max_len: u64) {
    let label = format!("values of 0-{max_len} B");
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let (real, cache) = held(
            || {
                FaasCacheDict::<String, Vec<u8>>::builder()
                    .policy(policy)
                    .max_size(BUDGET)
                    .build()
                    .expect("valid settings")
            },
            |c| {
                for (k, v) in entries(n, max_len, 1) {
                    let _ = c.insert(k, v);
                }
            },
        );
        let accounted = cache.byte_size();
        table.row(vec![
            format!("faas-memo {policy:?}, `max_size`"),
            label.clone(),
            cache.len().to_string(),
            format!("{:.2} MiB", accounted as f64 / 1048576.0),
            format!("{:.2} MiB", real as f64 / 1048576.0),
            format!("{:.3}", real as f64 / BUDGET as f64),
        ]);
    }
    let (real, cache) = held(
        || quick_cache::sync::Cache::with_weighter(BUDGET / 512, BUDGET as u64, LenWeighter),
        |c| {
            for (k, v) in entries(n, max_len, 1) {
                c.insert(k, v);
            }
        },
    );
    table.row(vec![
        "quick_cache, weighter = key + value length".to_owned(),
        label.clone(),
        cache.len().to_string(),
        format!("{:.2} MiB", cache.weight() as f64 / 1048576.0),
        format!("{:.2} MiB", real as f64 / 1048576.0),
        format!("{:.3}", real as f64 / BUDGET as f64),
    ]);
    let (real, cache) = held(
        || {
            moka::sync::Cache::<String, Vec<u8>>::builder()
                .max_capacity(BUDGET as u64)
                .weigher(|k: &String, v: &Vec<u8>| (k.len() + v.len()) as u32)
                .build()
        },
        |c| {
            for (k, v) in entries(n, max_len, 1) {
                c.insert(k, v);
            }
            c.run_pending_tasks();
        },
    );
    table.row(vec![
        "moka, weigher = key + value length".to_owned(),
        label,
        cache.entry_count().to_string(),
        format!("{:.2} MiB", cache.weighted_size() as f64 / 1048576.0),
        format!("{:.2} MiB", real as f64 / 1048576.0),
        format!("{:.3}", real as f64 / BUDGET as f64),
    ]);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let started = Instant::now();
    let mut table = Table::new(&[
        "contender",
        "stream",
        "entries",
        "counted by the cache",
        "heap really held",
        "real / 16 MiB bound",
    ]);
    let n = if full { 200_000 } else { 20_000 };
    run(&mut table, n, 2_000);
    run(&mut table, if full { 1_000_000 } else { 50_000 }, 64);
    println!("## Memory: a 16 MiB byte bound, {n} and more new entries, real heap by a counting allocator\n");
    println!("{}", table.render());
    println!("{:.0} s in all", started.elapsed().as_secs_f64());
}
