//! The registry of every cache in the process: each memoized function, and each store built with
//! [`Builder::build_shared`](crate::Builder::build_shared). [`caches`] lists them; the memory
//! budget ([`budget`](crate::faas::budget)) evicts from those of them that are in it.
//!
//! A memoized function's store lives in a `static` that is being initialized when it registers,
//! so the registry keeps a way to reach it (the generated `f_cache` function) rather than its
//! address; a shared store is kept by a [`Weak`] reference and leaves when it is dropped.
//! Nothing here calls a member while holding the registry's lock: a member still being
//! initialized on another thread is waited for without blocking that thread's registration.

use std::ops::Deref;
use std::sync::{Arc, Weak};

use crate::store::stats::CacheInfo;
use crate::sync::Mutex;

/// What the registry and the budget need of a store, whatever its key and value types.
pub(crate) trait Member: Send + Sync {
    /// The store's [`CacheInfo`].
    fn info(&self) -> CacheInfo;
    /// Frees memory for the budget: reclaims the expired entries of one shard, or else evicts
    /// one entry, only a cold one when `cold_only` (see `Shard::evict_cold`), else the one its
    /// policy picks. `false` when it found nothing to free.
    fn free_for_budget(&self, cold_only: bool) -> bool;
    /// Starts counting the store's bytes in the budget (once; later calls do nothing).
    fn start_accounting(&self);
}

/// A memoized function's store, as its accessor returns it.
pub(crate) type StaticMember = &'static dyn Member;

/// The accessor of a memoized function's store, its key and value types erased.
pub(crate) type Accessor = Arc<dyn Fn() -> StaticMember + Send + Sync>;

/// How the registry reaches a member.
#[derive(Clone)]
enum Handle {
    /// A memoized function's store: its `f_cache` accessor, behind a closure that erases the
    /// key and value types.
    Static(Accessor),
    /// A store built with `build_shared`.
    Shared(Weak<dyn Member>),
}

/// One registered store.
#[derive(Clone)]
pub(crate) struct Entry {
    handle: Handle,
    /// Whether the store is in the process's memory budget.
    pub(crate) budgeted: bool,
}

impl Entry {
    /// The store, unless it was dropped.
    pub(crate) fn get(&self) -> Option<Live> {
        match &self.handle {
            Handle::Static(accessor) => Some(Live::Static(accessor())),
            Handle::Shared(weak) => weak.upgrade().map(Live::Shared),
        }
    }

    fn is_dead(&self) -> bool {
        match &self.handle {
            Handle::Static(_) => false,
            Handle::Shared(weak) => weak.strong_count() == 0,
        }
    }
}

/// A registered store, reached.
pub(crate) enum Live {
    Static(&'static dyn Member),
    Shared(Arc<dyn Member>),
}

impl Deref for Live {
    type Target = dyn Member;

    fn deref(&self) -> &(dyn Member + 'static) {
        match self {
            Live::Static(member) => *member,
            Live::Shared(member) => &**member,
        }
    }
}

struct State {
    /// Copied on write, so that readers take a snapshot and let go of the lock at once
    /// (`None`: none yet).
    entries: Option<Arc<Vec<Entry>>>,
    /// Whether the budget counts its members' bytes (from the first budget on).
    accounting: bool,
}

/// The process's registry.
pub(crate) struct Registry {
    state: Mutex<State>,
}

impl Registry {
    pub(crate) const fn new() -> Self {
        Registry {
            state: Mutex::new(State {
                entries: None,
                accounting: false,
            }),
        }
    }

    /// Every registered store, as they are now.
    pub(crate) fn snapshot(&self) -> Arc<Vec<Entry>> {
        self.state.lock().entries.clone().unwrap_or_default()
    }

    /// Adds a store. `store` is the store itself (maybe not yet where `handle` will find it);
    /// when it joins the budget and the budget is counting, it starts counting here, under the
    /// registry's lock, so that a budget set at the same time cannot miss it.
    fn add(&self, handle: Handle, store: &dyn Member, budgeted: bool) {
        let mut state = self.state.lock();
        let mut entries: Vec<Entry> = state
            .entries
            .iter()
            .flat_map(|entries| entries.iter())
            .filter(|entry| !entry.is_dead())
            .cloned()
            .collect();
        entries.push(Entry { handle, budgeted });
        state.entries = Some(Arc::new(entries));
        if budgeted && state.accounting {
            store.start_accounting();
        }
    }

    /// Registers a memoized function's store, reached through `accessor` once its `static` is
    /// initialized; `store` is the value about to be put there.
    pub(crate) fn add_static(&self, store: &dyn Member, accessor: Accessor, budgeted: bool) {
        self.add(Handle::Static(accessor), store, budgeted);
    }

    /// Registers a shared store.
    pub(crate) fn add_shared(&self, store: &Arc<dyn Member>, budgeted: bool) {
        self.add(Handle::Shared(Arc::downgrade(store)), &**store, budgeted);
    }

    /// Turns accounting on (once) and returns the members of the budget to start counting.
    pub(crate) fn start_accounting(&self) -> Arc<Vec<Entry>> {
        let mut state = self.state.lock();
        state.accounting = true;
        state.entries.clone().unwrap_or_default()
    }
}

/// The [`CacheInfo`] of every memoized function of the process (once it has been called: its
/// store is created on its first call) and of every store built with
/// [`Builder::build_shared`](crate::Builder::build_shared) that is still alive, in the order
/// they were created.
///
/// For a one-line log of them all, see [`cache_summary`](crate::cache_summary).
///
/// # Examples
///
/// ```
/// use memo_runtime::faas_cached;
///
/// #[faas_cached(max_items = 100)]
/// fn square(n: u64) -> u64 {
///     n * n
/// }
///
/// square(3);
/// square(3);
/// let all = memo_runtime::caches();
/// let info = all.iter().find(|info| info.name.ends_with("::square")).unwrap();
/// assert_eq!((info.hits, info.misses), (1, 1));
/// ```
pub fn caches() -> Vec<CacheInfo> {
    crate::faas::budget::global()
        .registry()
        .snapshot()
        .iter()
        .filter_map(|entry| entry.get().map(|store| store.info()))
        .collect()
}
