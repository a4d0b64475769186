//! `#[derive(DeepSize)]` on structs, tuple structs, enums and generic types, with a skipped
//! field, used by `max_size` caches.

use std::marker::PhantomData;

use memo_runtime::{faas_cached, DeepSize};

#[derive(Clone, Hash, PartialEq, Eq, DeepSize)]
struct Query {
    text: String,
    #[deep_size(skip)]
    limit: u32,
}

#[derive(Clone, DeepSize)]
struct Hits(Vec<String>);

#[derive(Clone, DeepSize)]
enum Answer {
    Empty,
    One(String),
    Many { hits: Hits, total: u64 },
}

/// Not `DeepSize`: only used in `PhantomData`, so `Tagged` needs no bound on it.
#[derive(Clone)]
struct Marker;

#[derive(Clone, DeepSize)]
struct Tagged<T, U> {
    value: T,
    tag: PhantomData<U>,
}

#[faas_cached(max_size = "256K")]
fn search(query: &Query) -> Answer {
    match query.limit {
        0 => Answer::Empty,
        1 => Answer::One(query.text.clone()),
        _ => Answer::Many {
            hits: Hits(vec![query.text.clone()]),
            total: 2,
        },
    }
}

#[faas_cached(max_size = 1_000_000)]
fn tagged(n: u8) -> Tagged<Vec<u8>, Marker> {
    Tagged {
        value: vec![n],
        tag: PhantomData,
    }
}

fn main() {
    let query = Query {
        text: "rust".to_owned(),
        limit: 2,
    };
    assert!(matches!(search(&query), Answer::Many { total: 2, .. }));
    assert!(search_cache().byte_size() > 0);
    assert!(query.deep_size() >= std::mem::size_of::<Query>() + 4);
    assert_eq!(tagged(1).value, [1]);
}
