//! Items used only by code that `#[faas_cached]` generates. Not a public API: names and
//! signatures change without notice.

use std::any::{Any, TypeId};
use std::fmt;
use std::marker::PhantomData;

use crate::store::builder::{deep_weight, inline_weight};
use std::sync::{OnceLock, RwLock};

pub use std::sync::LazyLock;

pub use crate::memo::fresh::{FreshShape, Looked};
pub use crate::memo::memoize::Shape;
pub use crate::tier::private::*;

impl<V, E> Shape<Result<Option<V>, E>, V> {
    /// `option = true` on a `Result<Option<V>, E>`: only `Ok(Some(..))` is cached; `Ok(None)`
    /// and errors are returned and the next call tries again.
    pub const OK_SOME: Self = Shape {
        value: |r| match r {
            Ok(Some(v)) => Some(v),
            _ => None,
        },
        wrap: |v| Ok(Some(v)),
    };
}

/// The number the current thread reads caches by (assigned at its first read, reused once it
/// exits), for `tests/thread_numbers.rs`.
pub fn thread_number() -> usize {
    crate::sync::thread_id::current()
}

/// Builds a memoized function's store (never fails, see `Builder::build_lenient`) and
/// registers it: [`caches`](crate::caches) lists it, and it joins the process's memory budget
/// unless the builder says `memory_budget(false)`. `this` is the generated `f_cache`, through
/// which the registry reaches the store once it is in its `static`.
pub fn build_memoized<K, V>(
    builder: crate::Builder<K, V>,
    this: fn() -> &'static crate::FaasCacheDict<K, V>,
) -> crate::FaasCacheDict<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    let budgeted = builder.memory_budget.unwrap_or(true);
    let store = builder.build_lenient();
    crate::faas::member::register_memoized(&store, this, budgeted);
    store
}

/// Runs the miss path of a memoized function out of line, so that its hit path stays small.
#[cold]
#[inline(never)]
pub fn miss<R>(compute: impl FnOnce() -> R) -> R {
    compute()
}

/// The largest fixed overhead that a one-shard store of `K` and `V` can have on any machine:
/// its reader slots depend on the cores (at most 16 of them). The store of a memoized
/// function has a static name ([`Builder::static_name`](crate::Builder)), which it does not
/// own: the name is not part of it.
pub const fn max_fixed_overhead<K, V>() -> usize {
    crate::store::dict::fixed_overhead_of::<K, V, crate::DefaultHashBuilder>(
        1,
        crate::sync::read_mostly::MAX_SLOTS,
        0,
    )
}

/// The compile-time check of `max_size` against the fixed overhead of a one-shard store on
/// every machine, so that a bound accepted at compile time is never dropped by
/// `build_lenient` at run time: generated code panics in a `const` block with the message.
pub use crate::size::min_bound::{max_size_error, min_max_size, ConstMessage};

/// The name of a memoized function in an `impl` block, `module::Type::function`: `owner` is
/// the function item `Self::<fn>_cache`, whose type name is `module::Type::<fn>_cache` (a
/// proc macro cannot name the `impl` block's type, and naming `Self` here would add a second
/// error when `in_impl` is put on a free function). Generic arguments are included
/// (`Wrapper<u8>::get`): each instantiation has its own store.
///
/// Called once, when the store is created: the name is leaked, like the store itself, so
/// that it is a `&'static str` whatever `Self` is.
pub fn method_name<F>(_owner: F, fn_name: &'static str) -> &'static str {
    let path = std::any::type_name::<F>();
    match path.rsplit_once("::") {
        Some((self_type, _)) => Box::leak(format!("{self_type}::{fn_name}").into_boxed_str()),
        None => fn_name,
    }
}

/// The owned key part of a `&[&T]` (or `Vec<&T>`) argument: a `Vec` of each element owned.
/// Called with `T` in a turbofish spanned on the user's `T`, so that a `T` without `Clone` is
/// one error there.
#[inline]
pub fn owned_vec<T: ?Sized + ToOwned>(items: &[&T]) -> Vec<T::Owned> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Tells, at compile time, whether `T` is an integer type (under any alias) for a `&[&T]`
/// argument: `[u64]` hashes its elements at once (`Hash::hash_slice`), `[&u64]` one by one, so
/// such a key would never be found by its borrowed form. `(&SliceElement::<T>::new()).element()`
/// finds the inherent `element` of an integer's probe at the first probing step (returning an
/// [`IntegerElement`], which [`assert_slice_element`] rejects), and the
/// [`SliceElementFallback`] one autoref further otherwise. The macro rejects integer names
/// itself; this catches aliases (`type UserId = u64`).
#[derive(Debug)]
pub struct SliceElement<T: ?Sized>(PhantomData<fn(&T)>);

impl<T: ?Sized> SliceElement<T> {
    /// The probe.
    pub const fn new() -> Self {
        SliceElement(PhantomData)
    }
}

impl<T: ?Sized> Default for SliceElement<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What the probe of a non-integer element gives.
#[derive(Debug)]
pub struct ElementHashesLikeItsReference;

/// What the probe of an integer element gives.
#[derive(Debug)]
pub struct IntegerElement;

/// The probe's answer for any element that is not an integer.
pub trait SliceElementFallback {
    /// The answer.
    fn element(&self) -> ElementHashesLikeItsReference {
        ElementHashesLikeItsReference
    }
}

impl<T: ?Sized> SliceElementFallback for &SliceElement<T> {}

macro_rules! integer_elements {
    ($($int:ty)*) => {$(
        impl SliceElement<$int> {
            /// The probe's answer for an integer.
            pub fn element(&self) -> IntegerElement {
                IntegerElement
            }
        }
    )*};
}

integer_elements!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

/// What a `&[&T]` argument's element must be: hashed like a reference to it, element by element.
#[diagnostic::on_unimplemented(
    message = "a `&[&{T}]` argument cannot be part of a cache key: `{T}` is an integer, and a \
               slice of integers hashes differently from a slice of references to them",
    label = "a hit could never find the key",
    note = "take a `&[{T}]`, mark the argument `#[exclude]`, or give the key with \
            `key = ..., key_type = ...`"
)]
pub trait SliceKeyElement<T: ?Sized> {}

