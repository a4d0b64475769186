use memo_runtime::faas_cached;

type UserId = u64;

// The macro sees `UserId`, not `u64`: the type check catches it.
#[faas_cached]
fn names(ids: &[&UserId]) -> usize {
    ids.len()
}

fn main() {}
