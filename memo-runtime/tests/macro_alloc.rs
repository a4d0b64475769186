//! A hit allocates nothing but the clone of the returned value: borrowed arguments (`&str`,
//! `&[u8]`, `Option<&str>`, `&[&str]`, `Cow<str>`...) are looked up by their borrowed form,
//! never turned into an owned key. Measured with
//! a counting global allocator.

use std::sync::Arc;

use memo_runtime::{faas_cached, FaasCacheDict};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations and bytes allocated by this thread while running `f`.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let (a0, b0) = (counting_alloc::allocations(), counting_alloc::allocated());
    let value = f();
    let (a1, b1) = (counting_alloc::allocations(), counting_alloc::allocated());
    (value, a1 - a0, b1 - b0)
}

#[faas_cached(ttl = 60, max_items = 100)]
fn name_length(name: &str, region: &str) -> usize {
    name.len() + region.len()
}

#[faas_cached(max_items = 100)]
fn greeting(name: &str) -> String {
    format!("hello {name}")
}

#[faas_cached(max_items = 100)]
fn payload(key: &[u8]) -> Vec<u8> {
    vec![7; 256 + key.len()]
}

#[faas_cached(max_items = 100)]
fn shared_payload(key: &str) -> Arc<[u8]> {
    Arc::from(vec![1u8; 256 + key.len()])
}

#[test]
fn hits_with_borrowed_arguments_allocate_only_the_returned_value() {
    let name = "a-request-key-of-24-bytes";

    // A Copy value: a hit allocates nothing at all.
    name_length(name, "eu-west-1");
    let (len, count, _) = allocations(|| name_length(name, "eu-west-1"));
    assert_eq!(len, 34);
    assert_eq!(count, 0, "a hit with &str arguments allocated");

    // A String value: exactly one allocation, the clone of the returned value.
    greeting(name);
    let (value, count, bytes) = allocations(|| greeting(name));
    assert_eq!(count, 1);
    assert_eq!(bytes, value.capacity());

    // &[u8] -> Vec<u8> (256+ bytes): one allocation of the value's size.
    let key: &[u8] = b"binary-key";
    payload(key);
    let (value, count, bytes) = allocations(|| payload(key));
    assert_eq!((count, bytes), (1, value.capacity()));

    // Arc<[u8]>: a hit only bumps a reference count.
    shared_payload(name);
    let (value, count, _) = allocations(|| shared_payload(name));
    assert_eq!(value.len(), 256 + name.len());
    assert_eq!(count, 0);

    let info = greeting_cache_info();
    assert_eq!((info.hits, info.misses), (1, 1));
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Region {
    code: String,
}

#[faas_cached(max_items = 100)]
fn optional(name: Option<&str>, region: Option<&Region>, bytes: Option<&[u8]>) -> usize {
    name.map_or(0, str::len) + region.map_or(0, |r| r.code.len()) + bytes.map_or(0, <[u8]>::len)
}

#[faas_cached(max_items = 100)]
fn words(items: &[&str], more: Vec<&str>) -> usize {
    items.len() + more.len()
}

#[faas_cached(max_items = 100)]
fn cow(text: std::borrow::Cow<str>) -> usize {
    text.len()
}

/// `Option<&str>`, `Option<&T>`, `Option<&[u8]>`, `&[&str]`, `Vec<&str>` and `Cow<str>` are
/// keyed as `Option<String>`, `Option<T>`, `Option<Vec<u8>>`, `Vec<String>` and `String`: a
/// miss allocates those, a hit nothing.
#[test]
fn hits_with_arguments_that_borrow_inside_allocate_nothing() {
    let name = "a-request-key-of-24-bytes";
    let region = Region {
        code: "eu-west-1".to_owned(),
    };
    let bytes: &[u8] = b"binary";
    let (len, count, _) = allocations(|| optional(Some(name), Some(&region), Some(bytes)));
    assert_eq!(len, 25 + 9 + 6);
    assert!(count >= 3, "the miss owns the key: {count} allocations");
    let (len, count, _) = allocations(|| optional(Some(name), Some(&region), Some(bytes)));
    assert_eq!(
        (len, count),
        (40, 0),
        "a hit with Option<&..> arguments allocated"
    );
    optional(None, None, None);
    let (len, count, _) = allocations(|| optional(None, None, None));
    assert_eq!((len, count), (0, 0));
    assert_eq!(optional_cache_info().hits, 2);

    let items: &[&str] = &["alpha", "beta", name];
    words(items, vec!["x"]);
    // The `Vec<&str>` argument is built outside the measurement: it is the caller's.
    let more = vec!["x"];
    let (len, count, _) = allocations(move || words(items, more));
    assert_eq!(
        (len, count),
        (4, 0),
        "a hit with &[&str] / Vec<&str> allocated"
    );
    let (_, count, _) = allocations(|| words(&[], Vec::new()));
    assert!(count >= 1, "a miss builds the owned key");
    let (len, count, _) = allocations(|| words(&[], Vec::new()));
    assert_eq!((len, count), (0, 0));

    cow(name.into());
    let (len, count, _) = allocations(|| cow(std::borrow::Cow::Borrowed(name)));
    assert_eq!(
        (len, count),
        (25, 0),
        "a hit with a borrowed Cow<str> allocated"
    );
    let owned = std::borrow::Cow::Owned(name.to_owned());
    let (len, count, _) = allocations(move || cow(owned));
    assert_eq!(
        (len, count),
        (25, 0),
        "a hit with an owned Cow<str> allocated"
    );
    assert_eq!(cow_cache_info().hits, 2);

    // `invalidate` looks the entry up the same way: no allocation either.
    let (removed, count, _) = allocations(|| optional_invalidate(None, None, None));
    assert_eq!((removed, count), (true, 0));
    let (removed, count, _) = allocations(|| words_invalidate(&[], Vec::new()));
    assert_eq!((removed, count), (true, 0));
    let (removed, count, _) = allocations(|| cow_invalidate(name.into()));
    assert_eq!((removed, count), (true, 0));
}

#[test]
fn store_lookups_by_borrowed_keys_allocate_nothing() {
    let cache: FaasCacheDict<String, u64> = FaasCacheDict::new();
    cache.insert("key".to_owned(), 1).unwrap();
    let (value, count, _) = allocations(|| cache.get("key"));
    assert_eq!((value, count), (Some(1), 0));
    let (_, count, _) = allocations(|| cache.get("missing"));
    assert_eq!(count, 0);
    let tuple: FaasCacheDict<(String, Vec<u8>), u64> = FaasCacheDict::new();
    tuple.insert(("k".to_owned(), vec![1, 2]), 2).unwrap();
    let bytes: &[u8] = &[1, 2];
    let (value, count, _) = allocations(|| tuple.get(&memo_runtime::KeyRef(("k", bytes))));
    assert_eq!((value, count), (Some(2), 0));
}
