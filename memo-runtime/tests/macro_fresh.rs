//! The options about a value's age and the call's outcome, through memoized functions, with a
//! mock clock per function (`clock = ..`): `cached_flag`, `refresh_on_hit`, `fallback`,
//! `force_refresh` and `<fn>_refresh`, `WithTtl` returns, `stale`, `refresh_ahead`; sync and
//! async.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, LazyLock};
use std::time::Duration;

use memo_runtime::{faas_cached, Cached, MockClock, WithTtl};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ---- cached_flag -------------------------------------------------------------------------

static FLAG_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(cached_flag)]
fn flagged(x: u64) -> Cached<u64> {
    FLAG_CALLS.fetch_add(1, Ordering::SeqCst);
    x * 2
}

#[faas_cached(cached_flag)]
fn flagged_result(x: u64) -> Result<Cached<u64>, String> {
    if x == 0 {
        return Err("zero".to_owned());
    }
    Ok(x * 3)
}

#[faas_cached(cached_flag)]
fn flagged_option(x: u64) -> Option<Cached<String>> {
    (x > 0).then(|| x.to_string())
}

#[faas_cached(cached_flag)]
async fn flagged_async(x: u64) -> Result<Cached<u64>, String> {
    Ok(x + 1)
}

#[test]
fn the_flag_says_whether_the_body_ran() {
    let first = flagged(4);
    assert_eq!((*first, first.was_cached()), (8, false));
    let second = flagged(4);
    assert_eq!((*second, second.was_cached()), (8, true));
    assert_eq!(FLAG_CALLS.load(Ordering::SeqCst), 1);
    // The store holds the plain value; the helpers take it.
    assert_eq!(flagged_cache().get(&(4,)), Some(8));
    flagged_prime(5, 100).unwrap();
    assert!(flagged(5).was_cached());
    assert_eq!(flagged_uncached(5), 10, "the body returns the plain type");

    let ok = flagged_result(2).unwrap();
    assert_eq!((*ok, ok.was_cached()), (6, false));
    assert!(flagged_result(2).unwrap().was_cached());
    assert_eq!(flagged_result(0), Err("zero".to_owned()));

    assert_eq!(flagged_option(0), None);
    let some = flagged_option(7).unwrap();
    assert!(!some.was_cached());
    let again = flagged_option(7).unwrap();
    assert_eq!((again.as_str(), again.was_cached()), ("7", true));
    assert_eq!(again.into_inner(), "7");
}

#[test]
fn the_flag_works_for_async_functions() {
    let first = pollster::block_on(flagged_async(1)).unwrap();
    let second = pollster::block_on(flagged_async(1)).unwrap();
    assert_eq!((*first, first.was_cached()), (2, false));
    assert_eq!((*second, second.was_cached()), (2, true));
}

// ---- refresh_on_hit ----------------------------------------------------------------------

