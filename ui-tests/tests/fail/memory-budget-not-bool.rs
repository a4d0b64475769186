use memo_runtime::faas_cached;

#[faas_cached(memory_budget = "no")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
