//! `max_items`.

use memo_runtime::faas_cached;

#[faas_cached(max_items = 2)]
fn double(n: u64) -> u64 {
    n * 2
}

fn main() {
    for n in 0..5 {
        assert_eq!(double(n), n * 2);
    }
    let info = double_cache_info();
    assert_eq!(info.max_items, Some(2));
    assert_eq!(info.current_items, 2);
}
