//! A store as a member of the registry and of the memory budget.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use crate::faas::budget::global;
use crate::faas::registry::{Accessor, Member, StaticMember};
use crate::store::dict::FaasCacheDict;
use crate::store::stats::CacheInfo;

impl<K, V, S> Member for FaasCacheDict<K, V, S>
where
    K: Hash + Eq + Send + Sync,
    V: Send + Sync,
    S: BuildHasher + Send + Sync,
{
    fn info(&self) -> CacheInfo {
        FaasCacheDict::info(self)
    }

    fn free_for_budget(&self, cold_only: bool) -> bool {
        FaasCacheDict::free_for_budget(self, cold_only)
    }

    fn start_accounting(&self) {
        self.start_budget_accounting();
    }
}

/// Registers a memoized function's store (`store`, about to be put in the `static` that
/// `accessor` returns), in the budget unless `budgeted` is false.
pub(crate) fn register_memoized<K, V>(
    store: &FaasCacheDict<K, V>,
    accessor: fn() -> &'static FaasCacheDict<K, V>,
    budgeted: bool,
) where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    if budgeted {
        store.faas.set_budgeted();
    }
    let accessor: Accessor = Arc::new(move || -> StaticMember { accessor() });
    global().registry().add_static(store, accessor, budgeted);
}

/// Registers a store built with `build_shared`.
pub(crate) fn register_shared<K, V, S>(store: &Arc<FaasCacheDict<K, V, S>>, budgeted: bool)
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    S: BuildHasher + Send + Sync + 'static,
{
    if budgeted {
        store.faas.set_budgeted();
    }
    let member: Arc<dyn Member> = store.clone();
    global().registry().add_shared(&member, budgeted);
}
