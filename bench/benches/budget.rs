//! What the process's memory budget costs an insert: `cargo bench -p memo-bench --bench budget`.
//!
//! Three stores of `u64 -> 32-byte Vec<u8>`, each full, each insert of a new key evicting one
//! entry:
//! - outside the budget, bounded by its own `max_size` (the cost without a budget);
//! - in the budget while it has no limit (counted, never full), bounded by its own
//!   `max_size`: the reservation's cost;
//! - in a budget that it fills, without a bound of its own (eviction by the budget).
//!
//! And lookups of the keys inserted last on each (mostly hits; the budget adds nothing to a
//! hit). Rounds interleave the cases; the
//! median round is reported, and ratios are taken within the run. Without `--bench` (as `cargo
//! test` runs it) it does one tiny round, to prove that it works.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use memo_bench::{median, shuffled, Config};
use memo_runtime::{DeepSize, FaasCacheDict};

type Value = Vec<u8>;

fn value() -> Value {
    vec![7; 32]
}

fn charge(store: &FaasCacheDict<u64, Value>) -> usize {
    0u64.deep_size() + value().deep_size() + store.entry_overhead()
}

/// A full store bounded by its own `max_size` at `entries` entries, in the budget or not.
fn own_bound(entries: usize, in_budget: bool) -> Arc<FaasCacheDict<u64, Value>> {
    let probe: FaasCacheDict<u64, Value> = FaasCacheDict::builder().max_size("1G").build().unwrap();
    let bound = probe.fixed_overhead() + entries * charge(&probe);
    FaasCacheDict::builder()
        .max_size(bound)
        .memory_budget(in_budget)
        .build_shared()
        .unwrap()
}

/// Nanoseconds per insert of a new key into a full store.
fn insert_ns(store: &FaasCacheDict<u64, Value>, next_key: &mut u64, ops: usize) -> f64 {
    let values: Vec<Value> = (0..ops).map(|_| value()).collect();
    let start = Instant::now();
    for v in values {
        store.insert(*next_key, v).unwrap();
        *next_key += 1;
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn hit_ns(store: &FaasCacheDict<u64, Value>, keys: &[u64], passes: usize) -> f64 {
    let start = Instant::now();
    let mut total = 0usize;
    for _ in 0..passes {
        for k in keys {
            total += store.get(black_box(k)).map_or(0, |v| v.len());
        }
    }
    black_box(total);
    start.elapsed().as_nanos() as f64 / (passes * keys.len()) as f64
}

fn main() {
    let cfg = Config::from_args();
    let entries = cfg.size(10_000, 100);
    let outside = own_bound(entries, false);
    let roomy = own_bound(entries, true);
    let budgeted: Arc<FaasCacheDict<u64, Value>> = FaasCacheDict::builder()
        .measure_deep_size()
        .memory_budget(true)
        .build_shared()
        .unwrap();
    // Each store full: the first two under their own bound, `budgeted` with `entries`.
    let mut next: [u64; 3] = [0; 3];
    for (i, store) in [&outside, &roomy, &budgeted].into_iter().enumerate() {
        let fill = if i == 2 { entries } else { entries + 1 };
        insert_ns(store, &mut next[i], fill);
        assert_eq!(store.len(), entries, "{store:?}");
    }
    // A budget that `roomy` and `budgeted` fill exactly: each insert of `budgeted` evicts
    // through it. `roomy`'s entries are hit (not cold), so the budget evicts `budgeted`'s own.
    let limit = (roomy.fixed_overhead()
        + budgeted.fixed_overhead()
        + 2 * entries * charge(&budgeted)) as u64;
    let keys = shuffled(entries, 5);
    let live = |next: u64| -> Vec<u64> { keys.iter().map(|k| next - 1 - k).collect() };
    hit_ns(&roomy, &live(next[1]), 1);
    memo_runtime::set_memory_budget(limit).unwrap();
    let ops = cfg.size(200_000, 100);
    let passes = cfg.size(100, 2);
    let mut inserts = [Vec::new(), Vec::new(), Vec::new()];
    let mut hits = [Vec::new(), Vec::new(), Vec::new()];
    let stores = [&outside, &roomy, &budgeted];
    for _ in 0..cfg.rounds {
        for (i, store) in stores.iter().enumerate() {
            match i {
                // A budget that never fills: the cost of the reservation alone.
                1 => memo_runtime::remove_memory_budget(),
                2 => memo_runtime::set_memory_budget(limit).unwrap(),
                _ => {}
            }
            inserts[i].push(insert_ns(store, &mut next[i], ops));
            hits[i].push(hit_ns(store, &live(next[i]), passes));
        }
    }
    // `roomy` keeps its own bound; the budget may have evicted its entries that went cold
    // (S3-FIFO keeps some older keys than the last ones inserted) for `budgeted`'s inserts.
    assert_eq!(outside.len(), entries);
    assert!(roomy.len() <= entries && roomy.len() + budgeted.len() <= 2 * entries);
    let budget = memo_runtime::memory_budget().unwrap();
    assert!(budget.used_bytes <= budget.limit_bytes, "{budget}");
    assert_eq!(budget.refused, 0);
    let [out_insert, roomy_insert, budget_insert] = inserts.map(median);
    let [out_hit, roomy_hit, budget_hit] = hits.map(median);
    println!("u64 -> 32-byte Vec<u8>, {entries} entries, each insert evicts one, 1 thread:");
    println!(
        "  outside the budget, own max_size:    insert {out_insert:6.1} ns, hit {out_hit:5.1} ns"
    );
    println!("  in a budget with room, own max_size: insert {roomy_insert:6.1} ns, hit {roomy_hit:5.1} ns");
    println!("  in a full budget, no own bound:      insert {budget_insert:6.1} ns, hit {budget_hit:5.1} ns");
    println!(
        "  insert / outside: {:.2}x with room, {:.2}x evicting through the budget",
        roomy_insert / out_insert,
        budget_insert / out_insert
    );
}
