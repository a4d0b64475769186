//! Expired entries give their memory back through writes alone: a counting global allocator
//! measures the heap a store really holds while it is written regularly with short-lived
//! entries, and nothing else touches it (no reads, no `len`/`info`/`byte_size`, which reclaim
//! expired entries themselves).
//!
//! A separate test binary, so that its global allocator does not count other tests' work.

use std::time::Duration;

use memo_runtime::{FaasCacheDict, MockClock};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{allocated, live, Counting};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const VALUE_BYTES: usize = 1024;
const TTL_MS: u64 = 100;
const INSERTS: u32 = 100_000;

/// One insert per millisecond, each living 100 ms: about 100 entries are alive at any time,
/// while 100 000 are written (100 MB of values). The heap the store holds must stay that of
/// about 100 entries: every insert reclaims the entries that expired before it.
#[test]
#[cfg_attr(
    miri,
    ignore = "measures the real heap over 100 000 inserts: hours under Miri"
)]
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