static ON_HIT_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static ON_HIT_CALLS: AtomicUsize = AtomicUsize::new(0);
static PLAIN_TTL_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 10, refresh_on_hit, clock = ON_HIT_CLOCK.clone())]
fn sliding(x: u32) -> u32 {
    ON_HIT_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[faas_cached(ttl = 10, clock = ON_HIT_CLOCK.clone())]
fn fixed(x: u32) -> u32 {
    PLAIN_TTL_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[test]
fn a_hit_extends_the_life_by_the_ttl() {
    assert_eq!((sliding(1), fixed(1)), (1, 1));
    for _ in 0..3 {
        ON_HIT_CLOCK.advance(secs(8));
        assert_eq!((sliding(1), fixed(1)), (1, 1));
        // Each hit gave the entry a whole TTL again.
        assert_eq!(sliding_cache().get_ttl(&(1,)), Some(secs(10)));
    }
    // 24 s after the first call: the sliding entry never expired, the fixed one did (at 10 s).
    assert_eq!(ON_HIT_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(PLAIN_TTL_CALLS.load(Ordering::SeqCst), 2);
    // Without hits it expires like any other.
    ON_HIT_CLOCK.advance(secs(10));
    sliding(1);
    assert_eq!(ON_HIT_CALLS.load(Ordering::SeqCst), 2);
}

static ON_HIT_ASYNC_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static ON_HIT_ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 10, refresh_on_hit, clock = ON_HIT_ASYNC_CLOCK.clone())]
async fn sliding_async(x: u32) -> u32 {
    ON_HIT_ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[test]
fn refresh_on_hit_works_for_async_functions() {
    pollster::block_on(async {
        sliding_async(3).await;
        for _ in 0..3 {
            ON_HIT_ASYNC_CLOCK.advance(secs(9));
            assert_eq!(sliding_async(3).await, 3);
        }
    });
    assert_eq!(ON_HIT_ASYNC_CALLS.load(Ordering::SeqCst), 1);
}

// ---- fallback ----------------------------------------------------------------------------

static FALLBACK_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static FAIL: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU32 = AtomicU32::new(1);

#[faas_cached(ttl = 10, fallback = 30, clock = FALLBACK_CLOCK.clone())]
fn quote(symbol: &str) -> Result<u32, String> {
    if FAIL.load(Ordering::SeqCst) {
        return Err(format!("{symbol}: upstream down"));
    }
    Ok(NEXT.fetch_add(1, Ordering::SeqCst))
}

static NO_FALLBACK_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static NO_FALLBACK_FAIL: AtomicBool = AtomicBool::new(false);

#[faas_cached(ttl = 10, clock = NO_FALLBACK_CLOCK.clone())]
fn quote_plain(symbol: &str) -> Result<u32, String> {
    if NO_FALLBACK_FAIL.load(Ordering::SeqCst) {
        return Err(format!("{symbol}: upstream down"));
    }
    Ok(1)
}

#[test]
fn an_error_on_an_expired_entry_returns_the_old_value_for_a_while() {
    assert_eq!(quote("ACME"), Ok(1));
    FALLBACK_CLOCK.advance(secs(11));
    FAIL.store(true, Ordering::SeqCst);
    // Expired 1 s ago; the body fails: the old value, counted.
    assert_eq!(quote("ACME"), Ok(1));
    FALLBACK_CLOCK.advance(secs(20));
    assert_eq!(quote("ACME"), Ok(1));
    let info = quote_cache_info();
    assert_eq!((info.fallbacks, info.misses, info.hits), (2, 3, 0));
    // Recovered: the new value replaces it.
    FAIL.store(false, Ordering::SeqCst);
    assert_eq!(quote("ACME"), Ok(2));
    assert_eq!(quote("ACME"), Ok(2));
    // 10 s of TTL and 30 s of fallback later, an error is an error.
    FAIL.store(true, Ordering::SeqCst);
    FALLBACK_CLOCK.advance(secs(40));
    assert_eq!(quote("ACME"), Err("ACME: upstream down".to_owned()));
    assert_eq!(quote_cache_info().fallbacks, 2);

    // Without `fallback`, the same failure is returned.
    assert_eq!(quote_plain("ACME"), Ok(1));
    NO_FALLBACK_CLOCK.advance(secs(11));
    NO_FALLBACK_FAIL.store(true, Ordering::SeqCst);
    assert!(quote_plain("ACME").is_err());
}

static FALLBACK_ASYNC_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static FAIL_ASYNC: AtomicBool = AtomicBool::new(false);

#[faas_cached(ttl = 10, fallback = 30, cached_flag, clock = FALLBACK_ASYNC_CLOCK.clone())]
async fn quote_async(symbol: String) -> Result<Cached<String>, String> {
    if FAIL_ASYNC.load(Ordering::SeqCst) {
        return Err("down".to_owned());
    }
    Ok(symbol)
}

#[test]
fn fallback_works_for_async_functions_and_counts_as_from_the_cache() {
    pollster::block_on(async {
        assert!(!quote_async("X".into()).await.unwrap().was_cached());
        FALLBACK_ASYNC_CLOCK.advance(secs(15));
        FAIL_ASYNC.store(true, Ordering::SeqCst);
        let old = quote_async("X".into()).await.unwrap();
        assert_eq!((old.as_str(), old.was_cached()), ("X", true));
    });
    assert_eq!(quote_async_cache_info().fallbacks, 1);
}

// ---- force_refresh and <fn>_refresh ------------------------------------------------------

static FORCE_NEXT: AtomicU32 = AtomicU32::new(0);

#[faas_cached(ttl = 600, force_refresh = reload)]
fn config(name: &str, #[exclude] reload: bool) -> (String, u32) {
    let _ = reload;
    (name.to_owned(), FORCE_NEXT.fetch_add(1, Ordering::SeqCst))
}

#[test]
fn a_true_force_refresh_expression_recomputes_and_replaces() {
    assert_eq!(config("db", false).1, 0);
    assert_eq!(config("db", false).1, 0);
    assert_eq!(config("db", true).1, 1);
    assert_eq!(
        config("db", false).1,
        1,
        "the refreshed value replaced the old one"
    );
    assert_eq!(config_refresh("db", false).1, 2);
    assert_eq!(config("db", false).1, 2);
    let info = config_cache_info();
    assert_eq!((info.hits, info.misses, info.refreshes), (3, 3, 2));
}

static REFRESH_CALLS: AtomicUsize = AtomicUsize::new(0);

/// No option: `<fn>_refresh` is generated for every memoized function.
#[faas_cached]
fn slow_total(n: u64) -> u64 {
    let call = REFRESH_CALLS.fetch_add(1, Ordering::SeqCst) as u64;
    std::thread::sleep(Duration::from_millis(200));
    n + call
}

#[test]
fn concurrent_refreshes_wait_for_one_computation() {
    assert_eq!(slow_total(10), 10);
    let start = Barrier::new(6);
    let results: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    slow_total_refresh(10)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results, [11; 6]);
    assert_eq!(REFRESH_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(slow_total(10), 11);
    assert_eq!(slow_total_cache_info().waited, 5);
}

static REFRESH_ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 60)]
async fn fetch_rate(code: &str) -> Result<usize, String> {
    let call = REFRESH_ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(code.len() * 100 + call)
}

