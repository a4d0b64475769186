use memo_runtime::faas_cached;

#[faas_cached(stale = 30, refresh_ahead)]
fn report(id: u64) -> String {
    id.to_string()
}

fn main() {}
