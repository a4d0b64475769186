//! Several threads hammering one small bounded store, under both policies, with one shard and
//! with eight. Every value carries a unique id; at the end each id must be accounted for
//! exactly once: still in the store, or reported to the hook when it left (evicted, expired,
//! removed or replaced).
//!
//! Meanwhile a monitoring thread checks the bounds (`len() <= max_items`,
//! `byte_size() <= max_size`) again and again:
//! - With one shard, every operation and every reading holds the shard's one lock, and an
//!   insert evicts under that lock until the store fits: the bounds hold at any moment, so the
//!   monitor reads while the writers run.
//! - With several shards, an insert that finds no room in its own shard (say the shard was
//!   empty) stores its entry, releases the lock, then evicts from the other shards
//!   (`evict_elsewhere` in src/store/dict.rs): until it has, the store holds up to one entry (and its
//!   bytes) over the bounds per writer in that window. And `len()`/`byte_size()` add up the
//!   shards one lock at a time, so a reading taken during writes is no snapshot, and no bound
//!   on it is sound (read that way, 6 writers showed up to 70 items for a bound of 64). So the
//!   monitor pauses the writers (each operation holds a gate shared, the monitor takes it
//!   exclusively) and asserts the exact bounds between operations.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use memo_runtime::{DeepSize, FaasCacheDict, MockClock, Policy};

const THREADS: u64 = 6;
/// Operations per writer. Miri (which checks the unsafe code in shards, slab and lock for
/// undefined behaviour and data races) runs ~100x slower: a few hundred still evict and expire.
const OPS: u64 = if cfg!(miri) { 300 } else { 40_000 };
const MAX_ITEMS: usize = 64;

fn hammer(policy: Policy, shards: usize) {
    let clock = MockClock::new();
    let departed: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sink = departed.clone();
    // Room for about 64 small entries beyond the fixed overhead, which grows with the shards.
    let probe: FaasCacheDict<u32, (u64, String)> =
        FaasCacheDict::builder().shards(shards).build().unwrap();
    let max_size = probe.fixed_overhead() + 12 * 1024;
    let cache: Arc<FaasCacheDict<u32, (u64, String)>> = Arc::new(
        FaasCacheDict::builder()
            .policy(policy)
            .max_items(MAX_ITEMS)
            .max_size(max_size)
            .shards(shards)
            .clock(clock.clone())
            .on_delete(move |_: &u32, v: &(u64, String), _| sink.lock().unwrap().push(v.0))
            .build()
            .unwrap(),
    );
    assert_eq!(cache.policy(), policy);
    let next_id = Arc::new(AtomicU64::new(0));
    let inserted: Arc<Mutex<Vec<u64>>> = Arc::default();
    // Held shared by each operation of a writer when there are several shards; taken
    // exclusively by the monitor, to read between operations.
    let gate = RwLock::new(());
    let writing = AtomicUsize::new(THREADS as usize);
    let done = AtomicBool::new(false);

    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut readings_during_writes = 0;
            while !done.load(Ordering::SeqCst) {
                let paused = (shards > 1).then(|| gate.write().unwrap());
                let writers_running = writing.load(Ordering::SeqCst) > 0;
                let len = cache.len();
                let bytes = cache.byte_size();
                let info = cache.info();
                drop(paused);
                assert!(len <= MAX_ITEMS, "{policy:?}, {shards} shards: {len} items");
                assert!(
                    bytes <= max_size,
                    "{policy:?}, {shards} shards: {bytes} bytes > {max_size}"
                );
                assert!(info.current_items <= MAX_ITEMS, "{info}");
                assert!(info.current_size_bytes <= max_size as u64, "{info}");
                if writers_running {
                    readings_during_writes += 1;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            assert!(
                readings_during_writes >= 5,
                "only {readings_during_writes} readings while the writers ran"
            );
        });
        let writers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (cache, clock, next_id, inserted) = (&cache, &clock, &next_id, &inserted);
                let (gate, writing) = (&gate, &writing);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    let mut state =
                        0x9E37_79B9_7F4A_7C15u64 ^ (t + 1).wrapping_mul(0xA24B_AED4_963E_E407);
                    let mut rand = move |n: u64| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state % n
                    };
                    for _ in 0..OPS {
                        let _operation = (shards > 1).then(|| gate.read().unwrap());
                        let key = rand(200) as u32;
                        match rand(10) {
                            0..=3 => {
                                let id = next_id.fetch_add(1, Ordering::Relaxed);
                                let value = (id, "v".repeat(rand(100) as usize));
                                let ttl =
                                    (rand(2) == 0).then(|| Duration::from_millis(rand(20) + 1));
                                if cache.insert_with_ttl(key, value, ttl).is_ok() {
                                    mine.push(id);
                                }
                            }
                            4 => {
                                cache.remove(&key);
                            }
                            5 => {
                                cache.set_ttl(&key, Some(Duration::from_millis(rand(20) + 1)));
                            }
                            6 if t == 0 => clock.advance(Duration::from_millis(1)),
                            _ => {
                                if let Some((id, _)) = cache.get(&key) {
                                    assert!(id < next_id.load(Ordering::Relaxed));
                                }
                            }
                        }
                    }
                    inserted.lock().unwrap().extend(mine);
                    writing.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Stop the monitor even if a writer panicked, then pass the panic on.
        let joined: Vec<_> = writers.into_iter().map(|writer| writer.join()).collect();
        done.store(true, Ordering::SeqCst);
        for result in joined {
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
    });

    // Invariants after the storm.
    let items = cache.items();
    assert_eq!(items.len(), cache.len());
    assert!(items.len() <= MAX_ITEMS, "{} items", items.len());
    assert!(cache.byte_size() <= max_size, "{} bytes", cache.byte_size());
    let recomputed = cache.fixed_overhead()
        + items
            .iter()
            .map(|(k, v)| k.deep_size() + v.deep_size() + cache.entry_overhead())
            .sum::<usize>();
    assert_eq!(cache.byte_size(), recomputed);
    let keys: HashSet<u32> = items.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys.len(), items.len(), "no key twice");

    // No entry lost or duplicated.
    let mut accounted: Vec<u64> = departed.lock().unwrap().clone();
    accounted.extend(items.iter().map(|(_, (id, _))| *id));
    accounted.sort_unstable();
    let mut expected = inserted.lock().unwrap().clone();
    expected.sort_unstable();
    assert_eq!(
        accounted.len(),
        expected.len(),
        "every insert accounted once"
    );
    assert_eq!(accounted, expected);

    let info = cache.info();
    assert!(info.evictions > 0 && info.expirations > 0, "{info}");
}

#[test]
fn one_shard_under_contention_keeps_every_invariant_under_s3fifo() {
    hammer(Policy::S3Fifo, 1);
}

#[test]
fn many_shards_under_contention_keep_every_invariant_under_s3fifo() {
    hammer(Policy::S3Fifo, 8);
}

#[test]
fn one_shard_under_contention_keeps_every_invariant_under_lru() {
    hammer(Policy::Lru, 1);
}

#[test]
fn many_shards_under_contention_keep_every_invariant_under_lru() {
    hammer(Policy::Lru, 8);
}
