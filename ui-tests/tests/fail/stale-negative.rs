use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, stale = -5, fallback = "1m")]
fn report(id: u64) -> String {
    id.to_string()
}

fn main() {}
