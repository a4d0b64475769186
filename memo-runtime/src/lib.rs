//! # faas-memo runtime
//!
//! Memoization for Rust functions, bounded at once by item count, by bytes (deep size of keys
//! and values) and by time to live, with stampede protection: the Rust counterpart of Python's
//! `faas-cache-dict`, `functools.lru_cache` and `dogpile.cache`, for FaaS handlers and services
//! where memory is scarce and cold work is expensive.
//!
//! This is the only crate to depend on; it re-exports the macros.
//!
//! ```
//! use memo_runtime::{faas_cached, DeepSize};
//!
//! #[derive(Clone, DeepSize)]
//! struct Profile {
//!     name: String,
//! }
//!
//! #[faas_cached(ttl = 60, max_size = "64M", max_items = 256)]
//! fn user_profile(user_id: u64, locale: &str) -> Profile {
//!     Profile { name: format!("{user_id}-{locale}") } // slow: network, disk, CPU
//! }
//!
//! assert_eq!(user_profile(7, "fr").name, "7-fr"); // computed
//! assert_eq!(user_profile(7, "fr").name, "7-fr"); // from the cache
//! assert_eq!(user_profile_cache_info().hits, 1);
//! ```
//!
//! # The two halves
//!
//! - [`#[faas_cached]`](faas_cached) turns a function into a memoized one: a static store per
//!   function, keyed on its arguments (borrowed arguments are looked up without cloning), and
//!   helpers next to it: `<fn>_cache_info()`, `<fn>_invalidate(args) -> bool`,
//!   `<fn>_cache_clear()`, `<fn>_reset_stats()`, `<fn>_refresh(args)` and `<fn>_cache()`.
//!   Options decide what happens around an entry's expiry (`stale`, `fallback`,
//!   `refresh_on_hit`, `refresh_ahead`) and what a call returns ([`Cached`], [`WithTtl`]).
//! - [`FaasCacheDict`] is the store itself, usable directly: `insert`, `get`, TTL per entry,
//!   `keys()` in eviction order, delete hooks, statistics, and `get_or_insert_with` with
//!   stampede protection.
//!
//! # Eviction
//!
//! [`Policy::S3Fifo`] (the default) is scan-resistant and its hits write nothing shared, so they
//! scale across threads. [`Policy::Lru`] keeps the exact least-recently-used order of
//! `faas-cache-dict`. Both are bounded by `max_items` and `max_size`, exactly for the whole
//! store.
//!
//! # Memory
//!
//! With `max_size`, each entry is accounted as the deep size of its key and value
//! ([`DeepSize`]) plus a per-entry overhead (its node, hash-table slot and policy metadata), and
//! the store adds its fixed overhead. The structures are built so that the memory really
//! allocated stays within what is accounted: nodes live in small chunks that are returned as
//! the store shrinks, and the hash table is shrunk when it becomes sparse.
//!
//! # Time
//!
//! TTLs are measured with the kernel's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE` through
//! the vDSO on Linux: about 6 ns, against 30-40 ns for `Instant::now()`), read at every check
//! of an expiry and never cached by a background thread: a process frozen between invocations
//! (a FaaS instance, SIGSTOP) never gets back an entry that expired during the freeze. A hit on
//! an entry without a TTL reads no clock. Expiry is exact to the kernel's tick (1-4 ms).
//! Expired entries are never returned or counted, and are reclaimed by a timer wheel during
//! writes, without scanning the store. Tests inject a [`MockClock`].
//!
//! # FaaS
//!
//! One memory budget for the whole process ([`set_memory_budget`], `FAAS_MEMO_BUDGET`),
//! shared by every memoized function and every store that joins it: when it is full, cold
//! entries go first wherever they are. [`caches`] lists every cache and [`cache_summary`] adds
//! them up in one line for a per-invocation log. Sizes may be shares of the container's memory
//! (`"10%"`, [`process_memory`]).
//!
//! ```
//! use memo_runtime::faas_cached;
//!
//! #[faas_cached(ttl = 300)]
//! fn price(sku: u64) -> u64 {
//!     sku * 100
//! }
//!
//! memo_runtime::set_memory_budget("32M")?; // or FAAS_MEMO_BUDGET=40%
//! let before = memo_runtime::cache_summary();
//! price(7);
//! println!("{}", memo_runtime::cache_summary().since(&before));
//! # Ok::<(), memo_runtime::CacheError>(())
//! ```
//!
//! # Threads
//!
//! Every method takes `&self`. A store is `Send + Sync` when its keys and values are. Stampede
//! protection makes concurrent misses on one key compute once, while other keys proceed; async
//! functions wait without blocking their executor, under any executor.
//!
//! # Cargo features
//!
//! | feature | adds |
//! | --- | --- |
//! | `tier` | the [tier layer](tier): second-level stores under the memory store, read through on a miss (serde, postcard); turned on by the tier features, or alone for a [`Tier`](tier::Tier) of your own |
//! | `serde` | `Serialize` and `Deserialize` for [`CacheInfo`], [`CacheSummary`] and the FaaS reports ([`MemoryBudget`], [`ProcessMemory`], [`ResolvedShare`]...), for JSON logs and metrics |
//! | `disk` | the SQLite tier shared by the processes of one machine and kept across their restarts: `#[faas_cached(disk = "/tmp/cache")]` or `disk = true`, [`Builder::disk`]; WAL, a byte bound with bounded eviction work per write, absolute expiry, a cross-process lease per key, old versions of a function's code reclaimed (see the README's "Tiers") |
//! | `redis` | the Redis tier shared by a fleet of processes: `#[faas_cached(redis = "redis://..")]`, [`Builder::redis`]; blocking connections with a time budget per call and a circuit breaker, TLS through the system's OpenSSL, a cross-process lease per key (see the README's "The Redis tier") |

