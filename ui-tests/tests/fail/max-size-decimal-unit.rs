// `MB` could mean 10^6 or 2^20 bytes: rejected, with `M` or `MiB` suggested.
use memo_runtime::faas_cached;

#[faas_cached(max_size = "64MB")]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(max_size = "1.5 gb")]
fn cube(n: u64) -> u64 {
    n * n * n
}

fn main() {}