#[test]
fn async_functions_get_an_async_refresh() {
    pollster::block_on(async {
        assert_eq!(fetch_rate("EUR").await, Ok(300));
        assert_eq!(fetch_rate_refresh("EUR").await, Ok(301));
        assert_eq!(fetch_rate("EUR").await, Ok(301));
    });
}

// ---- WithTtl -----------------------------------------------------------------------------

static TTL_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static TTL_CALLS: AtomicUsize = AtomicUsize::new(0);

/// The body decides: `max_age` seconds (0: not cached).
#[faas_cached(ttl = 3600, clock = TTL_CLOCK.clone())]
fn page(url: &str, max_age: u64) -> WithTtl<String> {
    TTL_CALLS.fetch_add(1, Ordering::SeqCst);
    WithTtl::new(format!("<{url}>"), secs(max_age))
}

#[test]
fn the_body_sets_each_values_ttl() {
    let first = page("/a", 5);
    assert_eq!(
        (first.value().as_str(), first.ttl()),
        ("</a>", Some(secs(5)))
    );
    page("/b", 100);
    assert_eq!(page_cache().get_ttl(&("/a".to_owned(), 5)), Some(secs(5)));
    TTL_CLOCK.advance(secs(3));
    // A hit says how long the value has left.
    assert_eq!(page("/a", 5).ttl(), Some(secs(2)));
    TTL_CLOCK.advance(secs(3));
    page("/a", 5);
    page("/b", 100);
    // "/a" expired after its own 5 s, "/b" lives its 100 s (not the function's 3600).
    assert_eq!(TTL_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(
        page_cache().get_ttl(&("/b".to_owned(), 100)),
        Some(secs(94))
    );
    // A zero TTL is returned, not cached.
    page("/c", 0);
    page("/c", 0);
    assert_eq!(TTL_CALLS.load(Ordering::SeqCst), 5);
    assert_eq!(page_cache_info().uncached, 2);
}

static TTL_ASYNC_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);

