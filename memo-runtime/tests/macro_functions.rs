//! `#[faas_cached]` on every function shape, with the helpers it generates.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use memo_runtime::{faas_cached, DeleteReason, FaasCacheDict};

/// Counts calls of one function body.
struct Calls(AtomicUsize);

impl Calls {
    const fn new() -> Self {
        Calls(AtomicUsize::new(0))
    }
    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

static PROFILE_CALLS: Calls = Calls::new();

/// A doc comment that must survive.
#[faas_cached(ttl = 60, max_items = 256)]
#[inline]
pub fn user_profile(user_id: u64, locale: &str) -> String {
    PROFILE_CALLS.hit();
    format!("{user_id}-{locale}")
}

#[test]
fn a_free_function_computes_once_per_key_and_helpers_work() {
    assert_eq!(user_profile(1, "fr"), "1-fr");
    assert_eq!(user_profile(1, "fr"), "1-fr");
    assert_eq!(user_profile(1, "de"), "1-de");
    assert_eq!(PROFILE_CALLS.get(), 2);

    let info = user_profile_cache_info();
    assert_eq!((info.hits, info.misses, info.current_items), (1, 2, 2));
    assert_eq!(info.max_items, Some(256));
    assert_eq!(info.default_ttl, Some(Duration::from_secs(60)));
    assert_eq!(info.name, "macro_functions::user_profile");

    // The store's key is the tuple of owned arguments.
    let store: &'static FaasCacheDict<(u64, String), String> = user_profile_cache();
    assert!(store.contains_key(&(1, "fr".to_owned())));

    assert!(user_profile_invalidate(1, "fr"));
    assert!(!user_profile_invalidate(1, "fr"));
    assert_eq!(user_profile(1, "fr"), "1-fr");
    assert_eq!(PROFILE_CALLS.get(), 3);

    user_profile_cache_clear();
    assert!(user_profile_cache().is_empty());
    assert_eq!(
        user_profile_cache_info().hits,
        1,
        "counters survive a clear"
    );
}

static RESULT_CALLS: Calls = Calls::new();

#[faas_cached]
fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
    RESULT_CALLS.hit();
    text.parse()
}

#[test]
fn only_ok_results_are_cached() {
    assert_eq!(parse_port("80"), Ok(80));
    assert_eq!(parse_port("80"), Ok(80));
    assert!(parse_port("x").is_err());
    assert!(parse_port("x").is_err());
    assert_eq!(RESULT_CALLS.get(), 3, "the error was computed twice");
    // The store holds the Ok type.
    let store: &FaasCacheDict<(String,), u16> = parse_port_cache();
    assert_eq!(store.len(), 1);
}

static IO_CALLS: Calls = Calls::new();

/// `io::Result<T>` is treated as a `Result`: its first argument is the cached type.
#[faas_cached]
fn read_len(name: &str) -> std::io::Result<usize> {
    IO_CALLS.hit();
    if name.is_empty() {
        Err(std::io::Error::other("empty"))
    } else {
        Ok(name.len())
    }
}

#[test]
fn result_aliases_cache_ok_values_only() {
    assert_eq!(read_len("abc").unwrap(), 3);
    assert_eq!(read_len("abc").unwrap(), 3);
    assert!(read_len("").is_err());
    assert!(read_len("").is_err());
    assert_eq!(IO_CALLS.get(), 3);
}

type Res<T> = Result<T, String>;
static ALIAS_CALLS: Calls = Calls::new();

/// An alias not named `Result` needs `result = true`.
#[faas_cached(result = true)]
fn checked(n: u32) -> Res<u32> {
    ALIAS_CALLS.hit();
    if n == 0 {
        Err("zero".to_owned())
    } else {
        Ok(n)
    }
}

#[test]
fn result_true_handles_a_differently_named_alias() {
    assert_eq!(checked(0), Err("zero".to_owned()));
    assert_eq!(checked(0), Err("zero".to_owned()));
    assert_eq!(checked(5), Ok(5));
    assert_eq!(checked(5), Ok(5));
    assert_eq!(ALIAS_CALLS.get(), 3);
}

