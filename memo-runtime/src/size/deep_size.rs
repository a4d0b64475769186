//! Deep sizes of values: inline size plus the heap memory they own.
//!
//! Containers count what they have allocated (their capacity), not what they hold. The layouts
//! assumed for `HashMap` and `BTreeMap` are std's; `tests/deep_size_alloc.rs` checks every
//! estimate against a counting allocator.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::marker::PhantomData;
use std::mem::{align_of, size_of, size_of_val, MaybeUninit};
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::Arc;

/// The memory a value occupies: its inline size plus every heap byte it owns.
///
/// The byte bound of a store (`max_size`) measures keys and values with
/// [`deep_size`](DeepSize::deep_size). Implementations exist for the standard types; derive it
/// for your own with `#[derive(DeepSize)]`, which sums the heap sizes of the fields.
///
/// # What is counted
///
/// - Containers count their allocated capacity, not their length: a `String` with capacity
///   100 holding 3 bytes owns 100 heap bytes; a `Vec<T>` owns `capacity * size_of::<T>()`
///   plus the heap bytes of its elements.
/// - `HashMap`/`HashSet` are computed from their `capacity()` and the layout of std's hash
///   table (exact for maps that never removed an entry).
/// - `BTreeMap`/`BTreeSet` do not show their nodes, whose number depends on how the map was
///   built; they are counted by a walk over the keys in order, from where std's layout puts
///   them (O(n), like measuring keys that own heap memory). A map emptied by `remove` keeps
///   one empty leaf, which is not seen.
/// - `Rc`/`Arc` count their shared allocation (the two reference counts and the value) in
///   full for every owner: data shared by several owners is counted several times, a
///   conservative over-estimate.
/// - Shared references (`&T`) and borrowed `Cow`s own nothing and count 0 heap bytes.
///
/// # Deriving
///
/// `#[derive(DeepSize)]` works on structs and enums (the live variant is measured), with
/// generics, lifetimes and const generics. Type parameters that appear in measured fields get
/// a `DeepSize` bound; those that appear only in `PhantomData` or behind a reference do not.
/// `#[deep_size(skip)]` on a field counts only its inline size, for a field whose type does not
/// implement the trait (a handle, a file, a closure). Unions cannot derive it.
///
/// # Examples
///
/// ```
/// use memo_runtime::DeepSize;
/// use std::mem::size_of;
/// use std::sync::Mutex;
///
/// #[derive(DeepSize)]
/// struct Profile {
///     id: u64,
///     name: String,
///     tags: Vec<String>,
///     #[deep_size(skip)] // `Mutex` does not implement `DeepSize`
///     visits: Mutex<u64>,
/// }
///
/// let p = Profile {
///     id: 1,
///     name: String::with_capacity(10),
///     tags: vec!["a".to_owned()],
///     visits: Mutex::new(0),
/// };
/// *p.visits.lock().unwrap() += 1;
/// // The vector's buffer holds one `String`, which owns one byte.
/// let tags_heap = p.tags.capacity() * size_of::<String>() + 1;
/// assert_eq!(p.heap_size(), 10 + tags_heap);
/// assert_eq!(p.deep_size(), size_of::<Profile>() + 10 + tags_heap);
///
/// // A manual implementation only has to count what the value owns on the heap.
/// struct Buffer(Box<[u8]>);
///
/// impl DeepSize for Buffer {
///     fn heap_size(&self) -> usize {
///         self.0.len()
///     }
/// }
///
/// let buffer = Buffer(vec![0; 64].into_boxed_slice());
/// assert_eq!(buffer.deep_size(), size_of::<Buffer>() + 64);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `DeepSize`, which `max_size` needs to measure keys \
               and values",
    note = "derive it with `#[derive(memo_runtime::DeepSize)]`, implement it by hand, or drop \
            `max_size` and bound the cache with `max_items`"
)]
pub trait DeepSize {
    /// Heap bytes owned by the value, not counting its inline size.
    ///
    /// A container returns its own allocation plus the `heap_size` of each element (the
    /// elements' inline sizes are part of its allocation).
    fn heap_size(&self) -> usize;

