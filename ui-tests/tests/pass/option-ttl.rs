//! `ttl` as whole and as fractional seconds.

use std::time::Duration;

use memo_runtime::faas_cached;

#[faas_cached(ttl = 60)]
fn whole(n: u32) -> u32 {
    n + 1
}

#[faas_cached(ttl = 0.25)]
fn fractional(n: u32) -> u32 {
    n + 2
}

fn main() {
    assert_eq!(whole(1), 2);
    assert_eq!(fractional(1), 3);
    assert_eq!(
        whole_cache_info().default_ttl,
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        fractional_cache_info().default_ttl,
        Some(Duration::from_millis(250))
    );
}
