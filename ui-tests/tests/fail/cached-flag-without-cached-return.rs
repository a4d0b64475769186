use memo_runtime::faas_cached;

#[faas_cached(cached_flag)]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(cached_flag, result = false)]
fn parse(s: &str) -> Result<memo_runtime::Cached<u64>, String> {
    s.parse().map_err(|_| s.to_owned())
}

fn main() {}
