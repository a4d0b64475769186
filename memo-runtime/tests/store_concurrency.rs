//! Several threads hammering one small bounded store. Every value carries a unique id; at the
//! end each id must be accounted for exactly once: still in the store, or reported to the hook
//! when it left (evicted, expired, removed or replaced).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memo_runtime::{DeepSize, FaasCacheDict, MockClock};

const THREADS: u64 = 6;
const OPS: u64 = 40_000;

fn hammer(shards: usize) {
    let clock = MockClock::new();
    let departed: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sink = departed.clone();
    // Room for about 64 small entries beyond the fixed overhead, which grows with the shards.
    let probe: FaasCacheDict<u32, (u64, String)> =
        FaasCacheDict::builder().shards(shards).build().unwrap();
    let max_size = probe.fixed_overhead() + 12 * 1024;
    let cache: Arc<FaasCacheDict<u32, (u64, String)>> = Arc::new(
        FaasCacheDict::builder()
            .max_items(64)
            .max_size(max_size)
            .shards(shards)
            .clock(clock.clone())
            .on_delete(move |_: &u32, v: &(u64, String), _| sink.lock().unwrap().push(v.0))
            .build()
            .unwrap(),
    );
    let next_id = Arc::new(AtomicU64::new(0));
    let inserted: Arc<Mutex<Vec<u64>>> = Arc::default();

    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (cache, clock, next_id, inserted) = (&cache, &clock, &next_id, &inserted);
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
                    let key = rand(200) as u32;
                    match rand(10) {
                        0..=3 => {
                            let id = next_id.fetch_add(1, Ordering::Relaxed);
                            let value = (id, "v".repeat(rand(100) as usize));
                            let ttl = (rand(2) == 0).then(|| Duration::from_millis(rand(20) + 1));
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
            });
        }
    });

    // Invariants after the storm.
    let items = cache.items();
    assert_eq!(items.len(), cache.len());
    assert!(items.len() <= 64, "{} items", items.len());
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
fn one_shard_under_contention_keeps_every_invariant() {
    hammer(1);
}

#[test]
fn many_shards_under_contention_keep_every_invariant() {
    hammer(8);
}
