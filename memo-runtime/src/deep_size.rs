//! Deep sizes of values: inline size plus the heap memory they own.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::mem::{align_of, size_of, size_of_val};
use std::rc::Rc;
use std::sync::Arc;

/// The memory a value occupies: its inline size plus every heap byte it owns.
///
/// The byte bound of a store (`max_size`) measures keys and values with it. Implementations
/// exist for the standard types; derive it for your own with `#[derive(DeepSize)]`, which sums
/// the heap sizes of the fields (`#[deep_size(skip)]` on a field counts only its inline size,
/// for a field whose type does not implement the trait).
///
/// Containers count their allocated capacity, not their length: a `String` with capacity 100
/// holding 3 bytes owns 100 heap bytes. `HashMap`/`HashSet` are computed from their capacity
/// and the hash table's layout; `BTreeMap`/`BTreeSet` from an estimate of their node count;
/// `Rc`/`Arc` count the shared allocation once per owner (a conservative over-estimate);
/// references own nothing.
///
/// # Examples
///
/// ```
/// use memo_runtime::DeepSize;
///
/// #[derive(DeepSize)]
/// struct Profile {
///     id: u64,
///     name: String,
///     tags: Vec<String>,
/// }
///
/// let p = Profile { id: 1, name: String::with_capacity(10), tags: vec!["a".to_owned()] };
/// let tags_heap = std::mem::size_of::<String>() + "a".to_owned().capacity();
/// assert_eq!(p.heap_size(), 10 + tags_heap);
/// assert_eq!(p.deep_size(), std::mem::size_of::<Profile>() + 10 + tags_heap);
///
/// // A manual implementation only has to count what the value owns on the heap.
/// struct Buffer(Box<[u8]>);
/// impl DeepSize for Buffer {
///     fn heap_size(&self) -> usize {
///         self.0.len()
///     }
/// }
/// assert_eq!(Buffer(vec![0; 64].into_boxed_slice()).deep_size(), 16 + 64);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `DeepSize`, which `max_size` needs to measure keys \
               and values",
    note = "derive it with `#[derive(memo_runtime::DeepSize)]`, implement it by hand, or drop \
            `max_size` and bound the cache with `max_items`"
)]
pub trait DeepSize {
    /// Heap bytes owned by the value, not counting its inline size.
    fn heap_size(&self) -> usize;

    /// Inline size plus heap bytes.
    fn deep_size(&self) -> usize {
        size_of_val(self) + self.heap_size()
    }
}

macro_rules! no_heap {
    ($($t:ty),* $(,)?) => {$(
        impl DeepSize for $t {
            #[inline]
            fn heap_size(&self) -> usize {
                0
            }
        }
    )*};
}

no_heap!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize,
    std::sync::atomic::AtomicBool,
    std::sync::atomic::AtomicU8,
    std::sync::atomic::AtomicU16,
    std::sync::atomic::AtomicU32,
    std::sync::atomic::AtomicU64,
    std::sync::atomic::AtomicUsize,
    std::sync::atomic::AtomicI8,
    std::sync::atomic::AtomicI16,
    std::sync::atomic::AtomicI32,
    std::sync::atomic::AtomicI64,
    std::sync::atomic::AtomicIsize,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::net::IpAddr,
    std::net::Ipv4Addr,
    std::net::Ipv6Addr,
    std::net::SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    std::cmp::Ordering,
);

impl<T: ?Sized> DeepSize for std::marker::PhantomData<T> {
    fn heap_size(&self) -> usize {
        0
    }
}

/// A reference owns nothing: the referent is someone else's.
impl<T: ?Sized> DeepSize for &T {
    fn heap_size(&self) -> usize {
        0
    }
}

impl DeepSize for str {
    fn heap_size(&self) -> usize {
        0
    }
}