#[faas_cached(clock = TTL_ASYNC_CLOCK.clone())]
async fn lease(id: u32) -> Result<WithTtl<u32>, String> {
    if id == 0 {
        return Err("no lease".to_owned());
    }
    Ok(WithTtl::new(id, secs(u64::from(id))))
}

#[test]
fn async_and_result_returns_carry_their_ttl() {
    pollster::block_on(async {
        assert!(lease(0).await.is_err());
        assert_eq!(lease(7).await.unwrap().into_parts(), (7, Some(secs(7))));
        TTL_ASYNC_CLOCK.advance(secs(6));
        assert_eq!(lease(7).await.unwrap().ttl(), Some(secs(1)));
        TTL_ASYNC_CLOCK.advance(secs(1));
        assert_eq!(lease_cache().get(&(7,)), None, "expired after its own 7 s");
    });
}

// ---- stale -------------------------------------------------------------------------------

static STALE_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static STALE_NEXT: AtomicU32 = AtomicU32::new(1);
static STALE_FAIL: AtomicBool = AtomicBool::new(false);
static STALE_HOLD: AtomicBool = AtomicBool::new(false);
static STALE_ENTERED: Barrier = Barrier::new(2);
static STALE_RELEASE: Barrier = Barrier::new(2);

#[faas_cached(ttl = 10, stale = 30, clock = STALE_CLOCK.clone())]
fn report(id: u32) -> Result<u32, String> {
    if STALE_HOLD.load(Ordering::SeqCst) {
        STALE_ENTERED.wait();
        STALE_RELEASE.wait();
    }
    if STALE_FAIL.load(Ordering::SeqCst) {
        return Err(format!("report {id} failed"));
    }
    Ok(STALE_NEXT.fetch_add(1, Ordering::SeqCst))
}

#[test]
fn a_stale_value_is_served_at_once_while_one_caller_recomputes() {
    assert_eq!(report(1), Ok(1));
    STALE_CLOCK.advance(secs(12));
    STALE_HOLD.store(true, Ordering::SeqCst);
    std::thread::scope(|s| {
        let recomputing = s.spawn(|| report(1));
        STALE_ENTERED.wait();
        // The recomputation is in flight: others get the stale value without waiting.
        assert_eq!(report(1), Ok(1));
        assert_eq!(report(1), Ok(1));
        STALE_HOLD.store(false, Ordering::SeqCst);
        STALE_RELEASE.wait();
        assert_eq!(
            recomputing.join().unwrap(),
            Ok(2),
            "the recomputing caller gets the new value"
        );
    });
    assert_eq!(report(1), Ok(2));
    let info = report_cache_info();
    assert_eq!((info.stale_hits, info.refreshes), (2, 1));
    // hits: the 2 stale ones and the last; misses: the first call and the recomputation.
    assert_eq!((info.hits, info.misses), (3, 2));

    // A failed recomputation keeps the stale value until `stale` runs out.
    STALE_CLOCK.advance(secs(15));
    STALE_FAIL.store(true, Ordering::SeqCst);
    assert_eq!(
        report(1),
        Err("report 1 failed".to_owned()),
        "no `fallback`: its caller gets the error"
    );
    assert_eq!(report_cache().get(&(1,)), Some(2), "the stale value stays");
    STALE_HOLD.store(true, Ordering::SeqCst);
    std::thread::scope(|s| {
        let recomputing = s.spawn(|| report(1));
        STALE_ENTERED.wait();
        assert_eq!(report(1), Ok(2));
        STALE_HOLD.store(false, Ordering::SeqCst);
        STALE_RELEASE.wait();
        assert!(recomputing.join().unwrap().is_err());
    });
    // 10 s + 30 s after the last good value: gone.
    STALE_CLOCK.advance(secs(26));
    assert_eq!(report_cache().get(&(1,)), None);
    STALE_FAIL.store(false, Ordering::SeqCst);
    assert_eq!(report(1), Ok(3));
}

