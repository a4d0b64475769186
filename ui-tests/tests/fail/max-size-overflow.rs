use memo_runtime::faas_cached;

#[faas_cached(max_size = "16384P")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
