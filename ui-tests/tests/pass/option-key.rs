//! `key` + `key_type`: a key computed from the arguments.

use memo_runtime::{faas_cached, FaasCacheDict};

#[derive(Clone)]
struct User {
    id: u64,
    name: String,
}

#[faas_cached(key = user.id, key_type = u64)]
fn greeting(user: &User) -> String {
    format!("hello {}", user.name)
}

#[faas_cached(key = (region.to_owned(), id % 100), key_type = (String, u64))]
fn shard(region: &str, id: u64, #[exclude] verbose: bool) -> String {
    if verbose {
        format!("{region}/{}", id % 100)
    } else {
        region.to_owned()
    }
}

fn main() {
    let ada = User {
        id: 1,
        name: "Ada".to_owned(),
    };
    assert_eq!(greeting(&ada), "hello Ada");
    let store: &FaasCacheDict<u64, String> = greeting_cache();
    assert_eq!(store.keys(), [1]);
    assert!(greeting_invalidate(&ada));

    assert_eq!(shard("eu", 101, true), "eu/1");
    let store: &FaasCacheDict<(String, u64), String> = shard_cache();
    assert_eq!(store.len(), 1);
    // With a custom key, invalidate takes every argument the key may use.
    assert!(shard_invalidate("eu", 1, false));
}
