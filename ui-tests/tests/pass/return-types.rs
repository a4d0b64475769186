//! Return types: unit, tuples, `Vec`, `Option`, `Result`, `io::Result`, `Arc<dyn Trait>`,
//! `&'static str`, a type named like a std type that is not thread-safe.

use std::fmt::Display;
use std::sync::Arc;

use memo_runtime::faas_cached;

#[faas_cached]
fn unit(n: u32) {
    let _ = n;
}

#[faas_cached]
fn pair(n: u32) -> (u32, String) {
    (n, n.to_string())
}

#[faas_cached]
fn list(n: usize) -> Vec<usize> {
    (0..n).collect()
}

#[faas_cached]
fn io(n: u32) -> std::io::Result<u32> {
    Ok(n)
}

#[faas_cached]
fn shown(n: u32) -> Arc<dyn Display + Send + Sync> {
    Arc::new(n)
}

#[faas_cached]
fn label(n: u32) -> &'static str {
    if n == 0 {
        "zero"
    } else {
        "many"
    }
}

#[faas_cached]
fn nested(n: u32) -> Option<Result<u32, String>> {
    Some(Ok(n))
}

/// A type named like `std::cell::Cell`, but thread-safe: cached like any other (the store is
/// kept in an `ErasedStatic`, see `names_thread_unsafe_type` in memo-macros).
#[derive(Clone, Debug, PartialEq)]
struct Cell(u8);

#[faas_cached]
fn cell(n: u8) -> Cell {
    Cell(n)
}

fn main() {
    unit(1);
    assert_eq!(unit_cache().len(), 1);
    assert_eq!(pair(1).1, "1");
    assert_eq!(list(3), [0, 1, 2]);
    assert_eq!(io(4).unwrap(), 4);
    assert_eq!(shown(5).to_string(), "5");
    assert_eq!(label(0), "zero");
    assert_eq!(nested(1), Some(Ok(1)));
    assert_eq!(cell(1), Cell(1));
    assert_eq!(cell(1), Cell(1));
    assert_eq!(cell_cache_info().hits, 1);
}