static ERR_CACHED_CALLS: Calls = Calls::new();

#[faas_cached(result = false)]
fn parse_cached_errors(text: &str) -> Result<u16, std::num::ParseIntError> {
    ERR_CACHED_CALLS.hit();
    text.parse()
}

#[test]
fn result_false_caches_errors_too() {
    assert!(parse_cached_errors("x").is_err());
    assert!(parse_cached_errors("x").is_err());
    assert_eq!(ERR_CACHED_CALLS.get(), 1);
}

static OPTION_CALLS: Calls = Calls::new();

#[faas_cached]
fn find_user(id: u32) -> Option<String> {
    OPTION_CALLS.hit();
    (id.is_multiple_of(2)).then(|| format!("user{id}"))
}

static NONE_CACHED_CALLS: Calls = Calls::new();

#[faas_cached(option = false)]
fn find_user_caching_none(id: u32) -> Option<String> {
    NONE_CACHED_CALLS.hit();
    (id.is_multiple_of(2)).then(|| format!("user{id}"))
}

#[test]
fn only_some_is_cached_unless_option_is_false() {
    assert_eq!(find_user(2), Some("user2".to_owned()));
    assert_eq!(find_user(2), Some("user2".to_owned()));
    assert_eq!(find_user(3), None);
    assert_eq!(find_user(3), None);
    assert_eq!(OPTION_CALLS.get(), 3);

    assert_eq!(find_user_caching_none(3), None);
    assert_eq!(find_user_caching_none(3), None);
    assert_eq!(NONE_CACHED_CALLS.get(), 1);
}

/// Something that must not be part of the key, such as a connection.
struct Connection;

static EXCLUDED_CALLS: Calls = Calls::new();

#[faas_cached]
fn query(#[exclude] _conn: &Connection, id: u64) -> u64 {
    EXCLUDED_CALLS.hit();
    id * 10
}

#[test]
fn an_excluded_argument_is_not_part_of_the_key() {
    assert_eq!(query(&Connection, 4), 40);
    assert_eq!(query(&Connection, 4), 40);
    assert_eq!(EXCLUDED_CALLS.get(), 1);
    let store: &FaasCacheDict<(u64,), u64> = query_cache();
    assert_eq!(store.keys(), [(4,)]);
    assert!(
        query_invalidate(4),
        "invalidate takes the key arguments only"
    );
}

#[derive(Clone)]
struct User {
    id: u64,
    #[allow(dead_code)]
    name: String,
}

static KEYED_CALLS: Calls = Calls::new();

#[faas_cached(key = user.id, key_type = u64, name = "greetings")]
fn greet(user: &User) -> String {
    KEYED_CALLS.hit();
    format!("hello {}", user.id)
}

#[test]
fn a_custom_key_and_name_are_used() {
    let a = User {
        id: 7,
        name: "a".to_owned(),
    };
    let b = User {
        id: 7,
        name: "b".to_owned(),
    };
    assert_eq!(greet(&a), "hello 7");
    assert_eq!(greet(&b), "hello 7", "same id, same key");
    assert_eq!(KEYED_CALLS.get(), 1);
    let store: &FaasCacheDict<u64, String> = greet_cache();
    assert_eq!(store.keys(), [7]);
    assert_eq!(greet_cache_info().name, "greetings");
    assert!(greet_invalidate(&a));
}

static DELETED: Mutex<Vec<(u32, DeleteReason)>> = Mutex::new(Vec::new());

fn record(key: &(u32,), _value: &u32, why: DeleteReason) {
    DELETED.lock().unwrap().push((key.0, why));
}

#[faas_cached(max_items = 2, on_delete = record)]
fn square(n: u32) -> u32 {
    n * n
}

