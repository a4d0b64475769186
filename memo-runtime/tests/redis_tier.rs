//! The Redis tier end to end, against real `redis-server` processes that the tests start on
//! free loopback ports (tests/common/redis_server.rs), with real child processes (this test
//! binary, started again with a role: see `child_main`).
//!
//! Single-process tests use the builder (`.redis(url)`), each with a server of its own; the
//! child processes use `#[faas_cached(redis = true, ..)]`, which reads the URL from
//! `FAAS_MEMO_REDIS_URL` (set by the parent for each child).
#![cfg(feature = "redis")]

#[path = "common/children.rs"]
mod children;
#[path = "common/redis_server.rs"]
mod redis_server;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use children::{await_announcement, child, child_role, reported, send_signal};
use memo_runtime::{faas_cached, FaasCacheDict, TierInfo, REDIS_URL_ENV};
use redis_server::{Options, RedisServer};

const BUDGET: Duration = Duration::from_millis(50);

/// A store of `u64 -> String` on the server of `url`, whose leases last `lease`.
fn store(url: &str, name: &str, lease: Duration) -> FaasCacheDict<u64, String> {
    FaasCacheDict::builder()
        .name(name)
        .redis(url)
        .redis_timeout(BUDGET)
        .dedupe_timeout(Some(lease))
        .build()
        .expect("a valid Redis URL")
}

fn redis_info(store: &FaasCacheDict<u64, String>) -> TierInfo {
    let info = store.info();
    assert_eq!(info.tiers.len(), 1);
    assert_eq!(info.tiers[0].kind, "redis");
    info.tiers[0].clone()
}

/// The value every test computes for `key`: any other value returned is a wrong value.
fn value_of(key: u64) -> String {
    format!("value-of-{key}")
}

// --- the memoization path over Redis, in one process ------------------------------------------

#[test]
fn a_value_computed_by_one_store_is_a_hit_for_another_with_the_remaining_ttl() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let build = || -> FaasCacheDict<u64, String> {
        FaasCacheDict::builder()
            .name("share::ttl")
            .default_ttl(Duration::from_secs(5))
            .redis(server.url())
            .build()
            .unwrap()
    };
    let (first, second) = (build(), build());
    assert_eq!(first.get_or_insert_with(1, || value_of(1)), value_of(1));
    assert_eq!(server.keys().len(), 1);
    let key = &server.keys()[0];
    assert!(key.starts_with("faas-memo:share::ttl#:"), "{key}");
    let pttl: i64 = server.command(&["PTTL", key]);
    assert!(
        (4_000..=5_000).contains(&pttl),
        "PX set from the TTL: {pttl}"
    );
    std::thread::sleep(Duration::from_millis(1200));
    // The second store (another process, in production) finds it in Redis...
    assert_eq!(second.get_or_insert_with(1, || unreachable!()), value_of(1));
    // ...and keeps it in memory only for what remained of its TTL, not a fresh 5 s.
    let left = second.get_ttl(&1).expect("a TTL");
    assert!(left <= Duration::from_millis(3900), "{left:?}");
    assert!(left >= Duration::from_millis(2000), "{left:?}");
    let info = redis_info(&second);
    assert_eq!((info.hits, info.misses, info.errors), (1, 0, 0));
    assert_eq!(info.health.as_deref(), Some("closed"));
    let info = redis_info(&first);
    assert_eq!((info.hits, info.misses, info.writes), (0, 1, 1));
    assert!(info.time_spent > Duration::ZERO);
}

#[test]
fn invalidate_and_clear_reach_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (a, b) = (
        store(&server.url(), "share::clear", Duration::from_secs(5)),
        store(&server.url(), "share::other", Duration::from_secs(5)),
    );
    for key in 0..10 {
        a.get_or_insert_with(key, || value_of(key));
    }
    b.get_or_insert_with(1, || value_of(1));
    assert_eq!(server.keys().len(), 11);
    assert!(a.invalidate(&3));
    assert_eq!(server.keys().len(), 10);
    let fresh = store(&server.url(), "share::clear", Duration::from_secs(5));
    let recomputed = AtomicUsize::new(0);
    fresh.get_or_insert_with(3, || {
        recomputed.fetch_add(1, Ordering::SeqCst);
        value_of(3)
    });
    assert_eq!(
        recomputed.load(Ordering::SeqCst),
        1,
        "invalidated in Redis too"
    );
    a.purge();
    // Only the other cache's entry is left.
    let keys = server.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("faas-memo:share::other#"), "{keys:?}");
}