static STALE_FB_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static STALE_FB_FAIL: AtomicBool = AtomicBool::new(false);

#[faas_cached(ttl = 10, stale = 5, fallback = 60, clock = STALE_FB_CLOCK.clone())]
fn balance(account: u32) -> Result<u32, String> {
    if STALE_FB_FAIL.load(Ordering::SeqCst) {
        return Err("ledger down".to_owned());
    }
    Ok(account * 10)
}

#[test]
fn stale_and_fallback_compose() {
    assert_eq!(balance(4), Ok(40));
    STALE_FB_FAIL.store(true, Ordering::SeqCst);
    // Within `stale`: this caller recomputes (nobody else is), fails, and falls back.
    STALE_FB_CLOCK.advance(secs(12));
    assert_eq!(balance(4), Ok(40));
    // Past `stale`, within `fallback`: recomputed, fails, falls back.
    STALE_FB_CLOCK.advance(secs(20));
    assert_eq!(balance(4), Ok(40));
    // Past both.
    STALE_FB_CLOCK.advance(secs(60));
    assert!(balance(4).is_err());
    assert_eq!(balance_cache_info().fallbacks, 2);
}

static STALE_ASYNC_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static STALE_ASYNC_NEXT: AtomicU32 = AtomicU32::new(1);

#[faas_cached(ttl = 10, stale = 30, clock = STALE_ASYNC_CLOCK.clone())]
async fn feed(id: u32, #[exclude] gate: Arc<tokio::sync::Notify>) -> u32 {
    gate.notified().await;
    STALE_ASYNC_NEXT.fetch_add(1, Ordering::SeqCst) + id
}

#[tokio::test(flavor = "current_thread")]
async fn async_callers_get_the_stale_value_while_one_task_recomputes() {
    let gate = Arc::new(tokio::sync::Notify::new());
    gate.notify_one();
    assert_eq!(feed(0, gate.clone()).await, 1);
    STALE_ASYNC_CLOCK.advance(secs(11));
    let recomputing = tokio::spawn(feed(0, gate.clone()));
    // Let the spawned task start its recomputation and park on the gate.
    tokio::task::yield_now().await;
    assert_eq!(
        feed(0, gate.clone()).await,
        1,
        "served at once, not waiting"
    );
    gate.notify_one();
    assert_eq!(recomputing.await.unwrap(), 2);
    assert_eq!(feed(0, gate).await, 2);
    assert_eq!(feed_cache_info().stale_hits, 1);
}

// ---- refresh_ahead -----------------------------------------------------------------------

static AHEAD_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static AHEAD_CALLS: AtomicUsize = AtomicUsize::new(0);
static NOT_AHEAD_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Takes one (mock) second to compute.
#[faas_cached(ttl = 60, refresh_ahead, clock = AHEAD_CLOCK.clone())]
fn ranking(board: u32) -> usize {
    AHEAD_CLOCK.advance(secs(1));
    AHEAD_CALLS.fetch_add(1, Ordering::SeqCst) + board as usize
}

static PLAIN_AHEAD_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);

#[faas_cached(ttl = 60, clock = PLAIN_AHEAD_CLOCK.clone())]
fn ranking_plain(board: u32) -> usize {
    NOT_AHEAD_CALLS.fetch_add(1, Ordering::SeqCst) + board as usize
}

