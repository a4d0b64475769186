use memo_runtime::{faas_cached, DeleteReason};

fn log_removal(key: &u64, value: &u64, why: DeleteReason) {
    println!("{key} -> {value}: {why:?}");
}

#[faas_cached(on_delete = log_removal)]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