    /// Inline size plus heap bytes: what the value costs in memory.
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
    str,
    std::ffi::CStr,
    std::ffi::OsStr,
    std::path::Path,
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
    #[inline]
    fn heap_size(&self) -> usize {
        0
    }
}

/// A reference owns nothing: the referent is someone else's (so `T` needs no `DeepSize`).
impl<T: ?Sized> DeepSize for &T {
    #[inline]
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

impl DeepSize for std::ffi::CString {
    fn heap_size(&self) -> usize {
        // A `Box<[u8]>` holding the bytes and the trailing nul.
        self.as_bytes_with_nul().len()
    }
}

impl<T: DeepSize> DeepSize for std::num::Wrapping<T> {
    fn heap_size(&self) -> usize {
        self.0.heap_size()
    }
}

impl<T: DeepSize> DeepSize for std::cmp::Reverse<T> {
    fn heap_size(&self) -> usize {
        self.0.heap_size()
    }
}

/// The elements' own heap bytes (their inline sizes are the slice's).
impl<T: DeepSize> DeepSize for [T] {
    fn heap_size(&self) -> usize {
        elements_heap(self)
    }
}

impl<T: DeepSize, const N: usize> DeepSize for [T; N] {
    fn heap_size(&self) -> usize {
        elements_heap(self)
    }
}

/// The boxed value's size (a `Box<str>` or `Box<[T]>` its length) plus what it owns.
impl<T: ?Sized + DeepSize> DeepSize for Box<T> {
    fn heap_size(&self) -> usize {
        size_of_val(&**self) + (**self).heap_size()
    }
}

/// The shared allocation (two reference counts, then the value) plus what the value owns,
/// counted in full by every `Rc` pointing to it: a conservative over-estimate of shared data.
impl<T: ?Sized + DeepSize> DeepSize for Rc<T> {
    fn heap_size(&self) -> usize {
        counted_allocation(&**self)
    }
}

/// The shared allocation (two reference counts, then the value) plus what the value owns,
/// counted in full by every `Arc` pointing to it: a conservative over-estimate of shared data.
impl<T: ?Sized + DeepSize> DeepSize for Arc<T> {
    fn heap_size(&self) -> usize {
        counted_allocation(&**self)
    }
}

impl<T: DeepSize> DeepSize for Vec<T> {
    fn heap_size(&self) -> usize {
        buffer_bytes::<T>(self.capacity()) + elements_heap(self)
    }
}

impl<T: DeepSize> DeepSize for VecDeque<T> {
    fn heap_size(&self) -> usize {
        buffer_bytes::<T>(self.capacity()) + elements_heap(self)
    }
}

impl<T: DeepSize> DeepSize for BinaryHeap<T> {
    fn heap_size(&self) -> usize {
        buffer_bytes::<T>(self.capacity()) + elements_heap(self)
    }
}

/// One allocation per element: the element between two links.
impl<T: DeepSize> DeepSize for LinkedList<T> {
    fn heap_size(&self) -> usize {
        let ptr = size_of::<usize>();
        let node = round_up(2 * ptr + size_of::<T>(), align_of::<T>().max(ptr));
        self.len() * node + elements_heap(self)
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

/// `Borrowed` owns nothing; `Owned` owns what its value owns.
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

/// The hash table, computed from `capacity()` and std's table layout, plus what keys and values
/// own.
impl<K: DeepSize, V: DeepSize, S> DeepSize for HashMap<K, V, S> {
    fn heap_size(&self) -> usize {
        swiss_table_bytes::<(K, V)>(self.capacity()) + entries_heap(self)
    }
}

impl<T: DeepSize, S> DeepSize for HashSet<T, S> {
    fn heap_size(&self) -> usize {
        swiss_table_bytes::<T>(self.capacity()) + elements_heap(self)
    }
}

/// The nodes, counted by a walk over the keys in order, plus what keys and values own.
impl<K: DeepSize, V: DeepSize> DeepSize for BTreeMap<K, V> {
    fn heap_size(&self) -> usize {
        let mut nodes = BTreeNodes::<K, V>::new();
        let mut owned = 0;
        for (k, v) in self {
            nodes.visit(k, v);
            owned += k.heap_size() + v.heap_size();
        }
        nodes.bytes(self.len()) + owned
    }
}

impl<T: DeepSize> DeepSize for BTreeSet<T> {
    // A set is a map with zero-sized values.
    fn heap_size(&self) -> usize {
        let mut nodes = BTreeNodes::<T, ()>::new();
        let mut owned = 0;
        for k in self {
            nodes.visit(k, &());
            owned += k.heap_size();
        }
        nodes.bytes(self.len()) + owned
    }
}

/// Sum of the elements' heap sizes.
fn elements_heap<'a, T: DeepSize + 'a>(elements: impl IntoIterator<Item = &'a T>) -> usize {
    elements.into_iter().map(DeepSize::heap_size).sum()
}

/// Sum of the keys' and values' heap sizes.
fn entries_heap<'a, K, V>(entries: impl IntoIterator<Item = (&'a K, &'a V)>) -> usize
where
    K: DeepSize + 'a,
    V: DeepSize + 'a,
{
    entries
        .into_iter()
        .map(|(k, v)| k.heap_size() + v.heap_size())
        .sum()
}

/// Bytes of a buffer of `capacity` slots of `T` (zero for zero-sized `T`, whose vectors report
/// a capacity of `usize::MAX` and allocate nothing).
fn buffer_bytes<T>(capacity: usize) -> usize {
    capacity.saturating_mul(size_of::<T>())
}

/// Size of the allocation behind an `Rc`/`Arc` (two counters, then the value, `repr(C)`) plus
/// what the value owns.
fn counted_allocation<T: ?Sized + DeepSize>(value: &T) -> usize {
    let counters = 2 * size_of::<usize>();
    let align = std::mem::align_of_val(value).max(align_of::<usize>());
    // The value's size is a multiple of its alignment, so this is the padded counters plus it.
    round_up(counters + size_of_val(value), align) + value.heap_size()
}

fn round_up(n: usize, align: usize) -> usize {
    n.div_ceil(align) * align
}

/// Control bytes the hash table scans at once (hashbrown's `Group::WIDTH`): an SSE2 register
/// on x86, a machine word elsewhere (the NEON and generic implementations).
const GROUP_WIDTH: usize = if cfg!(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2",
    not(miri)
)) {
    16
} else {
    size_of::<usize>()
};

/// Bytes of the SwissTable (hashbrown, std's `HashMap`) allocation whose `capacity()` is
/// `capacity`, for slots of type `T`.
///
/// The table has a power-of-two number of buckets, at least 4; `capacity()` is 7/8 of them
/// (one less than the buckets below 8). The allocation is one `T` per bucket, padded to the
/// control bytes' alignment, then one control byte per bucket plus one group of trailing
/// control bytes. A table that never allocated reports capacity 0 and owns nothing.
///
/// Removals may leave tombstones that lower `capacity()` below 7/8 of the buckets, so the
/// bucket count is rounded up to the power of two the table must have; after heavy churn a
/// table can be one size larger than estimated.
fn swiss_table_bytes<T>(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = capacity
        .saturating_mul(8)
        .div_ceil(7)
        .next_power_of_two()
        .max(4);
    let ctrl_align = align_of::<T>().max(GROUP_WIDTH);
    round_up(buckets.saturating_mul(size_of::<T>()), ctrl_align) + buckets + GROUP_WIDTH
}

/// Entries a B-tree node holds at most (std's `CAPACITY`, `2 * B - 1` with `B = 6`).
const BTREE_NODE_CAPACITY: usize = 11;

/// Levels of a B-tree that [`BTreeNodes`] follows. Below the root, std's internal nodes have at
/// least 6 children, so a tree with more levels could not fit in memory.
const BTREE_MAX_LEVELS: usize = 32;

/// std's `LeafNode<K, V>` (`alloc::collections::btree::node`), never built, only measured: the
/// same fields as std's, so rustc gives it the same size (it orders fields by alignment, which
/// pads only the end).
#[allow(dead_code)]
struct BTreeLeaf<K, V> {
    parent: Option<NonNull<()>>,
    parent_idx: MaybeUninit<u16>,
    len: u16,
    keys: [MaybeUninit<K>; BTREE_NODE_CAPACITY],
    vals: [MaybeUninit<V>; BTREE_NODE_CAPACITY],
}

/// std's `InternalNode<K, V>`: `repr(C)`, a leaf followed by one child pointer per gap between
/// keys.
#[allow(dead_code)]
#[repr(C)]
struct BTreeInternal<K, V> {
    data: BTreeLeaf<K, V>,
    edges: [MaybeUninit<NonNull<()>>; BTREE_NODE_CAPACITY + 1],
}

/// Counts the nodes of a std `BTreeMap` from the addresses of its keys, visited in order.
///
/// A map does not expose its nodes, and their number depends on how it was built: in bytes of
/// nodes per entry, insertion in ascending order costs 26% more than in random order, and
/// `collect()` (which bulk-builds full nodes) 40% less. So the nodes are counted instead, from
/// where the keys are, relying on std's layout: a node keeps its keys contiguously in an array
/// (`keys: [MaybeUninit<K>; 11]`), at the same offset in leaves and internal nodes (an
/// `InternalNode` is a `repr(C)` `LeafNode` followed by its edges), and iteration hands out
/// references into it.
///
/// In order, a B-tree yields the keys of its leftmost leaf, then one key of an internal node
/// (the separator of that leaf and the next), then the next leaf's keys, and so on: runs of
/// keys at addresses `size_of::<K>()` apart, one run per leaf, alternating with single
/// separators. Keys of two different nodes are never `size_of::<K>()` apart: that would put
/// the two allocations less than `11 * size_of::<K>()` apart, less than a node's size. So the
/// odd-numbered runs are the leaves. The separators, taken in order, have the same shape one
/// level up: a run of keys per internal node of height 1 (the parents of leaves), alternating
/// with single keys of nodes higher still; and so on up to the root, which is one run.
/// [`visit`](Self::visit) feeds each address to the level-0 counter, which passes every
/// separator to the counter one level up: a fixed array, no allocation, O(1) per key.
///
/// Keys of zero size all share one address, so the values are followed instead (they sit in
/// an array beside the keys); when both are zero-sized, or when the addresses break an
/// expectation of that layout (a separator of two keys, a run longer than a node, a level
/// ending on a separator), [`bytes`](Self::bytes) falls back to an estimate from the length.
/// `tests/deep_size_alloc.rs` compares the count with a counting allocator, so a change of
/// std's layout shows there.
///
/// Not seen: a map that lost all its entries to `remove`/`pop_*`/`retain` keeps its empty root
/// leaf (`clear()` frees it), which is not counted.
struct BTreeNodes<K, V> {
    /// Slots seen by each level: level 0 gets every key, level `h` the separators of level
    /// `h - 1`.
    levels: [BTreeLevel; BTREE_MAX_LEVELS],
    /// Keys visited.
    visited: usize,
    /// False once an address contradicted the layout described above.
    consistent: bool,
    types: PhantomData<fn(&K, &V)>,
}

/// What one level of [`BTreeNodes`] has seen.
#[derive(Clone, Copy)]
struct BTreeLevel {
    /// Address of the last slot.
    last: usize,
    /// Runs of adjacent slots so far: the odd-numbered ones are this level's nodes, the
    /// even-numbered ones single separators, which belong to the levels above.
    runs: usize,
    /// Slots in the current run.
    run_len: usize,
}

impl<K, V> BTreeNodes<K, V> {
    fn new() -> Self {
        Self {
            levels: [BTreeLevel {
                last: 0,
                runs: 0,
                run_len: 0,
            }; BTREE_MAX_LEVELS],
            visited: 0,
            consistent: true,
            types: PhantomData,
        }
    }

