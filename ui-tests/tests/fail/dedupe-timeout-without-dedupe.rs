use memo_runtime::faas_cached;

#[faas_cached(dedupe = false, dedupe_timeout = 5)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
