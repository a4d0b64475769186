//! `dedupe` and `dedupe_timeout`.

use memo_runtime::faas_cached;

#[faas_cached(dedupe = false)]
fn undeduped(n: u32) -> u32 {
    n + 1
}

#[faas_cached(dedupe = true, dedupe_timeout = 2)]
fn deduped(n: u32) -> u32 {
    n + 2
}

#[faas_cached(dedupe_timeout = 0.5)]
fn short_timeout(n: u32) -> u32 {
    n + 3
}

#[faas_cached(dedupe = false)]
async fn undeduped_async(n: u32) -> u32 {
    n + 4
}

fn main() {
    assert_eq!(undeduped(1), 2);
    assert_eq!(deduped(1), 3);
    assert_eq!(short_timeout(1), 4);
    let _future = undeduped_async(1);
    assert_eq!(undeduped_cache_info().misses, 1);
}
