// Binary units, with or without `iB`, any case; `policy` in any case (and `-`/`_` ignored).
use memo_runtime::faas_cached;

#[faas_cached(max_size = "64MiB", policy = "LRU")]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(max_size = "64 m", policy = "S3-FIFO")]
fn cube(n: u64) -> u64 {
    n * n * n
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(square_cache_info().max_size_bytes, Some(64 << 20));
    assert_eq!(square_cache().policy(), memo_runtime::Policy::Lru);
    assert_eq!(cube(2), 8);
    assert_eq!(cube_cache_info().max_size_bytes, Some(64 << 20));
    assert_eq!(cube_cache().policy(), memo_runtime::Policy::S3Fifo);
}