#[test]
fn only_ok_and_some_results_are_stored_in_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "share::result", Duration::from_secs(5));
    let err: Result<String, String> = s.try_get_or_insert_with(1, || Err("boom".to_owned()));
    assert_eq!(err, Err("boom".to_owned()));
    assert!(server.keys().is_empty(), "an error is not cached");
    let ok: Result<String, String> = s.try_get_or_insert_with(1, || Ok(value_of(1)));
    assert_eq!(ok.as_deref(), Ok(value_of(1).as_str()));
    assert_eq!(server.keys().len(), 1);
    // And no lease is left behind by the failed computation.
    assert!(server.keys().iter().all(|k| !k.ends_with(":lease")));
}

#[test]
fn a_value_that_does_not_decode_is_a_miss_and_is_replaced() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "share::corrupt", Duration::from_secs(5));
    s.get_or_insert_with(1, || value_of(1));
    let key = server.keys().pop().unwrap();
    let _: String = server.command(&["SET", &key, "\u{1}garbage, not an envelope"]);
    let other = store(&server.url(), "share::corrupt", Duration::from_secs(5));
    assert_eq!(other.get_or_insert_with(1, || value_of(1)), value_of(1));
    let stored: Vec<u8> = server.command(&["GET", &key]);
    assert!(
        !stored.starts_with(b"\x01garbage"),
        "the unreadable value was replaced"
    );
    // The replacement decodes: a third store hits it.
    let third = store(&server.url(), "share::corrupt", Duration::from_secs(5));
    assert_eq!(third.get_or_insert_with(1, || unreachable!()), value_of(1));
}

#[test]
fn async_callers_use_redis_under_tokio_and_under_a_minimal_executor() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let first = store(&server.url(), "share::async", Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let v = runtime.block_on(first.get_or_insert_with_async(7, async { value_of(7) }));
    assert_eq!(v, value_of(7));
    let second = store(&server.url(), "share::async", Duration::from_secs(5));
    let v = pollster::block_on(second.get_or_insert_with_async(7, async { unreachable!() }));
    assert_eq!(v, value_of(7));
    assert_eq!(redis_info(&second).hits, 1);
}

// --- a Redis outage is invisible to callers --------------------------------------------------

/// Calls `store` for keys `0..keys` from `threads` threads until `stop`, checking every value
/// and the time of every call; returns the longest call.
fn hammer(
    store: &FaasCacheDict<u64, String>,
    threads: usize,
    keys: u64,
    body: Duration,
    stop: &AtomicBool,
) -> Duration {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut longest = Duration::ZERO;
                    let mut i = t as u64;
                    while !stop.load(Ordering::Relaxed) {
                        let key = i % keys;
                        i += 1;
                        let start = Instant::now();
                        let value = store.get_or_insert_with(key, || {
                            std::thread::sleep(body);
                            value_of(key)
                        });
                        longest = longest.max(start.elapsed());
                        assert_eq!(value, value_of(key), "a wrong value for {key}");
                        if i.is_multiple_of(7) {
                            // Keep reaching Redis: forget the key in memory now and then.
                            store.remove(&key);
                        }
                    }
                    longest
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no caller panics"))
            .max()
            .unwrap_or_default()
    })
}

/// The longest a call may take while Redis is unavailable: the body, plus a budget for each
/// Redis call of the call (lookup, lease, write) before the breaker opens, plus scheduling on
/// a loaded 2-core machine. A call that ignored the budget would wait for the server, which
/// the tests keep stopped or away for several seconds.
fn bound(body: Duration) -> Duration {
    body + BUDGET * 4 + Duration::from_millis(900)
}

