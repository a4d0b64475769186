//! The S3-FIFO policy (the default): the rules its documentation states, and the invariants
//! every operation sequence must keep.

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex};

use memo_runtime::{DeepSize, DeleteReason, FaasCacheDict, MockClock, Policy};
use proptest::prelude::*;

fn s3(max_items: usize) -> FaasCacheDict<u32, u32> {
    FaasCacheDict::builder()
        .max_items(max_items)
        .build()
        .unwrap()
}

#[test]
fn s3fifo_is_the_default_policy() {
    assert_eq!(s3(1).policy(), Policy::S3Fifo);
    assert_eq!(FaasCacheDict::<u8, u8>::new().policy(), Policy::S3Fifo);
}

/// The order rule `Policy` documents for S3-FIFO, step by step on a store of 4 (below 200
/// entries the small queue's share, 1% of the entries, is its minimum of one):
/// - `keys()` lists the small queue oldest first, then the main queue oldest first;
/// - a `get` reorders nothing (it only marks the entry as hit);
/// - an insert that needs room takes the small queue's oldest entry if it was never hit, and
///   moves a hit one to the main queue instead, as long as the small queue holds more than its
///   share; so a never-hit newcomer goes before an older hit entry;
/// - once the small queue is down to its share, the main queue's oldest entry goes, unless it
///   was hit since its last pass: then it goes to the back with one hit less.
#[test]
fn the_documented_order_rule_of_the_default_policy() {
    let cache = s3(4);
    assert_eq!(cache.policy(), Policy::S3Fifo);
    for k in 1..=4 {
        cache.insert(k, k).unwrap();
    }
    assert_eq!(
        cache.keys(),
        [1, 2, 3, 4],
        "all new: the small queue, oldest first"
    );
    assert_eq!(cache.get(&3), Some(3));
    assert_eq!(cache.get(&1), Some(1));
    assert_eq!(cache.keys(), [1, 2, 3, 4], "a get does not reorder");

    // 1 was hit: it moves to the main queue, and 2, never hit, is evicted.
    cache.insert(5, 5).unwrap();
    assert_eq!(
        cache.keys(),
        [3, 4, 5, 1],
        "small queue [3, 4, 5], then main [1]"
    );
    // Likewise 3 moves on and 4 goes; then 5, never hit, goes before the hit 1 and 3.
    cache.insert(6, 6).unwrap();
    assert_eq!(cache.keys(), [5, 6, 1, 3]);
    cache.insert(7, 7).unwrap();
    assert_eq!(cache.keys(), [6, 7, 1, 3]);

    // 6 was hit: promoting it leaves the small queue at its share (7 alone), so the victim
    // comes from the main queue: its oldest, 1, whose hit was used up by its promotion. The
    // never-hit 7 stays.
    assert_eq!(cache.get(&6), Some(6));
    cache.insert(8, 8).unwrap();
    assert_eq!(cache.keys(), [7, 8, 3, 6]);

    // 3, oldest of the main queue, was hit since its last pass: it goes to the back with one
    // hit less, and 6 (the next, not hit since its promotion) is evicted instead. 7 was hit
    // and moved to the main queue first, leaving the small queue at its share.
    assert_eq!(cache.get(&7), Some(7));
    assert_eq!(cache.get(&3), Some(3));
    cache.insert(9, 9).unwrap();
    assert_eq!(cache.keys(), [8, 9, 7, 3]);
    // The small queue holds more than its share again (8 and 9): its oldest, never hit, goes.
    cache.insert(10, 10).unwrap();
    assert_eq!(cache.keys(), [9, 10, 7, 3]);
    assert_eq!(cache.info().evictions, 6);
}

#[test]
fn unhit_new_entries_leave_first_and_hit_ones_are_promoted() {
    let cache = s3(4);
    for k in 1..=4 {
        cache.insert(k, k).unwrap();
    }
    // 2 is hit while in the small queue.
    assert_eq!(cache.get(&2), Some(2));
    cache.insert(5, 5).unwrap(); // evicts 1: oldest and never hit
    assert!(!cache.contains_key(&1));
    cache.insert(6, 6).unwrap(); // 2 is promoted to the main queue; 3 goes
    assert!(!cache.contains_key(&3));
    assert!(cache.contains_key(&2));
    // keys(): the small queue oldest first, then the main queue.
    assert_eq!(cache.keys(), [4, 5, 6, 2]);
}

#[test]
fn main_queue_entries_get_another_round_per_hit() {
    let cache = s3(3);
    for k in 1..=3 {
        cache.insert(k, k).unwrap();
        cache.get(&k);
    }
    // All three were hit while new: each insert promotes rather than evicts, until an entry
    // without hits is found (the newly inserted one, after the others have used their hit).
    cache.insert(4, 4).unwrap();
    cache.insert(5, 5).unwrap();
    assert_eq!(cache.len(), 3);
    let keys = cache.keys();
    assert!(keys.contains(&5), "the newest stays: {keys:?}");
}

