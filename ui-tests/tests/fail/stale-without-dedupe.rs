use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, stale = 30, dedupe = false)]
fn report(id: u64) -> String {
    id.to_string()
}

fn main() {}
