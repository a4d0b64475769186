//! Items used only by code that `#[faas_cached]` generates. Not a public API: names and
//! signatures change without notice.

use std::any::Any;
use std::marker::PhantomData;

use crate::builder::{deep_weight, inline_weight};
use std::sync::{OnceLock, RwLock};

pub use std::sync::LazyLock;

pub use crate::memoize::Shape;

/// Runs the miss path of a memoized function out of line, so that its hit path stays small.
#[cold]
#[inline(never)]
pub fn miss<R>(compute: impl FnOnce() -> R) -> R {
    compute()
}

/// Fails compilation (when evaluated in a `const` block) if `max_size` cannot hold even the
/// fixed overhead of a one-shard store named with `name_len` bytes.
pub const fn assert_max_size_fits<K, V>(max_size: u64, name_len: usize) {
    // One reader slot: a lower bound (the runtime count depends on the cores).
    let fixed = crate::dict::fixed_overhead_of::<K, V, crate::DefaultHashBuilder>(1, 1, name_len);
    assert!(
        max_size > fixed as u64,
        "`max_size` is smaller than the cache's fixed overhead for these key and value types \
         (FaasCacheDict::fixed_overhead); raise it"
    );
}

type AnyRef = &'static (dyn Any + Send + Sync);

/// What a part of a memoized function's key must be. Asserted per argument, on its own token,
/// so that a missing bound reads as one line about that argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key",
    label = "this argument is part of the key",
    note = "a key part must be `Hash + Eq + Clone + Send + Sync + 'static`",
    note = "leave the argument out of the key with `#[exclude]`, or give the key with \
            `key = ..., key_type = ...`"
)]
pub trait CacheKey: std::hash::Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: std::hash::Hash + Eq + Clone + Send + Sync + 'static> CacheKey for T {}

/// What a memoized function's cached value must be.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be cached",
    label = "this value is cached",
    note = "a cached value must be `Clone + Send + Sync + 'static`: a hit returns a clone \
            (wrap it in `Arc` if cloning is costly or impossible)"
)]
pub trait CacheValue: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> CacheValue for T {}

/// Asserts [`CacheKey`] where the generated code calls it.
pub const fn assert_cache_key<T: CacheKey>() {}

/// Asserts [`CacheValue`] where the generated code calls it.
pub const fn assert_cache_value<T: CacheValue>() {}

/// Asserts [`DeepSize`](crate::DeepSize), which `max_size` needs.
pub const fn assert_deep_size<T: ?Sized + crate::DeepSize>() {}

/// Picks the deep weigher when key and value implement `DeepSize`, the inline one otherwise,
/// by autoref-based dispatch: `(&WeighWith::<K, V>::new()).weigher()` finds
/// [`DeepWeigher`] at the first probing step when it applies, [`InlineWeigher`] (one autoref
/// further) otherwise. The generated code asserts `DeepSize` separately, on the offending
/// argument's token, so a missing impl is reported once, where it is readable.
#[derive(Debug)]
pub struct WeighWith<K, V>(PhantomData<fn(&K, &V)>);

impl<K, V> WeighWith<K, V> {
    /// The dispatch token.
    pub const fn new() -> Self {
        WeighWith(PhantomData)
    }
}

impl<K, V> Default for WeighWith<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// Deep weighing, chosen when it applies.
pub trait DeepWeigher<K, V> {
    /// The weigher to use.
    fn weigher(&self) -> fn(&K, &V) -> usize;
}

impl<K: crate::DeepSize, V: crate::DeepSize> DeepWeigher<K, V> for WeighWith<K, V> {
    fn weigher(&self) -> fn(&K, &V) -> usize {
        deep_weight::<K, V>
    }
}

/// Inline weighing, the fallback.
pub trait InlineWeigher<K, V> {
    /// The weigher to use.
    fn weigher(&self) -> fn(&K, &V) -> usize;
}

impl<K, V> InlineWeigher<K, V> for &WeighWith<K, V> {
    fn weigher(&self) -> fn(&K, &V) -> usize {
        inline_weight::<K, V>
    }
}

/// A `static` that holds a store whose type mentions `Self` or a type parameter of an `impl`
/// block: a static item cannot name those, so the store is kept as `dyn Any` and found by its
/// type (one instance per concrete type, which also serves generic `impl` blocks).
#[derive(Debug)]
pub struct ErasedStatic {
    first: OnceLock<AnyRef>,
    others: RwLock<Vec<AnyRef>>,
}

impl ErasedStatic {
    /// An empty slot, for a `static` initializer.
    pub const fn new() -> Self {
        ErasedStatic {
            first: OnceLock::new(),
            others: RwLock::new(Vec::new()),
        }
    }

    /// The instance of `T`, created by `init` on first use and never dropped.
    #[inline]
    pub fn get_or_init<T: Any + Send + Sync>(
        &'static self,
        init: impl FnOnce() -> T,
    ) -> &'static T {
        let mut init = Some(init);
        let first = self.first.get_or_init(|| {
            let make = init
                .take()
                .expect("OnceLock runs this closure at most once");
            Box::leak(Box::new(make()))
        });
        if let Some(value) = first.downcast_ref::<T>() {
            return value;
        }
        match init {
            Some(make) => self.other(make),
            None => unreachable!("the closure above stored a T"),
        }
    }

    #[cold]
    fn other<T: Any + Send + Sync>(&'static self, init: impl FnOnce() -> T) -> &'static T {
        let find = |list: &[AnyRef]| list.iter().find_map(|any| any.downcast_ref::<T>());
        if let Some(found) = find(&self.others.read().unwrap_or_else(|e| e.into_inner())) {
            return found;
        }
        let mut others = self.others.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = find(&others) {
            return found;
        }
        let value: &'static T = Box::leak(Box::new(init()));
        others.push(value);
        value
    }
}

impl Default for ErasedStatic {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_per_type() {
        static SLOT: ErasedStatic = ErasedStatic::new();
        let a: &u32 = SLOT.get_or_init(|| 1u32);
        let b: &String = SLOT.get_or_init(|| "s".to_owned());
        let a2: &u32 = SLOT.get_or_init(|| 2u32);
        let b2: &String = SLOT.get_or_init(|| "t".to_owned());
        assert_eq!((*a, b.as_str()), (1, "s"));
        assert!(std::ptr::eq(a, a2) && std::ptr::eq(b, b2));
    }
}
