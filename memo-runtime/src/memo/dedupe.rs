//! Stampede protection (the dogpile lock): when many callers miss on one key at once, one of
//! them (the leader) computes the value and the others wait for it.
//!
//! - Callers on different keys never wait for each other: the registry of computations in
//!   flight is sharded and its locks are held only to register or finish a computation, never
//!   while a value is computed.
//! - A computation nobody waits for costs two short critical sections and no allocation: the
//!   registry records only the key's hash and a ticket; the first waiter creates the [`Slot`]
//!   that waiters sleep on. Keys are told apart when the value is handed over: a waiter takes
//!   the leader's value only if the leader's key equals its own (two keys with one hash share a
//!   registry entry, and the second one then computes again).
//! - A leader that fails (its computation returned an error, panicked, or its future was
//!   dropped) releases its waiters at once; they retry and one of them becomes the leader.
//! - A leader that makes no progress for the store's dedupe timeout (a thread stuck in user
//!   code, a future nobody polls any more) is taken over: one waiter becomes the new leader and
//!   the others wait for it. Progress of an async leader is being polled; a blocking leader shows
//!   none, so its waiters take over once they have waited the whole timeout.
//! - Async waiters never block their thread: they park their task's waker in the slot, and a
//!   small timer thread wakes them when the timeout is due. No executor is assumed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::Condvar;

use crate::sync::Mutex;

/// Shards of the registry; a power of two.
const SHARDS: usize = 16;

/// A computation in flight, as the registry knows it.
struct Entry<K, V> {
    hash: u64,
    /// Tells this computation from a later one on the same hash (after a take-over).
    ticket: u64,
    /// Created by the first waiter (by the leader itself for an async computation).
    slot: Option<Arc<Slot<K, V>>>,
}

/// Hashes of the computations a registry shard finished last, which a new leader checks to
/// know whether the store may have received its key since it looked (see [`Lead::may_be_stored`]).
const RECENT: usize = 4;

struct Registry<K, V> {
    entries: Vec<Entry<K, V>>,
    next_ticket: u64,
    /// A ring of the hashes of the last [`RECENT`] computations finished here.
    recent: [u64; RECENT],
    recent_next: usize,
}

struct RegistryShard<K, V> {
    registry: Mutex<Registry<K, V>>,
    /// Callers waiting on this shard's computations: while zero, a leader need not prepare a
    /// copy of its value for anyone.
    waiters: AtomicUsize,
}

/// The computations in flight for one store.
pub(crate) struct InFlight<K, V> {
    shards: [RegistryShard<K, V>; SHARDS],
}

/// What waiters of one computation sleep on.
pub(crate) struct Slot<K, V> {
    hash: u64,
    ticket: u64,
    state: Mutex<State<K, V>>,
    done: Condvar,
    /// Polls of an async leader's future: its sign of life.
    polls: AtomicU64,
}

enum State<K, V> {
    Running {
        wakers: Vec<Option<Waker>>,
    },
    /// The leader's key and value.
    Done(K, V),
    Failed,
}

/// What a waiter learns.
pub(crate) enum Waited<V> {
    /// The leader's value, for the waiter's key.
    Done(V),
    /// The leader failed, was taken over, computed another key of the same hash, or produced
    /// nothing to share: try again.
    Retry,
}

impl<K, V> InFlight<K, V> {
    pub(crate) fn new() -> Self {
        InFlight {
            shards: std::array::from_fn(|_| RegistryShard {
                registry: Mutex::new(Registry {
                    entries: Vec::new(),
                    next_ticket: 0,
                    // Hash 0 is as likely as any other: a spurious match costs one lookup.
                    recent: [0; RECENT],
                    recent_next: 0,
                }),
                waiters: AtomicUsize::new(0),
            }),
        }
    }

    fn shard(&self, hash: u64) -> &RegistryShard<K, V> {
        &self.shards[(hash >> 40) as usize & (SHARDS - 1)]
    }

