//! Arguments that borrow inside (`Option<&str>`, `Option<&T>`, `Option<&[T]>`, `&[&str]`,
//! `Vec<&str>`, `Cow<str>`): the key owns them (`Option<String>`, `Option<T>`,
//! `Option<Vec<T>>`, `Vec<String>`, `String`), a hit looks them up by the borrowed arguments,
//! and every helper takes them as the function does. (That a hit allocates nothing is in
//! `macro_alloc.rs`.)

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use memo_runtime::{faas_cached, FaasCacheDict, KeyRef, OptionRef, SliceRef};

static GREET_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(max_items = 16)]
fn greet(name: Option<&str>, times: u32) -> String {
    GREET_CALLS.fetch_add(1, Ordering::SeqCst);
    format!("hello {}", name.unwrap_or("you")).repeat(times as usize)
}

#[test]
fn option_of_str_is_keyed_as_option_of_string() {
    assert_eq!(greet(Some("ada"), 1), "hello ada");
    assert_eq!(greet(None, 1), "hello you");
    assert_eq!(greet(Some("ada"), 1), "hello ada");
    assert_eq!(greet(None, 1), "hello you");
    let owned = String::from("ada");
    assert_eq!(greet(Some(&owned), 1), "hello ada", "any lifetime");
    assert_eq!(GREET_CALLS.load(Ordering::SeqCst), 2);
    let store: &FaasCacheDict<(Option<String>, u32), String> = greet_cache();
    assert_eq!(store.len(), 2);
    assert_eq!(
        store
            .get(&KeyRef((&OptionRef(Some("ada")), &1u32)))
            .as_deref(),
        Some("hello ada")
    );
    assert!(store.contains_key(&(None::<String>, 1u32)));

    assert_eq!(greet_uncached(Some("bob"), 2), "hello bobhello bob");
    assert_eq!(greet_prime(Some("eve"), 1, "primed".to_owned()), Ok(None));
    assert_eq!(greet(Some("eve"), 1), "primed");
    assert!(greet_invalidate(Some("ada"), 1));
    assert!(!greet_invalidate(Some("ada"), 1));
    assert!(greet_invalidate(None, 1));
    assert_eq!(
        GREET_CALLS.load(Ordering::SeqCst),
        3,
        "uncached ran the body once"
    );
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Filter {
    min: u32,
}

#[faas_cached]
fn count(filter: Option<&Filter>, bytes: Option<&[u8]>, path: Option<&Path>) -> usize {
    filter.map_or(0, |f| f.min as usize)
        + bytes.map_or(0, <[u8]>::len)
        + usize::from(path.is_some())
}

#[test]
fn option_of_a_reference_is_keyed_on_the_owned_value() {
    let filter = Filter { min: 3 };
    let bytes: &[u8] = &[1, 2];
    assert_eq!(count(Some(&filter), Some(bytes), Some(Path::new("/a"))), 6);
    assert_eq!(count(Some(&filter), Some(bytes), Some(Path::new("/a"))), 6);
    assert_eq!(count(None, None, None), 0);
    assert_eq!(count(None, Some(&[][..]), None), 0);
    let info = count_cache_info();
    assert_eq!((info.hits, info.misses), (1, 3));
    type Key = (Option<Filter>, Option<Vec<u8>>, Option<PathBuf>);
    let store: &FaasCacheDict<Key, usize> = count_cache();
    let empty_bytes: Key = (None, Some(Vec::new()), None);
    assert!(store.contains_key(&empty_bytes));
    let no_bytes: Key = (None, None, Some(PathBuf::from("/a")));
    assert!(!store.contains_key(&no_bytes), "None and Some stay apart");
    assert_eq!(count_prime(None, None, Some(Path::new("/b")), 40), Ok(None));
    assert_eq!(count(None, None, Some(Path::new("/b"))), 40);
    assert!(count_invalidate(
        Some(&filter),
        Some(bytes),
        Some(Path::new("/a"))
    ));
    assert_eq!(count_cache().len(), 3);
}

static JOIN_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn join(words: &[&str], separator: &str) -> String {
    JOIN_CALLS.fetch_add(1, Ordering::SeqCst);
    words.join(separator)
}

#[test]
fn a_slice_of_str_is_keyed_as_a_vec_of_string() {
    assert_eq!(join(&["a", "b"], "-"), "a-b");
    assert_eq!(join(&["a", "b"], "-"), "a-b");
    // The same characters split differently is another key.
    assert_eq!(join(&["ab"], "-"), "ab");
    assert_eq!(join(&[], "-"), "");
    let owned: Vec<String> = vec!["a".into(), "b".into()];
    let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert_eq!(join(&borrowed, "-"), "a-b");
    assert_eq!(JOIN_CALLS.load(Ordering::SeqCst), 3);
    let store: &FaasCacheDict<(Vec<String>, String), String> = join_cache();
    assert_eq!(store.len(), 3);
    let words: &[&str] = &["a", "b"];
    assert!(store.contains_key(&KeyRef((&SliceRef(words), "-"))));

    assert_eq!(join_uncached(&["x"], "+"), "x");
    assert_eq!(join_prime(&["p", "q"], "", "primed".to_owned()), Ok(None));
    assert_eq!(join(&["p", "q"], ""), "primed");
    assert!(join_invalidate(&["a", "b"], "-"));
    assert!(!join_invalidate(&["a", "b"], "-"));
    assert!(join_invalidate(&[], "-"));
}

#[faas_cached]
fn total_len(parts: Vec<&str>, paths: &[&Path]) -> usize {
    parts.iter().map(|p| p.len()).sum::<usize>() + paths.len()
}

#[test]
fn a_vec_of_references_and_slices_of_other_references_are_owned_too() {
    let paths = [Path::new("/tmp")];
    assert_eq!(total_len(vec!["ab", "c"], &paths), 4);
    assert_eq!(total_len(vec!["ab", "c"], &paths), 4);
    assert_eq!(total_len_cache_info().hits, 1);
    let store: &FaasCacheDict<(Vec<String>, Vec<PathBuf>), usize> = total_len_cache();
    assert!(store.contains_key(&(
        vec!["ab".to_owned(), "c".to_owned()],
        vec![PathBuf::from("/tmp")]
    )));
    assert!(total_len_invalidate(vec!["ab", "c"], &paths));
    assert_eq!(total_len_prime(vec![], &[], 9), Ok(None));
    assert_eq!(total_len(Vec::new(), &[]), 9);
}

static SLUG_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn slug(title: Cow<str>, bytes: Cow<'_, [u8]>) -> String {
    SLUG_CALLS.fetch_add(1, Ordering::SeqCst);
    // The body gets the `Cow` as the caller passed it: owned or borrowed.
    let kind = if matches!(title, Cow::Owned(_)) {
        "owned"
    } else {
        "borrowed"
    };
    format!("{}-{}-{kind}", title.to_lowercase(), bytes.len())
}

#[faas_cached]
fn static_cow(text: Cow<'static, str>) -> usize {
    text.len()
}

#[test]
fn cow_is_keyed_on_the_owned_form_whether_borrowed_or_owned() {
    assert_eq!(
        slug(Cow::Borrowed("Hi"), Cow::Borrowed(b"x")),
        "hi-1-borrowed"
    );
    // An owned `Cow` with the same contents is the same key: a hit.
    assert_eq!(
        slug(Cow::Owned("Hi".to_owned()), Cow::Owned(b"x".to_vec())),
        "hi-1-borrowed"
    );
    assert_eq!(SLUG_CALLS.load(Ordering::SeqCst), 1);
    let store: &FaasCacheDict<(String, Vec<u8>), String> = slug_cache();
    assert_eq!(store.len(), 1);
    assert_eq!(
        slug_uncached(Cow::Owned("Hi".into()), Cow::Borrowed(b"")),
        "hi-0-owned"
    );
    assert_eq!(
        slug_prime("A".into(), Cow::Borrowed(&[]), "primed".to_owned()),
        Ok(None)
    );
    assert_eq!(
        slug(Cow::Owned("A".to_owned()), Cow::Owned(Vec::new())),
        "primed"
    );
    assert!(slug_invalidate(Cow::Borrowed("Hi"), Cow::Borrowed(b"x")));
    assert!(!slug_invalidate("Hi".into(), Cow::Borrowed(b"x")));

    // `Cow<'static, str>` borrows nothing that could dangle: it is a key as it is.
    assert_eq!(static_cow(Cow::Borrowed("abc")), 3);
    let store: &FaasCacheDict<(Cow<'static, str>,), usize> = static_cow_cache();
    assert!(store.contains_key(&(Cow::Owned("abc".to_owned()),)));
}

static ASYNC_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn lookup(region: Option<&str>, tags: &[&str]) -> usize {
    ASYNC_CALLS.fetch_add(1, Ordering::SeqCst);
    region.map_or(0, str::len) + tags.len()
}

#[test]
fn async_functions_take_the_same_shapes() {
    assert_eq!(pollster::block_on(lookup(Some("eu"), &["a"])), 3);
    assert_eq!(pollster::block_on(lookup(Some("eu"), &["a"])), 3);
    assert_eq!(ASYNC_CALLS.load(Ordering::SeqCst), 1);
    assert!(lookup_invalidate(Some("eu"), &["a"]));
    assert_eq!(lookup_prime(None, &[], 5), Ok(None));
    assert_eq!(pollster::block_on(lookup(None, &[])), 5);
    assert_eq!(pollster::block_on(lookup_uncached(None, &[])), 0);
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Catalog {
    name: String,
}

impl Catalog {
    /// A method: `self` and the borrowing arguments form the key.
    #[faas_cached]
    fn search(&self, query: Option<&str>, fields: &[&str]) -> String {
        format!(
            "{}:{}:{}",
            self.name,
            query.unwrap_or("*"),
            fields.join(",")
        )
    }
}

#[test]
fn methods_take_the_same_shapes() {
    let books = Catalog {
        name: "books".to_owned(),
    };
    assert_eq!(books.search(Some("rust"), &["title"]), "books:rust:title");
    assert_eq!(books.search(Some("rust"), &["title"]), "books:rust:title");
    assert_eq!(Catalog::search_cache_info().hits, 1);
    assert!(books.search_invalidate(Some("rust"), &["title"]));
    assert_eq!(books.search_prime(None, &[], "primed".to_owned()), Ok(None));
    assert_eq!(books.search(None, &[]), "primed");
}

/// With `max_size`, the owned keys are weighed like any other (`DeepSize` of `Option<String>`,
/// `Vec<String>`).
#[faas_cached(max_size = "1M", ttl = 60)]
fn weighed(name: Option<&str>, tags: &[&str], note: Cow<str>) -> usize {
    name.map_or(0, str::len) + tags.len() + note.len()
}

#[test]
fn borrowing_shapes_are_weighed_under_max_size() {
    let tags: &[&str] = &["a-rather-long-tag-that-owns-heap-bytes"];
    assert_eq!(weighed(Some("abc"), tags, Cow::Borrowed("n")), 5);
    assert_eq!(weighed(Some("abc"), tags, Cow::Borrowed("n")), 5);
    let info = weighed_cache_info();
    assert_eq!((info.hits, info.misses), (1, 1));
    let store = weighed_cache();
    // The entry's weight counts the heap bytes of the owned key: more than the inline sizes.
    let inline = std::mem::size_of::<(Option<String>, Vec<String>, String)>();
    assert!(
        store.byte_size() - store.fixed_overhead() > inline + 38,
        "{} bytes accounted",
        store.byte_size() - store.fixed_overhead()
    );
}
