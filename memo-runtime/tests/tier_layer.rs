//! The tier layer, through a tier in this process's memory (tests/common/map_tier.rs): the
//! L1 -> L2 -> compute path, TTLs carried across, namespaces, the envelope's checks, leases,
//! async callers on the I/O threads, and errors that never reach the caller.
#![cfg(feature = "tier")]

#[path = "common/map_tier.rs"]
mod map_tier;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use map_tier::MapTier;
use memo_runtime::tier::{LeaseToken, Namespace, Tier};
use memo_runtime::{FaasCacheDict, MockClock};

fn store(tier: &Arc<MapTier>, name: &str) -> FaasCacheDict<String, String> {
    FaasCacheDict::builder()
        .name(name)
        .tier(tier.clone())
        .build()
        .unwrap()
}

#[test]
fn a_computed_value_goes_to_both_and_a_second_store_hits_the_tier() {
    let tier = Arc::new(MapTier::default());
    let first = store(&tier, "layer::both");
    assert_eq!(first.get_or_insert_with("k".into(), || "v".into()), "v");
    assert_eq!(first.get("k").as_deref(), Some("v"));
    assert_eq!(tier.len(), 1);
    let info = first.info().tiers;
    assert_eq!((info[0].hits, info[0].misses, info[0].writes), (0, 1, 1));
    assert_eq!(info[0].kind, "map");

    let second = store(&tier, "layer::both");
    let computed = AtomicUsize::new(0);
    let value = second.get_or_insert_with("k".into(), || {
        computed.fetch_add(1, Ordering::SeqCst);
        "recomputed".into()
    });
    assert_eq!(value, "v");
    assert_eq!(computed.load(Ordering::SeqCst), 0);
    // Now in the second store's memory: no further tier call.
    let gets = tier.gets.load(Ordering::SeqCst);
    assert_eq!(
        second.get_or_insert_with("k".into(), || unreachable!()),
        "v"
    );
    assert_eq!(tier.gets.load(Ordering::SeqCst), gets);
    let info = second.info();
    assert_eq!((info.tiers[0].hits, info.tiers[0].misses), (1, 0));
    // A value found in a tier is a hit of the cache: nothing was computed.
    assert_eq!((info.hits, info.misses), (2, 0));
}

#[test]
fn a_tier_hit_fills_memory_with_the_remaining_ttl() {
    let tier = Arc::new(MapTier::default());
    let clock = MockClock::new();
    let build = || -> FaasCacheDict<String, String> {
        FaasCacheDict::builder()
            .name("layer::ttl")
            .default_ttl(Duration::from_secs(60))
            .clock(clock.clone())
            .tier(tier.clone())
            .build()
            .unwrap()
    };
    let first = build();
    first.get_or_insert_with("k".into(), || "v".into());
    let (_, expires) = tier
        .entries
        .lock()
        .unwrap()
        .values()
        .next()
        .cloned()
        .unwrap();
    let expires = expires.expect("the tier entry expires");
    let written_ttl = expires.duration_since(clock.system_now()).unwrap();
    assert!(written_ttl > Duration::from_secs(59) && written_ttl <= Duration::from_secs(61));

    clock.advance(Duration::from_secs(20));
    let second = build();
    assert_eq!(
        second.get_or_insert_with("k".into(), || unreachable!()),
        "v"
    );
    let left = second.get_ttl("k").expect("a TTL");
    assert!(
        left > Duration::from_secs(38) && left <= Duration::from_secs(41),
        "{left:?}"
    );

    // Expired in the tier: a miss there, computed again.
    clock.advance(Duration::from_secs(41));
    let third = build();
    assert_eq!(third.get_or_insert_with("k".into(), || "new".into()), "new");
    assert_eq!(third.info().tiers[0].misses, 1);
}

#[test]
fn namespaces_keep_stores_apart() {
    let tier = Arc::new(MapTier::default());
    store(&tier, "layer::ns-a").get_or_insert_with("k".into(), || "a".into());
    assert_eq!(
        store(&tier, "layer::ns-b").get_or_insert_with("k".into(), || "b".into()),
        "b"
    );
    let versioned = |version: &str| -> FaasCacheDict<String, String> {
        FaasCacheDict::builder()
            .name("layer::ns-a")
            .version(version)
            .tier(tier.clone())
            .build()
            .unwrap()
    };
    assert_eq!(
        versioned("2").get_or_insert_with("k".into(), || "a2".into()),
        "a2"
    );
    assert_eq!(
        versioned("2").get_or_insert_with("k".into(), || unreachable!()),
        "a2"
    );
    assert_eq!(tier.len(), 3);
}

