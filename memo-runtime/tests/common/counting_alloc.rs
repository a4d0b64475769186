//! A global allocator that counts, per thread, the heap bytes live and the allocations made, so
//! that a measurement on the test's thread is not disturbed by the harness or by other tests.
//!
//! Test binaries include it with `#[path]` (and the benchmarks of `memo-bench` too), then
//! install it with `#[global_allocator] static A: Counting = Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts this thread's heap use; see the module docs.
pub struct Counting;

thread_local! {
    // `const` and without a destructor: reading them never allocates, even during teardown.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn add(bytes: isize, allocations: usize) {
    LIVE.with(|live| live.set(live.get() + bytes));
    if bytes > 0 {
        ALLOCATED.with(|total| total.set(total.get() + bytes.unsigned_abs()));
    }
    ALLOCATIONS.with(|count| count.set(count.get() + allocations));
}

#[allow(clippy::cast_possible_wrap)] // allocation sizes are at most `isize::MAX`
                                     // SAFETY: every method forwards to `System`, which upholds the `GlobalAlloc` contract; the
                                     // counting itself neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize, 1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize, 1);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize), 0);
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize, 1);
        // SAFETY: forwarded unchanged to the system allocator, which allocated `ptr`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Heap bytes live on this thread now (allocated minus freed; may be negative when the thread
/// frees what another allocated).
#[allow(dead_code)] // each test binary uses part of this module
pub fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Heap bytes allocated on this thread so far, freed or not.
#[allow(dead_code)]
pub fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

/// Allocations (and reallocations) made on this thread so far.
#[allow(dead_code)]
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}
