use memo_runtime::faas_cached;

#[faas_cached(ttl = 1e-10)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
