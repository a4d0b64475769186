use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct UserId(u64);

#[faas_cached(redis = "redis://127.0.0.1:6379/0")]
fn name(user: UserId, locale: &str) -> String {
    format!("{}-{locale}", user.0)
}

fn main() {}
