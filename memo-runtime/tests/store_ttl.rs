//! Time to live, with a mock clock: no test here sleeps.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memo_runtime::{DeleteReason, FaasCacheDict, MockClock};

const SEC: Duration = Duration::from_secs(1);

fn with_clock(default_ttl: Option<Duration>) -> (FaasCacheDict<u32, u32>, MockClock) {
    let clock = MockClock::new();
    let mut builder = FaasCacheDict::builder().clock(clock.clone());
    if let Some(ttl) = default_ttl {
        builder = builder.default_ttl(ttl);
    }
    (builder.build().unwrap(), clock)
}

#[test]
fn default_ttl_expires_entries_exactly_at_their_deadline() {
    let (cache, clock) = with_clock(Some(10 * SEC));
    cache.insert(1, 1).unwrap();
    clock.advance(10 * SEC - Duration::from_nanos(1));
    assert_eq!(cache.get(&1), Some(1));
    clock.advance(Duration::from_nanos(1));
    assert_eq!(cache.get(&1), None);
    assert!(!cache.contains_key(&1));
    assert_eq!(cache.len(), 0);
    let info = cache.info();
    assert_eq!((info.hits, info.misses, info.expirations), (1, 1, 1));
}

#[test]
fn sub_second_ttls_work() {
    let (cache, clock) = with_clock(None);
    cache
        .insert_with_ttl(1, 1, Some(Duration::from_millis(250)))
        .unwrap();
    clock.advance(Duration::from_millis(249));
    assert!(cache.contains_key(&1));
    clock.advance(Duration::from_millis(1));
    assert!(!cache.contains_key(&1));
}

#[test]
fn a_per_entry_ttl_overrides_the_default_and_none_never_expires() {
    let (cache, clock) = with_clock(Some(SEC));
    cache.insert_with_ttl(1, 1, Some(5 * SEC)).unwrap();
    cache.insert_with_ttl(2, 2, None).unwrap();
    cache.insert(3, 3).unwrap();
    clock.advance(2 * SEC);
    assert_eq!(cache.keys(), [1, 2]);
    clock.advance(3 * SEC);
    assert_eq!(cache.keys(), [2]);
    clock.advance(Duration::from_secs(100_000_000));
    assert_eq!(cache.keys(), [2]);
}

#[test]
fn a_zero_ttl_is_rejected() {
    let (cache, _) = with_clock(None);
    assert!(cache.insert_with_ttl(1, 1, Some(Duration::ZERO)).is_err());
    assert!(cache.set_default_ttl(Some(Duration::ZERO)).is_err());
    assert!(FaasCacheDict::<u32, u32>::builder()
        .default_ttl(Duration::ZERO)
        .build()
        .is_err());
    assert!(cache.is_empty());
}

#[test]
fn get_ttl_reports_the_time_left() {
    let (cache, clock) = with_clock(Some(10 * SEC));
    cache.insert(1, 1).unwrap();
    cache.insert_with_ttl(2, 2, None).unwrap();
    clock.advance(Duration::from_millis(2500));
    assert_eq!(cache.get_ttl(&1), Some(Duration::from_millis(7500)));
    assert_eq!(cache.get_ttl(&2), None, "never expires");
    assert_eq!(cache.get_ttl(&3), None, "missing");
    clock.advance(10 * SEC);
    assert_eq!(cache.get_ttl(&1), None, "expired");
}

#[test]
fn set_ttl_counts_from_now_and_none_removes_the_expiry() {
    let (cache, clock) = with_clock(Some(10 * SEC));
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    clock.advance(8 * SEC);
    assert!(cache.set_ttl(&1, Some(5 * SEC)));
    assert!(cache.set_ttl(&2, None));
    assert!(!cache.set_ttl(&3, Some(SEC)));
    clock.advance(4 * SEC);
    assert_eq!(cache.keys(), [1, 2]);
    clock.advance(SEC);
    assert_eq!(cache.keys(), [2]);
    assert!(
        !cache.set_ttl(&1, Some(SEC)),
        "an expired key cannot be revived"
    );
}

#[test]
fn expire_at_sets_an_absolute_deadline() {
    let (cache, clock) = with_clock(None);
    cache.insert(1, 1).unwrap();
    cache.insert(2, 2).unwrap();
    assert!(cache.expire_at(&1, clock.system_now() + 3 * SEC));
    assert!(cache.expire_at(&2, clock.system_now() - SEC));
    assert_eq!(cache.keys(), [1], "a deadline in the past expires at once");
    assert!(!cache.expire_at(&9, clock.system_now()));
    clock.advance(3 * SEC);
    assert!(cache.is_empty());
}

#[test]
fn is_expired_is_none_for_unknown_keys() {
    let (cache, clock) = with_clock(Some(SEC));
    cache.insert(1, 1).unwrap();
    assert_eq!(cache.is_expired(&1), Some(false));
    assert_eq!(cache.is_expired(&2), None);
    clock.advance(SEC);
    assert_eq!(
        cache.is_expired(&1),
        Some(true),
        "expired, not yet reclaimed"
    );
    cache.insert(2, 2).unwrap(); // any write reclaims it
    assert_eq!(cache.is_expired(&1), None);
}