impl<T: ?Sized> SliceKeyElement<T> for ElementHashesLikeItsReference {}

/// Asserts [`SliceKeyElement`] on the probe's answer for `T`.
#[inline(always)]
pub fn assert_slice_element<T: ?Sized, E: SliceKeyElement<T>>(_answer: E) {}

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

/// [`CacheKey`] for a key part whose type names `f32` or `f64` (the macro looks at the tokens):
/// the same bounds, with a message that says how to key a float.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key",
    label = "this argument is part of the key",
    note = "a key part must be `Hash + Eq + Clone + Send + Sync + 'static`; `f32` and `f64` are \
            neither `Hash` nor `Eq` (NaN != NaN, and 0.0 == -0.0 with other bits)",
    note = "key a float by its bits: `key = (x.to_bits(), ..), key_type = (u64, ..)` \
            (`f64::to_bits`; `f32::to_bits` gives a `u32`), or by a rounded integer \
            (`(x * 100.0).round() as i64`); or leave it out of the key with `#[exclude]`"
)]
pub trait FloatCacheKey: std::hash::Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: std::hash::Hash + Eq + Clone + Send + Sync + 'static> FloatCacheKey for T {}

/// What a `key_type` must be. Its own trait (the same bounds as [`CacheKey`]) so that the error
/// speaks of the `key_type` the user wrote rather than of an argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a cache key",
    label = "this `key_type` is the cache key",
    note = "a `key_type` must be `Hash + Eq + Clone + Send + Sync + 'static`",
    note = "implement (or derive) the missing trait for it, or compute a key of a type that has \
            them (an integer, a `String`, a tuple of them)"
)]
pub trait CustomCacheKey: std::hash::Hash + Eq + Clone + Send + Sync + 'static {}
impl<T: std::hash::Hash + Eq + Clone + Send + Sync + 'static> CustomCacheKey for T {}

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

/// Asserts [`FloatCacheKey`] where the generated code calls it.
pub const fn assert_float_cache_key<T: FloatCacheKey>() {}

/// Asserts [`CustomCacheKey`] on a `key_type`.
pub const fn assert_custom_key<T: CustomCacheKey>() {}

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
    /// The weigher for the memory budget: deep.
    fn budget_weigher(&self) -> Option<fn(&K, &V) -> usize>;
}

impl<K: crate::DeepSize, V: crate::DeepSize> DeepWeigher<K, V> for WeighWith<K, V> {
    fn weigher(&self) -> fn(&K, &V) -> usize {
        deep_weight::<K, V>
    }
    fn budget_weigher(&self) -> Option<fn(&K, &V) -> usize> {
        Some(deep_weight::<K, V>)
    }
}

/// Inline weighing, the fallback.
pub trait InlineWeigher<K, V> {
    /// The weigher to use.
    fn weigher(&self) -> fn(&K, &V) -> usize;
    /// The weigher for the memory budget: none (inline sizes, as without it).
    fn budget_weigher(&self) -> Option<fn(&K, &V) -> usize>;
}

impl<K, V> InlineWeigher<K, V> for &WeighWith<K, V> {
    fn weigher(&self) -> fn(&K, &V) -> usize {
        inline_weight::<K, V>
    }
    fn budget_weigher(&self) -> Option<fn(&K, &V) -> usize> {
        None
    }
}

