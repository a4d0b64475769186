//! Model-based test of the LRU policy: random operation sequences against a plain reference
//! model. After every step, contents, order, length and byte total agree, and no bound is
//! exceeded. (S3-FIFO is checked against its invariants in store_s3fifo.rs.)

use std::time::Duration;

use memo_runtime::{DeepSize, FaasCacheDict, MockClock, Policy};
use proptest::prelude::*;

type Key = u8;
type Value = String;

#[derive(Debug, Clone)]
enum Op {
    Insert(Key, usize),
    InsertWithTtl(Key, usize, Option<u16>),
    Get(Key),
    Remove(Key),
    SetTtl(Key, Option<u16>),
    Advance(u16),
    ChangeMaxItems(usize),
    ChangeByteSize(usize),
    RemoveLimits,
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..24u8;
    let len = 0..400usize;
    let ttl = proptest::option::of(1..400u16);
    prop_oneof![
        6 => (key.clone(), len.clone()).prop_map(|(k, l)| Op::Insert(k, l)),
        4 => (key.clone(), len, ttl.clone()).prop_map(|(k, l, t)| Op::InsertWithTtl(k, l, t)),
        5 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Remove),
        2 => (key, ttl).prop_map(|(k, t)| Op::SetTtl(k, t)),
        3 => (0..300u16).prop_map(Op::Advance),
        1 => (1..16usize).prop_map(Op::ChangeMaxItems),
        1 => (0..4_000usize).prop_map(Op::ChangeByteSize),
        1 => Just(Op::RemoveLimits),
        1 => Just(Op::Purge),
    ]
}

/// Entry of the reference model: key, value, expiry in ms of model time (None: never).
type Entry = (Key, Value, Option<u64>);

struct Model {
    /// Least recently used first.
    entries: Vec<Entry>,
    now_ms: u64,
    default_ttl_ms: Option<u64>,
    max_items: Option<usize>,
    max_bytes: Option<usize>,
    fixed: usize,
    overhead: usize,
    evictions: u64,
    expirations: u64,
}

impl Model {
    fn charge(&self, k: &Key, v: &Value) -> usize {
        k.deep_size() + v.deep_size() + self.overhead
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|(k, v, _)| self.charge(k, v)).sum()
    }

    fn entry_limit(&self) -> usize {
        self.max_bytes.map_or(usize::MAX, |m| m - self.fixed)
    }

    fn over(&self, extra_items: usize, extra_bytes: usize) -> bool {
        self.max_items
            .is_some_and(|m| self.entries.len() + extra_items > m)
            || self.bytes() + extra_bytes > self.entry_limit()
    }

    fn drop_expired(&mut self) {
        let now = self.now_ms;
        let before = self.entries.len();
        self.entries.retain(|(_, _, e)| e.is_none_or(|e| e > now));
        self.expirations += (before - self.entries.len()) as u64;
    }

    fn evict_front(&mut self) {
        self.entries.remove(0);
        self.evictions += 1;
    }

    fn position(&self, k: Key) -> Option<usize> {
        self.entries.iter().position(|(key, _, _)| *key == k)
    }

    fn insert(&mut self, k: Key, v: Value, ttl_ms: Option<u64>) -> bool {
        let charge = self.charge(&k, &v);
        if charge > self.entry_limit() {
            return false;
        }
        self.drop_expired();
        let expires = ttl_ms.map(|t| self.now_ms + t);
        if let Some(pos) = self.position(k) {
            self.entries.remove(pos);
            self.entries.push((k, v, expires));
            while self.over(0, 0) && self.entries.len() > 1 {
                self.evict_front();
            }
        } else {
            while self.over(1, charge) && !self.entries.is_empty() {
                self.evict_front();
            }
            self.entries.push((k, v, expires));
        }
        true
    }

    fn trim(&mut self) {
        self.drop_expired();
        while self.over(0, 0) && !self.entries.is_empty() {
            self.evict_front();
        }
    }
}

fn value(len: usize) -> Value {
    // Capacity, not length, is what the heap holds: vary both.
    let mut s = String::with_capacity(len);
    s.push_str(&"x".repeat(len / 2));
    s
}

/// The byte bound: 4 KiB for entries beyond the store's fixed overhead, so that the byte bound
/// binds as often as the item bound whatever the store's own size.
fn max_bytes() -> u64 {
    let probe: FaasCacheDict<Key, Value> = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_size("1M")
        .build()
        .unwrap();
    probe.fixed_overhead() as u64 + 4 * 1024
}

