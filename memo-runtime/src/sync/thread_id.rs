//! Small numbers for threads, handed back when a thread exits.
//!
//! A [`ReadMostly`](crate::sync::read_mostly::ReadMostly) lock gives each thread a reader slot by its
//! number (modulo the slot count), and the first number through a slot owns it: that thread
//! counts itself in with plain stores, the others with locked instructions. Numbers are reused,
//! smallest first, once their thread has exited, so that a pool that replaces its threads
//! (tokio's blocking pool retires a thread idle for 10 s; the `compare` benchmark spawns fresh
//! threads for every measurement) keeps small, distinct numbers, which map to distinct slots
//! and inherit the slots their predecessors owned. With numbers that only grew, every slot stayed
//! owned by a thread long gone, and all later threads read through the shared counters.
//!
//! A number is never held by two live threads: it returns to the pool in a thread-local
//! destructor, after which the exiting thread reads as [`EXITED`], which owns nothing. The pool's
//! mutex orders the old thread's last plain stores to its slots before the new thread's first
//! loads of them.

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The number of a thread whose thread-locals are being destroyed: it owns no slot.
pub(crate) const EXITED: usize = usize::MAX;

thread_local! {
    // `const` and no destructor: reading it is a plain load, possible even while the thread's
    // thread-locals are being destroyed.
    static ID: Cell<usize> = const { Cell::new(0) };
    // Its destructor hands the thread's number back; registered when the number is assigned.
    static LEASE: Lease = const { Lease };
}

static POOL: Mutex<IdPool> = Mutex::new(IdPool::new());

fn pool() -> MutexGuard<'static, IdPool> {
    // A panic cannot leave the pool half-updated (each change is one push or pop).
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current thread's number, from 1 up, assigned at its first call.
#[inline]
pub(crate) fn current() -> usize {
    ID.with(|id| match id.get() {
        0 => assign(id),
        n => n,
    })
}

/// The current thread's number if [`current`] assigned it one already.
#[inline]
pub(crate) fn assigned() -> Option<usize> {
    ID.with(|id| match id.get() {
        0 => None,
        n => Some(n),
    })
}

#[cold]
fn assign(id: &Cell<usize>) -> usize {
    // Touching `LEASE` registers its destructor; that fails once this thread's thread-locals
    // are being destroyed, and a number that could not be handed back is not handed out.
    let n = if LEASE.try_with(|_| ()).is_ok() {
        pool().take()
    } else {
        EXITED
    };
    id.set(n);
    n
}

struct Lease;

impl Drop for Lease {
    fn drop(&mut self) {
        // Destructors that run after this one may still read a cache: as `EXITED` they own
        // no slot, while the number goes to the next thread.
        if let Ok(n) = ID.try_with(|id| id.replace(EXITED)) {
            if n != 0 && n != EXITED {
                pool().give_back(n);
            }
        }
    }
}

/// Numbers handed out: the smallest free one first.
#[derive(Debug)]
struct IdPool {
    /// The smallest number never handed out.
    next: usize,
    free: BinaryHeap<Reverse<usize>>,
}

impl IdPool {
    const fn new() -> Self {
        IdPool {
            next: 1,
            free: BinaryHeap::new(),
        }
    }

    fn take(&mut self) -> usize {
        match self.free.pop() {
            Some(Reverse(n)) => n,
            None => {
                let n = self.next;
                self.next += 1;
                n
            }
        }
    }

    fn give_back(&mut self, n: usize) {
        debug_assert!(n < self.next && !self.free.iter().any(|f| f.0 == n));
        self.free.push(Reverse(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_hands_out_the_smallest_free_number() {
        let mut pool = IdPool::new();
        let taken: Vec<usize> = (0..4).map(|_| pool.take()).collect();
        assert_eq!(taken, [1, 2, 3, 4]);
        pool.give_back(3);
        pool.give_back(1);
        assert_eq!([pool.take(), pool.take(), pool.take()], [1, 3, 5]);
    }

    #[test]
    fn a_thread_keeps_its_number_and_no_two_live_threads_share_one() {
        let mine = current();
        assert_eq!(current(), mine);
        assert_eq!(assigned(), Some(mine));
        let barrier = std::sync::Barrier::new(4);
        let numbers: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        assert_eq!(assigned(), None, "a new thread has no number yet");
                        let n = current();
                        // All four are alive at once here.
                        barrier.wait();
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut distinct = numbers.clone();
        distinct.push(mine);
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 5, "{numbers:?} and {mine}");
    }

    #[test]
    fn a_thread_past_its_lease_reads_as_exited_and_owns_no_slot() {
        use crate::sync::read_mostly::ReadMostly;
        let lock = ReadMostly::new(0u8, 1);
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_ne!(current(), EXITED);
                // What the thread-local destructor runs when the thread exits (it runs again,
                // harmlessly, at the real exit: the number is `EXITED` by then).
                drop(Lease);
                assert_eq!(current(), EXITED, "the number was not given up");
                assert_eq!(*lock.read(), 0);
                assert!(
                    lock.try_read_owned().is_none(),
                    "an exiting thread claimed a slot"
                );
            })
            .join()
            .unwrap();
            // The slot is still free: the next thread claims it and reads fast.
            s.spawn(|| {
                assert_eq!(*lock.read(), 0);
                assert!(lock.try_read_owned().is_some());
            })
            .join()
            .unwrap();
        });
    }
}
