use memo_runtime::faas_cached;

#[derive(Clone)]
struct User {
    id: u64,
    name: String,
}

#[faas_cached(key = user.id)]
fn greeting(user: &User) -> String {
    format!("hello {} ({})", user.name, user.id)
}

fn main() {}
