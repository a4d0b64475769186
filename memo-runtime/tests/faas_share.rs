//! Sizes given as a share of the process's memory (`"10%"`): in the attribute, the builder,
//! `change_byte_size` and `ByteSize`, resolved against the memory this test binary installs
//! (64 MiB, "given by the program") before anything reads the machine's own figure.

use std::sync::atomic::{AtomicU64, Ordering};

use memo_runtime::{
    faas_cached, process_memory, ByteSize, CacheError, FaasCacheDict, MemoryShare, MemorySource,
    ProcessMemory,
};

const MEMORY: u64 = 64 << 20;

/// Every test starts here: the first to run installs the figure, the others find it.
fn memory() -> ProcessMemory {
    let _ = ProcessMemory::new(MEMORY).install();
    let memory = process_memory().expect("installed");
    assert_eq!(
        (memory.bytes(), memory.source()),
        (MEMORY, &MemorySource::Given)
    );
    memory
}

#[faas_cached(max_size = "10%")]
fn tenth(n: u64) -> String {
    format!("value {n}")
}

#[test]
fn the_attribute_takes_a_share_of_the_process_memory() {
    memory();
    assert_eq!(tenth(1), "value 1");
    assert_eq!(tenth(1), "value 1");
    let info = tenth_cache_info();
    assert_eq!((info.hits, info.misses), (1, 1));
    assert_eq!(info.max_size_bytes, Some(MEMORY / 10));
    let share = info.max_size_share.clone().expect("a share");
    assert_eq!(share.share, "10%".parse::<MemoryShare>().unwrap());
    assert_eq!(share.bytes, MEMORY / 10);
    assert_eq!(share.of, memory());
    let shown = info.to_string();
    assert!(
        shown.contains("max_size=6710886 (10% of 64M (given by the program))"),
        "{shown}"
    );
}

static TINY_CALLS: AtomicU64 = AtomicU64::new(0);

/// 0.0001% of 64 MiB is 67 bytes: less than the store's fixed overhead. Not a compile error
/// (the container's memory is only known at run time), not a panic: nothing is cached.
#[faas_cached(max_size = "0.0001%")]
fn tiny(n: u64) -> u64 {
    TINY_CALLS.fetch_add(1, Ordering::Relaxed);
    n * 2
}

#[test]
fn a_share_below_the_fixed_overhead_caches_nothing_and_does_not_panic() {
    memory();
    for _ in 0..3 {
        assert_eq!(tiny(21), 42);
    }
    assert_eq!(TINY_CALLS.load(Ordering::Relaxed), 3, "computed every time");
    let info = tiny_cache_info();
    assert_eq!(info.current_items, 0);
    assert_eq!((info.hits, info.misses, info.uncached), (0, 3, 3));
    let share = info.max_size_share.expect("the share is still reported");
    assert_eq!(share.bytes, 67);
    assert!(info.max_size_bytes.unwrap() > share.bytes);
}

#[test]
fn the_builder_and_change_byte_size_take_shares() {
    memory();
    let cache: FaasCacheDict<u64, String> =
        FaasCacheDict::builder().max_size("25%").build().unwrap();
    let info = cache.info();
    assert_eq!(info.max_size_bytes, Some(MEMORY / 4));
    assert_eq!(info.max_size_share.unwrap().share.to_string(), "25%");

    cache.change_byte_size("12.5%").unwrap();
    let info = cache.info();
    assert_eq!(info.max_size_bytes, Some(MEMORY / 8));
    assert_eq!(info.max_size_share.unwrap().bytes, MEMORY / 8);

    // Back to bytes: no share any more.
    cache.change_byte_size("1M").unwrap();
    assert_eq!(cache.info().max_size_share, None);
    cache
        .change_byte_size(MemoryShare::from_millionths(500_000))
        .unwrap();
    assert_eq!(cache.max_size(), Some(ByteSize::from(MEMORY / 2)));
    cache.remove_byte_limit();
    assert_eq!(cache.info().max_size_share, None);
}

#[test]
fn a_share_too_small_for_the_builder_is_an_error_naming_it() {
    memory();
    let built = FaasCacheDict::<u64, u64>::builder()
        .max_size("0.0001%")
        .build();
    match built {
        Err(CacheError::InvalidBound { name, value, .. }) => {
            assert_eq!(name, "max_size");
            assert_eq!(value, "0.0001% of 64M (given by the program) = 67 bytes");
        }
        other => panic!("{other:?}"),
    }
    let bad = FaasCacheDict::<u64, u64>::builder()
        .max_size("150%")
        .build();
    assert!(
        bad.unwrap_err().to_string().contains("\"150%\""),
        "the error names the input"
    );
}

#[test]
fn byte_sizes_parse_shares() {
    memory();
    assert_eq!("50%".parse::<ByteSize>().unwrap().as_u64(), MEMORY / 2);
    assert!("0%".parse::<ByteSize>().is_err());
    // 0.0001% of 64 MiB is 67 bytes, 0.0001% of less than 1 MiB would be nothing.
    assert_eq!("0.0001%".parse::<ByteSize>().unwrap().as_u64(), 67);
    // Installing again is refused: the figure is read once.
    assert_eq!(
        ProcessMemory::new(1).install(),
        Err(ProcessMemory::new(1)),
        "a second figure"
    );
}
