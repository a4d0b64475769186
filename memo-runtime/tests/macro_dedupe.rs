//! Stampede protection of memoized functions: one computation per key however many callers
//! miss at once; different keys never wait for each other; a failing leader wedges nothing.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Barrier, Condvar, Mutex};
use std::time::Duration;

use memo_runtime::faas_cached;

static SLOW_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn slow_square(n: u64) -> u64 {
    SLOW_CALLS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    n * n
}

#[test]
fn eight_concurrent_callers_of_one_key_run_the_body_once() {
    let start = Barrier::new(8);
    let results: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    slow_square(12)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results, [144; 8]);
    assert_eq!(SLOW_CALLS.load(Ordering::SeqCst), 1);
    let info = slow_square_cache_info();
    assert_eq!(info.current_items, 1);
}

/// How many bodies of `rendezvous` are running, and whether two ever ran at once.
static INSIDE: Mutex<usize> = Mutex::new(0);
static BOTH_INSIDE: Condvar = Condvar::new();
static OVERLAPPED: AtomicBool = AtomicBool::new(false);

#[faas_cached]
fn rendezvous(key: u32) -> u32 {
    let mut inside = INSIDE.lock().unwrap();
    *inside += 1;
    BOTH_INSIDE.notify_all();
    // Wait (bounded) for the other key's body to be running at the same time: it can only
    // get in if nothing serializes different keys.
    let (inside, _) = BOTH_INSIDE
        .wait_timeout_while(inside, Duration::from_secs(10), |n| *n < 2)
        .unwrap();
    if *inside >= 2 {
        OVERLAPPED.store(true, Ordering::SeqCst);
    }
    key
}

#[test]
fn two_slow_keys_run_in_parallel() {
    std::thread::scope(|s| {
        let a = s.spawn(|| rendezvous(1));
        let b = s.spawn(|| rendezvous(2));
        assert_eq!((a.join().unwrap(), b.join().unwrap()), (1, 2));
    });
    assert!(
        OVERLAPPED.load(Ordering::SeqCst),
        "the two bodies never ran at once"
    );
}

static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);
static ENTERED: Barrier = Barrier::new(2);
static RELEASE: Barrier = Barrier::new(2);

#[faas_cached]
fn flaky(n: u32) -> u32 {
    let call = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst);
    if call == 0 {
        ENTERED.wait();
        RELEASE.wait();
        panic!("the first computation fails");
    }
    n + 1
}

#[test]
fn a_panicking_body_does_not_wedge_its_key() {
    std::thread::scope(|s| {
        let leader = s.spawn(|| catch_unwind(AssertUnwindSafe(|| flaky(5))));
        ENTERED.wait(); // the leader is inside the body
        let waiter = s.spawn(|| flaky(5));
        // Give the waiter time to join the computation in flight, then let the leader panic.
        std::thread::sleep(Duration::from_millis(50));
        RELEASE.wait();
        assert!(
            leader.join().unwrap().is_err(),
            "the leader's panic reaches its caller"
        );
        assert_eq!(waiter.join().unwrap(), 6, "a waiter computed instead");
    });
    assert_eq!(flaky(5), 6);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(flaky_cache_info().current_items, 1);
}

static STUCK_CALLS: AtomicUsize = AtomicUsize::new(0);
static UNSTICK: Barrier = Barrier::new(2);

#[faas_cached(dedupe_timeout = 0.1)]
fn sometimes_stuck(n: u32) -> u32 {
    if STUCK_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        UNSTICK.wait(); // stuck until the test lets it go
    }
    n * 3
}

#[test]
fn a_stalled_leader_is_taken_over_after_the_dedupe_timeout() {
    std::thread::scope(|s| {
        let stuck = s.spawn(|| sometimes_stuck(7));
        while STUCK_CALLS.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        // This caller waits 100 ms for the stuck leader, then computes itself.
        assert_eq!(sometimes_stuck(7), 21);
        assert_eq!(STUCK_CALLS.load(Ordering::SeqCst), 2);
        UNSTICK.wait();
        assert_eq!(stuck.join().unwrap(), 21);
    });
}

/// Bodies of `undeduped` entered so far and running now; the most that ever ran at once.
static UNDEDUPED_STATE: Mutex<(usize, usize)> = Mutex::new((0, 0));
static UNDEDUPED_MAX: AtomicUsize = AtomicUsize::new(0);
static UNDEDUPED_ENTERED: Condvar = Condvar::new();
static UNDEDUPED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(dedupe = false)]
fn undeduped(key: u32) -> u32 {
    UNDEDUPED_CALLS.fetch_add(1, Ordering::SeqCst);
    let mut state = UNDEDUPED_STATE.lock().unwrap();
    state.0 += 1;
    state.1 += 1;
    UNDEDUPED_MAX.fetch_max(state.1, Ordering::SeqCst);
    UNDEDUPED_ENTERED.notify_all();
    // A barrier with a timeout: with dedupe on, only one body would get in at a time, and
    // this would give up after 10 s instead of deadlocking.
    let (mut state, _) = UNDEDUPED_ENTERED
        .wait_timeout_while(state, Duration::from_secs(10), |s| s.0 < 4)
        .unwrap();
    state.1 -= 1;
    key * 2
}

#[test]
fn without_dedupe_concurrent_misses_on_one_key_each_run_the_body() {
    let start = Barrier::new(4);
    let results: Vec<u32> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    undeduped(5)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results, [10; 4]);
    assert_eq!(UNDEDUPED_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(
        UNDEDUPED_MAX.load(Ordering::SeqCst),
        4,
        "the four bodies ran at the same time"
    );
    assert_eq!(undeduped(5), 10);
    assert_eq!(UNDEDUPED_CALLS.load(Ordering::SeqCst), 4, "then a hit");
    assert_eq!(undeduped_cache_info().current_items, 1);
}
