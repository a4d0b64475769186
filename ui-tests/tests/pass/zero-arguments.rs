//! A function without arguments has one entry; `invalidate` takes no arguments.

use memo_runtime::{faas_cached, FaasCacheDict};

#[faas_cached(ttl = 300)]
fn config() -> String {
    "config".to_owned()
}

#[faas_cached]
fn answer() -> u8 {
    42
}

fn main() {
    assert_eq!(config(), "config");
    assert_eq!(config(), "config");
    assert_eq!(config_cache_info().hits, 1);
    let store: &FaasCacheDict<(), String> = config_cache();
    assert!(store.contains_key(&()));
    assert!(config_invalidate());
    assert_eq!(answer(), 42);
    answer_cache_clear();
}