#[test]
fn a_hot_key_is_recomputed_before_it_expires() {
    assert_eq!(ranking(0), 0);
    ranking_plain(0);
    // Fresh until 60 s after the computation ended. 30 s before that, with one second of
    // work, a call refreshes with probability exp(-30): never in 1000 calls.
    AHEAD_CLOCK.advance(secs(30));
    for _ in 0..1000 {
        assert_eq!(ranking(0), 0);
    }
    assert_eq!(AHEAD_CALLS.load(Ordering::SeqCst), 1);
    // 10 ms before expiry: exp(-0.01) per call. One of the first calls recomputes, early,
    // and the others keep hitting.
    AHEAD_CLOCK.advance(Duration::from_millis(29_990));
    let mut calls = 0;
    while AHEAD_CALLS.load(Ordering::SeqCst) == 1 && calls < 50 {
        ranking(0);
        calls += 1;
    }
    assert_eq!(
        AHEAD_CALLS.load(Ordering::SeqCst),
        2,
        "refreshed before expiry"
    );
    assert_eq!(ranking(0), 1);
    assert_eq!(ranking_cache_info().refreshes, 1);
    // Without `refresh_ahead`, the same key is used until it expires.
    PLAIN_AHEAD_CLOCK.advance(Duration::from_millis(59_990));
    for _ in 0..50 {
        ranking_plain(0);
    }
    assert_eq!(NOT_AHEAD_CALLS.load(Ordering::SeqCst), 1);
}

static AHEAD_ASYNC_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static AHEAD_ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 60, refresh_ahead, clock = AHEAD_ASYNC_CLOCK.clone())]
async fn ranking_async(board: u32) -> usize {
    AHEAD_ASYNC_CLOCK.advance(secs(2));
    AHEAD_ASYNC_CALLS.fetch_add(1, Ordering::SeqCst) + board as usize
}

#[test]
fn refresh_ahead_works_for_async_functions() {
    pollster::block_on(async {
        ranking_async(0).await;
        AHEAD_ASYNC_CLOCK.advance(Duration::from_millis(59_990));
        let mut calls = 0;
        while AHEAD_ASYNC_CALLS.load(Ordering::SeqCst) == 1 && calls < 50 {
            ranking_async(0).await;
            calls += 1;
        }
    });
    assert_eq!(AHEAD_ASYNC_CALLS.load(Ordering::SeqCst), 2);
}

// ---- in a trait impl ---------------------------------------------------------------------

trait Catalog {
    fn title(&self, id: u32) -> Result<String, String>;
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Library;

static TRAIT_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
static TRAIT_FAIL: AtomicBool = AtomicBool::new(false);
static TRAIT_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
impl Catalog for Library {
    #[faas_cached(ttl = 10, stale = 5, fallback = 60, clock = TRAIT_CLOCK.clone())]
    fn title(&self, id: u32) -> Result<String, String> {
        TRAIT_CALLS.fetch_add(1, Ordering::SeqCst);
        if TRAIT_FAIL.load(Ordering::SeqCst) {
            return Err("catalog down".to_owned());
        }
        Ok(format!("book {id}"))
    }
}

#[test]
fn a_trait_method_gets_the_options_and_an_inherent_refresh() {
    assert_eq!(Library.title(1).as_deref(), Ok("book 1"));
    assert_eq!(Library.title_refresh(1).as_deref(), Ok("book 1"));
    assert_eq!(TRAIT_CALLS.load(Ordering::SeqCst), 2);
    TRAIT_CLOCK.advance(secs(30));
    TRAIT_FAIL.store(true, Ordering::SeqCst);
    assert_eq!(Library.title(1).as_deref(), Ok("book 1"), "fallback");
    assert_eq!(Library::title_cache_info().fallbacks, 1);
}

static SLACK_CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);

#[faas_cached(ttl = 10, refresh_on_hit, clock = SLACK_CLOCK.clone())]
fn sliding_slack(x: u32) -> u32 {
    x
}

#[test]
fn a_hit_moves_the_expiry_only_when_that_gains_over_a_1024th_of_the_ttl() {
    sliding_slack(1);
    // 5 ms < 10 s / 1024: the expiry stays (no exclusive lock taken for it).
    SLACK_CLOCK.advance(Duration::from_millis(5));
    sliding_slack(1);
    assert_eq!(
        sliding_slack_cache().get_ttl(&(1,)),
        Some(Duration::from_millis(9_995))
    );
    // 20 ms more: it moves to a whole TTL from now.
    SLACK_CLOCK.advance(Duration::from_millis(20));
    sliding_slack(1);
    assert_eq!(sliding_slack_cache().get_ttl(&(1,)), Some(secs(10)));
}