/// Waits until a value written through `store` is found in Redis by a fresh store.
fn assert_resumes(server: &RedisServer, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut key = 1_000;
    loop {
        key += 1;
        let writer = store(&server.url(), name, Duration::from_secs(5));
        writer.get_or_insert_with(key, || value_of(key));
        let reader = store(&server.url(), name, Duration::from_secs(5));
        if reader.get_or_insert_with(key, || "not from redis".to_owned()) == value_of(key) {
            return;
        }
        assert!(Instant::now() < deadline, "the Redis tier did not resume");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn redis_killed_and_restarted_under_load() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "outage::down", Duration::from_secs(5));
    let stop = AtomicBool::new(false);
    let body = Duration::from_millis(2);
    let longest = std::thread::scope(|scope| {
        let load = scope.spawn(|| hammer(&s, 4, 50, body, &stop));
        std::thread::sleep(Duration::from_millis(300));
        server.kill();
        std::thread::sleep(Duration::from_secs(2));
        server.restart();
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        load.join().unwrap()
    });
    assert!(longest < bound(body), "a call waited {longest:?}");
    let info = redis_info(&s);
    assert!(info.errors > 0, "the outage was counted: {info:?}");
    assert_resumes(&server, "outage::down");
    let info = redis_info(&store(
        &server.url(),
        "outage::down",
        Duration::from_secs(5),
    ));
    assert_eq!(info.errors, 0);
}

#[test]
fn redis_paused_with_sigstop_is_a_slow_server_that_costs_one_budget() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "outage::paused", Duration::from_secs(5));
    let stop = AtomicBool::new(false);
    let body = Duration::from_millis(2);
    let longest = std::thread::scope(|scope| {
        let load = scope.spawn(|| hammer(&s, 4, 50, body, &stop));
        std::thread::sleep(Duration::from_millis(300));
        server.pause();
        std::thread::sleep(Duration::from_secs(3));
        server.resume();
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        load.join().unwrap()
    });
    // Paused for 3 s: a call that waited for the server would take that long.
    assert!(longest < bound(body), "a call waited {longest:?}");
    let info = redis_info(&s);
    assert!(
        info.errors_by_kind.iter().any(|(k, _)| k == "timeout"),
        "{info:?}"
    );
    assert_resumes(&server, "outage::paused");
}

#[test]
fn redis_flapping_under_load() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "outage::flapping", Duration::from_secs(5));
    let stop = AtomicBool::new(false);
    let body = Duration::from_millis(1);
    let longest = std::thread::scope(|scope| {
        let load = scope.spawn(|| hammer(&s, 4, 20, body, &stop));
        for round in 0..6 {
            std::thread::sleep(Duration::from_millis(250));
            if round % 2 == 0 {
                server.kill();
            } else {
                server.restart();
            }
        }
        server.restart();
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        load.join().unwrap()
    });
    assert!(longest < bound(body), "a call waited {longest:?}");
    assert_resumes(&server, "outage::flapping");
}

#[test]
fn redis_flushed_under_load() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "outage::flushed", Duration::from_secs(5));
    let stop = AtomicBool::new(false);
    let body = Duration::from_millis(1);
    let longest = std::thread::scope(|scope| {
        let load = scope.spawn(|| hammer(&s, 4, 20, body, &stop));
        for _ in 0..10 {
            std::thread::sleep(Duration::from_millis(100));
            server.flushall();
        }
        stop.store(true, Ordering::Relaxed);
        load.join().unwrap()
    });
    assert!(longest < bound(body), "a call waited {longest:?}");
    // A flush is no failure: nothing was counted as an error, and the tier still works.
    assert_eq!(redis_info(&s).errors, 0);
    assert_resumes(&server, "outage::flushed");
}

#[test]
fn with_the_breaker_open_calls_skip_redis_at_once() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let s = store(&server.url(), "outage::open", Duration::from_secs(5));
    s.get_or_insert_with(0, || value_of(0));
    server.kill();
    for key in 1..=5 {
        assert_eq!(s.get_or_insert_with(key, || value_of(key)), value_of(key));
    }
    assert_eq!(redis_info(&s).health.as_deref(), Some("open"));
    let start = Instant::now();
    for key in 100..200 {
        assert_eq!(s.get_or_insert_with(key, || value_of(key)), value_of(key));
    }
    // 100 misses with the breaker open: no connection attempt, no wait.
    assert!(
        start.elapsed() < Duration::from_millis(200),
        "{:?}",
        start.elapsed()
    );
}

// --- several real processes ---------------------------------------------------------------

