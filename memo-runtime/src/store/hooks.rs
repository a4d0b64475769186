//! Delete hooks: why an entry left, and running the user's hook safely.

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an entry left the store; passed to the `on_delete` hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeleteReason {
    /// Its time to live ran out (also when an insert overwrites an expired entry).
    Expired,
    /// The item or byte bound needed room.
    Evicted,
    /// `remove`, `invalidate`, `purge` or `cache_clear`.
    Removed,
    /// Overwritten by an insert of the same key.
    Replaced,
}

impl fmt::Display for DeleteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeleteReason::Expired => "expired",
            DeleteReason::Evicted => "evicted",
            DeleteReason::Removed => "removed",
            DeleteReason::Replaced => "replaced",
        })
    }
}

/// The `on_delete` hook of a store.
pub(crate) type Hook<K, V> = Box<dyn Fn(&K, &V, DeleteReason) + Send + Sync>;

/// An entry that left the store, carried out of the lock so that its hook runs and its memory
/// is freed after the lock is released.
pub(crate) struct Departed<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    pub(crate) reason: DeleteReason,
}

/// Entries collected under a lock; one fits without allocating.
pub(crate) type Departures<K, V> = smallvec::SmallVec<[Departed<K, V>; 1]>;

/// Runs the hook for each departed entry, then drops it. A panicking hook is caught, counted
/// in `panics` and logged. A panicking `Drop` of a key or value propagates to the caller, as it
/// would from `HashMap::insert`: by then the store's lock is released and the store is
/// consistent; the entries not yet dropped are dropped during unwinding.
#[inline(never)]
pub(crate) fn dispose<K, V>(
    hook: Option<&Hook<K, V>>,
    departures: Departures<K, V>,
    panics: &AtomicU64,
    name: &str,
) {
    let Some(hook) = hook else {
        return drop(departures);
    };
    for departed in departures {
        let call = catch_unwind(AssertUnwindSafe(|| {
            hook(&departed.key, &departed.value, departed.reason)
        }));
        if let Err(payload) = call {
            report_panic(panics, name, "on_delete hook", &payload);
        }
    }
}

/// Runs one hook call for an entry the caller keeps (a replaced value handed back to it).
pub(crate) fn notify<K, V>(
    hook: Option<&Hook<K, V>>,
    key: &K,
    value: &V,
    reason: DeleteReason,
    panics: &AtomicU64,
    name: &str,
) {
    if let Some(hook) = hook {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| hook(key, value, reason))) {
            report_panic(panics, name, "on_delete hook", &payload);
        }
    }
}

fn report_panic(panics: &AtomicU64, name: &str, what: &str, payload: &Box<dyn Any + Send>) {
    panics.fetch_add(1, Ordering::Relaxed);
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<non-string panic payload>");
    log::error!("faas-memo cache {name:?}: {what} panicked: {message}");
}
