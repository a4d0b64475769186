//! A memoized function defined inside another function's body, and inside a block.

use memo_runtime::faas_cached;

fn outer(n: u64) -> u64 {
    #[faas_cached(max_items = 8)]
    fn inner(n: u64) -> u64 {
        n * 3
    }

    let first = inner(n);
    assert_eq!(inner_cache_info().misses, 1);
    assert!(inner_invalidate(n));
    first
}

fn main() {
    assert_eq!(outer(2), 6);
    let doubled = {
        #[faas_cached]
        fn double(n: u64) -> u64 {
            n * 2
        }
        double(4) + double_cache().len() as u64
    };
    assert_eq!(doubled, 9);
}
