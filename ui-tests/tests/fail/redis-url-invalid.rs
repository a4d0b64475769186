use memo_runtime::faas_cached;

#[faas_cached(redis = "http://cache:6379")]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(redis = "redis://cache:port/0")]
fn cube(n: u64) -> u64 {
    n * n * n
}

fn main() {}
