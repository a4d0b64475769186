use memo_runtime::faas_cached;

#[faas_cached(ttl = 60, refresh_ahead = 0.5)]
fn ranking(board: u32) -> Vec<u32> {
    vec![board]
}

fn main() {}
