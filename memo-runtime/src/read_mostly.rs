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
//! Measured by the `compare` benchmark (workload 4): with a `Mutex` per shard, 2 threads hit at
//! about the throughput of 1; with this lock, at the figure the README quotes.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::sync::{CachePadded, Mutex, MutexGuard};

/// One reader slot: the readers inside, and hit/miss counts of the threads mapped to it.
#[derive(Debug, Default)]
pub(crate) struct ReaderSlot {
    readers: AtomicUsize,
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
}

impl ReaderSlot {
    /// Adds one to a counter of this slot. A load and a store rather than an atomic add: exact
    /// while each thread has a slot of its own (up to the slot count), and at worst an
    /// occasional lost count when threads share one; never a locked instruction on a hit.
    #[inline]
    pub(crate) fn count(counter: &AtomicU64) {
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
}

pub(crate) struct ReadMostly<T> {
    writer: Mutex<()>,
    writing: AtomicBool,
    slots: Box<[CachePadded<ReaderSlot>]>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&T` to several threads at once only through read guards and
// `&mut T` to one thread only through a write guard that excludes all readers (see `read` and
// `write`), exactly like `std::sync::RwLock`, whose bounds these are.
unsafe impl<T: Send + Sync> Sync for ReadMostly<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: Send> Send for ReadMostly<T> {}

/// The reader slot of the current thread: threads are numbered as they first read, and the
/// number picks a slot (modulo the slot count).
#[inline]
fn thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n)
}

/// The most reader slots a lock has, whatever the machine.
pub(crate) const MAX_SLOTS: usize = 16;

/// Slots per lock: enough for every core to have its own (beyond that, threads share).
pub(crate) fn default_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .next_power_of_two()
        .clamp(1, MAX_SLOTS)
}

impl<T> ReadMostly<T> {
    pub(crate) fn new(value: T, slots: usize) -> Self {
        debug_assert!(slots.is_power_of_two());
        ReadMostly {
            writer: Mutex::new(()),
            writing: AtomicBool::new(false),
            slots: (0..slots).map(|_| CachePadded::default()).collect(),
            data: UnsafeCell::new(value),
        }
    }

    /// The current thread's slot, for counting.
    #[inline]
    pub(crate) fn my_slot(&self) -> &ReaderSlot {
        &self.slots[thread_number() & (self.slots.len() - 1)]
    }

    /// Every slot, for summing counters.
    pub(crate) fn slots(&self) -> impl Iterator<Item = &ReaderSlot> {
        self.slots.iter().map(|s| &s.0)
    }

    /// Shared access. Waits while a writer holds the lock.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        let slot = self.my_slot();
        loop {
            // Announce the read, then check for a writer. Both SeqCst, pairing with the
            // writer's store of `writing` and load of the slots: at least one of the two sides
            // sees the other, so a reader and a writer are never inside together.
            slot.readers.fetch_add(1, Ordering::SeqCst);
            if !self.writing.load(Ordering::SeqCst) {
                return ReadGuard { lock: self, slot };
            }
            slot.readers.fetch_sub(1, Ordering::Release);
            // A writer is in: wait on its mutex rather than spinning.
            drop(self.writer.lock());
        }
    }

    /// Exclusive access. Waits for other writers, then for the readers inside to leave; new
    /// readers wait meanwhile.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        let mutex = self.writer.lock();
        self.writing.store(true, Ordering::SeqCst);
        for slot in self.slots.iter() {
            let mut spins = 0u32;
            while slot.readers.load(Ordering::SeqCst) != 0 {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        WriteGuard {
            lock: self,
            _mutex: mutex,
        }
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
}

impl<T> ReadGuard<'_, T> {
    /// The reading thread's slot, for counting hits and misses.
    #[inline]
    pub(crate) fn slot(&self) -> &ReaderSlot {
        self.slot
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
        self.slot.readers.fetch_sub(1, Ordering::Release);
    }
}

pub(crate) struct WriteGuard<'a, T> {
    lock: &'a ReadMostly<T>,
    _mutex: MutexGuard<'a, ()>,
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
        // Release: the writes made under the guard happen before any reader's later SeqCst
        // load of the flag that observes `false`.
        self.lock.writing.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
        let lock = Arc::new(ReadMostly::new((0u64, 0u64), 2));
        std::thread::scope(|s| {
            for _ in 0..3 {
                let lock = &lock;
                s.spawn(move || {
                    for _ in 0..200_000 {
                        let guard = lock.read();
                        assert_eq!(guard.0, guard.1);
                    }
                });
            }
            let lock = &lock;
            s.spawn(move || {
                for i in 0..20_000u64 {
                    let mut guard = lock.write();
                    guard.0 = i;
                    std::hint::spin_loop();
                    guard.1 = i;
                }
            });
        });
        let guard = lock.read();
        assert_eq!(*guard, (19_999, 19_999));
    }

    #[test]
    fn counters_are_per_slot_and_sum_up() {
        let lock = ReadMostly::new((), 2);
        for _ in 0..10 {
            ReaderSlot::count(&lock.read().slot().hits);
        }
        let total: u64 = lock.slots().map(|s| s.hits.load(Ordering::Relaxed)).sum();
        assert_eq!(total, 10);
    }
}
