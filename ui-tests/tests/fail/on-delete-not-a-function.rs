use memo_runtime::faas_cached;

#[faas_cached(on_delete = "log_removal")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
