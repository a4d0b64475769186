//! Invalidating cached results and observing departures with a delete hook.
//!
//! Run: `cargo run -p memo-examples --example invalidation`

use memo_runtime::{faas_cached, DeleteReason};

/// Called for every entry that leaves the cache: here it only logs; it could release a
/// resource or update a metric. It may even use the cache itself.
fn on_delete(key: &(u32,), value: &String, why: DeleteReason) {
    println!("  left the cache: {key:?} -> {value:?} ({why})");
}

#[faas_cached(max_items = 3, on_delete = on_delete)]
fn render_page(page: u32) -> String {
    println!("  rendering page {page}");
    format!("<html>page {page}</html>")
}

fn main() {
    println!("render pages 1-3, then 1 again (a hit):");
    for page in [1, 2, 3, 1] {
        render_page(page);
    }
    // The default policy (S3-FIFO) evicts an entry never read since it arrived before one that
    // was hit: page 2 goes, page 1 stays (with `policy = "lru"`, 2 would go too, as the least
    // recently used).
    println!("render page 4: page 2, never read since it was cached, is evicted:");
    render_page(4);
    println!("page 3 changed: invalidate it");
    assert!(render_page_invalidate(3));
    println!("render page 3 again (a miss):");
    render_page(3);
    println!("deploy: clear everything");
    render_page_cache_clear();
    println!("{}", render_page_cache_info());
}
