use memo_runtime::faas_cached;

#[faas_cached(redis = true, redis_timeout = 0)]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(redis = true, redis_timeout = "50ms")]
fn cube(n: u64) -> u64 {
    n * n * n
}

fn main() {}
