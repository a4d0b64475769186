//! Procedural macros of faas-memo. Use them through `memo_runtime`, which re-exports them:
//! `use memo_runtime::{faas_cached, DeepSize};`.
//!
//! This file holds entry points only: each parses its input, calls one `expand`, and turns
//! errors into `compile_error!` tokens.

#![warn(missing_docs, unreachable_pub)]

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

mod args;
mod ast;
mod ctxt;
mod deep_size;
mod expand;
mod impl_block;
mod size;
mod symbol;
mod tier;
mod valid;

/// Derives `memo_runtime::DeepSize` for a struct or an enum: the value's inline size plus the
/// heap bytes owned by each field. See the trait's documentation for the field attributes.
#[proc_macro_derive(DeepSize, attributes(deep_size))]
pub fn derive_deep_size(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    deep_size::expand(&input).into()
}

/// Memoizes a function: its results are kept in a static, per-function
/// `memo_runtime::FaasCacheDict`, keyed on its arguments.
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(ttl = 60, max_items = 256)]
/// pub fn user_name(user_id: u64, locale: &str) -> String {
///     format!("user {user_id} ({locale})") // the slow part
/// }
///
/// assert_eq!(user_name(1, "fr"), "user 1 (fr)");
/// assert_eq!(user_name(1, "fr"), "user 1 (fr)"); // a hit: no clone of "fr" to look it up
/// let info = user_name_cache_info();
/// assert_eq!((info.hits, info.misses), (1, 1));
/// assert!(user_name_invalidate(1, "fr"));
/// user_name_cache_clear();
/// assert!(user_name_cache().is_empty());
/// ```
///
/// # Options
///
/// All optional, each at most once, in any order. A bad option is a compile error on its token.
///
/// **Without `max_items` or `max_size`, the cache is unbounded**: a bare `#[faas_cached]` keeps
/// every result until its `ttl` runs out (never, without one) or it is removed (`f_invalidate`,
/// `f_cache_clear`), like `functools.cache`. Give a bound to a function whose arguments are
/// not drawn from a small set. `f_cache_info()` shows it: `max_items=None, max_size=None
/// (unbounded)`.
///
/// | option | value | meaning |
/// | --- | --- | --- |
/// | `ttl` | seconds, integer or float, at least 1 ns (`ttl = 0.5`) | time to live of each result |
/// | `max_size` | `"512K"`, `"64M"`, `"64MiB"`, `"1.5G"`, `"2T"` (binary units, K = 1024, any case, `iB` optional; `"64MB"` is an error: decimal or binary?; fractions round down to whole bytes) or bytes; or `"10%"`, a share of the memory the process may use | byte bound over keys, values and overhead; key and value types implement `DeepSize`; in bytes, must exceed the store's fixed overhead on any machine (checked at compile time: the error gives the minimum for the function's key and value types, about 8-10 KiB and more for large keys and values); a share is resolved at run time against the cgroup limit, else `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, else the physical memory (`memo_runtime::process_memory`), and one too small for the fixed overhead caches nothing (logged) |
/// | `max_items` | integer > 0 | item bound |
/// | `policy` | `"s3fifo"` (default) or `"lru"`, case-insensitive, `-` and `_` ignored (`"LRU"`, `"S3-FIFO"`) | eviction policy (see `memo_runtime::Policy`) |
/// | `on_delete` | path to `fn(&K, &V, DeleteReason)`, or a closure | called for every entry that leaves |
/// | `key`, `key_type` | an expression over the arguments, and its type | a custom key (`key = user.id, key_type = u64`) |
/// | `name` | string | the name in `CacheInfo`; default `module_path::fn_name`, and `module_path::Type::fn_name` in an `impl` block (the type as [`core::any::type_name`] writes it, generic arguments included: `Wrapper<u8>::get`) |
/// | `result` | `true` / `false` | cache only `Ok` values; default: on when the return type's last path segment is `Result` with a type argument |
/// | `option` | `true` / `false` | cache only `Some` values; default: on when the return type's last path segment is `Option`; on a `Result<Option<T>, E>`, `true` caches only `Ok(Some(..))` |
/// | `dedupe` | `true` (default) / `false` | concurrent misses on one key compute once |
/// | `dedupe_timeout` | seconds > 0 (default 30) | how long waiters wait for a computation that shows no progress |
/// | `in_impl` | flag (or `in_impl = true`) | the function is in an `impl` block but mentions neither `self` nor `Self` (see [Methods](#methods)); not needed under `#[faas_cached]` on the block |
/// | `memory_budget` | `true` (default) / `false` | whether the store is in the process's memory budget (`memo_runtime::set_memory_budget`, `FAAS_MEMO_BUDGET`), where its cold entries may be evicted to make room for any store's inserts; without `max_size` it counts deep sizes there when the types implement `DeepSize` |
/// | `cached_flag` | flag | the function returns `memo_runtime::Cached<T>` around the cached value (see [Age and outcome](#age-and-outcome)) |
/// | `refresh_on_hit` | flag; needs `ttl` | a hit extends the entry's life to a whole `ttl` from now |
/// | `fallback` | seconds; needs a `Result` return and a TTL | an `Err` from recomputing an expired entry returns the expired `Ok` value for that long after expiry |
/// | `force_refresh` | a `bool` expression over the arguments | when true, the call recomputes and replaces the entry |
/// | `stale` | seconds; needs a TTL | for that long after the TTL ends, callers get the old value at once while one caller recomputes it |
/// | `refresh_ahead` | flag; needs a TTL | probabilistic early recomputation before expiry (XFetch) |
/// | `clock` | an expression of a `memo_runtime::Clock` or `MockClock` | the store's time source, for tests |
/// | `disk` | `"dir"`, or `true`: `FAAS_MEMO_DISK_DIR`, else `<temp dir>/faas-memo` | a durable SQLite tier shared by the processes of the machine (cargo feature `disk`); key parts implement `serde::Serialize`, the value `Serialize` and `Deserialize` |
/// | `disk_max_size` | like `max_size`, in bytes (default `"256M"`) | byte bound of the disk tier's entries; each write culls at most 10 rows to keep it |
/// | `redis` | `"redis://host:6379/0"`, or `true`: `FAAS_MEMO_REDIS_URL` | a Redis tier shared by a fleet (cargo feature `redis`); serde bounds as for `disk` |
/// | `redis_timeout` | seconds (default 0.05) | the time budget of one Redis call |
/// | `version` | string | pins the tiers' namespace; default: the crate's version and a hash of the function's tokens, so that a change of its code makes its old entries unreachable (and the disk tier reclaims them) |
///
/// # Generated helpers
///
/// Next to `fn f`, with its visibility (associated functions, `Self::f_cache_info()`, inside an
/// `impl` block):
///
/// | item | meaning |
/// | --- | --- |
/// | `f_cache_info() -> CacheInfo` | statistics and bounds: each call is one hit, one miss (the body ran) or one wait for another caller computing the same key (`waited`) |
/// | `f_invalidate(args) -> bool` | removes the entry these arguments would hit; `true` if there was one |
/// | `f_cache_clear()` | removes every entry (delete hooks run); the statistics stay |
/// | `f_reset_stats()` | sets the statistics back to zero; the entries stay (`functools`' `cache_clear()` is both) |
/// | `f_uncached(args) -> R` | the body without the cache: nothing looked up, stored or counted (`functools`' `__wrapped__`); `async` for an `async fn` |
/// | `f_prime(args, value) -> Result<Option<V>, CacheError>` | stores `value` for these arguments without running the body; returns the value it replaced |
/// | `f_refresh(args) -> R` | runs the body now and replaces the entry, whatever its age; concurrent refreshes and misses of the key wait for it, hits meanwhile get the old value; `async` for an `async fn` |
/// | `f_cache() -> &'static FaasCacheDict<K, V>` | the store itself |
///
/// `f_invalidate` and `f_prime` take the arguments that form the key (all of them with
/// `key = ...`), and `&self` for a method keyed on `self`, whatever its receiver. `V` is the
/// cached value: `T` for a `Result<T, E>` or `Option<T>` return. `f_uncached` has the
/// function's own signature; the function's lint attributes, `cfg`, `must_use`, `inline` and
/// `track_caller` apply to it too (it holds the body: an `#[expect]` is met there). Only
/// `f_uncached` of an `async fn` is async.
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(max_items = 1000)]
/// fn price(sku: &str) -> u64 {
///     sku.len() as u64 * 100 // the slow part
/// }
///
/// fn main() -> Result<(), memo_runtime::CacheError> {
///     price_prime("apple", 42)?; // known in advance: no computation
///     assert_eq!(price("apple"), 42);
///     assert_eq!(price_uncached("apple"), 500); // the body, bypassing the cache
///     assert_eq!(price_cache_info().hits, 1);
///     price_reset_stats();
///     assert_eq!(price_cache_info().hits, 0);
///     Ok(())
/// }
/// ```
///
/// # Arguments and the key
///
/// The key is the tuple of the arguments, owned (`(u64,)` for one argument), so key types
/// implement `Hash + Eq + Clone + Send + Sync + 'static`. A hit looks the key up by the
/// arguments as they were passed, without cloning or allocating:
///
/// | argument | key part | a hit looks it up by |
/// | --- | --- | --- |
/// | `T` (owned, or `Cow<'static, T>`) | `T`, cloned on a miss | `&T` |
/// | `&T`: `&str`, `&[u8]`, `&Path` | `T::Owned`: `String`, `Vec<u8>`, `PathBuf` | the reference |
/// | `Option<&T>`: `Option<&str>`, `Option<&[u8]>` | `Option<T::Owned>` | `memo_runtime::OptionRef<T>` |
/// | `&[&T]`, `Vec<&T>`: `&[&str]` | `Vec<T::Owned>`: `Vec<String>` | `memo_runtime::SliceRef<T>` |
/// | `Cow<'_, T>`: `Cow<str>` | `T::Owned`: `String`, whether the `Cow` is borrowed or owned | `&T` |
///
/// `T::Owned` is `T` for a `T: Clone`. `f_invalidate`, `f_prime` and `f_uncached` take the
/// arguments as the function does.
///
/// ```
/// use memo_runtime::{faas_cached, FaasCacheDict};
/// use std::borrow::Cow;
///
/// #[faas_cached]
/// fn search(query: Option<&str>, fields: &[&str], locale: Cow<str>) -> String {
///     format!("{query:?} in {fields:?} ({locale})") // the slow part
/// }
///
/// search(Some("rust"), &["title"], Cow::Borrowed("fr"));
/// // An owned `Cow` with the same text is the same key: a hit.
/// search(Some("rust"), &["title"], Cow::Owned("fr".to_owned()));
/// assert_eq!(search_cache_info().hits, 1);
/// let _: &FaasCacheDict<(Option<String>, Vec<String>, String), String> = search_cache();
/// assert!(search_invalidate(Some("rust"), &["title"], "fr".into()));
/// ```
///
/// Data the key cannot own is a compile error: `dyn Trait`, data behind two references
/// (`&&str`, `Option<Option<&str>>`, `&[&[&str]]`), tuples, maps and structs holding
/// references, and `&[&u64]`, under an alias too (a slice of integers hashes differently from
/// a slice of references to them: take `&[u64]`).
///
/// Mark an argument `#[exclude]` to leave it out of the key (a connection, a logger, a request
/// context); `invalidate` then does not take it. `key = ..., key_type = ...` replaces the key:
/// the expression may use any argument, so `invalidate` then takes them all.
///
/// A float (`f32`, `f64`) is neither `Hash` nor `Eq` (`NaN != NaN`), so it cannot be part of
/// the key as it is; the error says so. Key it by its bits, `key = (price.to_bits(), region),
/// key_type = (u64, u32)` (`0.0` and `-0.0` are then two keys, and each `NaN` bit pattern is
/// one), or by a rounded integer, or `#[exclude]` it.
///
/// A `&mut T` argument (or `&mut self`) that is part of the key is a compile error: a hit
/// returns the cached value without running the body, so the body's changes to it would be
/// silently skipped. Take `&T` if the function only reads it, or mark it `#[exclude]` if it is
/// not an input of the result (`#[exclude] conn: &mut Conn`, `#[exclude] &mut self`); with
/// `key = ...` the arguments are not the key and `&mut` is accepted.
///
/// # Return values
///
/// A hit returns a clone of the cached value. For a `Result<T, E>` only `Ok` values are cached
/// and the store holds `T` (errors are returned and the next call tries again); for an
/// `Option<T>`, only `Some`. A return type is treated as a `Result` when its last path segment
/// is named `Result` and has a type argument, so aliases such as `io::Result<T>` and
/// `anyhow::Result<T>` work as expected; an alias with another name
/// (`type Fallible<T> = Result<T, MyError>`) needs `result = true`, and `result = false`
/// caches errors too (then `E: Clone`). `fmt::Result` (no type argument) is cached whole. The
/// same goes for `Option` and `option`.
///
/// A `Result<Option<T>, E>` caches `Ok(None)` like any `Ok` value; add `option = true` to cache
/// only `Ok(Some(..))` (the store then holds `T`). `option = true` on a `Result` whose `Ok` type
/// is not an `Option`, or together with `result = false`, is a compile error.
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(option = true)]
/// fn find_user(id: u64) -> std::io::Result<Option<String>> {
///     Ok((id == 1).then(|| "ada".to_owned())) // the slow lookup
/// }
///
/// fn main() -> std::io::Result<()> {
///     assert_eq!(find_user(2)?, None); // not cached: the next call looks again
///     assert_eq!(find_user(1)?.as_deref(), Some("ada")); // cached
///     assert_eq!(find_user_cache().len(), 1);
///     Ok(())
/// }
/// ```
///
/// # Age and outcome
///
/// - `cached_flag`: the function returns `Cached<T>` (`Result<Cached<T>, E>`,
///   `Option<Cached<T>>`, `Result<Option<Cached<T>>, E>` with `option = true`), which derefs to
///   `T`; `was_cached()` is `false` exactly when this call ran the body and returns its
///   result. The body (and `f_uncached`) returns the type without `Cached`.
/// - A `WithTtl<T>` return (also inside `Result`/`Option`, and inside `Cached`): the body gives
///   each value its own TTL, `WithTtl::new(value, ttl)`, instead of `ttl`; a zero TTL returns
///   the value uncached; a hit returns the time the value has left.
/// - `refresh_on_hit`: a hit moves the entry's expiry to a whole `ttl` from now (to within
///   1/1024 of it). The extra cost of a hit is the timed lookup (the entry's expiry read with
///   its value), plus, once per 1/1024 of the TTL and key, a write under the shard's exclusive
///   lock.
/// - `stale = secs`: an entry is kept that long past its TTL. The first caller to find it stale
///   recomputes it in its own call and returns the new value; callers that find that
///   recomputation in flight return the stale value at once (counted in `stale_hits`). A failed
///   recomputation (`Err`, `None`) keeps the stale value until `stale` runs out. Nothing relies
///   on a background thread.
/// - `fallback = secs` (a `Result` return): an `Err` from recomputing an entry that expired
///   less than `secs` ago returns the expired `Ok` value instead (counted in `fallbacks`, and
///   handed to the callers waiting for that recomputation); with `stale`, inside the stale
///   window too.
/// - `refresh_ahead`: a hit on a fresh entry recomputes it early with probability
///   `exp(-left / cost)`, `left` the time before expiry and `cost` a moving average of how long
///   the body took (XFetch, per function); callers that find the early recomputation in flight
///   keep hitting the current value, and an early recomputation that fails returns it.
/// - `force_refresh = expr`: when the expression (over the arguments, often an
///   `#[exclude]`d flag) is true, the call recomputes and replaces the entry, as `f_refresh`.
///
/// These need stampede protection (not with `dedupe = false`). A function that uses none of
/// them keeps the plain hit path, chosen at expansion time.
///
/// ```
/// use memo_runtime::{faas_cached, Cached, MockClock};
/// use std::sync::LazyLock;
/// use std::time::Duration;
///
/// static CLOCK: LazyLock<MockClock> = LazyLock::new(MockClock::new);
///
/// #[faas_cached(ttl = 60, stale = 30, fallback = 600, cached_flag, clock = CLOCK.clone())]
/// fn rate(currency: &str) -> Result<Cached<f64>, String> {
///     if currency == "XXX" {
///         return Err("unknown currency".to_owned());
///     }
///     Ok(1.08) // the slow upstream call
/// }
///
/// assert!(!rate("EUR")?.was_cached());
/// CLOCK.advance(Duration::from_secs(70)); // past the TTL, within `stale`
/// assert!(!rate("EUR")?.was_cached()); // nobody else was recomputing: this call did
/// assert!(rate("EUR")?.was_cached());
/// assert_eq!(*rate_refresh("EUR")?, 1.08);
/// assert_eq!(rate_cache_info().refreshes, 2);
/// # Ok::<(), String>(())
/// ```
///
/// # Methods
///
/// In an `impl` block, the helpers are associated functions (`Self::f_cache_info()`). A
/// method's receiver is part of the key, so `a.f()` and `b.f()` never share a result: `Self`
/// must then be `Hash + Eq + Clone`. Mark it `#[exclude] &self` to share results across all
/// values. The `invalidate` helper of a method takes `&self` whatever the method takes, so
/// `value.f_invalidate()` does not consume a by-value `self`.
///
/// An attribute on a function cannot see the `impl` block around it: a function that takes
/// `self` or mentions `Self` is known to be inside one; any other associated function needs
/// `in_impl`, or `#[faas_cached]` on the block (below). Without either, the helpers are
/// generated as free functions, and rustc's error (on the attribute) names the fix: "cannot
/// find function `__f__in_an_impl_block_write_faas_cached_in_impl`".
///
/// A generic `impl` block gets one store per concrete `Self` (`Pair::<3>::width()` and
/// `Pair::<5>::width()` never share results, even when the key and value types do not mention
/// the block's parameters, and `Wrapper::<u8>::f_cache_info()` counts only `Wrapper<u8>`'s
/// calls); lifetimes are not told apart (`Parser<'a>` and `Parser<'b>` share one store). In an
/// `impl` block, finding the store costs two `TypeId` comparisons per call.
///
/// # On an `impl` block, and trait impls
///
/// `#[faas_cached]` (without options) on an `impl` block memoizes the methods marked
/// `#[faas_cached(..)]` in it, each with its own options, and knows that they are in a block:
/// no `in_impl`. It is how the methods of a trait impl are memoized. A trait impl holds the
/// trait's items only, so their helpers go in an inherent `impl` of the implementing type,
/// generated next to the block with its generics and `where` clause: `Type::f_cache_info()`,
/// `value.f_invalidate(..)`, one store per implementing type (per concrete type for a generic
/// one), whether the method is called directly or through the trait. A method of a trait has
/// no visibility of its own: the helpers are private to the module, or get the visibility
/// written on the method (`pub fn`), which the macro moves to them.
///
/// ```
/// use memo_runtime::faas_cached;
///
/// trait Pricer {
///     fn price(&self, sku: &str) -> u64;
/// }
///
/// #[derive(Clone, Hash, PartialEq, Eq)]
/// struct Shop {
///     markup: u64,
/// }
///
/// #[faas_cached]
/// impl Pricer for Shop {
///     #[faas_cached(ttl = 60, max_items = 1000)]
///     fn price(&self, sku: &str) -> u64 {
///         sku.len() as u64 * self.markup // the slow part
///     }
/// }
///
/// let shop = Shop { markup: 10 };
/// assert_eq!(shop.price("apple"), 50);
/// assert_eq!(shop.price("apple"), 50);
/// assert_eq!(Shop::price_cache_info().hits, 1);
/// assert!(shop.price_invalidate("apple"));
/// ```
///
/// Only a type of this crate can have an inherent `impl`, so a trait implemented for a
/// foreign type (`u64`, `Vec<T>`, `&T`), for every `T` (a blanket impl), or with a parameter
/// that only the trait mentions (`impl<T> From<T> for Wrapper`) is a compile error on that
/// type or parameter: implement the trait for a newtype, or memoize an inherent or free
/// function and call it from the trait's method. The same goes for two trait impls of one type
/// that memoize methods of the same name (their helpers would collide). On a method of a
/// trait impl whose block lacks `#[faas_cached]`, rustc's first error names the fix: "method
/// `__f__in_a_trait_impl_put_faas_cached_on_the_impl_block_too` is not a member of trait".
///
/// # Async
///
/// An `async fn` shares its store with every caller; concurrent misses on one key run the body
/// once and the others wait without blocking their executor thread (any executor). The helpers
/// stay synchronous.
///
/// # Concurrency and failures
///
/// When several callers miss on the same key at once, one computes and the others wait for its
/// value; callers on other keys never wait. If the computation panics, returns an error or
/// `None`, or (async) is dropped, the waiters are released and one of them computes. A
/// computation that shows no progress for `dedupe_timeout` is taken over by a waiter: an async
/// one progresses whenever its future is polled, a blocking one never does, so waiters on a
/// blocking body compute themselves once they have waited the whole timeout (raise
/// `dedupe_timeout` for bodies that may run longer). Two memoized functions that call each other with
/// different keys from two threads can wait on each other until that timeout: keep recursion
/// within one thread or turn `dedupe` off.
///
/// # Not supported
///
/// Generic functions and `impl Trait` arguments or return types (a static store needs one
/// concrete type), `const fn`, arguments that borrow in a shape the key cannot own (see
/// [Arguments and the key](#arguments-and-the-key)), `&mut` arguments in the key, return types
/// that borrow. Each is a compile error that says why and
/// what to do. A key or value type that misses a bound (`Hash`, `Clone`, `Send`...) is one error
/// per missing bound, on that type; `compile_fail` cases of each are in the `ui-tests` crate.
#[proc_macro_attribute]
pub fn faas_cached(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::faas_cached(args.into(), item.into()).into()
}
