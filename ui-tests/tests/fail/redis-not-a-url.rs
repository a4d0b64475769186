use memo_runtime::faas_cached;

#[faas_cached(redis = 6379)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