fn run(ops: Vec<Op>, default_ttl_ms: Option<u64>) {
    let clock = MockClock::new();
    let max_bytes = max_bytes();
    let mut builder = FaasCacheDict::builder()
        .policy(Policy::Lru)
        .max_items(8)
        .max_size(max_bytes)
        .clock(clock.clone());
    if let Some(ms) = default_ttl_ms {
        builder = builder.default_ttl(Duration::from_millis(ms));
    }
    let cache: FaasCacheDict<Key, Value> = builder.build().unwrap();
    assert_eq!(cache.policy(), Policy::Lru, "the model is exact LRU");
    let mut model = Model {
        entries: Vec::new(),
        now_ms: 0,
        default_ttl_ms,
        max_items: Some(8),
        max_bytes: Some(max_bytes as usize),
        fixed: cache.fixed_overhead(),
        overhead: cache.entry_overhead(),
        evictions: 0,
        expirations: 0,
    };

    for (step, op) in ops.into_iter().enumerate() {
        match op.clone() {
            Op::Insert(k, len) => {
                let ok = model.insert(k, value(len), model.default_ttl_ms);
                assert_eq!(
                    cache.insert(k, value(len)).is_ok(),
                    ok,
                    "step {step}: {op:?}"
                );
            }
            Op::InsertWithTtl(k, len, ttl) => {
                let ok = model.insert(k, value(len), ttl.map(u64::from));
                let ttl = ttl.map(|ms| Duration::from_millis(ms.into()));
                assert_eq!(
                    cache.insert_with_ttl(k, value(len), ttl).is_ok(),
                    ok,
                    "step {step}"
                );
            }
            Op::Get(k) => {
                model.drop_expired();
                let expected = model.position(k).map(|pos| {
                    // Move, not clone: a clone of a String may have less capacity.
                    let entry = model.entries.remove(pos);
                    let value = entry.1.clone();
                    model.entries.push(entry);
                    value
                });
                assert_eq!(cache.get(&k), expected, "step {step}: {op:?}");
            }
            Op::Remove(k) => {
                model.drop_expired();
                let expected = model.position(k).map(|pos| model.entries.remove(pos).1);
                assert_eq!(cache.remove(&k), expected, "step {step}: {op:?}");
            }
            Op::SetTtl(k, ttl) => {
                model.drop_expired();
                let now = model.now_ms;
                let found = match model.position(k) {
                    Some(pos) => {
                        model.entries[pos].2 = ttl.map(|t| now + u64::from(t));
                        true
                    }
                    None => false,
                };
                let ttl = ttl.map(|ms| Duration::from_millis(ms.into()));
                assert_eq!(cache.set_ttl(&k, ttl), found, "step {step}: {op:?}");
            }
            Op::Advance(ms) => {
                model.now_ms += u64::from(ms);
                clock.advance(Duration::from_millis(ms.into()));
            }
            Op::ChangeMaxItems(n) => {
                model.max_items = Some(n);
                model.trim();
                cache.change_max_items(n).unwrap();
            }
            Op::ChangeByteSize(extra) => {
                let bound = model.fixed + extra;
                let accepted = extra > 0;
                assert_eq!(
                    cache.change_byte_size(bound).is_ok(),
                    accepted,
                    "step {step}"
                );
                if accepted {
                    model.max_bytes = Some(bound);
                    model.trim();
                }
            }
            Op::RemoveLimits => {
                model.max_items = None;
                model.max_bytes = None;
                cache.remove_item_limit();
                cache.remove_byte_limit();
            }
            Op::Purge => {
                model.drop_expired();
                model.entries.clear();
                cache.purge();
            }
        }

        // Observing the store reclaims what has expired; so does the model.
        model.drop_expired();
        let expected: Vec<(Key, &str)> = model
            .entries
            .iter()
            .map(|(k, v, _)| (*k, v.as_str()))
            .collect();
        let items = cache.items();
        let items: Vec<(Key, &str)> = items.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(items, expected, "step {step}: {op:?}");
        assert_eq!(cache.len(), model.entries.len(), "step {step}");
        assert_eq!(
            cache.byte_size(),
            model.fixed + model.bytes(),
            "step {step}"
        );
        if let Some(max) = model.max_items {
            assert!(cache.len() <= max, "step {step}");
        }
        if let Some(max) = model.max_bytes {
            assert!(cache.byte_size() <= max, "step {step}");
        }
        let info = cache.info();
        assert_eq!(info.evictions, model.evictions, "step {step}: {op:?}");
        assert_eq!(info.expirations, model.expirations, "step {step}: {op:?}");
    }
}

proptest! {
    // Under Miri (~100x slower) a few cases: enough to drive the shards' unsafe code through
    // every operation.
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]

    #[test]
    fn store_agrees_with_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops, None);
    }

    #[test]
    fn store_agrees_with_the_model_under_a_default_ttl(
        ops in proptest::collection::vec(op(), 1..120)
    ) {
        run(ops, Some(250));
    }
}