    /// Joins the computation in flight for `hash`, or starts one and leads it. An async leader
    /// (`eager_slot`) gets its slot at once, to count its polls in.
    pub(crate) fn join(&self, hash: u64, eager_slot: bool) -> Joined<'_, K, V> {
        let shard = self.shard(hash);
        let mut registry = shard.registry.lock();
        if let Some(entry) = registry.entries.iter_mut().find(|e| e.hash == hash) {
            let slot = entry
                .slot
                .get_or_insert_with(|| Arc::new(Slot::new(hash, entry.ticket)))
                .clone();
            shard.waiters.fetch_add(1, Ordering::Relaxed);
            return Joined::Wait(Waiter {
                registry: self,
                slot,
            });
        }
        let ticket = registry.next_ticket;
        registry.next_ticket += 1;
        let slot = eager_slot.then(|| Arc::new(Slot::new(hash, ticket)));
        registry.entries.push(Entry {
            hash,
            ticket,
            slot: slot.clone(),
        });
        let recently_finished = registry.recent.contains(&hash);
        Joined::Lead(Lead {
            registry: self,
            hash,
            ticket,
            slot,
            recently_finished,
            finished: false,
        })
    }

    /// Starts a computation for `hash` and leads it, unless one is in flight (`None`): for a
    /// caller that has a value to return meanwhile (a stale one), which neither waits nor
    /// creates a slot for waiters.
    pub(crate) fn try_lead(&self, hash: u64, eager_slot: bool) -> Option<Lead<'_, K, V>> {
        let shard = self.shard(hash);
        let mut registry = shard.registry.lock();
        if registry.entries.iter().any(|e| e.hash == hash) {
            return None;
        }
        let ticket = registry.next_ticket;
        registry.next_ticket += 1;
        let slot = eager_slot.then(|| Arc::new(Slot::new(hash, ticket)));
        registry.entries.push(Entry {
            hash,
            ticket,
            slot: slot.clone(),
        });
        let recently_finished = registry.recent.contains(&hash);
        Some(Lead {
            registry: self,
            hash,
            ticket,
            slot,
            recently_finished,
            finished: false,
        })
    }

    /// Removes the entry of a computation if it is still registered, returning its slot, and
    /// notes the hash as recently finished.
    fn unregister(&self, hash: u64, ticket: u64) -> Option<Arc<Slot<K, V>>> {
        let mut registry = self.shard(hash).registry.lock();
        let i = registry
            .entries
            .iter()
            .position(|e| e.hash == hash && e.ticket == ticket)?;
        let next = registry.recent_next;
        registry.recent[next] = hash;
        registry.recent_next = (next + 1) % RECENT;
        registry.entries.swap_remove(i).slot
    }

    /// Gives up on a stalled leader: its waiters retry, and the next caller leads.
    pub(crate) fn take_over(&self, slot: &Slot<K, V>) {
        self.unregister(slot.hash, slot.ticket);
        slot.settle(State::Failed);
    }
}

pub(crate) enum Joined<'a, K, V> {
    Lead(Lead<'a, K, V>),
    Wait(Waiter<'a, K, V>),
}

/// The leader's obligation: finish the computation. Dropped unfinished (a panic, a dropped
/// future), it fails the slot so that waiters retry.
pub(crate) struct Lead<'a, K, V> {
    registry: &'a InFlight<K, V>,
    hash: u64,
    ticket: u64,
    /// The async leader's own slot.
    slot: Option<Arc<Slot<K, V>>>,
    /// Whether a computation of this hash finished shortly before this one started.
    recently_finished: bool,
    finished: bool,
}

impl<K, V> Lead<'_, K, V> {
    /// Whether the key may have been stored since the leader's caller found it missing: true
    /// when a computation of the same hash finished among the last few of its registry shard.
    /// A computation finishing between a caller's miss and its joining is thus noticed (and
    /// the store checked once more) unless more than [`RECENT`] others finished on that shard
    /// in between; then the key is computed twice, never served wrong.
    pub(crate) fn may_be_stored(&self) -> bool {
        self.recently_finished
    }
}