#[test]
fn a_hash_collision_is_a_miss_never_the_other_keys_value() {
    let tier = Arc::new(MapTier::colliding());
    let first = store(&tier, "layer::collide");
    first.get_or_insert_with("one".into(), || "1".into());
    let second = store(&tier, "layer::collide");
    assert_eq!(second.get_or_insert_with("two".into(), || "2".into()), "2");
    assert_eq!(second.info().tiers[0].misses, 1);
}

#[test]
fn an_undecodable_entry_is_a_miss_and_is_deleted() {
    let tier = Arc::new(MapTier::default());
    store(&tier, "layer::corrupt").get_or_insert_with("k".into(), || "v".into());
    tier.corrupt_all(b"\xFA\x01not an envelope at all");
    let second = store(&tier, "layer::corrupt");
    assert_eq!(
        second.get_or_insert_with("k".into(), || "fresh".into()),
        "fresh"
    );
    // Deleted, then replaced by the fresh value.
    let third = store(&tier, "layer::corrupt");
    assert_eq!(
        third.get_or_insert_with("k".into(), || unreachable!()),
        "fresh"
    );

    // Written for other types: a miss too.
    let other: FaasCacheDict<String, u64> = FaasCacheDict::builder()
        .name("layer::corrupt")
        .tier(tier.clone())
        .build()
        .unwrap();
    assert_eq!(other.get_or_insert_with("k".into(), || 7), 7);
}

#[test]
fn tier_errors_never_reach_the_caller_and_are_counted_by_kind() {
    let tier = Arc::new(MapTier::default());
    tier.failing.store(true, Ordering::SeqCst);
    let cache = store(&tier, "layer::failing");
    for i in 0..3 {
        let key = format!("k{i}");
        assert_eq!(cache.get_or_insert_with(key.clone(), || key.clone()), key);
    }
    cache.insert("x".into(), "y".into()).unwrap();
    assert!(cache.invalidate(&"x".to_owned()));
    cache.purge();
    let info = &cache.info().tiers[0];
    // 3 misses (get, lease and put each), an insert, an invalidate and a purge: all failed.
    assert_eq!(info.errors, 12);
    assert_eq!(info.errors_by_kind, [("timeout".to_owned(), 12)]);
    assert!(info
        .last_error
        .as_deref()
        .unwrap()
        .contains("injected failure"));
    assert_eq!((info.hits, info.writes), (0, 0));

    // The tier comes back: used again at once.
    tier.failing.store(false, Ordering::SeqCst);
    cache.get_or_insert_with("later".into(), || "v".into());
    assert_eq!(cache.info().tiers[0].writes, 1);
}