#[test]
fn set_default_ttl_affects_later_inserts_only() {
    let (cache, clock) = with_clock(None);
    cache.insert(1, 1).unwrap();
    cache.set_default_ttl(Some(SEC)).unwrap();
    assert_eq!(cache.default_ttl(), Some(SEC));
    cache.insert(2, 2).unwrap();
    clock.advance(SEC);
    assert_eq!(cache.keys(), [1]);
    cache.set_default_ttl(None).unwrap();
    cache.insert(3, 3).unwrap();
    clock.advance(Duration::from_secs(3600));
    assert_eq!(cache.keys(), [1, 3]);
}

/// A mass expiry: 1 000 entries expire together and the next write, to another key, reclaims
/// them all (reported `Expired`, bytes given back) before anything reads the store.
#[test]
fn expired_entries_are_reclaimed_by_writes_without_being_read() {
    let departed = Arc::new(Mutex::new(Vec::new()));
    let log = departed.clone();
    let clock = MockClock::new();
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .clock(clock.clone())
        .default_ttl(SEC)
        .on_delete(move |k: &u32, _: &u32, why| log.lock().unwrap().push((*k, why)))
        .build()
        .unwrap();
    for k in 0..1_000 {
        cache.insert(k, k).unwrap();
    }
    clock.advance(SEC);
    cache.insert_with_ttl(5_000, 0, None).unwrap();
    let departed = departed.lock().unwrap();
    assert_eq!(departed.len(), 1_000);
    assert!(departed
        .iter()
        .all(|&(_, why)| why == DeleteReason::Expired));
    drop(departed);
    assert_eq!(cache.info().expirations, 1_000);
    assert_eq!(
        cache.byte_size(),
        cache.fixed_overhead() + cache.entry_overhead() + 8
    );
}

/// Steady state, counted by the hook: one insert per millisecond, each living 100 ms, and
/// nothing but inserts (reads, `len`, `info` and `byte_size` reclaim expired entries too, so
/// they would prove nothing). After every insert, exactly the entries whose deadline has come
/// have been reported expired: the 100 most recent remain. (tests/store_ttl_memory.rs shows the
/// same with the heap really held.)
#[test]
fn regular_writes_alone_reclaim_each_entry_as_its_deadline_passes() {
    let expired = Arc::new(AtomicUsize::new(0));
    let other = Arc::new(AtomicUsize::new(0));
    let (on_expired, on_other) = (expired.clone(), other.clone());
    let clock = MockClock::new();
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .clock(clock.clone())
        .default_ttl(Duration::from_millis(100))
        .on_delete(move |_: &u32, _: &u32, why| {
            let counter = if why == DeleteReason::Expired {
                &on_expired
            } else {
                &on_other
            };
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    // Under Miri (~100x slower) fewer inserts: the 100 ms window still fills and slides.
    let inserts = if cfg!(miri) { 600 } else { 20_000usize };
    for k in 0..inserts {
        // At `k` ms; the entries inserted at `k - 100` ms and before are due.
        cache.insert(k as u32, 0).unwrap();
        clock.advance(Duration::from_millis(1));
        let not_yet_expired = k + 1 - expired.load(Ordering::SeqCst);
        assert_eq!(not_yet_expired, (k + 1).min(100), "after inserting {k}");
    }
    assert_eq!(
        other.load(Ordering::SeqCst),
        0,
        "nothing evicted or replaced"
    );
}

#[test]
fn inserting_over_an_expired_entry_reports_expired_not_replaced() {
    let reasons = Arc::new(Mutex::new(Vec::new()));
    let log = reasons.clone();
    let clock = MockClock::new();
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .clock(clock.clone())
        .default_ttl(SEC)
        .on_delete(move |_: &u32, v: &u32, why| log.lock().unwrap().push((*v, why)))
        .build()
        .unwrap();
    cache.insert(1, 10).unwrap();
    clock.advance(SEC);
    assert_eq!(
        cache.insert(1, 11),
        Ok(None),
        "the expired value is not handed back"
    );
    assert_eq!(cache.insert(1, 12), Ok(Some(11)));
    assert_eq!(
        *reasons.lock().unwrap(),
        [(10, DeleteReason::Expired), (11, DeleteReason::Replaced)]
    );
}

#[test]
fn change_max_items_drops_expired_entries_before_live_ones() {
    let (cache, clock) = with_clock(None);
    cache.insert(1, 1).unwrap();
    cache.insert_with_ttl(2, 2, Some(SEC)).unwrap();
    cache.insert_with_ttl(3, 3, Some(SEC)).unwrap();
    cache.insert(4, 4).unwrap();
    clock.advance(SEC);
    cache.change_max_items(2).unwrap();
    assert_eq!(
        cache.keys(),
        [1, 4],
        "the two expired went, no live one was evicted"
    );
    let info = cache.info();
    assert_eq!((info.expirations, info.evictions), (2, 0));
}

#[test]
fn expired_entries_make_room_before_live_ones_are_evicted() {
    let clock = MockClock::new();
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .clock(clock.clone())
        .max_items(3)
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    cache.insert_with_ttl(2, 2, Some(SEC)).unwrap();
    cache.insert(3, 3).unwrap();
    clock.advance(SEC);
    cache.insert(4, 4).unwrap();
    assert_eq!(cache.keys(), [1, 3, 4]);
    assert_eq!(cache.info().evictions, 0);
}

#[test]
fn the_system_clock_expires_entries_too() {
    let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
        .default_ttl(Duration::from_millis(30))
        .build()
        .unwrap();
    cache.insert(1, 1).unwrap();
    assert_eq!(cache.get(&1), Some(1));
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(cache.get(&1), None);
}