impl<K: Clone, V: Clone> Lead<'_, K, V> {
    /// Whether someone may be waiting for this computation's value: if so, the leader keeps a
    /// copy of its key and value for [`finish`](Self::finish). A waiter arriving after this
    /// check retries and finds the value in the store.
    pub(crate) fn may_have_waiters(&self) -> bool {
        self.registry
            .shard(self.hash)
            .waiters
            .load(Ordering::Relaxed)
            != 0
    }

    /// Ends the computation and releases the waiters with `handoff` (the key and value they
    /// take if their key is equal) or, without one, tells them to retry. Call after the value
    /// is in the store, so that a caller arriving once the entry is gone finds it there.
    pub(crate) fn finish(mut self, handoff: Option<(K, V)>) {
        self.finished = true;
        if let Some(slot) = self.registry.unregister(self.hash, self.ticket) {
            slot.settle(handoff.map_or(State::Failed, |(k, v)| State::Done(k, v)));
        }
    }
}

impl<K, V> Lead<'_, K, V> {
    /// Runs the leader's future, counting every poll as progress so that waiters take over
    /// only a leader that nobody polls any more.
    pub(crate) async fn run_watched<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let polls = self.slot.as_ref().map(|slot| &slot.polls);
        std::future::poll_fn(|cx| {
            if let Some(polls) = polls {
                polls.fetch_add(1, Ordering::Relaxed);
            }
            future.as_mut().poll(cx)
        })
        .await
    }
}

impl<K, V> Drop for Lead<'_, K, V> {
    fn drop(&mut self) {
        if !self.finished {
            if let Some(slot) = self.registry.unregister(self.hash, self.ticket) {
                slot.settle(State::Failed);
            }
        }
    }
}

/// A caller waiting for another's computation; counted in its registry shard while it lives.
pub(crate) struct Waiter<'a, K, V> {
    registry: &'a InFlight<K, V>,
    slot: Arc<Slot<K, V>>,
}

impl<K, V> Drop for Waiter<'_, K, V> {
    fn drop(&mut self) {
        self.registry
            .shard(self.slot.hash)
            .waiters
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl<K: Eq, V: Clone> Waiter<'_, K, V> {
    /// Blocks until the leader settles, or until it has shown no progress for `timeout`
    /// (then it is taken over and the caller retries).
    pub(crate) fn wait(self, key: &K, timeout: Option<Duration>) -> Waited<V> {
        let outcome = self.slot.wait(key, timeout);
        outcome.unwrap_or_else(|| {
            self.registry.take_over(&self.slot);
            Waited::Retry
        })
    }

    /// Waits without blocking the thread; see [`wait`](Self::wait).
    pub(crate) async fn wait_async(self, key: &K, timeout: Option<Duration>) -> Waited<V> {
        let outcome = WaitFuture {
            slot: self.slot.clone(),
            key,
            timeout,
            waker_index: None,
            watch: None,
        }
        .await;
        outcome.unwrap_or_else(|| {
            self.registry.take_over(&self.slot);
            Waited::Retry
        })
    }
}

impl<K, V> Slot<K, V> {
    fn new(hash: u64, ticket: u64) -> Self {
        Slot {
            hash,
            ticket,
            state: Mutex::new(State::Running { wakers: Vec::new() }),
            done: Condvar::new(),
            polls: AtomicU64::new(0),
        }
    }

