use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, max_items = 8, ttl = 30)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