#[test]
fn the_delete_hook_sees_evictions_and_invalidations() {
    square(1);
    square(2);
    square(3); // evicts 1
    assert!(square_invalidate(2));
    square_cache_clear(); // removes 3
    assert_eq!(
        *DELETED.lock().unwrap(),
        [
            (1, DeleteReason::Evicted),
            (2, DeleteReason::Removed),
            (3, DeleteReason::Removed)
        ]
    );
}

static PATTERN_CALLS: Calls = Calls::new();

#[faas_cached]
fn area((w, h): (u32, u32), Wrapper(scale): Wrapper, mut extra: u32) -> u32 {
    PATTERN_CALLS.hit();
    extra += 1;
    w * h * scale + extra
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Wrapper(u32);

#[test]
fn destructuring_and_mut_parameters_work() {
    assert_eq!(area((2, 3), Wrapper(2), 0), 13);
    assert_eq!(area((2, 3), Wrapper(2), 0), 13);
    assert_eq!(PATTERN_CALLS.get(), 1);
    assert!(area_invalidate((2, 3), Wrapper(2), 0));
}

static WHERE_CALLS: Calls = Calls::new();

#[faas_cached]
fn with_where<'a>(bytes: &'a [u8]) -> usize
where
    'a: 'a,
{
    WHERE_CALLS.hit();
    bytes.len()
}

#[test]
fn slices_lifetimes_and_where_clauses_work() {
    assert_eq!(with_where(b"abc"), 3);
    assert_eq!(with_where(&[97, 98, 99]), 3);
    assert_eq!(WHERE_CALLS.get(), 1);
    let store: &FaasCacheDict<(Vec<u8>,), usize> = with_where_cache();
    assert_eq!(store.len(), 1);
}

static RETURN_CALLS: Calls = Calls::new();

#[faas_cached]
fn early_return(n: i32) -> i32 {
    RETURN_CALLS.hit();
    if n < 0 {
        return 0;
    }
    n
}

#[test]
fn return_statements_in_the_body_are_cached_too() {
    assert_eq!(early_return(-5), 0);
    assert_eq!(early_return(-5), 0);
    assert_eq!(RETURN_CALLS.get(), 1);
}

static NO_ARGS_CALLS: Calls = Calls::new();

#[faas_cached(ttl = 0.5)]
fn config() -> String {
    NO_ARGS_CALLS.hit();
    "config".to_owned()
}

#[test]
fn a_function_without_arguments_has_one_entry() {
    assert_eq!(config(), "config");
    assert_eq!(config(), "config");
    assert_eq!(NO_ARGS_CALLS.get(), 1);
    assert_eq!(
        config_cache()
            .get_ttl(&())
            .map(|t| t <= Duration::from_millis(500)),
        Some(true)
    );
    assert!(config_invalidate());
}

#[faas_cached(max_size = "64K")]
fn sized(n: usize) -> Vec<u8> {
    vec![0; n]
}

#[test]
fn max_size_bounds_the_bytes_and_large_results_are_returned_uncached() {
    assert_eq!(sized(100).len(), 100);
    assert_eq!(
        sized(1 << 20).len(),
        1 << 20,
        "too large to cache, still returned"
    );
    let info = sized_cache_info();
    assert_eq!(info.current_items, 1);
    assert_eq!(info.max_size_bytes, Some(64 * 1024));
    for n in 0..1_000 {
        sized(n);
    }
    assert!(sized_cache().byte_size() <= 64 * 1024);
}

mod visibility {
    use memo_runtime::faas_cached;

    #[faas_cached]
    pub(crate) fn twice(n: u8) -> u16 {
        u16::from(n) * 2
    }
}

#[test]
fn helpers_get_the_function_visibility() {
    assert_eq!(visibility::twice(4), 8);
    assert_eq!(visibility::twice_cache_info().misses, 1);
}

#[faas_cached(dedupe = false)]
fn undeduped(n: u8) -> u8 {
    n + 1
}

#[test]
fn dedupe_can_be_turned_off() {
    assert_eq!(undeduped(1), 2);
    assert_eq!(undeduped(1), 2);
    assert_eq!(undeduped_cache_info().hits, 1);
}

