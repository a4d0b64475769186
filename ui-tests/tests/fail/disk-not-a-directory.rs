use memo_runtime::faas_cached;

#[faas_cached(disk = 3, disk_max_size = "10%")]
fn square(n: u64) -> u64 {
    n * n
}

fn main() {}