/// One store in an [`ErasedStatic`]: the type it was created for (`Self` of the `impl` block,
/// and the store's own type) and the leaked store.
#[derive(Clone, Copy)]
struct Entry {
    /// `typeid::of::<S>()`, `S` standing for the calling `Self`: it may borrow
    /// (`impl<'a> Parser<'a>`), and lifetimes are erased, which is what we want (one store for
    /// every `Parser<'_>`).
    owner: TypeId,
    /// `TypeId::of::<T>()`, std's own: the downcast below relies on this one.
    store: TypeId,
    value: AnyRef,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("owner", &self.owner)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Entry {
    fn new<S: ?Sized, T: Any + Send + Sync>(value: &'static T) -> Entry {
        Entry {
            owner: typeid::of::<S>(),
            store: TypeId::of::<T>(),
            value,
        }
    }

    /// The value as a `T`, if this entry was made for `S` and `T`. Two `TypeId` comparisons
    /// and a pointer cast: no call through the `dyn Any` vtable, which a hit would pay for.
    #[inline]
    fn get<S: ?Sized, T: Any + Send + Sync>(&self) -> Option<&'static T> {
        if self.store != TypeId::of::<T>() || self.owner != typeid::of::<S>() {
            return None;
        }
        let ptr: *const (dyn Any + Send + Sync) = self.value;
        // SAFETY: `self.store == TypeId::of::<T>()`, and `Entry::new` is the only constructor:
        // it takes `value` as a `&'static T` and records `TypeId::of::<T>()`, so `value` points
        // to a `T` (std's `TypeId` identifies a `'static` type; `T: Any` is `'static`). The
        // pointee was leaked, so it lives for `'static` and is only ever shared (`&T`), and
        // `T: Sync` lets that reference cross threads. This is `<dyn Any>::downcast_ref_unchecked`
        // (unstable) without the vtable lookup of `downcast_ref`.
        Some(unsafe { &*ptr.cast::<T>() })
    }
}

/// A `static` that holds a store whose type mentions `Self` or a type parameter of an `impl`
/// block: a static item cannot name those, so the stores are kept type-erased and found by the
/// concrete `Self` of the calling instantiation together with the store's type.
///
/// Keying on `Self` too matters for a generic `impl` block whose store type does not mention
/// its type parameters (`impl<const N: usize> Pair<N> { #[faas_cached(in_impl)] fn width() ->
/// usize { N } }`): every instantiation shares this one `static`, and must still get its own
/// store. The generated code passes, as the owner type, the type of the function item
/// `Self::f_cache` (unique per concrete `Self`); free functions pass `()`.
#[derive(Debug)]
pub struct ErasedStatic {
    first: OnceLock<Entry>,
    others: RwLock<Vec<Entry>>,
}

impl ErasedStatic {
    /// An empty slot, for a `static` initializer.
    pub const fn new() -> Self {
        ErasedStatic {
            first: OnceLock::new(),
            others: RwLock::new(Vec::new()),
        }
    }

