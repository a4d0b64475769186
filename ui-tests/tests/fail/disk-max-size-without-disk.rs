use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, disk_max_size = "1G")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
