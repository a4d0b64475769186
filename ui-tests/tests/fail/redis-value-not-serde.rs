use memo_runtime::faas_cached;

#[derive(Clone)]
struct Profile {
    name: String,
}

#[faas_cached(redis = true)]
fn profile(id: u64) -> Profile {
    Profile {
        name: id.to_string(),
    }
}

fn main() {}