#[test]
fn a_scan_of_new_keys_does_not_flush_the_hot_entries() {
    let cache = s3(200);
    for k in 0..100 {
        cache.insert(k, k).unwrap();
    }
    for _ in 0..3 {
        for k in 0..100 {
            assert_eq!(cache.get(&k), Some(k));
        }
    }
    // A one-off scan of 10 000 new keys, each seen once.
    for k in 10_000..20_000 {
        cache.insert(k, k).unwrap();
    }
    let survivors = (0..100).filter(|k| cache.contains_key(k)).count();
    assert_eq!(survivors, 100, "hot entries lost to a scan");

    // The same under LRU loses them all.
    let lru: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_items(200)
        .build()
        .unwrap();
    for k in 0..100 {
        lru.insert(k, k).unwrap();
        lru.get(&k);
    }
    for k in 10_000..20_000 {
        lru.insert(k, k).unwrap();
    }
    assert_eq!((0..100).filter(|k| lru.contains_key(k)).count(), 0);
}

#[test]
fn a_key_that_keeps_missing_is_admitted_to_the_main_queue() {
    // A fixed hasher: with the default one (random keys per store), the one-off keys' sketch
    // counters collide with key 7's in some runs (2% of them), which admits it early, and the
    // long stream that then pushes it out of the main queue ages its count away.
    let cache: FaasCacheDict<u32, u32, BuildHasherDefault<DefaultHasher>> =
        FaasCacheDict::builder()
            .max_items(50)
            .hasher(BuildHasherDefault::default())
            .build()
            .unwrap();
    // Key 7 is inserted, then pushed out by a stream of one-off keys, three times over.
    let mut next = 1_000;
    for _ in 0..3 {
        cache.insert(7, 7).unwrap();
        while cache.contains_key(&7) {
            cache.insert(next, next).unwrap();
            next += 1;
        }
    }
    // Its fourth arrival goes straight to the main queue: listed after the small queue.
    cache.insert(7, 7).unwrap();
    assert_eq!(cache.keys().last(), Some(&7));
    // And it survives another stream of one-off keys that it would not survive from the small
    // queue.
    for k in 50_000..50_200 {
        cache.insert(k, k).unwrap();
    }
    assert!(cache.contains_key(&7));
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, usize),
    Get(u8),
    Remove(u8),
    ChangeMaxItems(usize),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..40u8, 0..200usize).prop_map(|(k, l)| Op::Insert(k, l)),
        6 => (0..40u8).prop_map(Op::Get),
        1 => (0..40u8).prop_map(Op::Remove),
        1 => (1..20usize).prop_map(Op::ChangeMaxItems),
        1 => (0..200u16).prop_map(Op::Advance),
    ]
}

proptest! {
    // Under Miri (~100x slower) a few cases: enough to drive the shards' unsafe code through
    // every operation.
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    /// Whatever the sequence: bounds hold, bytes add up, every value read is the last one
    /// written for its key, and every entry that left was reported exactly once.
    #[test]
    fn s3fifo_keeps_its_invariants(ops in proptest::collection::vec(op(), 1..200)) {
        let clock = MockClock::new();
        let departed: Arc<Mutex<Vec<(u8, String)>>> = Arc::default();
        let sink = departed.clone();
        let cache: FaasCacheDict<u8, String> = FaasCacheDict::builder()
            .max_items(10)
            .max_size("16K")
            .default_ttl(std::time::Duration::from_millis(500))
            .clock(clock.clone())
            .on_delete(move |k: &u8, v: &String, _why: DeleteReason| {
                sink.lock().unwrap().push((*k, v.clone()));
            })
            .build()
            .unwrap();
        let mut latest: std::collections::HashMap<u8, String> = Default::default();
        let mut inserted = 0usize;
        for op in ops {
            match op {
                Op::Insert(k, len) => {
                    let value = format!("{k}:{inserted}:{}", "x".repeat(len));
                    inserted += 1;
                    cache.insert(k, value.clone()).unwrap();
                    latest.insert(k, value);
                }
                Op::Get(k) => {
                    if let Some(v) = cache.get(&k) {
                        prop_assert_eq!(Some(&v), latest.get(&k));
                    }
                }
                Op::Remove(k) => {
                    cache.remove(&k);
                }
                Op::ChangeMaxItems(n) => cache.change_max_items(n).unwrap(),
                Op::Advance(ms) => clock.advance(std::time::Duration::from_millis(ms.into())),
            }
            let items = cache.items();
            prop_assert!(items.len() <= cache.max_items().unwrap());
            prop_assert!(cache.byte_size() <= 16 * 1024);
            let recomputed = cache.fixed_overhead()
                + items
                    .iter()
                    .map(|(k, v)| k.deep_size() + v.deep_size() + cache.entry_overhead())
                    .sum::<usize>();
            prop_assert_eq!(cache.byte_size(), recomputed);
            for (k, v) in &items {
                prop_assert_eq!(Some(v), latest.get(k));
            }
        }
        // Every inserted value is still there or was reported leaving, exactly once.
        let mut accounted: Vec<String> = departed.lock().unwrap().iter().map(|(_, v)| v.clone()).collect();
        accounted.extend(cache.values());
        accounted.sort();
        accounted.dedup();
        prop_assert_eq!(accounted.len(), inserted);
        prop_assert_eq!(departed.lock().unwrap().len() + cache.len(), inserted);
    }
}
