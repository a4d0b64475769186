//! Stampede protection (the dogpile lock): when many callers miss on one key at once, one of
//! them (the leader) computes the value and the others wait for it.
//!
//! - Callers on different keys never wait for each other: the registry of computations in
//!   flight is sharded and its locks are held only to register or finish a slot, never while a
//!   value is computed.
//! - A leader that fails (its computation returned an error, panicked, or its future was
//!   dropped) releases its waiters at once; they retry and one of them becomes the leader.
//! - A leader that makes no progress for the store's dedupe timeout (a thread stuck in user
//!   code, a future nobody polls any more) is taken over: one waiter becomes the new leader and
//!   the others wait for it. For async leaders, progress means being polled.
//! - Async waiters never block their thread: they park their task's waker in the slot, and a
//!   small timer thread wakes them when the timeout is due. No executor is assumed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Condvar;

use crate::sync::Mutex;

/// Shards of the registry; a power of two.
const SHARDS: usize = 16;

/// The computations in flight on keys of one registry shard.
type Slots<K, V> = Mutex<Vec<Arc<Slot<K, V>>>>;

/// The computations in flight for one store.
pub(crate) struct InFlight<K, V> {
    shards: [Slots<K, V>; SHARDS],
}

pub(crate) struct Slot<K, V> {
    hash: u64,
    key: K,
    state: Mutex<State<V>>,
    done: Condvar,
    /// Nanoseconds since `epoch()` of the leader's last sign of life.
    progress: AtomicU64,
}

enum State<V> {
    Running { wakers: Vec<Option<Waker>> },
    Done(V),
    Failed,
}

/// What a waiter learns.
pub(crate) enum Waited<V> {
    /// The leader's value.
    Done(V),
    /// The leader failed or was taken over: try again.
    Retry,
}

impl<K, V> InFlight<K, V> {
    pub(crate) fn new() -> Self {
        InFlight {
            shards: std::array::from_fn(|_| Mutex::new(Vec::new())),
        }
    }

    fn shard(&self, hash: u64) -> &Slots<K, V> {
        &self.shards[(hash >> 40) as usize & (SHARDS - 1)]
    }
}

impl<K: Eq + Clone, V> InFlight<K, V> {
    /// Joins the computation of `key` in flight, or starts one and leads it.
    pub(crate) fn join(&self, hash: u64, key: &K) -> Joined<'_, K, V> {
        let mut slots = self.shard(hash).lock();
        if let Some(slot) = slots.iter().find(|s| s.hash == hash && s.key == *key) {
            return Joined::Wait(slot.clone());
        }
        let slot = Arc::new(Slot {
            hash,
            key: key.clone(),
            state: Mutex::new(State::Running { wakers: Vec::new() }),
            done: Condvar::new(),
            progress: AtomicU64::new(now_nanos()),
        });
        slots.push(slot.clone());
        Joined::Lead(Lead {
            registry: self,
            slot,
            finished: false,
        })
    }

    /// Removes a slot from the registry if it is still there.
    fn unregister(&self, slot: &Arc<Slot<K, V>>) {
        let mut slots = self.shard(slot.hash).lock();
        if let Some(i) = slots.iter().position(|s| Arc::ptr_eq(s, slot)) {
            slots.swap_remove(i);
        }
    }

    /// Gives up on a stalled leader: its waiters retry, and the next caller leads.
    pub(crate) fn take_over(&self, slot: &Arc<Slot<K, V>>) {
        self.unregister(slot);
        slot.settle(State::Failed);
    }
}

pub(crate) enum Joined<'a, K: Eq + Clone, V> {
    Lead(Lead<'a, K, V>),
    Wait(Arc<Slot<K, V>>),
}

/// The leader's obligation: finish the slot. Dropped unfinished (a panic, a dropped future),
/// it fails the slot so that waiters retry.
pub(crate) struct Lead<'a, K: Eq + Clone, V> {
    registry: &'a InFlight<K, V>,
    slot: Arc<Slot<K, V>>,
    finished: bool,
}

