use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, redis_timeout = 0.02)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