#[test]
fn insert_invalidate_purge_and_get_tiered_reach_the_tier() {
    let tier = Arc::new(MapTier::default());
    let cache = store(&tier, "layer::methods");
    cache.insert("a".into(), "1".into()).unwrap();
    cache
        .insert_with_ttl("b".into(), "2".into(), Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(tier.len(), 2);

    let other = store(&tier, "layer::methods");
    assert_eq!(other.get("a"), None);
    assert_eq!(other.get_tiered(&"a".to_owned()).as_deref(), Some("1"));
    assert_eq!(other.get("a").as_deref(), Some("1"));
    assert!(other.get_ttl("b").is_none());
    assert_eq!(other.get_tiered(&"b".to_owned()).as_deref(), Some("2"));
    // Carried over (rounded up to the millisecond in the envelope).
    assert!(other.get_ttl("b").unwrap() <= Duration::from_millis(5_010));

    // `remove` is memory only; `invalidate` reaches the tier.
    assert_eq!(cache.remove("a").as_deref(), Some("1"));
    assert_eq!(tier.len(), 2);
    assert!(cache.invalidate(&"a".to_owned()));
    assert_eq!(tier.len(), 1);
    assert!(!cache.invalidate(&"a".to_owned()));

    cache.purge();
    assert_eq!(tier.len(), 0);
    assert_eq!(cache.get_tiered(&"b".to_owned()), None);
}

#[test]
fn only_cacheable_results_are_written() {
    let tier = Arc::new(MapTier::default());
    let cache = store(&tier, "layer::results");
    let failed: Result<String, &str> = cache.try_get_or_insert_with("k".into(), || Err("no"));
    assert_eq!(failed, Err("no"));
    assert_eq!(tier.len(), 0);
    let ok: Result<String, &str> = cache.try_get_or_insert_with("k".into(), || Ok("v".into()));
    assert_eq!(ok.unwrap(), "v");
    assert_eq!(tier.len(), 1);
}

#[test]
fn async_callers_run_blocking_tier_calls_on_the_io_threads() {
    let tier = Arc::new(MapTier::default());
    let cache = store(&tier, "layer::async");
    let value =
        pollster::block_on(cache.get_or_insert_with_async("k".into(), async { "v".into() }));
    assert_eq!(value, "v");
    let other = store(&tier, "layer::async");
    let value =
        pollster::block_on(other.get_or_insert_with_async("k".into(), async { unreachable!() }));
    assert_eq!(value, "v");
    let threads = tier.threads.lock().unwrap();
    assert!(!threads.is_empty());
    assert!(threads.iter().all(|t| t == "faas-memo-io"), "{threads:?}");
}

#[test]
fn a_caller_waits_for_another_lease_holder_and_takes_its_value() {
    let tier = Arc::new(MapTier::with_leases());
    let writer = store(&tier, "layer::lease");
    let reader = store(&tier, "layer::lease");
    let ns = Namespace::new("layer::lease", "");
    // Find the key's hash by storing once, then clear it: the "other process" holds the lease.
    writer.insert("k".into(), "from the holder".into()).unwrap();
    let (hash, entry) = {
        let entries = tier.entries.lock().unwrap();
        let (&(_, hash), (entry, _)) = entries.iter().next().unwrap();
        (hash, entry.clone())
    };
    tier.entries.lock().unwrap().clear();
    let holder = LeaseToken::random();
    let now = SystemTime::now();
    let acquired = tier.lease(&ns, hash, holder, now + Duration::from_secs(30), now);
    assert_eq!(acquired, Ok(memo_runtime::tier::Lease::Acquired));

    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            tier.put(&ns, hash, &entry, None, SystemTime::now())
                .unwrap();
            tier.release(&ns, hash, holder).unwrap();
        });
        let value = reader.get_or_insert_with("k".into(), || "computed here".into());
        assert_eq!(value, "from the holder");
    });
    assert_eq!(reader.info().tiers[0].lease_waits, 1);
    // Served by another process's computation.
    assert_eq!((reader.info().waited, reader.info().misses), (1, 0));
}

#[test]
fn an_expired_lease_is_taken_over() {
    let tier = Arc::new(MapTier::with_leases());
    let cache: FaasCacheDict<String, String> = FaasCacheDict::builder()
        .name("layer::takeover")
        .tier(tier.clone())
        .build()
        .unwrap();
    let probe = store(&tier, "layer::takeover-probe");
    probe.insert("k".into(), "x".into()).unwrap();
    let hash = tier.entries.lock().unwrap().keys().next().unwrap().1;
    // A holder that froze: its lease runs out in 200 ms and it never stores anything.
    let ns = Namespace::new("layer::takeover", "");
    let now = SystemTime::now();
    tier.lease(
        &ns,
        hash,
        LeaseToken::random(),
        now + Duration::from_millis(200),
        now,
    )
    .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        cache.get_or_insert_with("k".into(), || "mine".into()),
        "mine"
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    // Our lease was released after storing.
    assert!(tier.leases.lock().unwrap().is_empty());
}

#[test]
fn a_lease_holder_that_never_finishes_is_not_waited_on_forever() {
    let tier = Arc::new(MapTier::with_leases());
    let cache: FaasCacheDict<String, String> = FaasCacheDict::builder()
        .name("layer::stuck")
        // The lease and the longest wait follow the dedupe timeout.
        .dedupe_timeout(Some(Duration::from_millis(100)))
        .tier(tier.clone())
        .build()
        .unwrap();
    let probe = store(&tier, "layer::stuck-probe");
    probe.insert("k".into(), "x".into()).unwrap();
    let hash = tier.entries.lock().unwrap().keys().next().unwrap().1;
    let ns = Namespace::new("layer::stuck", "");
    let now = SystemTime::now();
    // Held for an hour by someone else.
    tier.lease(
        &ns,
        hash,
        LeaseToken::random(),
        now + Duration::from_secs(3600),
        now,
    )
    .unwrap();
    assert_eq!(
        cache.get_or_insert_with("k".into(), || "mine".into()),
        "mine"
    );
}
