use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct UserId(u64);

#[faas_cached(disk = true)]
fn profile(id: UserId) -> String {
    id.0.to_string()
}

fn main() {}