impl DeepSize for String {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl DeepSize for std::ffi::OsString {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl DeepSize for std::path::PathBuf {
    fn heap_size(&self) -> usize {
        self.capacity()
    }
}

impl<T: DeepSize> DeepSize for [T] {
    fn heap_size(&self) -> usize {
        self.iter().map(DeepSize::heap_size).sum()
    }
}

impl<T: DeepSize, const N: usize> DeepSize for [T; N] {
    fn heap_size(&self) -> usize {
        self.as_slice().heap_size()
    }
}

impl<T: ?Sized + DeepSize> DeepSize for Box<T> {
    fn heap_size(&self) -> usize {
        size_of_val(&**self) + (**self).heap_size()
    }
}

/// Size of the allocation behind an `Rc`/`Arc`: two counters, then the value.
fn counted_allocation<T: ?Sized + DeepSize>(value: &T) -> usize {
    let counters = 2 * size_of::<usize>();
    let align = std::mem::align_of_val(value).max(align_of::<usize>());
    round_up(counters + size_of_val(value), align) + value.heap_size()
}

impl<T: ?Sized + DeepSize> DeepSize for Rc<T> {
    fn heap_size(&self) -> usize {
        counted_allocation(&**self)
    }
}

impl<T: ?Sized + DeepSize> DeepSize for Arc<T> {
    fn heap_size(&self) -> usize {
        counted_allocation(&**self)
    }
}

impl<T: DeepSize> DeepSize for Vec<T> {
    fn heap_size(&self) -> usize {
        self.capacity() * size_of::<T>() + self.as_slice().heap_size()
    }
}

impl<T: DeepSize> DeepSize for VecDeque<T> {
    fn heap_size(&self) -> usize {
        self.capacity() * size_of::<T>() + self.iter().map(DeepSize::heap_size).sum::<usize>()
    }
}

impl<T: DeepSize> DeepSize for Option<T> {
    fn heap_size(&self) -> usize {
        self.as_ref().map_or(0, DeepSize::heap_size)
    }
}

impl<T: DeepSize, E: DeepSize> DeepSize for Result<T, E> {
    fn heap_size(&self) -> usize {
        match self {
            Ok(v) => v.heap_size(),
            Err(e) => e.heap_size(),
        }
    }
}

impl<B> DeepSize for Cow<'_, B>
where
    B: ?Sized + ToOwned,
    B::Owned: DeepSize,
{
    fn heap_size(&self) -> usize {
        match self {
            Cow::Borrowed(_) => 0,
            Cow::Owned(owned) => owned.heap_size(),
        }
    }
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: DeepSize),+> DeepSize for ($($name,)+) {
            #[allow(non_snake_case)]
            fn heap_size(&self) -> usize {
                let ($($name,)+) = self;
                0 $(+ $name.heap_size())+
            }
        }
    };
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);
tuple!(A B C D E F G H I);
tuple!(A B C D E F G H I J);
tuple!(A B C D E F G H I J K);
tuple!(A B C D E F G H I J K L);

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// Bytes of the SwissTable (hashbrown, std's `HashMap`) allocation holding `capacity` entries
/// of type `T`: one slot and one control byte per bucket, plus a group of trailing control
/// bytes.
fn swiss_table_bytes<T>(capacity: usize) -> usize {
    const GROUP_WIDTH: usize = 16;
    if capacity == 0 {
        return 0;
    }
    // `capacity()` reports `buckets - 1` below 8 buckets and `buckets / 8 * 7` above.
    let buckets = if capacity < 8 {
        capacity + 1
    } else {
        capacity / 7 * 8
    };
    let ctrl_align = align_of::<T>().max(GROUP_WIDTH);
    round_up(size_of::<T>() * buckets, ctrl_align) + buckets + GROUP_WIDTH
}

impl<K: DeepSize, V: DeepSize, S> DeepSize for HashMap<K, V, S> {
    fn heap_size(&self) -> usize {
        swiss_table_bytes::<(K, V)>(self.capacity())
            + self
                .iter()
                .map(|(k, v)| k.heap_size() + v.heap_size())
                .sum::<usize>()
    }
}

impl<T: DeepSize, S> DeepSize for HashSet<T, S> {
    fn heap_size(&self) -> usize {
        swiss_table_bytes::<T>(self.capacity())
            + self.iter().map(DeepSize::heap_size).sum::<usize>()
    }
}

