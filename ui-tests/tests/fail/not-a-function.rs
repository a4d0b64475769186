use memo_runtime::faas_cached;

#[faas_cached(ttl = 60)]
struct Settings {
    verbose: bool,
}

fn main() {}
