//! Expired entries give their memory back through writes alone: a counting global allocator
//! measures the heap a store really holds while it is written regularly with short-lived
//! entries, and nothing else touches it (no reads, no `len`/`info`/`byte_size`, which reclaim
//! expired entries themselves).
//!
//! A separate test binary, so that its global allocator does not count other tests' work.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use memo_runtime::{FaasCacheDict, MockClock};

/// Counts the bytes allocated and freed by each thread, so that a measurement on this thread is
/// not disturbed by the test harness or other tests.
struct Counting;

thread_local! {
    // `const` and without a destructor: reading them never allocates, even during teardown.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn add(bytes: isize) {
    LIVE.with(|live| live.set(live.get() + bytes));
    if bytes > 0 {
        ALLOCATED.with(|total| total.set(total.get() + bytes.unsigned_abs()));
    }
}

#[allow(clippy::cast_possible_wrap)] // allocation sizes are at most `isize::MAX`
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator, which allocated `ptr`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes live on this thread now.
fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Heap bytes allocated on this thread so far, freed or not.
fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

const VALUE_BYTES: usize = 1024;
const TTL_MS: u64 = 100;
const INSERTS: u32 = 100_000;

/// One insert per millisecond, each living 100 ms: about 100 entries are alive at any time,
/// while 100 000 are written (100 MB of values). The heap the store holds must stay that of
/// about 100 entries: every insert reclaims the entries that expired before it.
#[test]
fn regular_writes_keep_the_heap_bounded_by_the_live_entries() {
    let clock = MockClock::new();
    // State set up once per process or thread on first use (the hasher's random seed, the
    // thread's reader slot) is not the store's: set it up before measuring.
    let warm_up = FaasCacheDict::<u32, Vec<u8>>::new();
    warm_up.insert(0, vec![0]).unwrap();
    drop(warm_up);
    let before = live();
    let cache: FaasCacheDict<u32, Vec<u8>> = FaasCacheDict::builder()
        .default_ttl(Duration::from_millis(TTL_MS))
        .clock(clock.clone())
        .build()
        .unwrap();
    let allocated_before = allocated();
    // The heap with the first 100 entries alive and none expired yet: the steady state.
    let mut steady = 0;
    let mut peak = 0;
    for k in 0..INSERTS {
        cache.insert(k, vec![1; VALUE_BYTES]).unwrap();
        clock.advance(Duration::from_millis(1));
        let held = usize::try_from(live() - before).expect("the store holds its own heap");
        if k == TTL_MS as u32 - 1 {
            steady = held;
        }
        if k >= TTL_MS as u32 {
            peak = peak.max(held);
            // Fails at once, long before the 100 MB a store that does not reclaim would hold.
            assert!(
                held <= steady + steady / 4,
                "after {} inserts the store holds {held} heap bytes, over 1.25 times the \
                 {steady} of its first {TTL_MS} entries",
                k + 1
            );
        }
    }
    let written = allocated() - allocated_before;
    // The values alone were 100 MB, and they are gone but for the live ones.
    assert!(written >= INSERTS as usize * VALUE_BYTES);
    assert!(steady >= TTL_MS as usize * VALUE_BYTES);
    assert!(peak <= steady + steady / 4);
    // Everything the store held is freed with it.
    drop(cache);
    assert_eq!(live(), before, "dropping the store frees all it held");
    println!(
        "steady {steady} bytes, peak {peak} bytes, {written} bytes allocated over {INSERTS} \
         inserts"
    );
}
