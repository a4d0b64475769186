//! A reader-writer lock whose readers write only to their own cache line.
//!
//! With a plain `RwLock` (or `Mutex`), every reader writes the lock word: two threads hitting a
//! cache pass that line back and forth between their cores, and a hit costs a cache-line
//! transfer (tens of nanoseconds) instead of a few nanoseconds. Here each thread is assigned a
//! reader slot on its own 128-byte line; a reader increments its slot, checks the writer flag
//! and reads; a writer raises the flag and waits until every slot is zero. Reads thus scale
//! across cores; writes cost a little more (they visit every slot). The slot also carries the
//! hit and miss counters of the threads using it, so that counting a hit writes nowhere
//! shared either.
//!
//! The writer flag is also the writers' lock: raising it is one compare-and-swap, which both
//! excludes other writers and announces the writer to readers. (A separate mutex plus a flag
//! cost one more locked instruction per write, about 6 ns of the 70 ns of an insert that
//! evicts, measured with `profile_ops time-miss`.) Threads that find the flag raised spin
//! briefly, then park on the lock's address with `parking_lot_core`, as `parking_lot`'s own
//! mutex does.
//!
//! A thread that owns its slot reads through [`ReadMostly::try_read_owned`], which calls
//! nothing, so that a cache hit built on it needs no saved registers; everything else (a
//! thread's first read, threads sharing a slot, a writer inside) goes through
//! [`ReadMostly::read`].
//!
//! Measured by the `compare` benchmark (workload 4): with a `Mutex` per shard, 2 threads hit at
//! about the throughput of 1; with this lock, at the figure the README quotes.

use std::cell::UnsafeCell;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::sync::thread_id;
use crate::sync::CachePadded;

/// One reader slot. The first thread to read through a slot owns it: it counts itself in
/// `owned` and its hits in `owned_hits` with plain loads and stores (it is their only writer),
/// so that leaving a read and counting a hit cost no locked instruction. Other threads mapped
/// to the slot use the `shared` counters, with atomic read-modify-writes.
#[derive(Debug, Default)]
pub(crate) struct ReaderSlot {
    /// Number (see [`thread_id`]) of the owner, 0 while unowned. Numbers are reused once their
    /// thread has exited: the next thread with the number inherits the slot.
    owner: AtomicUsize,
    owned: AtomicUsize,
    shared: AtomicUsize,
    owned_hits: AtomicU64,
    owned_misses: AtomicU64,
    shared_hits: AtomicU64,
    shared_misses: AtomicU64,
}

impl ReaderSlot {
    /// Hits counted in this slot.
    pub(crate) fn hits(&self) -> u64 {
        self.owned_hits.load(Ordering::Relaxed) + self.shared_hits.load(Ordering::Relaxed)
    }

    /// Misses counted in this slot.
    pub(crate) fn misses(&self) -> u64 {
        self.owned_misses.load(Ordering::Relaxed) + self.shared_misses.load(Ordering::Relaxed)
    }

    /// The owner's entry: a load and a store are an increment, as the owner is the only
    /// writer of `owned` (a read guard may be taken while the thread holds another). SeqCst:
    /// see [`ReadMostly::read`].
    #[inline]
    fn enter_owned(&self) {
        let readers = self.owned.load(Ordering::Relaxed);
        self.owned.store(readers + 1, Ordering::SeqCst);
    }

    /// The owner's leaving decrement. Release: the reads made under the guard happen before a
    /// writer's SeqCst load that sees the count drop (`LEAVE` is Release except under Miri, see
    /// there).
    #[inline]
    fn leave_owned(&self) {
        let readers = self.owned.load(Ordering::Relaxed);
        self.owned.store(readers - 1, LEAVE);
    }

    #[inline]
    fn readers(&self) -> usize {
        self.owned.load(Ordering::SeqCst) + self.shared.load(Ordering::SeqCst)
    }
}

/// [`ReadMostly::state`] bit: a writer holds the lock.
const WRITER: u8 = 1;
/// [`ReadMostly::state`] bit: some thread may be parked waiting for the writer to leave.
const PARKED: u8 = 2;
/// Rounds of waiting spent spinning before a waiting thread yields its core instead.
const SPIN_ROUNDS: u32 = 32;
/// Rounds of waiting (spinning, then yielding) before a thread waiting for a writer parks.
const ROUNDS_BEFORE_PARKING: u32 = 64;