/// The function the child processes memoize: the URL comes from `FAAS_MEMO_REDIS_URL`.
static SHARED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(redis = true, ttl = 60, dedupe_timeout = 10)]
fn shared(key: u64) -> String {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    if let Ok(ms) = std::env::var("FAAS_MEMO_TEST_BODY_MS") {
        std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
    }
    value_of(key)
}

/// The holder of the SIGKILL test: a lease of 2 s, a body that announces itself and hangs.
static HELD_RUNS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(redis = true, dedupe_timeout = 2)]
fn held(key: u64) -> String {
    HELD_RUNS.fetch_add(1, Ordering::SeqCst);
    if std::env::var("FAAS_MEMO_TEST_HANG").is_ok() {
        println!("holding");
        std::thread::sleep(Duration::from_secs(120));
    }
    value_of(key)
}

/// Over TLS: a budget for handshakes on a loaded machine.
#[faas_cached(redis = true, redis_timeout = 2)]
fn shared_tls(key: u64) -> String {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    value_of(key)
}

#[faas_cached(redis = true)]
async fn shared_async(key: u64) -> Option<String> {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    (key != 0).then(|| value_of(key))
}

/// Waits until the wall-clock time (ms since the epoch) in `FAAS_MEMO_TEST_START`, so that
/// children started one after the other call at the same moment.
fn wait_for_start() {
    if let Ok(at) = std::env::var("FAAS_MEMO_TEST_START") {
        let at = UNIX_EPOCH + Duration::from_millis(at.parse().unwrap());
        if let Ok(wait) = at.duration_since(SystemTime::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// What each child does, by role. Every child prints `ran=<bodies run here>` last.
#[test]
#[ignore = "a child process of the multi-process tests"]
fn child_main() {
    let Some(role) = child_role() else { return };
    wait_for_start();
    let key: u64 = std::env::var("FAAS_MEMO_TEST_KEY").map_or(1, |k| k.parse().unwrap());
    match role.as_str() {
        "call" => {
            assert_eq!(shared(key), value_of(key));
            let info = shared_cache_info();
            println!("l2_hits={}", info.tiers[0].hits);
        }
        "call-tls" => {
            assert_eq!(shared_tls(key), value_of(key));
            println!("l2_hits={}", shared_tls_cache_info().tiers[0].hits);
        }
        "stampede" => {
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| assert_eq!(shared(key), value_of(key)));
                }
            });
            println!("lease_waits={}", shared_cache_info().tiers[0].lease_waits);
        }
        "hold" => {
            held(key);
        }
        "take" => {
            let start = Instant::now();
            assert_eq!(held(key), value_of(key));
            println!("waited_ms={}", start.elapsed().as_millis());
            println!("ran={}", HELD_RUNS.load(Ordering::SeqCst));
            return;
        }
        "async" => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            assert_eq!(runtime.block_on(shared_async(key)), Some(value_of(key)));
            assert_eq!(runtime.block_on(shared_async(0)), None);
            println!("l2_hits={}", shared_async_cache_info().tiers[0].hits);
        }
        other => panic!("unknown role {other}"),
    }
    println!("ran={}", SHARED_RUNS.load(Ordering::SeqCst));
}

fn run_children(
    server: &RedisServer,
    role: &str,
    count: usize,
    extra: &[(&str, &str)],
) -> Vec<std::process::Output> {
    let url = server.url();
    let start = (SystemTime::now() + Duration::from_millis(1500))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let mut env = vec![
        (REDIS_URL_ENV, url.as_str()),
        ("FAAS_MEMO_TEST_START", &start),
    ];
    env.extend_from_slice(extra);
    let children: Vec<_> = (0..count)
        .map(|_| child("child_main", role, &env))
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "a child failed: {out:?}");
            out
        })
        .collect()
}

fn ran(outputs: &[std::process::Output]) -> Vec<usize> {
    outputs
        .iter()
        .map(|o| reported(o, "ran=")[0].parse().unwrap())
        .collect()
}

#[test]
fn two_processes_share_a_value() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let first = run_children(&server, "call", 1, &[("FAAS_MEMO_TEST_KEY", "21")]);
    let second = run_children(&server, "call", 1, &[("FAAS_MEMO_TEST_KEY", "21")]);
    assert_eq!(ran(&first), [1]);
    assert_eq!(ran(&second), [0], "a hit in the second process");
    assert_eq!(reported(&second[0], "l2_hits="), ["1"]);
}

