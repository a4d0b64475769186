//! A `Result`-returning fetcher: only successes are cached, so a failure is retried on the
//! next call instead of being remembered.
//!
//! Run: `cargo run -p memo-examples --example fetcher`

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use memo_runtime::faas_cached;

static ATTEMPTS: AtomicU32 = AtomicU32::new(0);
static FAILED_ONCE: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

#[derive(Debug)]
enum FetchError {
    Unavailable(u32),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unavailable(id) => write!(f, "backend unavailable for id {id}"),
        }
    }
}

/// Fails on the first attempt for each even id, as a flaky backend would.
#[faas_cached(ttl = 30, max_items = 1_000)]
fn fetch_price(sku: &str, id: u32) -> Result<u64, FetchError> {
    ATTEMPTS.fetch_add(1, Ordering::SeqCst);
    let mut failed = FAILED_ONCE.lock().expect("not poisoned");
    if id.is_multiple_of(2) && failed.get_or_insert_with(HashSet::new).insert(id) {
        return Err(FetchError::Unavailable(id));
    }
    Ok(u64::from(id) * 100 + sku.len() as u64)
}

fn main() {
    for round in 1..=3 {
        for id in 1..=4 {
            match fetch_price("sku", id) {
                Ok(price) => println!("round {round}: sku/{id} costs {price}"),
                Err(err) => println!("round {round}: sku/{id} failed: {err} (not cached)"),
            }
        }
    }
    let info = fetch_price_cache_info();
    println!("{info}");
    println!(
        "{} backend attempts for 12 calls: errors were retried, successes were served from \
         the cache",
        ATTEMPTS.load(Ordering::SeqCst)
    );
}