#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]
#![deny(unsafe_op_in_unsafe_fn)]
#![doc(test(attr(deny(warnings))))]

// Lets code generated by our own derive (`::memo_runtime::DeepSize`) compile inside this crate.
extern crate self as memo_runtime;

mod clock;
mod error;
mod faas;
mod memo;
mod size;
mod store;
mod sync;
pub mod tier;

pub use clock::{Clock, MockClock};
pub use error::CacheError;
pub use faas::budget::{
    memory_budget, remove_memory_budget, set_memory_budget, BudgetSource, MemoryBudget,
    MEMORY_BUDGET_ENV,
};
pub use faas::memory::{process_memory, MemorySource, MemorySources, ProcessMemory};
pub use faas::registry::caches;
pub use faas::share::{MemoryShare, ResolvedShare};
pub use faas::summary::{cache_summary, CacheSummary};
pub use hashbrown::Equivalent;
pub use memo::returns::{Cached, WithTtl};
pub use memo_macros::{faas_cached, DeepSize};
pub use size::byte_size::{ByteSize, IntoByteSize};
pub use size::deep_size::DeepSize;
pub use store::builder::{Builder, DEFAULT_DEDUPE_TIMEOUT};
pub use store::dict::FaasCacheDict;
pub use store::hash::DefaultHashBuilder;
pub use store::hooks::DeleteReason;
pub use store::key_ref::{KeyRef, OptionRef, SliceRef};
pub use store::policy::Policy;
pub use store::stats::CacheInfo;
#[cfg(feature = "disk")]
pub use tier::disk::{
    default_dir as default_disk_dir, CULL_LIMIT as DISK_CULL_LIMIT, DEFAULT_DISK_MAX_SIZE,
    DEFAULT_DISK_TIMEOUT, DISK_DIR_ENV, DISK_FILE_NAME,
};
pub use tier::info::TierInfo;
#[cfg(feature = "redis")]
pub use tier::redis::{BreakerState, DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT, REDIS_URL_ENV};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

// The README's examples are doc tests of the `memo-examples` crate (examples/lib.rs), which is
// not published: including ../../README.md here would reach outside this crate's package.