    /// The instance of `T` for the owner type `S` (a type unique to the `impl` block's
    /// concrete `Self`), created by `init` on first use and never dropped.
    #[inline]
    pub fn get_or_init<S: ?Sized, T: Any + Send + Sync>(
        &'static self,
        init: impl FnOnce() -> T,
    ) -> &'static T {
        let mut init = Some(init);
        let first = self.first.get_or_init(|| {
            let make = init
                .take()
                .expect("OnceLock runs this closure at most once");
            Entry::new::<S, T>(Box::leak(Box::new(make())))
        });
        if let Some(value) = first.get::<S, T>() {
            return value;
        }
        match init {
            Some(make) => self.other::<S, T>(make),
            None => unreachable!("the closure above stored a T for S"),
        }
    }

    #[cold]
    fn other<S: ?Sized, T: Any + Send + Sync>(
        &'static self,
        init: impl FnOnce() -> T,
    ) -> &'static T {
        let find = |list: &[Entry]| list.iter().find_map(Entry::get::<S, T>);
        if let Some(found) = find(&self.others.read().unwrap_or_else(|e| e.into_inner())) {
            return found;
        }
        let mut others = self.others.write().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = find(&others) {
            return found;
        }
        let value: &'static T = Box::leak(Box::new(init()));
        others.push(Entry::new::<S, T>(value));
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

    struct Pricing<T>(PhantomData<T>);
    impl<T> Pricing<T> {
        fn convert_cache() {}
    }

    #[test]
    fn a_method_is_named_after_its_type() {
        let name = method_name(Pricing::<u8>::convert_cache, "convert");
        assert_eq!(name, "memo_runtime::__private::tests::Pricing<u8>::convert");
        assert_eq!(method_name((), "f"), "f");
    }

    #[test]
    fn one_instance_per_type() {
        static SLOT: ErasedStatic = ErasedStatic::new();
        let a: &u32 = SLOT.get_or_init::<(), _>(|| 1u32);
        let b: &String = SLOT.get_or_init::<(), _>(|| "s".to_owned());
        let a2: &u32 = SLOT.get_or_init::<(), _>(|| 2u32);
        let b2: &String = SLOT.get_or_init::<(), _>(|| "t".to_owned());
        assert_eq!((*a, b.as_str()), (1, "s"));
        assert!(std::ptr::eq(a, a2) && std::ptr::eq(b, b2));
    }

    struct Owner<const N: usize>;
    struct Borrowing<'a>(#[allow(dead_code)] &'a str);

    #[test]
    fn one_instance_per_owner_and_type() {
        static SLOT: ErasedStatic = ErasedStatic::new();
        let three: &usize = SLOT.get_or_init::<Owner<3>, _>(|| 3usize);
        let five: &usize = SLOT.get_or_init::<Owner<5>, _>(|| 5usize);
        let other: &u8 = SLOT.get_or_init::<Owner<3>, _>(|| 8u8);
        assert_eq!((*three, *five, *other), (3, 5, 8));
        assert!(std::ptr::eq(
            three,
            SLOT.get_or_init::<Owner<3>, usize>(|| 0)
        ));
        assert!(std::ptr::eq(
            five,
            SLOT.get_or_init::<Owner<5>, usize>(|| 0)
        ));
        assert!(std::ptr::eq(other, SLOT.get_or_init::<Owner<3>, u8>(|| 0)));
        // An owner that borrows: lifetimes are erased, so every `Borrowing<'_>` shares one.
        fn borrowed<'a>(_: &'a str) -> &'static u16 {
            static SLOT: ErasedStatic = ErasedStatic::new();
            SLOT.get_or_init::<Borrowing<'a>, _>(|| 16u16)
        }
        let local = String::from("x");
        assert!(std::ptr::eq(borrowed(&local), borrowed("static")));
        assert_eq!(*borrowed(&local), 16);
    }

    /// The unchecked cast hands back the very value stored, from many threads at once.
    #[test]
    fn values_are_shared_across_threads() {
        static SLOT: ErasedStatic = ErasedStatic::new();
        let addresses: Vec<(usize, usize)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        let a: &Vec<u64> = SLOT.get_or_init::<Owner<1>, _>(|| vec![1, 2, 3]);
                        let b: &Vec<u64> = SLOT.get_or_init::<Owner<2>, _>(|| vec![4]);
                        assert_eq!((a.as_slice(), b.as_slice()), (&[1, 2, 3][..], &[4][..]));
                        (a as *const _ as usize, b as *const _ as usize)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(addresses.windows(2).all(|w| w[0] == w[1]));
    }

    /// Whatever the machine's core count, a `max_size` that passes the compile-time check is
    /// kept by `build_lenient`, not dropped (which would leave the cache unbounded).
    #[test]
    fn a_max_size_accepted_at_compile_time_is_kept_at_run_time() {
        type K = (u64, String);
        type V = Vec<u8>;
        let name = "some::module::function";
        let smallest = max_fixed_overhead::<K, V>() as u64 + 1;
        assert_eq!(smallest, min_max_size::<K, V>());
        assert!(max_size_error::<K, V>(smallest, name).is_none());
        let store = crate::FaasCacheDict::<K, V>::builder()
            .static_name(name)
            .max_size(smallest)
            .build_lenient();
        assert!((store.fixed_overhead() as u64) < smallest);
        assert_eq!(store.info().max_size_bytes, Some(smallest));
        // On every machine: one slot and the most slots bracket what the runtime picks.
        let one_slot =
            crate::store::dict::fixed_overhead_of::<K, V, crate::DefaultHashBuilder>(1, 1, 0);
        assert!(one_slot <= store.fixed_overhead());
        assert!(store.fixed_overhead() <= max_fixed_overhead::<K, V>());
    }

    #[test]
    fn a_max_size_below_the_largest_fixed_overhead_fails_the_check() {
        type K = (u64,);
        let one_slot =
            crate::store::dict::fixed_overhead_of::<K, u64, crate::DefaultHashBuilder>(1, 1, 0)
                as u64;
        // Enough for one reader slot (the old check), not for every machine.
        let error = max_size_error::<K, u64>(one_slot + 1, "f").expect("rejected");
        assert!(error.as_str().contains("too small"), "{error:?}");
    }
}