impl<K: Eq + Clone, V> Lead<'_, K, V> {
    /// Publishes the value (`None`: the computation produced nothing cacheable) and releases
    /// the waiters. Call after the value is in the store, so that a caller arriving once the
    /// slot is gone finds it there.
    pub(crate) fn finish_with(mut self, value: impl FnOnce() -> Option<V>) {
        self.finished = true;
        self.registry.unregister(&self.slot);
        // Once unregistered, nobody new can join: clone the value only if someone waits.
        let outcome = if Arc::strong_count(&self.slot) > 1 {
            value()
        } else {
            None
        };
        self.slot.settle(outcome.map_or(State::Failed, State::Done));
    }

    /// Runs the leader's future, counting every poll as progress so that waiters take over
    /// only a leader that nobody polls any more.
    pub(crate) async fn run_watched<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let progress = &self.slot.progress;
        std::future::poll_fn(|cx| {
            progress.store(now_nanos(), Ordering::Relaxed);
            future.as_mut().poll(cx)
        })
        .await
    }
}

impl<K: Eq + Clone, V> Drop for Lead<'_, K, V> {
    fn drop(&mut self) {
        if !self.finished {
            self.registry.unregister(&self.slot);
            self.slot.settle(State::Failed);
        }
    }
}

impl<K, V> Slot<K, V> {
    fn settle(&self, outcome: State<V>) {
        let wakers = {
            let mut state = self.state.lock();
            match std::mem::replace(&mut *state, outcome) {
                State::Running { wakers } => wakers,
                // Already settled (taken over, then the old leader finished): keep the first.
                previous => {
                    *state = previous;
                    Vec::new()
                }
            }
        };
        self.done.notify_all();
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }

    fn stalled_for(&self) -> Duration {
        Duration::from_nanos(now_nanos().saturating_sub(self.progress.load(Ordering::Relaxed)))
    }
}

impl<K, V: Clone> Slot<K, V> {
    fn outcome(&self) -> Option<Waited<V>> {
        match &*self.state.lock() {
            State::Running { .. } => None,
            State::Done(v) => Some(Waited::Done(v.clone())),
            State::Failed => Some(Waited::Retry),
        }
    }

    /// Blocks until the leader settles, or until it has shown no progress for `timeout`
    /// (`None` if it stalled: the caller should take over).
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Option<Waited<V>> {
        let mut state = self.state.lock();
        loop {
            match &*state {
                State::Done(v) => return Some(Waited::Done(v.clone())),
                State::Failed => return Some(Waited::Retry),
                State::Running { .. } => {}
            }
            match timeout {
                None => self.done.wait(&mut state),
                Some(timeout) => {
                    let stalled = self.stalled_for();
                    if stalled >= timeout {
                        return None;
                    }
                    self.done.wait_for(&mut state, timeout - stalled);
                }
            }
        }
    }

    /// Waits without blocking the thread; see [`wait`](Self::wait).
    pub(crate) fn wait_async(self: &Arc<Self>, timeout: Option<Duration>) -> WaitFuture<K, V> {
        WaitFuture {
            slot: self.clone(),
            timeout,
            waker_index: None,
            timer_armed_for: None,
        }
    }
}

/// A waiter's future: resolves when the leader settles, or to `None` when it stalled.
pub(crate) struct WaitFuture<K, V> {
    slot: Arc<Slot<K, V>>,
    timeout: Option<Duration>,
    waker_index: Option<usize>,
    timer_armed_for: Option<Instant>,
}

impl<K, V: Clone> Future for WaitFuture<K, V> {
    type Output = Option<Waited<V>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(outcome) = this.slot.outcome() {
            return Poll::Ready(Some(outcome));
        }
        if let Some(timeout) = this.timeout {
            let stalled = this.slot.stalled_for();
            if stalled >= timeout {
                return Poll::Ready(None);
            }
            let due = Instant::now() + (timeout - stalled);
            if this.timer_armed_for.map_or(true, |armed| armed < due) {
                timer().wake_at(due, cx.waker().clone());
                this.timer_armed_for = Some(due);
            }
        }
        let mut state = this.slot.state.lock();
        match &mut *state {
            State::Running { wakers } => {
                match this.waker_index {
                    Some(i) => match &mut wakers[i] {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    },
                    None => {
                        this.waker_index = Some(wakers.len());
                        wakers.push(Some(cx.waker().clone()));
                    }
                }
                Poll::Pending
            }
            // Settled between the check above and taking the lock.
            State::Done(v) => Poll::Ready(Some(Waited::Done(v.clone()))),
            State::Failed => Poll::Ready(Some(Waited::Retry)),
        }
    }
}

