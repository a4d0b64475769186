//! The options about a value's age with a tier (tests/common/map_tier.rs): a stale recomputation
//! looks in the tiers first and writes its value there, a forced refresh writes without
//! reading, a value's own TTL (`WithTtl`) is the tier entry's expiry. Through the store's
//! generated-code entry points (`look_fresh`, `compute_fresh`), as `#[faas_cached]` calls them.
#![cfg(feature = "tier")]

#[allow(dead_code)]
#[path = "common/map_tier.rs"]
mod map_tier;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use map_tier::MapTier;
use memo_runtime::__private::{FreshShape, Looked};
use memo_runtime::{FaasCacheDict, MockClock, WithTtl};

const SEC: u64 = 1_000_000_000;

fn store<V>(tier: &Arc<MapTier>, clock: &MockClock, name: &str) -> FaasCacheDict<String, V>
where
    V: Clone + serde::Serialize + serde::de::DeserializeOwned,
{
    FaasCacheDict::builder()
        .name(name)
        .default_ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .memo_freshness(30 * SEC, 0, false, false)
        .tier(tier.clone())
        .build()
        .unwrap()
}

fn call(store: &FaasCacheDict<String, String>, body: impl FnOnce() -> String) -> (String, bool) {
    let looked = store.look_fresh("k");
    store.compute_fresh(looked, "k".to_owned(), body, FreshShape::PLAIN)
}

/// A TTL as a tier carries it: its envelope stores expiries to the millisecond.
fn assert_close(ttl: Option<Duration>, expected: Duration) {
    let ttl = ttl.expect("a TTL");
    let ms = Duration::from_millis(1);
    assert!(
        ttl + ms >= expected && ttl <= expected + ms,
        "{ttl:?} vs {expected:?}"
    );
}

/// The tier's expiry of its only entry.
fn tier_expiry(tier: &MapTier) -> Option<SystemTime> {
    let entries = tier.entries.lock().unwrap();
    assert_eq!(entries.len(), 1);
    entries.values().next().unwrap().1
}

#[test]
fn a_stale_recomputation_writes_the_tier_and_another_process_reads_it() {
    let (tier, clock) = (Arc::new(MapTier::default()), MockClock::new());
    let first = store(&tier, &clock, "fresh::stale");
    assert_eq!(call(&first, || "v1".into()), ("v1".into(), false));
    clock.advance(Duration::from_secs(12));
    // Stale in memory, expired in the tier: this caller recomputes.
    assert_eq!(call(&first, || "v2".into()), ("v2".into(), false));
    assert_eq!(
        tier_expiry(&tier),
        Some(clock.system_now() + Duration::from_secs(10)),
        "the tier entry lives a TTL from the recomputation (the stale window is memory's)"
    );
    let second = store(&tier, &clock, "fresh::stale");
    assert_eq!(
        call(&second, || unreachable!("in the tier")),
        ("v2".into(), true)
    );
    assert_eq!(first.info().refreshes, 1);
}

#[test]
fn a_stale_recomputation_takes_a_value_another_process_already_refreshed() {
    let (tier, clock) = (Arc::new(MapTier::default()), MockClock::new());
    let (a, b) = (
        store(&tier, &clock, "fresh::other"),
        store(&tier, &clock, "fresh::other"),
    );
    call(&a, || "v1".into());
    assert_eq!(call(&b, || unreachable!()), ("v1".into(), true));
    clock.advance(Duration::from_secs(12));
    assert_eq!(call(&b, || "v2".into()), ("v2".into(), false));
    // `a` finds its own copy stale, and the tier's fresh one before computing.
    assert_eq!(
        call(&a, || unreachable!("b refreshed it")),
        ("v2".into(), true)
    );
    assert_close(a.get_ttl("k"), Duration::from_secs(10));
}

#[test]
fn a_forced_refresh_writes_the_tier_without_reading_it() {
    let (tier, clock) = (Arc::new(MapTier::default()), MockClock::new());
    let cache = store(&tier, &clock, "fresh::forced");
    call(&cache, || "v1".into());
    let gets = tier.gets.load(Ordering::SeqCst);
    let forced = cache.compute_fresh(
        Looked::Forced,
        "k".to_owned(),
        || "v2".to_owned(),
        FreshShape::PLAIN,
    );
    assert_eq!(forced, ("v2".into(), false));
    assert_eq!(tier.gets.load(Ordering::SeqCst), gets, "no read");
    let other = store(&tier, &clock, "fresh::forced");
    assert_eq!(call(&other, || unreachable!()), ("v2".into(), true));
}

#[test]
fn a_values_own_ttl_is_its_tier_expiry_sync_and_async() {
    let (tier, clock) = (Arc::new(MapTier::default()), MockClock::new());
    let cache: FaasCacheDict<String, u32> = store(&tier, &clock, "fresh::own_ttl");
    let looked = cache.look_fresh("k");
    let (value, cached) = cache.compute_fresh(
        looked,
        "k".to_owned(),
        || WithTtl::new(7, Duration::from_secs(3)),
        FreshShape::TTL_PLAIN,
    );
    assert_eq!((value.into_inner(), cached), (7, false));
    assert_eq!(
        tier_expiry(&tier),
        Some(clock.system_now() + Duration::from_secs(3))
    );
    assert_close(cache.get_ttl("k"), Duration::from_secs(3));

    let (async_tier, clock) = (Arc::new(MapTier::default()), MockClock::new());
    let cache: FaasCacheDict<String, u32> = store(&async_tier, &clock, "fresh::own_ttl_async");
    let (value, _) = pollster::block_on(cache.compute_fresh_async(
        Looked::Missing,
        "k".to_owned(),
        async { Ok::<_, String>(WithTtl::new(9, Duration::from_secs(4))) },
        FreshShape::TTL_OK,
    ));
    assert_eq!(
        value.unwrap().into_parts(),
        (9, Some(Duration::from_secs(4)))
    );
    assert_eq!(
        tier_expiry(&async_tier),
        Some(clock.system_now() + Duration::from_secs(4))
    );
    // A hit in a second store, from the tier, says how long the value has left.
    clock.advance(Duration::from_secs(1));
    let other: FaasCacheDict<String, u32> = store(&async_tier, &clock, "fresh::own_ttl_async");
    let (hit, cached) = pollster::block_on(other.compute_fresh_async(
        other.look_fresh("k"),
        "k".to_owned(),
        async { unreachable!("in the tier") },
        FreshShape::<Result<WithTtl<u32>, String>, u32>::TTL_OK,
    ));
    assert!(cached);
    assert_close(hit.unwrap().ttl(), Duration::from_secs(3));
}