static PANICKING_HOOK_CALLS: Calls = Calls::new();

fn panicking_hook(key: &(u32,), _value: &u32, _why: DeleteReason) {
    PANICKING_HOOK_CALLS.hit();
    panic!("on_delete hook fails for key {}", key.0);
}

#[faas_cached(max_items = 1, on_delete = panicking_hook)]
fn cube(n: u32) -> u32 {
    n * n * n
}

#[test]
fn a_panicking_delete_hook_is_counted_and_the_function_keeps_working() {
    assert_eq!(cube(2), 8);
    assert_eq!(cube(3), 27); // evicts 2: the hook panics, caught
    assert!(cube_invalidate(3)); // the hook panics again
    assert_eq!(cube(3), 27);
    assert_eq!(cube(3), 27);
    let info = cube_cache_info();
    assert_eq!(info.hook_panics, 2);
    assert_eq!((info.hits, info.misses, info.current_items), (1, 3, 1));
    assert_eq!(PANICKING_HOOK_CALLS.get(), 2);
    cube_cache_clear(); // a third panic, still caught
    assert_eq!(cube_cache_info().hook_panics, 3);
    assert_eq!(cube(4), 64);
}

static LOOKUP_CALLS: Calls = Calls::new();

/// `option = true` on a `Result<Option<T>, E>`: only `Ok(Some(..))` is cached.
#[faas_cached(option = true)]
fn lookup(id: u32) -> Result<Option<u32>, String> {
    LOOKUP_CALLS.hit();
    match id {
        0 => Err("zero".to_owned()),
        1 => Ok(None),
        n => Ok(Some(n * 2)),
    }
}

type Fallible<T> = Result<T, String>;

/// An alias of another name needs `result = true` too.
#[faas_cached(result = true, option = true)]
fn lookup_alias(id: u32) -> Fallible<Option<u32>> {
    Ok((id > 1).then_some(id))
}

#[faas_cached(option = true)]
fn lookup_io(id: u32) -> std::io::Result<Option<u32>> {
    Ok((id > 1).then_some(id))
}

/// Without `option = true`, `Ok(None)` is an `Ok` value like any other, and cached.
#[faas_cached]
fn lookup_default(id: u32) -> Result<Option<u32>, String> {
    Ok((id > 1).then_some(id))
}

#[test]
fn option_true_on_a_result_caches_only_ok_some() {
    assert_eq!(lookup(1), Ok(None));
    assert_eq!(lookup(1), Ok(None));
    assert_eq!(LOOKUP_CALLS.get(), 2, "Ok(None) is not cached");
    assert_eq!(lookup(0), Err("zero".to_owned()));
    assert_eq!(lookup(0), Err("zero".to_owned()));
    assert_eq!(LOOKUP_CALLS.get(), 4, "errors are not cached");
    assert_eq!(lookup(5), Ok(Some(10)));
    assert_eq!(lookup(5), Ok(Some(10)));
    assert_eq!(LOOKUP_CALLS.get(), 5, "Ok(Some) is cached");
    let store: &FaasCacheDict<(u32,), u32> = lookup_cache();
    assert_eq!(store.keys(), [(5,)]);
    assert!(lookup_invalidate(5));

    assert_eq!(lookup_alias(1), Ok(None));
    assert_eq!(lookup_alias(2), Ok(Some(2)));
    let store: &FaasCacheDict<(u32,), u32> = lookup_alias_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(lookup_io(1).unwrap(), None);
    assert_eq!(lookup_io(3).unwrap(), Some(3));
    assert_eq!(lookup_io(3).unwrap(), Some(3));
    let store: &FaasCacheDict<(u32,), u32> = lookup_io_cache();
    assert_eq!((store.len(), lookup_io_cache_info().hits), (1, 1));

    assert_eq!(lookup_default(1), Ok(None));
    let store: &FaasCacheDict<(u32,), Option<u32>> = lookup_default_cache();
    assert_eq!(store.get(&(1,)), Some(None));
}
