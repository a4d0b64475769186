use memo_runtime::faas_cached;

#[faas_cached(max_size = "150%")]
fn more_than_all(n: u64) -> u64 {
    n
}

#[faas_cached(max_size = "0%")]
fn nothing(n: u64) -> u64 {
    n
}

#[faas_cached(max_size = "1.23456%")]
fn too_precise(n: u64) -> u64 {
    n
}

#[faas_cached(max_size = "ten%")]
fn not_a_number(n: u64) -> u64 {
    n
}

fn main() {}
