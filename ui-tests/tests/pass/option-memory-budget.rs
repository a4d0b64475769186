//! `memory_budget`: memoized functions are in the process's memory budget unless
//! `memory_budget = false`.

use memo_runtime::faas_cached;

#[faas_cached(memory_budget = false)]
fn outside(n: u32) -> u32 {
    n + 1
}

#[faas_cached(memory_budget = true, max_items = 10)]
fn inside(n: u32) -> String {
    n.to_string()
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Counter;

impl Counter {
    #[faas_cached(memory_budget = false)]
    fn double(&self, n: u32) -> u32 {
        n * 2
    }
}

fn main() {
    assert_eq!(outside(1), 2);
    assert_eq!(inside(1), "1");
    assert_eq!(Counter.double(2), 4);
    assert!(!outside_cache_info().in_memory_budget);
    assert!(inside_cache_info().in_memory_budget);
    assert!(!Counter::double_cache_info().in_memory_budget);
    assert_eq!(memo_runtime::caches().len(), 3);
}