    fn settle(&self, outcome: State<K, V>) {
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
}

impl<K: Eq, V: Clone> State<K, V> {
    /// What a waiter for `key` learns from a settled state (`None` while running).
    fn outcome(&self, key: &K) -> Option<Waited<V>> {
        match self {
            State::Running { .. } => None,
            State::Done(k, v) if k == key => Some(Waited::Done(v.clone())),
            State::Done(..) | State::Failed => Some(Waited::Retry),
        }
    }
}

impl<K: Eq, V: Clone> Slot<K, V> {
    /// Blocks until the leader settles, or until it has shown no progress (no poll) for a
    /// whole `timeout` (`None`: the caller should take over).
    fn wait(&self, key: &K, timeout: Option<Duration>) -> Option<Waited<V>> {
        let mut state = self.state.lock();
        let mut polls = self.polls.load(Ordering::Relaxed);
        let mut due = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(outcome) = state.outcome(key) {
                return Some(outcome);
            }
            let (Some(timeout), Some(at)) = (timeout, due) else {
                self.done.wait(&mut state);
                continue;
            };
            if self.done.wait_until(&mut state, at).timed_out() && state.outcome(key).is_none() {
                let now_polls = self.polls.load(Ordering::Relaxed);
                if now_polls == polls {
                    return None;
                }
                // The leader moved: give it another full timeout.
                polls = now_polls;
                due = Some(Instant::now() + timeout);
            }
        }
    }
}

/// A waiter's future: resolves when the leader settles, or to `None` when it stalled.
struct WaitFuture<'k, K, V> {
    slot: Arc<Slot<K, V>>,
    key: &'k K,
    timeout: Option<Duration>,
    waker_index: Option<usize>,
    /// The leader's poll count last seen, and when the wait for a new one ends.
    watch: Option<(u64, Instant)>,
}

impl<K: Eq, V: Clone> Future for WaitFuture<'_, K, V> {
    type Output = Option<Waited<V>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(timeout) = this.timeout {
            let polls = this.slot.polls.load(Ordering::Relaxed);
            let now = Instant::now();
            match this.watch {
                Some((seen, due)) if seen == polls => {
                    if now >= due {
                        let outcome = this.slot.state.lock().outcome(this.key);
                        // `None`: stalled, take over.
                        return Poll::Ready(outcome);
                    }
                }
                // First poll, or the leader moved: a new full timeout.
                _ => {
                    let due = now + timeout;
                    this.watch = Some((polls, due));
                    timer().wake_at(due, cx.waker().clone());
                }
            }
        }
        let mut state = this.slot.state.lock();
        if let Some(outcome) = state.outcome(this.key) {
            return Poll::Ready(Some(outcome));
        }
        if let State::Running { wakers } = &mut *state {
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
        }
        Poll::Pending
    }
}

impl<K, V> Drop for WaitFuture<'_, K, V> {
    fn drop(&mut self) {
        if let Some(i) = self.waker_index {
            if let State::Running { wakers } = &mut *self.slot.state.lock() {
                wakers[i] = None;
            }
        }
    }
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

