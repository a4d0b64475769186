// 8K holds the store's fixed overhead with one reader slot, not with the 16 slots a machine
// with many cores gets: rejected at compile time rather than dropped at run time there.
use memo_runtime::faas_cached;

#[faas_cached(max_size = "8K", name = "sq")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
