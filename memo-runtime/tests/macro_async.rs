//! Memoized `async fn`s: shared store, one body run per miss, waiting that never blocks the
//! executor thread, under tokio and under a minimal executor (pollster).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use memo_runtime::faas_cached;

static FETCH_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(ttl = 60)]
async fn fetch(id: u32, region: &str) -> String {
    FETCH_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    format!("{region}/{id}")
}

#[tokio::test(flavor = "current_thread")]
async fn waiters_yield_on_a_single_threaded_runtime() {
    // On one thread, a waiter that blocked would deadlock the leader it waits for.
    let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(fetch(1, "eu"))).collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), "eu/1");
    }
    assert_eq!(FETCH_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(fetch(1, "eu").await, "eu/1");
    let info = fetch_cache_info();
    assert_eq!(info.current_items, 1);
    assert!(
        fetch_invalidate(1, "eu"),
        "helpers of an async fn are synchronous"
    );
}

static MULTI_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn multi(id: u32) -> Result<u32, String> {
    MULTI_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    if id == 0 {
        return Err("zero".to_owned());
    }
    Ok(id * 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_for_many_tasks_on_a_multi_threaded_runtime() {
    let tasks: Vec<_> = (0..16).map(|_| tokio::spawn(multi(21))).collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(42));
    }
    assert_eq!(MULTI_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(multi(0).await, Err("zero".to_owned()));
    assert_eq!(multi(0).await, Err("zero".to_owned()));
    assert_eq!(
        MULTI_CALLS.load(Ordering::SeqCst),
        3,
        "errors are not cached"
    );
}

static PLAIN_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn plain(x: u64) -> u64 {
    PLAIN_CALLS.fetch_add(1, Ordering::SeqCst);
    std::future::ready(x + 1).await
}

#[test]
fn works_under_a_minimal_executor() {
    assert_eq!(pollster::block_on(plain(1)), 2);
    assert_eq!(pollster::block_on(plain(1)), 2);
    assert_eq!(PLAIN_CALLS.load(Ordering::SeqCst), 1);
}

static DROPPED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn abandonable(id: u32) -> u32 {
    DROPPED_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    id
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_leader_future_releases_its_waiters() {
    let leader = tokio::spawn(abandonable(9));
    while DROPPED_CALLS.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let waiter = tokio::spawn(abandonable(9));
    tokio::task::yield_now().await; // let the waiter join the computation in flight
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    assert_eq!(waiter.await.unwrap(), 9);
    assert_eq!(
        DROPPED_CALLS.load(Ordering::SeqCst),
        2,
        "a waiter computed instead"
    );
}

static FORGOTTEN_CALLS: AtomicUsize = AtomicUsize::new(0);

struct NoopWake;
impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

#[faas_cached(dedupe_timeout = 0.1)]
async fn second_try(id: u32) -> u32 {
    if FORGOTTEN_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        std::future::pending::<()>().await;
    }
    id + 100
}

#[tokio::test(flavor = "current_thread")]
async fn a_leader_nobody_polls_is_taken_over_after_the_dedupe_timeout() {
    // Poll the leader once, so that it holds the key, then never again (but keep it alive).
    let waker = Waker::from(Arc::new(NoopWake));
    let mut leader: Pin<Box<dyn Future<Output = u32> + Send>> = Box::pin(second_try(1));
    assert!(leader
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert_eq!(FORGOTTEN_CALLS.load(Ordering::SeqCst), 1);
    // A second caller waits 100 ms without progress from the leader, then computes.
    let value = tokio::time::timeout(Duration::from_secs(10), second_try(1))
        .await
        .expect("the waiter was not released");
    assert_eq!(value, 101);
    assert_eq!(FORGOTTEN_CALLS.load(Ordering::SeqCst), 2);
    drop(leader);
}

static CONTENDED_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn contended(id: u32) -> String {
    CONTENDED_CALLS.fetch_add(1, Ordering::SeqCst);
    // Blocks this executor's only thread: the other callers, on their own threads, must be
    // waiting (parked by pollster, woken by the leader) rather than computing.
    std::thread::sleep(Duration::from_millis(100));
    format!("value {id}")
}

#[test]
fn contended_key_under_a_minimal_executor_runs_the_body_once() {
    let start = std::sync::Barrier::new(4);
    let results: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    pollster::block_on(contended(8))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results, vec!["value 8"; 4]);
    assert_eq!(CONTENDED_CALLS.load(Ordering::SeqCst), 1);
    let info = contended_cache_info();
    // One computation; the other three callers waited for it (or, arriving late, hit).
    assert_eq!((info.misses, info.current_items), (1, 1));
    assert_eq!(info.hits + info.waited, 3);
}

static PANICKY_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn panicky(id: u32) -> u32 {
    let call = PANICKY_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    if call == 0 {
        panic!("the first computation fails");
    }
    id * 10
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_async_body_does_not_wedge_its_key() {
    let leader = tokio::spawn(panicky(4));
    while PANICKY_CALLS.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    // Joins the computation in flight, and takes over when it panics.
    let waiter = tokio::spawn(panicky(4));
    let err = leader.await.unwrap_err();
    assert!(err.is_panic(), "the leader's panic reaches its JoinHandle");
    let value = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the waiter was not released");
    assert_eq!(value.unwrap(), 40);
    assert_eq!(PANICKY_CALLS.load(Ordering::SeqCst), 2);
    // The next call is a hit.
    assert_eq!(panicky(4).await, 40);
    assert_eq!(PANICKY_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(panicky_cache_info().current_items, 1);
}

static AFTER_PANIC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn fails_once(id: u32) -> u32 {
    if AFTER_PANIC_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("the first computation fails");
    }
    id + 1
}

#[tokio::test(flavor = "current_thread")]
async fn after_an_async_panic_the_next_call_computes() {
    let err = tokio::spawn(fails_once(1)).await.unwrap_err();
    assert!(err.is_panic());
    let value = tokio::time::timeout(Duration::from_secs(5), fails_once(1))
        .await
        .expect("the key stayed wedged");
    assert_eq!(value, 2);
    assert_eq!(AFTER_PANIC_CALLS.load(Ordering::SeqCst), 2);
}