/// A future that resolves at `at`, woken by the timer thread: a pause for an async caller
/// that blocks no thread, under any executor.
#[cfg(feature = "tier")]
pub(crate) fn sleep_until(at: Instant) -> impl Future<Output = ()> {
    let mut armed = false;
    std::future::poll_fn(move |cx| {
        if Instant::now() >= at {
            return Poll::Ready(());
        }
        if !armed {
            armed = true;
            timer().wake_at(at, cx.waker().clone());
        }
        Poll::Pending
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead<'a>(registry: &'a InFlight<u32, String>, hash: u64) -> Lead<'a, u32, String> {
        match registry.join(hash, false) {
            Joined::Lead(lead) => lead,
            Joined::Wait(_) => panic!("expected to lead"),
        }
    }

    fn wait<'a>(registry: &'a InFlight<u32, String>, hash: u64) -> Waiter<'a, u32, String> {
        match registry.join(hash, false) {
            Joined::Wait(waiter) => waiter,
            Joined::Lead(_) => panic!("expected to wait"),
        }
    }

    #[test]
    fn a_second_caller_waits_and_gets_the_leaders_value() {
        let registry = InFlight::new();
        let leader = lead(&registry, 7);
        assert!(!leader.may_have_waiters());
        let waiter = wait(&registry, 7);
        assert!(leader.may_have_waiters());
        let other = lead(&registry, 8);
        std::thread::scope(|s| {
            let waiting = s.spawn(|| waiter.wait(&1, None));
            std::thread::sleep(Duration::from_millis(10));
            leader.finish(Some((1, "v".to_owned())));
            assert!(matches!(waiting.join().unwrap(), Waited::Done(v) if v == "v"));
        });
        drop(other);
        assert!(registry
            .shards
            .iter()
            .all(|s| s.registry.lock().entries.is_empty()));
        assert!(registry
            .shards
            .iter()
            .all(|s| s.waiters.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn a_computation_nobody_waits_for_allocates_no_slot() {
        let registry = InFlight::new();
        let leader = lead(&registry, 3);
        assert!(registry.shard(3).registry.lock().entries[0].slot.is_none());
        assert!(!leader.may_be_stored());
        leader.finish(None);
        assert!(registry.shard(3).registry.lock().entries.is_empty());
        // The next computation of that hash knows that one just finished.
        assert!(lead(&registry, 3).may_be_stored());
        assert!(!lead(&registry, 4).may_be_stored());
    }

    #[test]
    fn try_lead_declines_while_a_computation_is_in_flight() {
        let registry: InFlight<u32, String> = InFlight::new();
        let leader = registry.try_lead(6, false).expect("nothing in flight");
        assert!(registry.try_lead(6, false).is_none());
        // Declining created no slot for waiters.
        assert!(registry.shard(6).registry.lock().entries[0].slot.is_none());
        assert!(!leader.may_have_waiters());
        leader.finish(None);
        assert!(registry.try_lead(6, false).is_some());
    }

    #[test]
    fn a_waiter_with_another_key_of_the_same_hash_retries() {
        let registry = InFlight::new();
        let leader = lead(&registry, 5);
        let waiter = wait(&registry, 5);
        leader.finish(Some((1, "one".to_owned())));
        assert!(matches!(waiter.wait(&2, None), Waited::Retry));
    }

    #[test]
    fn a_dropped_leader_releases_its_waiters() {
        let registry = InFlight::new();
        let leader = lead(&registry, 1);
        let waiter = wait(&registry, 1);
        drop(leader);
        assert!(matches!(waiter.wait(&1, None), Waited::Retry));
        drop(lead(&registry, 1));
    }

    #[test]
    fn a_stalled_leader_is_taken_over_and_its_late_finish_is_ignored() {
        let registry = InFlight::new();
        let stalled = lead(&registry, 1);
        let waiter = wait(&registry, 1);
        assert!(matches!(
            waiter.wait(&1, Some(Duration::from_millis(20))),
            Waited::Retry
        ));
        // The waiter took over: the next caller leads a new computation.
        let next = lead(&registry, 1);
        stalled.finish(Some((1, "late".to_owned())));
        // The late finish did not remove the new computation.
        assert_eq!(registry.shard(1).registry.lock().entries.len(), 1);
        next.finish(None);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "depends on 5 ms polls beating a 20 ms timeout in wall time"
    )]
    fn a_polled_async_leader_is_not_taken_over() {
        let registry: InFlight<u32, String> = InFlight::new();
        let Joined::Lead(leader) = registry.join(9, true) else {
            panic!("expected to lead")
        };
        let waiter = wait(&registry, 9);
        let slot = leader.slot.clone().expect("an async leader has a slot");
        std::thread::scope(|s| {
            s.spawn(|| {
                // Polled every 5 ms for 60 ms, with a 20 ms timeout: never stalled.
                for _ in 0..12 {
                    std::thread::sleep(Duration::from_millis(5));
                    slot.polls.fetch_add(1, Ordering::Relaxed);
                }
                leader.finish(Some((1, "polled".to_owned())));
            });
            let outcome = waiter.wait(&1, Some(Duration::from_millis(20)));
            assert!(matches!(outcome, Waited::Done(v) if v == "polled"));
        });
    }
}
