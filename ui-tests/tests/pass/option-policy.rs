//! `policy`.

use memo_runtime::{faas_cached, Policy};

#[faas_cached(policy = "lru", max_items = 8)]
fn lru(n: u32) -> u32 {
    n
}

#[faas_cached(policy = "s3fifo", max_items = 8)]
fn s3fifo(n: u32) -> u32 {
    n
}

fn main() {
    assert_eq!(lru(1) + s3fifo(1), 2);
    assert_eq!(lru_cache().policy(), Policy::Lru);
    assert_eq!(s3fifo_cache().policy(), Policy::S3Fifo);
}
