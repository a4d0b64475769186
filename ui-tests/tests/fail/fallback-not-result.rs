use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, fallback = 300)]
fn price(sku: u64) -> u64 {
    sku * 100
}

fn main() {}
