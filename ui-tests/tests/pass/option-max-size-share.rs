//! `max_size` as a share of the process's memory: resolved at run time against the cgroup
//! limit, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` or the physical memory, whichever this process has.

use memo_runtime::faas_cached;

#[faas_cached(max_size = "10%", max_items = 100)]
fn greeting(name: &str) -> String {
    format!("hello {name}")
}

#[faas_cached(max_size = "0.5 %")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {
    assert_eq!(greeting("x"), "hello x");
    assert_eq!(square(3), 9);
    let memory = memo_runtime::process_memory().expect("a Unix test machine knows its memory");
    let info = greeting_cache_info();
    assert_eq!(info.max_size_bytes, Some(memory.bytes() / 10));
    assert_eq!(info.max_size_share.unwrap().of, memory);
    assert_eq!(square_cache_info().max_size_bytes, Some(memory.bytes() / 200));
}
