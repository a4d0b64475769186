//! Hits of the options that change a memoized function's hit path, each against a plain hit
//! of the same shape measured in the same rounds: `cargo bench -p memo-bench --bench options`.
//!
//! - `refresh_on_hit` and `stale` (a fresh hit, through the timed lookup) against `ttl` alone;
//! - a stale-serving hit (`stale`: the entry is past its TTL and another caller is recomputing
//!   it) against a fresh hit of a function with the same options, both async, polled once.
//!
//! Kept out of `benches/store.rs` so that the plain-hit figures there come from the same
//! binary as before these options existed (code placement alone moved them by ~10%). Without
//! `--bench` (as `cargo test` runs it) it does one tiny round, to prove that it works.

use std::future::Future;
use std::hint::black_box;
use std::time::Instant;

use memo_bench::{median, shuffled, Config};
use memo_runtime::faas_cached;

#[faas_cached(ttl = 3600, max_items = 100_000)]
fn memoized_ttl(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[faas_cached(ttl = 3600, max_items = 100_000, refresh_on_hit)]
fn memoized_on_hit(x: u64) -> u64 {
    x.wrapping_mul(x)
}

#[faas_cached(ttl = 3600, max_items = 100_000, stale = 60)]
fn memoized_stale(x: u64) -> u64 {
    x.wrapping_mul(x)
}

/// Hits of the options that change the hit path (`refresh_on_hit`, the timed lookup of
/// `stale`), against a plain TTL hit of the same shape, in the same rounds.
fn bench_option_hits(cfg: &Config) {
    let keys = cfg.size(10_000, 100);
    let order = shuffled(keys, 5);
    for &k in &order {
        memoized_ttl(k);
        memoized_on_hit(k);
        memoized_stale(k);
    }
    let passes = cfg.size(300, 2);
    let per_op = |f: &dyn Fn(u64) -> u64| {
        let start = Instant::now();
        let mut acc = 0u64;
        for _ in 0..passes {
            for &k in &order {
                acc = acc.wrapping_add(f(black_box(k)));
            }
        }
        black_box(acc);
        start.elapsed().as_nanos() as f64 / (passes * order.len()) as f64
    };
    let (mut ttl, mut on_hit, mut stale) = (Vec::new(), Vec::new(), Vec::new());
    let (mut on_hit_ratio, mut stale_ratio) = (Vec::new(), Vec::new());
    for _ in 0..cfg.rounds * 2 {
        let plain = per_op(&|k| memoized_ttl(k));
        let hit = per_op(&|k| memoized_on_hit(k));
        let timed = per_op(&|k| memoized_stale(k));
        ttl.push(plain);
        on_hit.push(hit);
        stale.push(timed);
        on_hit_ratio.push(hit / plain);
        stale_ratio.push(timed / plain);
    }
    println!("hits by option, u64 -> u64, {keys} warm keys in shuffled order, 1 thread:");
    println!(
        "  #[faas_cached(ttl)]:                  {:6.1} ns/op",
        median(ttl)
    );
    println!(
        "  #[faas_cached(ttl, refresh_on_hit)]:  {:6.1} ns/op",
        median(on_hit)
    );
    println!(
        "  #[faas_cached(ttl, stale)], fresh:    {:6.1} ns/op",
        median(stale)
    );
    println!(
        "  refresh_on_hit / ttl: {:.2}x, stale (fresh hit) / ttl: {:.2}x (medians of the ratios)",
        median(on_hit_ratio),
        median(stale_ratio)
    );
}

static STALE_CLOCK: std::sync::LazyLock<memo_runtime::MockClock> =
    std::sync::LazyLock::new(memo_runtime::MockClock::new);
/// Set once the leaders of the stale bench are to hang in their recomputation.
static HANG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[faas_cached(ttl = 1, stale = 3600, max_items = 100_000, clock = STALE_CLOCK.clone())]
async fn stale_async(x: u64) -> u64 {
    if HANG.load(std::sync::atomic::Ordering::Relaxed) {
        std::future::pending::<()>().await;
    }
    x.wrapping_mul(x)
}

#[faas_cached(ttl = 3600, stale = 60, max_items = 100_000, clock = STALE_CLOCK.clone())]
async fn fresh_async(x: u64) -> u64 {
    x.wrapping_mul(x)
}

/// Polls a future once: a memoized async call that completes without waiting.
fn poll_once<F: Future<Output = u64>>(future: F) -> u64 {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => unreachable!("a hit completes at once"),
    }
}

/// A stale-serving hit (`stale`: the value is past its TTL and another caller is recomputing
/// it) against a fresh hit of a function with the same options, both async and polled once.
fn bench_stale_serving(cfg: &Config) {
    let keys = cfg.size(10_000, 100);
    let order = shuffled(keys, 7);
    for &k in &order {
        poll_once(stale_async(k));
        poll_once(fresh_async(k));
    }
    // Every entry of `stale_async` goes stale, and a leader starts recomputing each one and
    // hangs there: every call below is served the stale value.
    STALE_CLOCK.advance(std::time::Duration::from_secs(2));
    HANG.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut leaders: Vec<_> = order.iter().map(|&k| Box::pin(stale_async(k))).collect();
    for leader in &mut leaders {
        assert!(leader.as_mut().poll(&mut cx).is_pending());
    }
    let passes = cfg.size(100, 2);
    let per_op = |f: &dyn Fn(u64) -> u64| {
        let start = Instant::now();
        let mut acc = 0u64;
        for _ in 0..passes {
            for &k in &order {
                acc = acc.wrapping_add(f(black_box(k)));
            }
        }
        black_box(acc);
        start.elapsed().as_nanos() as f64 / (passes * order.len()) as f64
    };
    let (mut stale, mut fresh, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..cfg.rounds * 2 {
        let s = per_op(&|k| poll_once(stale_async(k)));
        let f = per_op(&|k| poll_once(fresh_async(k)));
        stale.push(s);
        fresh.push(f);
        ratios.push(s / f);
    }
    assert!(stale_async_cache_info().stale_hits >= (passes * order.len()) as u64);
    drop(leaders);
    println!("async hits, stale = .., u64 -> u64, {keys} keys, 1 thread, polled once:");
    println!(
        "  fresh hit:                            {:6.1} ns/op",
        median(fresh)
    );
    println!(
        "  stale-serving hit (recompute in flight): {:6.1} ns/op",
        median(stale)
    );
    println!(
        "  stale-serving / fresh: {:.2}x (median of the ratios)",
        median(ratios)
    );
}

fn main() {
    let cfg = Config::from_args();
    bench_option_hits(&cfg);
    bench_stale_serving(&cfg);
}
