//! `on_delete` as a path to a function and as a closure.

use std::sync::atomic::{AtomicUsize, Ordering};

use memo_runtime::{faas_cached, DeleteReason};

static BY_PATH: AtomicUsize = AtomicUsize::new(0);
static BY_CLOSURE: AtomicUsize = AtomicUsize::new(0);

fn count(_key: &(u32, String), _value: &usize, _why: DeleteReason) {
    BY_PATH.fetch_add(1, Ordering::SeqCst);
}

mod hooks {
    pub(crate) fn ignore(_key: &(u32,), _value: &u32, _why: memo_runtime::DeleteReason) {}
}

#[faas_cached(on_delete = count)]
fn length(id: u32, text: &str) -> usize {
    text.len() + id as usize
}

#[faas_cached(max_items = 1, on_delete = |_key, _value, why| {
    assert_eq!(why, DeleteReason::Evicted);
    BY_CLOSURE.fetch_add(1, Ordering::SeqCst);
})]
fn square(n: u64) -> u64 {
    n * n
}

#[faas_cached(on_delete = hooks::ignore)]
fn same(n: u32) -> u32 {
    n
}

fn main() {
    length(1, "abc");
    assert!(length_invalidate(1, "abc"));
    assert_eq!(BY_PATH.load(Ordering::SeqCst), 1);
    square(1);
    square(2);
    assert_eq!(BY_CLOSURE.load(Ordering::SeqCst), 1);
    same(3);
    same_cache_clear();
}