    /// Takes the next entry in key order, as borrowed from the map.
    #[inline]
    fn visit(&mut self, key: &K, value: &V) {
        if size_of::<K>() != 0 {
            self.visit_address(key as *const K as usize, size_of::<K>());
        } else if size_of::<V>() != 0 {
            self.visit_address(value as *const V as usize, size_of::<V>());
        } else {
            self.visited += 1;
            self.consistent = false;
        }
    }

    /// Takes the address of the next key (or value) in order, slots being `stride` bytes.
    #[inline]
    fn visit_address(&mut self, address: usize, stride: usize) {
        self.visited += 1;
        for level in &mut self.levels {
            if level.runs > 0 && address == level.last.wrapping_add(stride) {
                level.last = address;
                level.run_len += 1;
                // A separator is a single key; a node holds at most `CAPACITY`.
                if level.runs % 2 == 0 || level.run_len > BTREE_NODE_CAPACITY {
                    self.consistent = false;
                }
                return;
            }
            level.last = address;
            level.runs += 1;
            level.run_len = 1;
            if level.runs % 2 == 1 {
                // The first key of a node of this level.
                return;
            }
            // A separator: a key of a node of the levels above, counted there.
        }
        self.consistent = false;
    }

    /// Bytes of the nodes of a map of `len` entries, all of which were visited.
    fn bytes(&self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        let leaf = size_of::<BTreeLeaf<K, V>>();
        let internal = size_of::<BTreeInternal<K, V>>();
        if self.consistent && self.visited == len {
            let mut bytes = 0;
            let mut consistent = true;
            for (height, level) in self.levels.iter().enumerate() {
                if level.runs == 0 {
                    break;
                }
                // Every level starts and ends with a node.
                consistent &= level.runs % 2 == 1;
                let nodes = level.runs.div_ceil(2);
                bytes += nodes * if height == 0 { leaf } else { internal };
            }
            if consistent {
                return bytes;
            }
        }
        btree_estimated_bytes(len, leaf, internal)
    }
}

/// Estimated bytes of the nodes of a B-tree of `len` entries, whose nodes take `leaf` and
/// `internal` bytes, for when [`BTreeNodes`] cannot count them.
///
/// Up to 11 entries live in one leaf, which is exact. Beyond that, measured from 1 000 to
/// 1 000 000 entries (entries per leaf count the separators kept in internal nodes):
///
/// | how the map was built | entries per leaf | leaves per internal node |
/// | --- | --- | --- |
/// | `insert` in ascending or descending order (a split leaves 6 entries behind) | 7 | 6 |
/// | `insert` in random order | 8.5 | 7.5 |
/// | `collect()`, `From<[_; N]>` (bulk-built from sorted entries: full nodes) | 12 | 11 |
///
/// This assumes 7.8 entries per leaf and one internal node per 52 entries, between the two
/// insertion orders: 12% under for ascending order, 11% over for random order.
fn btree_estimated_bytes(len: usize, leaf: usize, internal: usize) -> usize {
    if len <= BTREE_NODE_CAPACITY {
        return leaf;
    }
    // 7.8 entries per leaf and 6.67 leaves per internal node, rounded up (at least two leaves
    // and a root once the first leaf has split).
    let leaves = (len * 5).div_ceil(39);
    let internals = (leaves * 3).div_ceil(20);
    leaves * leaf + internals * internal
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;
    use std::ffi::{CString, OsString};
    use std::marker::PhantomData;
    use std::path::PathBuf;
    use std::time::{Duration, Instant, SystemTime};

    #[test]
    fn scalars_own_nothing() {
        assert_eq!(7u64.heap_size(), 0);
        assert_eq!(7u64.deep_size(), 8);
        assert_eq!('x'.deep_size(), 4);
        assert_eq!(().deep_size(), 0);
        assert_eq!(std::num::NonZeroU32::MIN.deep_size(), 4);
        assert_eq!(std::sync::atomic::AtomicU64::new(1).deep_size(), 8);
        assert_eq!(Duration::from_secs(1).deep_size(), 16);
        assert_eq!(SystemTime::now().heap_size(), 0);
        assert_eq!(Instant::now().heap_size(), 0);
        assert_eq!(std::net::Ipv4Addr::LOCALHOST.deep_size(), 4);
        assert_eq!(PhantomData::<String>.deep_size(), 0);
    }

    #[test]
    fn strings_and_vectors_count_capacity() {
        assert_eq!(String::with_capacity(100).heap_size(), 100);
        assert_eq!(String::with_capacity(100).deep_size(), 24 + 100);
        assert_eq!(String::new().deep_size(), 24);
        let mut short = String::with_capacity(100);
        short.push_str("abc");
        assert_eq!(short.heap_size(), 100);
        assert_eq!(Vec::<u32>::with_capacity(10).heap_size(), 40);
        let nested = vec![String::with_capacity(5), String::with_capacity(7)];
        assert_eq!(nested.capacity(), 2);
        assert_eq!(nested.heap_size(), 2 * 24 + 12);
        let mut deque: VecDeque<String> = VecDeque::with_capacity(8);
        deque.push_back(String::with_capacity(3));
        assert_eq!(deque.heap_size(), deque.capacity() * 24 + 3);
        let heap: BinaryHeap<u16> = BinaryHeap::with_capacity(6);
        assert_eq!(heap.heap_size(), 12);
        assert_eq!(vec![(); 1000].heap_size(), 0);
        assert_eq!(OsString::with_capacity(9).heap_size(), 9);
        assert_eq!(PathBuf::with_capacity(11).heap_size(), 11);
        assert_eq!(CString::new("abc").unwrap().heap_size(), 4);
    }

    #[test]
    fn boxes_options_results_tuples_and_arrays() {
        assert_eq!(Box::new(7u64).heap_size(), 8);
        assert_eq!(Box::new(7u64).deep_size(), 16);
        let boxed: Box<str> = "hello".into();
        assert_eq!(boxed.heap_size(), 5);
        assert_eq!(boxed.deep_size(), 16 + 5);
        let slice: Box<[u16]> = vec![1, 2, 3].into_boxed_slice();
        assert_eq!(slice.heap_size(), 6);
        let strings: Box<[String]> = vec![String::with_capacity(4)].into_boxed_slice();
        assert_eq!(strings.heap_size(), 24 + 4);
        assert_eq!(Some(Box::new(1u64)).heap_size(), 8);
        assert_eq!(Some(Box::new(1u64)).deep_size(), 8 + 8);
        assert_eq!(None::<Box<u64>>.heap_size(), 0);
        let ok: Result<String, u8> = Ok(String::with_capacity(4));
        assert_eq!(ok.heap_size(), 4);
        let err: Result<u8, String> = Err(String::with_capacity(6));
        assert_eq!(err.heap_size(), 6);
        assert_eq!((1u8, String::with_capacity(3)).heap_size(), 3);
        let twelve = (
            0u8,
            1u8,
            2u8,
            3u8,
            4u8,
            5u8,
            6u8,
            7u8,
            8u8,
            9u8,
            10u8,
            vec![0u8; 5],
        );
        assert_eq!(twelve.heap_size(), 5);
        let array = [String::with_capacity(2), String::with_capacity(3)];
        assert_eq!(array.heap_size(), 5);
        assert_eq!(array.deep_size(), 48 + 5);
        assert_eq!(std::cmp::Reverse(String::with_capacity(2)).heap_size(), 2);
    }

    #[test]
    fn references_and_borrowed_cows_own_nothing() {
        let s = String::from("abc");
        assert_eq!(<&String as DeepSize>::heap_size(&&s), 0);
        let static_str: &'static str = "abc";
        // `static_str.deep_size()` would measure the `str`: a `&str` is its `&self` receiver.
        assert_eq!(DeepSize::heap_size(&static_str), 0);
        assert_eq!(DeepSize::deep_size(&static_str), 16);
        assert_eq!(Cow::Borrowed("abc").heap_size(), 0);
        let owned: Cow<'_, str> = Cow::Owned(String::with_capacity(9));
        assert_eq!(owned.heap_size(), 9);
    }

    #[test]
    fn shared_pointers_count_their_allocation_per_owner() {
        assert_eq!(Arc::new(1u64).heap_size(), 16 + 8);
        assert_eq!(Arc::new(1u8).heap_size(), 16 + 8);
        assert_eq!(Arc::new(1u128).heap_size(), 16 + 16);
        let bytes: Arc<[u8]> = Arc::from(vec![0u8; 256]);
        assert_eq!(bytes.heap_size(), 16 + 256);
        let text: Rc<str> = Rc::from("hello");
        assert_eq!(text.heap_size(), 24);
        let shared = Rc::new(String::with_capacity(10));
        assert_eq!(shared.heap_size(), 16 + 24 + 10);
        let owners = vec![Rc::clone(&shared), shared];
        assert_eq!(owners.heap_size(), 2 * 8 + 2 * (16 + 24 + 10));
    }

    #[test]
    fn linked_lists_count_one_node_per_element() {
        let list: LinkedList<u8> = [1, 2, 3].into_iter().collect();
        assert_eq!(list.heap_size(), 3 * 24);
        let strings: LinkedList<String> = [String::with_capacity(4)].into_iter().collect();
        assert_eq!(strings.heap_size(), 40 + 4);
    }

    #[test]
    fn hash_tables_follow_their_layout() {
        let g = GROUP_WIDTH;
        assert_eq!(HashMap::<u64, u64>::new().heap_size(), 0);
        // Capacity 3: 4 buckets of 16 bytes, 4 control bytes and a trailing group.
        let mut map: HashMap<u64, u64> = HashMap::with_capacity(3);
        map.insert(1, 1);
        assert_eq!(map.capacity(), 3);
        assert_eq!(map.heap_size(), 4 * 16 + 4 + g);
        let map: HashMap<u64, u64> = HashMap::with_capacity(5);
        assert_eq!(map.capacity(), 7);
        assert_eq!(map.heap_size(), 8 * 16 + 8 + g);
        // Slots padded to the control bytes' alignment.
        let padded: HashMap<u8, u128> = HashMap::with_capacity(1);
        assert_eq!(padded.heap_size(), round_up(4 * 32, g.max(16)) + 4 + g);
        let big: HashMap<u32, String> = (0..1000).map(|i| (i, String::with_capacity(2))).collect();
        let buckets = big.capacity() / 7 * 8;
        assert!(buckets.is_power_of_two());
        assert_eq!(big.heap_size(), buckets * 32 + buckets + g + 1000 * 2);
        let set: HashSet<u64> = HashSet::with_capacity(14);
        assert_eq!(set.heap_size(), 16 * 8 + 16 + g);
    }

    #[test]
    fn hash_tables_with_tombstones_keep_their_buckets() {
        let mut map: HashMap<u64, u64> = (0..100).map(|i| (i, i)).collect();
        assert_eq!(map.capacity(), 112);
        let full = map.heap_size();
        assert_eq!(full, 128 * 16 + 128 + GROUP_WIDTH);
        for i in 0..50 {
            map.remove(&i);
        }
        for i in 100..120 {
            map.insert(i, i);
        }
        // Erased slots may stay tombstones that lower `capacity()`; the table still has 128
        // buckets (70 entries never call for a resize).
        assert!(map.capacity() <= 112);
        assert_eq!(map.heap_size(), full);
    }

    #[test]
    fn btree_nodes_follow_their_layout() {
        assert_eq!(BTreeMap::<u64, u64>::new().heap_size(), 0);
        // One leaf: parent pointer, two u16, 11 keys and 11 values.
        let one: BTreeMap<u64, u64> = BTreeMap::from([(1, 1)]);
        assert_eq!(one.heap_size(), 8 + 4 + 11 * 16 + 4);
        let eleven: BTreeMap<u64, u64> = (0..11).map(|i| (i, i)).collect();
        assert_eq!(eleven.heap_size(), 192);
        // Fields ordered by alignment: no padding between the u8 keys and the u64 values.
        let mixed: BTreeMap<u8, u64> = BTreeMap::from([(1, 1)]);
        assert_eq!(mixed.heap_size(), 112);
        let set: BTreeSet<u8> = BTreeSet::from([1]);
        assert_eq!(set.heap_size(), 24);
        // The first split: two leaves under an internal node (a leaf and 12 edges).
        let twelve: BTreeMap<u64, u64> = (0..12).map(|i| (i, i)).collect();
        assert_eq!(twelve.heap_size(), 2 * 192 + (192 + 96));
        let strings: BTreeMap<u64, String> = BTreeMap::from([(1, String::with_capacity(7))]);
        assert_eq!(strings.heap_size(), round_up(12 + 11 * 32, 8) + 7);
    }

    /// Feeds `BTreeNodes` the addresses of 8-byte keys: each run is a starting address and a
    /// number of adjacent keys.
    fn walked(runs: &[(usize, usize)]) -> BTreeNodes<u64, u64> {
        let mut nodes = BTreeNodes::<u64, u64>::new();
        for &(start, keys) in runs {
            for i in 0..keys {
                let address = start + 8 * i;
                nodes.visit_address(address, 8);
            }
        }
        nodes
    }

    #[test]
    fn btree_walk_counts_leaves_and_internal_nodes_by_level() {
        let (leaf, internal) = (192, 288);
        // Two leaves and a root holding their separator.
        let nodes = walked(&[(1_000, 6), (5_000, 1), (2_000, 5)]);
        assert_eq!(nodes.bytes(12), 2 * leaf + internal);
        // Height 2: leaves L, height-1 nodes A and B (their keys 8 bytes apart), root R.
        let runs = [
            (10_000, 5), // leaf
            (50_000, 1), // A[0]
            (11_000, 5), // leaf
            (50_008, 1), // A[1]
            (12_000, 5), // leaf
            (90_000, 1), // R[0]
            (13_000, 5), // leaf
            (60_000, 1), // B[0]
            (14_000, 5), // leaf
        ];
        assert_eq!(walked(&runs).bytes(29), 5 * leaf + 3 * internal);
    }

    #[test]
    fn btree_walk_falls_back_to_the_estimate_when_addresses_break_the_layout() {
        // Each case would count other nodes than the estimate from the length gives.
        // A separator of two adjacent keys (counted: 2 leaves and a root).
        let nodes = walked(&[(1_000, 1), (5_000, 2), (2_000, 1)]);
        assert_eq!(nodes.bytes(4), btree_estimated_bytes(4, 192, 288));
        assert_eq!(nodes.bytes(4), 192);
        // A run longer than a node (counted: one leaf).
        let estimate = btree_estimated_bytes(14, 192, 288);
        assert_eq!(estimate, 2 * 192 + 288);
        assert_eq!(walked(&[(1_000, 14)]).bytes(14), estimate);
        // Fewer keys visited than the map holds (counted: one leaf).
        assert_eq!(walked(&[(1_000, 11)]).bytes(14), estimate);
        // Ending on a separator (counted: 2 leaves and a root).
        let nodes = walked(&[(1_000, 11), (5_000, 1), (2_000, 11), (5_008, 1)]);
        assert_eq!(nodes.bytes(24), btree_estimated_bytes(24, 192, 288));
        assert_eq!(nodes.bytes(24), 4 * 192 + 288);
        // Keys and values of zero size share one address: estimated from the length.
        assert_eq!(BTreeSet::from([()]).heap_size(), 16);
    }

    #[test]
    fn btree_walk_sees_the_full_nodes_of_a_bulk_build() {
        assert_eq!(size_of::<BTreeLeaf<u64, u64>>(), 192);
        assert_eq!(size_of::<BTreeInternal<u64, u64>>(), 288);
        // `collect()` sorts, then fills nodes: 23 = 11 + 1 + 11 is two full leaves and a root,
        // where the estimate from the length would assume three leaves.
        let collected: BTreeMap<u64, u64> = (0..23).map(|i| (i, i)).collect();
        assert_eq!(collected.heap_size(), 2 * 192 + 288);
        assert_eq!(btree_estimated_bytes(23, 192, 288), 3 * 192 + 288);
    }

    #[test]
    fn btree_estimate_assumes_partly_filled_nodes() {
        // 7.8 entries per leaf, 6.67 leaves per internal node.
        assert_eq!(
            btree_estimated_bytes(7_800, 192, 288),
            1_000 * 192 + 150 * 288
        );
        assert_eq!(
            btree_estimated_bytes(7_801, 192, 288),
            1_001 * 192 + 151 * 288
        );
    }
}