#[test]
fn four_processes_share_a_value() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let first = run_children(&server, "call", 1, &[("FAAS_MEMO_TEST_KEY", "4")]);
    assert_eq!(ran(&first), [1]);
    let others = run_children(&server, "call", 3, &[("FAAS_MEMO_TEST_KEY", "4")]);
    assert_eq!(ran(&others), [0, 0, 0]);
}

#[test]
fn four_processes_of_eight_threads_on_one_cold_key_run_the_body_once() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let outputs = run_children(
        &server,
        "stampede",
        4,
        &[
            ("FAAS_MEMO_TEST_KEY", "99"),
            ("FAAS_MEMO_TEST_BODY_MS", "400"),
        ],
    );
    let ran = ran(&outputs);
    assert_eq!(
        ran.iter().sum::<usize>(),
        1,
        "bodies run per process: {ran:?}"
    );
    // One lease request per process: the other threads waited in their process.
    let waits: usize = outputs
        .iter()
        .map(|o| reported(o, "lease_waits=")[0].parse::<usize>().unwrap())
        .sum();
    assert!(waits <= 3, "{waits}");
}

/// A holder that stops (SIGKILL, or SIGSTOP: a frozen FaaS instance) in the middle of its
/// computation is taken over once its lease (2 s) expires.
fn holder_is_taken_over(signal: &str) {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let url = server.url();
    let env = [
        (REDIS_URL_ENV, url.as_str()),
        ("FAAS_MEMO_TEST_KEY", "5"),
        ("FAAS_MEMO_TEST_HANG", "1"),
    ];
    let mut holder = child("child_main", "hold", &env);
    let started = Instant::now();
    let _lines = await_announcement(&mut holder, "holding");
    let taker = child(
        "child_main",
        "take",
        &[(REDIS_URL_ENV, url.as_str()), ("FAAS_MEMO_TEST_KEY", "5")],
    );
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&holder, signal);
    let out = taker.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(reported(&out, "ran="), ["1"], "the taker computed");
    let waited: u64 = reported(&out, "waited_ms=")[0].parse().unwrap();
    // The lease ran out 2 s after the holder took it; the taker waited for that, and not
    // for the 4 s bound of a wait (or forever).
    assert!(
        waited >= 1000,
        "took over before the lease expired: {waited} ms"
    );
    assert!(
        started.elapsed() < Duration::from_millis(3900) + Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_holder_killed_with_sigkill_is_taken_over_after_its_lease() {
    holder_is_taken_over("KILL");
}

#[test]
fn a_frozen_holder_is_taken_over_after_its_lease() {
    holder_is_taken_over("STOP");
}

#[test]
fn async_functions_share_values_and_cache_only_some() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let first = run_children(&server, "async", 1, &[("FAAS_MEMO_TEST_KEY", "8")]);
    let second = run_children(&server, "async", 1, &[("FAAS_MEMO_TEST_KEY", "8")]);
    // `None` (key 0) is never cached, so each process runs it: 2 bodies, then 1.
    assert_eq!(ran(&first), [2]);
    assert_eq!(ran(&second), [1]);
    assert_eq!(reported(&second[0], "l2_hits="), ["1"]);
}

#[test]
fn tls_with_a_verified_certificate_and_a_password() {
    let Some(server) = RedisServer::start_with(Options {
        password: Some("tls-pass".to_owned()),
        tls: true,
    }) else {
        return;
    };
    // OpenSSL verifies the server against the test's CA, named by SSL_CERT_FILE in the
    // children's environment.
    let ca = server.ca_file().display().to_string();
    let first = run_children(&server, "call-tls", 1, &[("SSL_CERT_FILE", &ca)]);
    let second = run_children(&server, "call-tls", 1, &[("SSL_CERT_FILE", &ca)]);
    assert_eq!(ran(&first), [1]);
    assert_eq!(ran(&second), [0], "a hit over TLS");
    // Without the CA, the certificate is refused: the tier fails, the call still works.
    let refused = run_children(&server, "call-tls", 1, &[]);
    assert_eq!(ran(&refused), [1]);
    assert_eq!(reported(&refused[0], "l2_hits="), ["0"]);
}
