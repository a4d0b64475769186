use memo_runtime::{faas_cached, WithTtl};
use std::time::Duration;

#[faas_cached(ttl = 60, refresh_on_hit)]
fn token(scope: &str) -> WithTtl<String> {
    WithTtl::new(scope.to_owned(), Duration::from_secs(30))
}

fn main() {}
