use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, version = "2")]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(redis = true, version = "")]
fn cube(n: u64) -> u64 {
    n * n * n
}

fn main() {}