impl<K, V> Drop for WaitFuture<K, V> {
    fn drop(&mut self) {
        if let Some(i) = self.waker_index {
            if let State::Running { wakers } = &mut *self.slot.state.lock() {
                wakers[i] = None;
            }
        }
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Wakes async waiters when their timeout is due: one thread for the whole process, started
/// the first time an async waiter has a timeout.
struct Timer {
    due: Mutex<BinaryHeap<Reverse<Due>>>,
    changed: Condvar,
}

struct Due {
    at: Instant,
    waker: Waker,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            due: Mutex::new(BinaryHeap::new()),
            changed: Condvar::new(),
        }));
        let spawned = std::thread::Builder::new()
            .name("faas-memo-timer".to_owned())
            .spawn(move || timer.run());
        if let Err(err) = spawned {
            // Waiters then wake only when their leader settles.
            log::error!("faas-memo: could not start the timer thread: {err}");
        }
        timer
    })
}

impl Timer {
    fn wake_at(&self, at: Instant, waker: Waker) {
        self.due.lock().push(Reverse(Due { at, waker }));
        self.changed.notify_one();
    }

    fn run(&self) {
        let mut due = self.due.lock();
        loop {
            let now = Instant::now();
            while due.peek().is_some_and(|Reverse(d)| d.at <= now) {
                if let Some(Reverse(d)) = due.pop() {
                    d.waker.wake();
                }
            }
            match due.peek() {
                Some(Reverse(next)) => {
                    let wait = next.at - now;
                    self.changed.wait_for(&mut due, wait);
                }
                None => self.changed.wait(&mut due),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_caller_waits_and_gets_the_leaders_value() {
        let registry: InFlight<u32, String> = InFlight::new();
        let Joined::Lead(lead) = registry.join(7, &1) else {
            panic!("first caller leads")
        };
        let Joined::Wait(slot) = registry.join(7, &1) else {
            panic!("second caller waits")
        };
        let Joined::Lead(other) = registry.join(7, &2) else {
            panic!("another key leads independently")
        };
        std::thread::scope(|s| {
            let waiter = s.spawn(|| slot.wait(None));
            std::thread::sleep(Duration::from_millis(10));
            lead.finish_with(|| Some("v".to_owned()));
            assert!(matches!(waiter.join().unwrap(), Some(Waited::Done(v)) if v == "v"));
        });
        drop(other);
        assert!(registry.shards.iter().all(|s| s.lock().is_empty()));
    }

    #[test]
    fn a_dropped_leader_releases_its_waiters() {
        let registry: InFlight<u32, u32> = InFlight::new();
        let Joined::Lead(lead) = registry.join(1, &1) else {
            panic!()
        };
        let Joined::Wait(slot) = registry.join(1, &1) else {
            panic!()
        };
        drop(lead);
        assert!(matches!(slot.wait(None), Some(Waited::Retry)));
        assert!(matches!(registry.join(1, &1), Joined::Lead(_)));
    }

    #[test]
    fn a_stalled_leader_times_out() {
        let registry: InFlight<u32, u32> = InFlight::new();
        let Joined::Lead(_lead) = registry.join(1, &1) else {
            panic!()
        };
        let Joined::Wait(slot) = registry.join(1, &1) else {
            panic!()
        };
        assert!(slot.wait(Some(Duration::from_millis(20))).is_none());
        registry.take_over(&slot);
        assert!(matches!(registry.join(1, &1), Joined::Lead(_)));
    }
}