/// One round of waiting: spin while it is short, then let other threads run.
#[inline]
fn pause(round: u32) {
    if round < SPIN_ROUNDS {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// `repr(C)`: the flag and the slot array's address sit in the first cache line, next to the
/// start of `T` (a shard begins with its hash table), so that a hit reads one line of lock and
/// shard header; Rust's own layout put the flag after the whole shard, 3.9 KB away.
#[repr(C)]
pub(crate) struct ReadMostly<T> {
    /// [`WRITER`] and [`PARKED`] bits.
    state: AtomicU8,
    slots: Box<[CachePadded<ReaderSlot>]>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to several threads at once only through read guards and
// `&mut T` to one thread only through a write guard that excludes all readers (see `read` and
// `write`), exactly like `std::sync::RwLock`, whose bounds these are.
unsafe impl<T: Send + Sync> Sync for ReadMostly<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: Send> Send for ReadMostly<T> {}

/// The ordering of a reader's leaving decrement (see [`ReadGuard`]'s `Drop`). `Release` is
/// enough: a writer's `SeqCst` load that reads a count the decrement left behind is
/// coherence-ordered before the next reader's `SeqCst` increment, which C++20 requires `S` to
/// respect, so the Dekker argument of `read` still holds.
///
/// Under Miri only, `SeqCst`: the Miri this crate is checked with (nightly of 2026-05) lets a
/// `SeqCst` load read a non-`SeqCst` store that precedes, in modification order, a `SeqCst`
/// store that already read it — an outcome C++20 forbids (rust-lang/miri#5104, fixed by
/// rust-lang/miri#5111). Reduced to this lock's pattern (one reader leaves with a `Release`
/// decrement, another enters with a `SeqCst` increment and loads the flag, a writer raises the
/// flag and loads the count), that Miri let reader and writer miss each other in about half of
/// the runs, then reported the data race on the shard that follows. A `SeqCst` leave removes
/// those outcomes and keeps the rest (the `SeqCst` entry, the writer's flag) under Miri's
/// weak-memory emulation: with the entry weakened to `AcqRel`, the same reduction still fails.
/// Native builds keep the plain `Release` store, which costs no locked instruction.
const LEAVE: Ordering = if cfg!(miri) {
    Ordering::SeqCst
} else {
    Ordering::Release
};

/// The most reader slots a lock has, whatever the machine.
pub(crate) const MAX_SLOTS: usize = 16;

/// Slots per lock: two per core (beyond that, threads share). Thread numbers are small and
/// dense (see [`thread_id`]), so up to this many live threads map to distinct slots: a main
/// thread plus one worker per core, not only one thread per core. (With one slot per core, the
/// main thread that filled a memoized function's store kept one of the 2 slots here, and one
/// of two worker threads read through the shared counters: in the `compare` benchmark's
/// workload 4, 2 threads hit that function at 1.38-1.58x the throughput of 1; with two slots
/// per core, 1.82-1.88x.)
///
/// The core count is read once per process, and on Linux from the CPUs the process may run on
/// ([`cores`]).
pub(crate) fn default_slots() -> usize {
    static SLOTS: AtomicUsize = AtomicUsize::new(0);
    let known = SLOTS.load(Ordering::Relaxed);
    if known != 0 {
        return known;
    }
    let slots = cores()
        .saturating_mul(2)
        .next_power_of_two()
        .clamp(1, MAX_SLOTS);
    SLOTS.store(slots, Ordering::Relaxed);
    slots
}

/// The CPUs the process may run on. On Linux, `sched_getaffinity` (under a microsecond):
/// `std::thread::available_parallelism` also reads the cgroup's CPU quota files
/// (`/proc/self/cgroup`, the mount table, `cpu.max`), about 60 us per call, which the first
/// call of a memoized function paid on every cold start (`memo-bench`'s `cold_start`
/// example). A quota only lowers the figure, and the slots only spread readers: more slots
/// than the quota's cores cost a few hundred bytes, never correctness.
fn cores() -> usize {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid (empty)
        // set; `sched_getaffinity` writes at most `size_of::<cpu_set_t>()` bytes into the set
        // it is given, which lives on this stack frame; `CPU_COUNT` only reads it.
        let count = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut set) == 0 {
                libc::CPU_COUNT(&set)
            } else {
                0
            }
        };
        if count > 0 {
            return count as usize;
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl<T> ReadMostly<T> {
    pub(crate) fn new(value: T, slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        ReadMostly {
            state: AtomicU8::new(0),
            slots: (0..slots).map(|_| CachePadded::default()).collect(),
            data: UnsafeCell::new(value),
        }
    }

    /// Every slot, for summing counters.
    pub(crate) fn slots(&self) -> impl Iterator<Item = &ReaderSlot> {
        self.slots.iter().map(|s| &s.0)
    }

    /// Shared access. Waits while a writer holds the lock.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        let id = thread_id::current();
        let slot = &self.slots[id & (self.slots.len() - 1)];
        let mut owner = slot.owner.load(Ordering::Relaxed);
        if owner == 0 {
            owner = claim(slot, id);
        }
        let owned = owner == id;
        loop {
            // Announce the read, then check for a writer. Both SeqCst, pairing with the
            // writer's store of `writing` and loads of the slots: at least one of the two sides
            // sees the other, so a reader and a writer are never inside together.
            if owned {
                slot.enter_owned();
            } else {
                slot.shared.fetch_add(1, Ordering::SeqCst);
            }
            let guard = ReadGuard {
                lock: self,
                slot,
                owned,
                _not_send: PhantomData,
            };
            if self.state.load(Ordering::SeqCst) & WRITER == 0 {
                return guard;
            }
            drop(guard);
            self.wait_for_writer();
        }
    }

    /// The fast path of [`read`](Self::read), for a thread that owns its slot while no writer
    /// holds the lock: `None` otherwise, having changed nothing, and the caller falls back to
    /// `read`.
    ///
    /// It calls nothing, so that a hit built on it keeps every value in scratch registers:
    /// `read`'s slot claiming and waiting, being calls, made the whole lookup save and restore
    /// six registers (16 of a hit's 105 instructions).
    #[inline]
    pub(crate) fn try_read_owned(&self) -> Option<ReadGuard<'_, T>> {
        let id = thread_id::assigned()?;
        let slot = &self.slots[id & (self.slots.len() - 1)];
        if slot.owner.load(Ordering::Relaxed) != id {
            return None;
        }
        // As in `read`: a SeqCst announcement, then a SeqCst check for a writer.
        slot.enter_owned();
        // `owned` is a constant here: once inlined, the guard's counting and leaving compile
        // to the owner's plain stores, with no branch on it.
        let guard = ReadGuard {
            lock: self,
            slot,
            owned: true,
            _not_send: PhantomData,
        };
        if self.state.load(Ordering::SeqCst) & WRITER == 0 {
            Some(guard)
        } else {
            // Leaves again (the guard's drop); `read` will wait for the writer.
            None
        }
    }

    /// Exclusive access. Waits for other writers, then for the readers inside to leave; new
    /// readers wait meanwhile.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        // SeqCst: raising the flag pairs with the readers' SeqCst entry and flag load (see
        // `read`), and the slot loads below must not move before it.
        if self
            .state
            .compare_exchange(0, WRITER, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        for slot in self.slots.iter() {
            // Readers only read: wait for them without parking.
            let mut round = 0u32;
            while slot.readers() != 0 {
                pause(round);
                round = round.saturating_add(1);
            }
        }
        WriteGuard { lock: self }
    }

    /// Raises the writer flag once no other writer holds it.
    #[cold]
    fn lock_contended(&self) {
        loop {
            let state = self.state.load(Ordering::Relaxed);
            if state & WRITER == 0 {
                // Keep `PARKED`: others may still be parked.
                if self
                    .state
                    .compare_exchange_weak(
                        state,
                        state | WRITER,
                        Ordering::SeqCst,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return;
                }
                continue;
            }
            self.wait_for_writer();
        }
    }

    /// Returns once the writer flag was seen lowered: spins a little, then parks.
    #[cold]
    fn wait_for_writer(&self) {
        let mut round = 0u32;
        loop {
            let state = self.state.load(Ordering::Relaxed);
            if state & WRITER == 0 {
                return;
            }
            if round < ROUNDS_BEFORE_PARKING {
                pause(round);
                round += 1;
                continue;
            }
            if state & PARKED == 0
                && self
                    .state
                    .compare_exchange_weak(
                        state,
                        state | PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
            {
                continue;
            }
            let key = self.park_key();
            // SAFETY: `park_key` is an address this lock owns while it is borrowed, so no other
            // synchronisation object parks threads on it; the callbacks neither panic nor call
            // into `parking_lot_core`. The validation runs under the parking lot's bucket lock,
            // which the unlocking writer takes after clearing the state (see `unlock_slow`), so
            // a thread parks only if that writer will then unpark it.
            unsafe {
                parking_lot_core::park(
                    key,
                    || self.state.load(Ordering::Relaxed) == WRITER | PARKED,
                    || {},
                    |_, _| {},
                    parking_lot_core::DEFAULT_PARK_TOKEN,
                    None,
                );
            }
            round = 0;
        }
    }

    /// The address threads waiting for this lock park on.
    fn park_key(&self) -> usize {
        std::ptr::from_ref(&self.state) as usize
    }

    /// Lowers the writer flag.
    #[inline]
    fn unlock(&self) {
        // At least Release: the writes made under the guard happen before any later reader's
        // SeqCst load of the flag that observes it lowered. SeqCst as well, at no cost where
        // every read-modify-write is a locked instruction (x86): with a Release lowering, the
        // Miri this crate is checked with lets a reader's SeqCst flag load read it even after
        // the next writer's SeqCst raise (rust-lang/miri#5104, see `LEAVE`), and then reports
        // that reader racing the next writer.
        if self
            .state
            .compare_exchange(WRITER, 0, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    /// Lowers the writer flag and wakes every parked thread (readers and writers retry).
    #[cold]
    fn unlock_slow(&self) {
        // SeqCst: as in `unlock`.
        self.state.store(0, Ordering::SeqCst);
        // SAFETY: the key is this lock's own address (see `wait_for_writer`).
        unsafe {
            parking_lot_core::unpark_all(self.park_key(), parking_lot_core::DEFAULT_UNPARK_TOKEN);
        }
    }
}

/// Makes `id` the owner of an unowned slot, unless another thread was first; returns the owner.
/// A thread that is exiting ([`thread_id::EXITED`]) owns nothing.
#[cold]
fn claim(slot: &ReaderSlot, id: usize) -> usize {
    if id == thread_id::EXITED {
        return 0;
    }
    match slot
        .owner
        .compare_exchange(0, id, Ordering::Relaxed, Ordering::Relaxed)
    {
        Ok(_) => id,
        Err(owner) => owner,
    }
}

impl<T: Default> Default for ReadMostly<T> {
    fn default() -> Self {
        ReadMostly::new(T::default(), default_slots())
    }
}

impl<T> std::fmt::Debug for ReadMostly<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadMostly")
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

pub(crate) struct ReadGuard<'a, T> {
    lock: &'a ReadMostly<T>,
    slot: &'a ReaderSlot,
    /// Whether this thread owns `slot` (see [`ReaderSlot`]).
    owned: bool,
    /// Not `Send`: an owner's guard leaves with a plain store, which only the owner may make.
    _not_send: PhantomData<*const ()>,
}

impl<T> ReadGuard<'_, T> {
    /// Counts a hit of the reading thread.
    #[inline]
    pub(crate) fn count_hit(&self) {
        self.count(&self.slot.owned_hits, &self.slot.shared_hits);
    }

    /// Counts a miss of the reading thread.
    #[inline]
    pub(crate) fn count_miss(&self) {
        self.count(&self.slot.owned_misses, &self.slot.shared_misses);
    }

    #[inline]
    fn count(&self, owned: &AtomicU64, shared: &AtomicU64) {
        if self.owned {
            // The owner is the only writer of its counters: no locked instruction needed.
            owned.store(owned.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        } else {
            shared.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: this guard's slot count keeps writers out (see `read`), so only shared
        // references to the data exist while it lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.owned {
            self.slot.leave_owned();
        } else {
            self.slot.shared.fetch_sub(1, LEAVE);
        }
    }
}

pub(crate) struct WriteGuard<'a, T> {
    lock: &'a ReadMostly<T>,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a write guard is the only access while it lives (see `write`).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`: no reader is inside and no other writer holds the mutex.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The CPUs the process may run on, which a cgroup quota can only lower.
    #[test]
    fn cores_are_those_the_process_may_run_on() {
        let cores = super::cores();
        assert!(cores >= 1);
        let parallelism = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(cores >= parallelism, "{cores} < {parallelism}");
        assert!(cores <= 4096);
        let slots = default_slots();
        assert!(slots.is_power_of_two() && slots <= MAX_SLOTS);
        assert_eq!(slots, default_slots(), "read once");
    }

    #[test]
    fn readers_share_and_writers_exclude() {
        let lock = ReadMostly::new(0u64, 4);
        {
            let a = lock.read();
            let b = lock.read();
            assert_eq!(*a + *b, 0);
        }
        *lock.write() += 5;
        assert_eq!(*lock.read(), 5);
    }

    #[test]
    fn concurrent_readers_never_see_a_torn_write() {
        // The writer keeps two fields equal under the lock; readers must never see them differ.
        // Miri explores interleavings (and checks for data races) at ~100x cost: fewer rounds.
        let (reads, writes) = if cfg!(miri) {
            (300, 30)
        } else {
            (200_000, 20_000u64)
        };
        let lock = Arc::new(ReadMostly::new((0u64, 0u64), 2));
        std::thread::scope(|s| {
            for _ in 0..3 {
                let lock = &lock;
                s.spawn(move || {
                    for i in 0..reads {
                        // Both ways in: the fast one (taken by slot owners) and the full one.
                        if i % 2 == 0 {
                            if let Some(guard) = lock.try_read_owned() {
                                assert_eq!(guard.0, guard.1);
                                continue;
                            }
                        }
                        let guard = lock.read();
                        assert_eq!(guard.0, guard.1);
                    }
                });
            }
            let lock = &lock;
            s.spawn(move || {
                for i in 0..writes {
                    let mut guard = lock.write();
                    guard.0 = i;
                    std::hint::spin_loop();
                    guard.1 = i;
                }
            });
        });
        let guard = lock.read();
        assert_eq!(*guard, (writes - 1, writes - 1));
    }

    #[test]
    fn writers_exclude_each_other() {
        // Non-atomic read-modify-writes under the write lock from several threads, with readers
        // in between: a lost update means two writers were inside at once.
        let (writers, writes) = if cfg!(miri) { (3, 30) } else { (4, 20_000u64) };
        let lock = ReadMostly::new((0u64, 0u64), 2);
        std::thread::scope(|s| {
            for _ in 0..writers {
                s.spawn(|| {
                    for _ in 0..writes {
                        let mut guard = lock.write();
                        let seen = guard.0;
                        std::hint::spin_loop();
                        guard.0 = seen + 1;
                        guard.1 = seen + 1;
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..writes {
                    let guard = lock.read();
                    assert_eq!(guard.0, guard.1);
                }
            });
        });
        assert_eq!(*lock.read(), (writers * writes, writers * writes));
    }

    #[test]
    #[cfg_attr(miri, ignore = "sleeps to make the waiting threads park")]
    fn threads_parked_behind_a_long_write_all_wake() {
        // The write outlasts the waiters' spinning, so they park; all must wake when it ends.
        let lock = ReadMostly::new(0u64, 2);
        let mut guard = lock.write();
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..3).map(|_| s.spawn(|| *lock.read())).collect();
            let writer = s.spawn(|| *lock.write() += 10);
            // Waiters spin, then yield, then park: on a loaded host the yields alone can take
            // longer than any fixed sleep, so wait (generously) for the first to park.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while lock.state.load(Ordering::Relaxed) & PARKED == 0 {
                assert!(std::time::Instant::now() < deadline, "nobody parked");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(readers.iter().all(|r| !r.is_finished()) && !writer.is_finished());
            *guard += 1;
            drop(guard);
            for reader in readers {
                // A reader may run before or after the waiting writer.
                assert!([1, 11].contains(&reader.join().unwrap()));
            }
            writer.join().unwrap();
        });
        assert_eq!(*lock.read(), 11);
        assert_eq!(lock.state.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_fast_read_is_for_slot_owners_only() {
        // One slot, fresh threads (no number yet), alive at once (a thread that has exited
        // hands its number, and with it its slots, to the next): only the thread that claimed
        // the slot reads fast.
        let lock = ReadMostly::new(7u64, 1);
        let claimed = std::sync::Barrier::new(2);
        let checked = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let owner = s.spawn(|| {
                assert!(lock.try_read_owned().is_none(), "no number, no slot yet");
                assert_eq!(*lock.read(), 7);
                let guard = lock.try_read_owned().expect("the slot's owner reads fast");
                assert_eq!(*guard, 7);
                guard.count_hit();
                guard.count_miss();
                drop(guard);
                claimed.wait();
                checked.wait();
            });
            let other = s.spawn(|| {
                claimed.wait();
                assert_eq!(*lock.read(), 7);
                let refused = lock.try_read_owned().is_none();
                checked.wait();
                assert!(refused, "the slot has another owner");
            });
            owner.join().unwrap();
            other.join().unwrap();
        });
        let hits: u64 = lock.slots().map(ReaderSlot::hits).sum();
        let misses: u64 = lock.slots().map(ReaderSlot::misses).sum();
        assert_eq!((hits, misses), (1, 1));
        assert!(lock.slots().all(|slot| slot.readers() == 0));
    }

    #[test]
    fn a_fast_read_refused_by_a_writer_leaves_no_trace() {
        let lock = ReadMostly::new(0u64, 2);
        drop(lock.read());
        let guard = lock.write();
        assert!(lock.try_read_owned().is_none(), "a writer is inside");
        assert!(
            lock.slots().all(|slot| slot.readers() == 0),
            "the refused read still counts as a reader"
        );
        drop(guard);
        assert!(lock.try_read_owned().is_some());
        // The fast guard left on drop: a writer gets in.
        *lock.write() += 1;
        assert_eq!(*lock.read(), 1);
    }

    #[test]
    fn counters_are_per_slot_and_sum_up() {
        let lock = ReadMostly::new((), 2);
        for _ in 0..10 {
            lock.read().count_hit();
        }
        lock.read().count_miss();
        let hits: u64 = lock.slots().map(ReaderSlot::hits).sum();
        let misses: u64 = lock.slots().map(ReaderSlot::misses).sum();
        assert_eq!((hits, misses), (10, 1));
    }

    #[test]
    fn nested_reads_keep_writers_out_until_the_outer_one_ends() {
        let lock = ReadMostly::new(0u64, 1);
        let outer = lock.read();
        drop(lock.read());
        std::thread::scope(|s| {
            let writer = s.spawn(|| *lock.write() += 1);
            std::thread::sleep(std::time::Duration::from_millis(50));
            // The inner guard is gone but the outer one still reads: no write yet.
            assert_eq!(*outer, 0);
            assert!(!writer.is_finished());
            drop(outer);
            writer.join().unwrap();
        });
        assert_eq!(*lock.read(), 1);
    }

    #[test]
    fn threads_sharing_a_slot_count_exactly() {
        // One slot: the first thread to read owns it, the others use the shared counters.
        let lock = ReadMostly::new(0u64, 1);
        let (reads, writes) = if cfg!(miri) {
            (200, 40)
        } else {
            (10_000, 1_000)
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..reads {
                        let guard = lock.read();
                        guard.count_hit();
                    }
                });
            }
            s.spawn(|| {
                for _ in 0..writes {
                    *lock.write() += 1;
                }
            });
        });
        let hits: u64 = lock.slots().map(ReaderSlot::hits).sum();
        assert_eq!(hits, 4 * reads);
        assert_eq!(*lock.read(), writes);
    }
}