/// Estimated bytes of the nodes of a B-tree holding `len` entries of `K` and `V`.
///
/// std's B-tree nodes hold up to 11 entries (`B = 6`); internal nodes also hold 12 child
/// pointers. The node count is not observable and depends on the order of insertion, so it is
/// estimated for entries inserted in random order (measured: 8.4 entries per leaf, one internal
/// node per 8 leaves). Measured against a counting allocator, for `BTreeMap<u64, u64>`:
/// random insertion within 1%; ascending or descending insertion (half-full leaves) is
/// under-estimated by about 21%; a map collected from sorted input (full leaves) is
/// over-estimated by about 49%.
fn btree_bytes<K, V>(len: usize) -> usize {
    const CAPACITY: usize = 11;
    if len == 0 {
        return 0;
    }
    let ptr = size_of::<usize>();
    let align = align_of::<K>().max(align_of::<V>()).max(ptr);
    // LeafNode is repr(C): parent pointer, keys, vals, parent_idx: u16, len: u16.
    let keys = round_up(ptr, align_of::<K>().max(1)) + CAPACITY * size_of::<K>();
    let vals = round_up(keys, align_of::<V>().max(1)) + CAPACITY * size_of::<V>();
    let leaf = round_up(vals + 4, align);
    let internal = round_up(leaf, ptr) + (CAPACITY + 1) * ptr;
    if len <= CAPACITY {
        // A single leaf, sized for its capacity.
        return leaf;
    }
    let leaves = (len * 10).div_ceil(84);
    let internals = leaves.div_ceil(8);
    leaves * leaf + internals * internal
}

impl<K: DeepSize, V: DeepSize> DeepSize for BTreeMap<K, V> {
    fn heap_size(&self) -> usize {
        btree_bytes::<K, V>(self.len())
            + self
                .iter()
                .map(|(k, v)| k.heap_size() + v.heap_size())
                .sum::<usize>()
    }
}

impl<T: DeepSize> DeepSize for BTreeSet<T> {
    fn heap_size(&self) -> usize {
        btree_bytes::<T, ()>(self.len()) + self.iter().map(DeepSize::heap_size).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_vectors_count_capacity() {
        assert_eq!(String::with_capacity(100).heap_size(), 100);
        assert_eq!(String::with_capacity(100).deep_size(), 24 + 100);
        let v: Vec<u32> = Vec::with_capacity(10);
        assert_eq!(v.heap_size(), 40);
        let nested = vec![String::with_capacity(5), String::with_capacity(7)];
        assert_eq!(nested.heap_size(), nested.capacity() * 24 + 12);
        let mut deque: VecDeque<u64> = VecDeque::with_capacity(8);
        deque.push_back(1);
        assert_eq!(deque.heap_size(), deque.capacity() * 8);
    }

    #[test]
    fn boxes_options_and_tuples() {
        assert_eq!(Box::new(7u64).heap_size(), 8);
        let boxed: Box<str> = "hello".into();
        assert_eq!(boxed.heap_size(), 5);
        assert_eq!(boxed.deep_size(), 16 + 5);
        let slice: Box<[u16]> = vec![1, 2, 3].into_boxed_slice();
        assert_eq!(slice.heap_size(), 6);
        assert_eq!(Some(Box::new(1u64)).heap_size(), 8);
        assert_eq!(None::<Box<u64>>.heap_size(), 0);
        assert_eq!((1u8, String::with_capacity(3)).heap_size(), 3);
        let ok: Result<String, u8> = Ok(String::with_capacity(4));
        assert_eq!(ok.heap_size(), 4);
        assert_eq!(
            [String::with_capacity(2), String::with_capacity(3)].heap_size(),
            5
        );
    }

    #[test]
    fn references_and_borrowed_cows_own_nothing() {
        let s = String::from("abc");
        assert_eq!(<&String as DeepSize>::heap_size(&&s), 0);
        assert_eq!(Cow::Borrowed("abc").heap_size(), 0);
        let owned: Cow<'_, str> = Cow::Owned(String::with_capacity(9));
        assert_eq!(owned.heap_size(), 9);
    }

    #[test]
    fn shared_pointers_count_their_allocation() {
        assert_eq!(Arc::new(1u64).heap_size(), 24);
        let bytes: Arc<[u8]> = Arc::from(vec![0u8; 256]);
        assert_eq!(bytes.heap_size(), 16 + 256);
        assert_eq!(Rc::new(String::with_capacity(10)).heap_size(), 16 + 24 + 10);
    }

    #[test]
    fn hash_tables_follow_their_layout() {
        let empty: HashMap<u64, u64> = HashMap::new();
        assert_eq!(empty.heap_size(), 0);
        let mut map: HashMap<u64, u64> = HashMap::with_capacity(3);
        map.insert(1, 1);
        assert_eq!(map.capacity(), 3);
        assert_eq!(map.heap_size(), 4 * 16 + 4 + 16);
        let big: HashMap<u32, u32> = (0..1000).map(|i| (i, i)).collect();
        let buckets = big.capacity() / 7 * 8;
        assert!(buckets.is_power_of_two());
        assert_eq!(big.heap_size(), buckets * 8 + buckets + 16);
    }
}
