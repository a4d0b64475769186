//! `#[exclude]` leaves arguments out of the key (and out of `invalidate`).

use memo_runtime::{faas_cached, FaasCacheDict};

trait Database {
    fn lookup(&self, id: u64) -> String;
}

struct Memory;

impl Database for Memory {
    fn lookup(&self, id: u64) -> String {
        format!("user{id}")
    }
}

struct Logger;

#[faas_cached]
fn user_name(#[exclude] db: &dyn Database, id: u64, #[exclude] _log: &mut Logger) -> String {
    db.lookup(id)
}

#[faas_cached]
fn all_excluded(#[exclude] db: &dyn Database, #[exclude] (a, b): (u64, u64)) -> String {
    db.lookup(a + b)
}

fn main() {
    let mut logger = Logger;
    assert_eq!(user_name(&Memory, 1, &mut logger), "user1");
    let store: &FaasCacheDict<(u64,), String> = user_name_cache();
    assert_eq!(store.keys(), [(1,)]);
    assert!(user_name_invalidate(1));

    assert_eq!(all_excluded(&Memory, (1, 2)), "user3");
    assert_eq!(
        all_excluded(&Memory, (5, 5)),
        "user3",
        "one entry for every call"
    );
    let store: &FaasCacheDict<(), String> = all_excluded_cache();
    assert_eq!(store.len(), 1);
    assert!(all_excluded_invalidate());
}
