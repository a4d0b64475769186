use memo_runtime::faas_cached;

#[faas_cached(max_items = 100, refresh_on_hit)]
fn session(id: u64) -> String {
    id.to_string()
}

fn main() {}
