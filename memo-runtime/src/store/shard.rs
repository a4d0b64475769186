//! One shard of a store: a single-threaded map with an eviction order, byte accounting and a
//! timer wheel. The store ([`crate::FaasCacheDict`]) wraps shards in locks.
//!
//! Nothing here runs user code that could observe a half-updated shard: hashes and deep sizes
//! are computed by the caller before the lock is taken, entries that leave are handed back in a
//! [`Departures`] list so that hooks and drops run after the lock is released, and the only
//! user code called under the lock (`Eq` while probing, `Clone` of a hit) runs while the shard
//! is consistent.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};

use hashbrown::{Equivalent, HashTable};

use crate::clock::Clock;
use crate::store::hooks::{DeleteReason, Departed, Departures};
use crate::store::list::{LinkField, Links, List};
use crate::store::policy::{Policy, Sketch, SKETCH_BYTES_PER_ENTRY};
use crate::store::slab::{Slab, CHUNK};
use crate::store::stats::ShardStats;
use crate::store::wheel::{TimerNode, Wheel, POS_NONE};

/// Expiry of an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

/// Bytes charged per entry for its hash-table slot and its share of the slab's chunk index.
/// The table stores an 8-byte node address and a 1-byte control tag per bucket, 8 buckets per 7
/// of capacity; it is shrunk when its capacity exceeds 2.5 per live entry, so a live entry costs
/// at most 25.7 bytes there. The chunk index costs 1.5 bytes per node, at most twice that with
/// its spare capacity.
const TABLE_SLOT_BYTES: usize = 29;

pub(crate) struct Node<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
    hash: u64,
    /// Clock nanoseconds at which the entry expires, or [`NEVER`].
    expires: u64,
    /// Bytes accounted for this entry, remembered so that removal subtracts exactly what
    /// insertion added even if the value's deep size changed meanwhile.
    charge: usize,
    /// The node's slab index (the table holds its address; lists link indices).
    index: u32,
    order: Links,
    timer: Links,
    wheel_pos: u16,
    /// S3-FIFO: hits since the entry last moved, up to [`MAX_FREQ`]. Atomic because hits
    /// update it under the shared lock.
    freq: AtomicU8,
    /// S3-FIFO: which queue holds the entry.
    queue: Queue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    /// The LRU list, or S3-FIFO's main queue.
    Main,
    /// S3-FIFO's small queue of new arrivals.
    Small,
}

/// Whether S3-FIFO's small queue, at `small_len` entries, holds more than its share of a shard
/// of `len` entries: 1%, at least one. This is `small_len > max(len / 100, 1)` without the
/// division, which costs more than the rest of the bookkeeping of a one-in-one-out eviction.
#[inline(always)]
fn small_over_target(small_len: usize, len: usize) -> bool {
    small_len > 1 && len < small_len.saturating_mul(100)
}

/// Hits counted per entry by S3-FIFO.
const MAX_FREQ: u8 = 3;
/// Misses that admit a new key straight into S3-FIFO's main queue.
const ADMIT_MISSES: u8 = 3;

impl<K, V> TimerNode for Node<K, V> {
    fn expires(&self) -> u64 {
        self.expires
    }
    fn timer_links(&self) -> &Links {
        &self.timer
    }
    fn timer_links_mut(&mut self) -> &mut Links {
        &mut self.timer
    }
    fn wheel_pos(&self) -> u16 {
        self.wheel_pos
    }
    fn set_wheel_pos(&mut self, pos: u16) {
        self.wheel_pos = pos;
    }
}

/// Selects the eviction-order links of a node.
#[derive(Debug)]
pub(crate) struct OrderLinks;

impl<K, V> LinkField<Node<K, V>> for OrderLinks {
    fn links(node: &Node<K, V>) -> &Links {
        &node.order
    }
    fn links_mut(node: &mut Node<K, V>) -> &mut Links {
        &mut node.order
    }
}

/// Accounted bytes of one entry beyond the deep sizes of its key and value: the rest of its
/// node, its hash-table slot and (S3-FIFO) its share of the frequency sketch.
pub(crate) fn entry_overhead<K, V>(policy: Policy) -> usize {
    let sketch = match policy {
        Policy::S3Fifo => SKETCH_BYTES_PER_ENTRY,
        Policy::Lru => 0,
    };
    std::mem::size_of::<Node<K, V>>() - std::mem::size_of::<K>() - std::mem::size_of::<V>()
        + TABLE_SLOT_BYTES
        + sketch
}

/// Worst-case node storage a shard holds beyond its live entries (see [`Slab`]), counted in the
/// store's fixed overhead.
pub(crate) const fn slab_slack<K, V>() -> usize {
    2 * CHUNK * std::mem::size_of::<Node<K, V>>()
}

/// What a shard may hold: the store's bounds minus what the other shards hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Room {
    pub(crate) items: usize,
    pub(crate) bytes: usize,
}

/// Where a node lives: an address from [`Slab::ptr`].
type NodePtr<K, V> = NonNull<Node<K, V>>;

/// `repr(C)`, hot fields first: a hit reads `table` (in the lock's first cache line, see
/// [`ReadMostly`](crate::sync::read_mostly::ReadMostly)), an insert that evicts reads the fields up
/// to `sketch` and the wheel's `len`; Rust's own layout spread them over six lines, from the
/// start of the shard to 3.9 KB past it (the wheel's slot lists sit in between). In the
/// benchmarks those lines stay in the L1 cache either way (callgrind's cache simulation counts
/// the same misses); the layout is for callers whose own work evicts them between calls.
#[repr(C)]
pub(crate) struct Shard<K, V> {
    /// The address of every node in `slab`, found by the hash stored in the node. Invariant:
    /// each address is that of a node at its index in `slab` (see [`Slab::ptr`]); every
    /// operation that moves or removes a node updates or removes its address here first.
    table: HashTable<NodePtr<K, V>>,
    slab: Slab<Node<K, V>>,
    /// LRU: front is the least recently used. S3-FIFO: the main queue, oldest first.
    order: List<OrderLinks>,
    /// S3-FIFO's small queue, oldest first (empty under LRU).
    small: List<OrderLinks>,
    small_len: usize,
    /// Sum of the charges of the entries in `table`.
    bytes: usize,
    policy: Policy,
    pub(crate) stats: ShardStats,
    /// S3-FIFO's admission filter (unused under LRU).
    sketch: Sketch,
    /// Last: most of its 3.6 KB are slot lists that only TTL entries use.
    wheel: Wheel,
}

// SAFETY: the table's addresses point into the shard's own slab, so a shard owns its nodes as
// the slab does: sending it sends keys and values (`K: Send, V: Send`), sharing it shares
// references to them (`K: Sync, V: Sync`); the node's other fields are plain data or atomics.
unsafe impl<K: Send, V: Send> Send for Shard<K, V> {}
// SAFETY: see `Send`; `&Shard` only hands out shared references to nodes.
unsafe impl<K: Sync, V: Sync> Sync for Shard<K, V> {}

impl<K, V> Shard<K, V> {
    pub(crate) fn new(policy: Policy) -> Self {
        Shard {
            table: HashTable::new(),
            slab: Slab::new(),
            order: List::new(),
            small: List::new(),
            small_len: 0,
            policy,
            sketch: Sketch::default(),
            wheel: Wheel::new(),
            bytes: 0,
            stats: ShardStats::default(),
        }
    }

    /// Entries in the shard, including expired ones not yet reclaimed: call
    /// [`expire_due`](Self::expire_due) first for the live count.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Accounted bytes of the entries (see [`len`](Self::len) about expired ones).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The node at an address from the table.
    #[inline(always)]
    fn node(&self, ptr: NodePtr<K, V>) -> &Node<K, V> {
        // SAFETY: the table holds only addresses of nodes in `self.slab` (the invariant on
        // `table`), and `&self` keeps the slab from changing while the reference lives. Only
        // shared access goes through the address, as `Slab::ptr` requires.
        unsafe { ptr.as_ref() }
    }

    /// The node of `key`, by address.
    #[inline(always)]
    fn find_node<Q>(&self, hash: u64, key: &Q) -> Option<&Node<K, V>>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let ptr = *self
            .table
            .find(hash, |&p| key.equivalent(&self.node(p).key))?;
        Some(self.node(ptr))
    }

    /// The slab index of `key`'s node.
    #[inline(always)]
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.find_node(hash, key).map(|node| node.index)
    }

    /// Reclaims every entry whose TTL has run out. Costs nothing when no entry has a TTL and
    /// little when nothing is due.
    #[inline]
    pub(crate) fn expire_due(&mut self, clock: &Clock, out: &mut Departures<K, V>) {
        if self.wheel.is_empty() {
            return;
        }
        self.wheel.advance(&mut self.slab, clock.now_nanos());
        while let Some(index) = self.wheel.pop_expired(&mut self.slab) {
            let node = self.remove_index(index);
            self.stats.expirations += 1;
            out.push(Departed {
                key: node.key,
                value: node.value,
                reason: DeleteReason::Expired,
            });
        }
    }

    /// Looks a key up, counting a hit or a miss, and marks a hit most recently used.
    #[inline]
    pub(crate) fn get<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        clock: &Clock,
        out: &mut Departures<K, V>,
    ) -> Option<&V>
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.expire_due(clock, out);
        match self.find_node(hash, key) {
            Some(node) => {
                // Hit since it came in: under LRU, what tells the process's memory budget
                // that the entry is not cold (see `evict_cold`). Through the node at hand.
                if self.policy == Policy::Lru {
                    node.freq.store(1, Ordering::Relaxed);
                }
                let index = node.index;
                self.stats.hits += 1;
                self.touch(index);
                Some(&self.slab.get(index).value)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Looks a key up under the shared lock (S3-FIFO only): a hit only bumps the entry's
    /// frequency, and only while it is below the maximum, so hot entries are read, never
    /// written. An expired entry reads as absent; a writer reclaims it later. Counts nothing
    /// (the caller counts in its reader slot).
    #[inline]
    pub(crate) fn get_shared<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> Option<&V>
    where
        Q: ?Sized + Equivalent<K>,
    {
        debug_assert_eq!(self.policy, Policy::S3Fifo);
        let node = self.find_node(hash, key)?;
        if node.expires != NEVER && node.expires <= clock.now_nanos() {
            return None;
        }
        let freq = node.freq.load(Ordering::Relaxed);
        if freq < MAX_FREQ {
            // Racing hits may both write the same value: a lost hit of a counter capped at 3.
            node.freq.store(freq + 1, Ordering::Relaxed);
        }
        Some(&node.value)
    }

    /// [`get_shared`](Self::get_shared) that also returns the entry's expiry and the time it
    /// was checked against (`now` is 0 for an entry that never expires: no clock is read).
    /// For memoized functions with `stale`, `fallback`, `refresh_on_hit` or `refresh_ahead`.
    #[inline]
    pub(crate) fn get_shared_timed<Q>(
        &self,
        hash: u64,
        key: &Q,
        clock: &Clock,
    ) -> Option<(&V, u64, u64)>
    where
        Q: ?Sized + Equivalent<K>,
    {
        debug_assert_eq!(self.policy, Policy::S3Fifo);
        let node = self.find_node(hash, key)?;
        let mut now = 0;
        if node.expires != NEVER {
            now = clock.now_nanos();
            if node.expires <= now {
                return None;
            }
        }
        let freq = node.freq.load(Ordering::Relaxed);
        if freq < MAX_FREQ {
            node.freq.store(freq + 1, Ordering::Relaxed);
        }
        Some((&node.value, node.expires, now))
    }

    /// [`get`](Self::get) that also returns the entry's expiry and the time it was checked
    /// against (see [`get_shared_timed`](Self::get_shared_timed)).
    #[inline]
    pub(crate) fn get_timed<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        clock: &Clock,
        out: &mut Departures<K, V>,
    ) -> Option<(&V, u64, u64)>
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.expire_due(clock, out);
        match self.find(hash, key) {
            Some(index) => {
                self.stats.hits += 1;
                self.touch(index);
                let node = self.slab.get(index);
                let now = if node.expires == NEVER {
                    0
                } else {
                    clock.now_nanos()
                };
                Some((&node.value, node.expires, now))
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// The live value of `key` and its expiry; counts nothing and changes no order.
    pub(crate) fn peek_timed<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> Option<(&V, u64)>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let node = self.find_node(hash, key)?;
        (!is_expired_at(node.expires, clock)).then_some((&node.value, node.expires))
    }

    /// Records a hit on an entry, under the exclusive lock.
    #[inline]
    fn touch(&mut self, index: u32) {
        match self.policy {
            Policy::Lru => self.order.move_to_back(&mut self.slab, index),
            Policy::S3Fifo => {
                let freq = self.slab.get_mut(index).freq.get_mut();
                *freq = (*freq + 1).min(MAX_FREQ);
            }
        }
    }

    /// The live value of `key`; counts nothing and changes no order.
    pub(crate) fn peek<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> Option<&V>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let node = self.find_node(hash, key)?;
        (!is_expired_at(node.expires, clock)).then_some(&node.value)
    }

    /// Whether a live entry exists; counts nothing and changes no order.
    pub(crate) fn contains<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> bool
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.find_node(hash, key)
            .is_some_and(|node| !is_expired_at(node.expires, clock))
    }

    /// The expiry of a live entry (`Some(NEVER)` if it never expires).
    pub(crate) fn expiry_of<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> Option<u64>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let node = self.find_node(hash, key)?;
        (!is_expired_at(node.expires, clock)).then_some(node.expires)
    }

    /// Whether an entry still in the shard has expired (`None` when absent or reclaimed).
    pub(crate) fn is_expired<Q>(&self, hash: u64, key: &Q, clock: &Clock) -> Option<bool>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let node = self.find_node(hash, key)?;
        Some(is_expired_at(node.expires, clock))
    }

    /// Inserts or replaces, evicting least recently used entries of this shard until the entry
    /// fits in `room` (other shards are the caller's business). Returns the key and old value of
    /// a replaced live entry.
    ///
    /// The caller has checked that the entry alone fits in the store's byte bound.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        charge: usize,
        expires: u64,
        room: Room,
        clock: &Clock,
        out: &mut Departures<K, V>,
    ) -> Option<(K, V)>
    where
        K: Eq,
    {
        self.expire_due(clock, out);
        if let Some(index) = self.find(hash, &key) {
            return Some(self.replace(index, key, value, charge, expires, room, out));
        }
        let queue = match self.policy {
            Policy::Lru => Queue::Main,
            Policy::S3Fifo => {
                // Count the miss; a key that missed often recently skips the small queue.
                self.sketch.fit(self.table.len() + 1);
                if self.sketch.increment(hash) >= ADMIT_MISSES {
                    Queue::Main
                } else {
                    Queue::Small
                }
            }
        };
        let index = match self.evict_for(charge, room, out) {
            Some(free) => {
                // Reuse the victim's node in place: only the key and value move.
                let node = self.slab.get_mut(free);
                out.push(Departed {
                    key: std::mem::replace(&mut node.key, key),
                    value: std::mem::replace(&mut node.value, value),
                    reason: DeleteReason::Evicted,
                });
                node.hash = hash;
                node.expires = expires;
                node.charge = charge;
                // `detach` left the links unlinked and the timer position empty.
                *node.freq.get_mut() = 0;
                node.queue = queue;
                free
            }
            None => self.slab.push(Node {
                key,
                value,
                hash,
                expires,
                charge,
                index: 0,
                order: Links::UNLINKED,
                timer: Links::UNLINKED,
                wheel_pos: POS_NONE,
                freq: AtomicU8::new(0),
                queue,
            }),
        };
        self.link(index);
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn replace(
        &mut self,
        mut index: u32,
        key: K,
        value: V,
        charge: usize,
        expires: u64,
        room: Room,
        out: &mut Departures<K, V>,
    ) -> (K, V) {
        self.wheel.remove(&mut self.slab, index);
        let node = self.slab.get_mut(index);
        let old = std::mem::replace(&mut node.value, value);
        self.bytes = self.bytes - node.charge + charge;
        node.charge = charge;
        node.expires = expires;
        if expires != NEVER {
            self.wheel.insert(&mut self.slab, index);
        }
        self.touch(index);
        // A larger value may push the shard over its bound: evict others, never this entry
        // (alone it fits).
        while self.over(room, 0, 0) && self.table.len() > 1 {
            let Some(victim) = self.next_victim(Some(index)) else {
                break;
            };
            // Removing the victim moves the slab's last node into its place: when that is the
            // replaced entry, follow it, or the next round would no longer protect it.
            let last = self.slab.len() as u32 - 1;
            let node = self.remove_index(victim);
            if index == last {
                index = victim;
            }
            self.stats.evictions += 1;
            out.push(Departed {
                key: node.key,
                value: node.value,
                reason: DeleteReason::Evicted,
            });
        }
        (key, old)
    }

    /// Evicts until one more entry of `charge` bytes fits. The slot of the last victim is left
    /// detached (out of table, order and wheel) and returned for the new node to reuse, which
    /// saves moving a node in the common one-in-one-out case.
    fn evict_for(&mut self, charge: usize, room: Room, out: &mut Departures<K, V>) -> Option<u32> {
        while self.over(room, 1, charge) {
            let victim = self.next_victim(None)?;
            self.detach(victim);
            self.stats.evictions += 1;
            if !self.over(room, 1, charge) {
                return Some(victim);
            }
            let node = self.take_detached(victim);
            out.push(Departed {
                key: node.key,
                value: node.value,
                reason: DeleteReason::Evicted,
            });
        }
        None
    }

    /// The entry the policy evicts next (S3-FIFO moves entries between its queues to find
    /// it). `protect` is never chosen: it is treated as just hit.
    #[inline(always)]
    fn next_victim(&mut self, protect: Option<u32>) -> Option<u32> {
        if self.policy == Policy::Lru {
            return self.order.front().filter(|&i| Some(i) != protect);
        }
        // The small queue keeps 1% of the entries, at least one: it only filters new arrivals.
        let len = self.table.len();
        // Set when the main queue holds nothing but `protect`.
        let mut only_small = false;
        loop {
            if only_small || small_over_target(self.small_len, len) || self.order.is_empty() {
                let candidate = self.small.front()?;
                let node = self.slab.get_mut(candidate);
                if *node.freq.get_mut() == 0 && Some(candidate) != protect {
                    return Some(candidate);
                }
                // Hit while new: promote to the main queue.
                *node.freq.get_mut() = 0;
                node.queue = Queue::Main;
                self.small.unlink(&mut self.slab, candidate);
                self.small_len -= 1;
                self.order.push_back(&mut self.slab, candidate);
            } else {
                let candidate = self.order.front()?;
                if Some(candidate) == protect {
                    self.order.move_to_back(&mut self.slab, candidate);
                    only_small = self.order.front() == protect;
                    continue;
                }
                let freq = self.slab.get_mut(candidate).freq.get_mut();
                if *freq == 0 {
                    return Some(candidate);
                }
                // Hit since its last pass: another round, with one hit less.
                *freq -= 1;
                self.order.move_to_back(&mut self.slab, candidate);
            }
        }
    }

    /// Evicts the entry the policy picks, if any.
    pub(crate) fn evict_one(&mut self, out: &mut Departures<K, V>) -> bool {
        let Some(victim) = self.next_victim(None) else {
            return false;
        };
        let node = self.remove_index(victim);
        self.stats.evictions += 1;
        out.push(Departed {
            key: node.key,
            value: node.value,
            reason: DeleteReason::Evicted,
        });
        true
    }

    /// Evicts the entry the policy would examine first, but only if it is cold: not hit since
    /// it came in or since its last pass (S3-FIFO), never hit (LRU). Moves nothing otherwise.
    /// The process's memory budget calls this on every store before it evicts anything
    /// warm, so that a cold store gives up its entries before a hot one.
    pub(crate) fn evict_cold(&mut self, out: &mut Departures<K, V>) -> bool {
        let candidate = match self.policy {
            Policy::Lru => self.order.front(),
            Policy::S3Fifo => {
                if small_over_target(self.small_len, self.table.len()) || self.order.is_empty() {
                    self.small.front()
                } else {
                    self.order.front()
                }
            }
        };
        let Some(victim) = candidate else {
            return false;
        };
        if *self.slab.get_mut(victim).freq.get_mut() != 0 {
            return false;
        }
        let node = self.remove_index(victim);
        self.stats.evictions += 1;
        out.push(Departed {
            key: node.key,
            value: node.value,
            reason: DeleteReason::Evicted,
        });
        true
    }

    fn over(&self, room: Room, extra_items: usize, extra_bytes: usize) -> bool {
        self.table.len() + extra_items > room.items
            || self.bytes.saturating_add(extra_bytes) > room.bytes
    }

    /// Puts the node at `index` (already in the slab) into table, order and wheel.
    fn link(&mut self, index: u32) {
        // Each node field is read once: this and `detach` run on every insert that evicts.
        let ptr = self.slab.ptr(index);
        let node = self.slab.get_mut(index);
        node.index = index;
        let (hash, charge, expires, queue) = (node.hash, node.charge, node.expires, node.queue);
        // SAFETY (of `hash_of`): rehashing reads the nodes of the table's own addresses.
        self.table
            .insert_unique(hash, ptr, |&p| unsafe { p.as_ref().hash });
        match queue {
            Queue::Main => self.order.push_back(&mut self.slab, index),
            Queue::Small => {
                self.small.push_back(&mut self.slab, index);
                self.small_len += 1;
            }
        }
        if expires != NEVER {
            self.wheel.insert(&mut self.slab, index);
        }
        self.bytes += charge;
    }

    /// Takes a node out of table, order and wheel; it stays in the slab.
    #[inline(always)]
    fn detach(&mut self, index: u32) {
        let node = self.slab.get(index);
        let (hash, charge, queue) = (node.hash, node.charge, node.queue);
        let timed = node.wheel_pos != POS_NONE;
        // Only compared, never dereferenced: the node's address as the table holds it.
        let ptr = NonNull::from(node);
        match self.table.find_entry(hash, |&p| p == ptr) {
            Ok(entry) => {
                entry.remove();
            }
            Err(_) => unreachable!("every linked node is in the table"),
        }
        match queue {
            Queue::Main => self.order.unlink(&mut self.slab, index),
            Queue::Small => {
                self.small.unlink(&mut self.slab, index);
                self.small_len -= 1;
            }
        }
        if timed {
            self.wheel.remove_timed(&mut self.slab, index);
        }
        self.bytes -= charge;
    }

    /// Removes a detached node from the slab, re-pointing whatever referred to the node that
    /// moves into its place.
    fn take_detached(&mut self, index: u32) -> Node<K, V> {
        // The last node moves into the freed place: note its address to re-point the table.
        let last_ptr = self.slab.ptr(self.slab.len() as u32 - 1);
        let (node, moved_from) = self.slab.swap_remove(index);
        if let Some(from) = moved_from {
            let moved = self.slab.get_mut(index);
            moved.index = index;
            let hash = moved.hash;
            let ptr = self.slab.ptr(index);
            match self.table.find_mut(hash, |&p| p == last_ptr) {
                Some(slot) => *slot = ptr,
                None => unreachable!("every linked node is in the table"),
            }
            let (list, slab) = self.queue_of(index);
            list.relocate(slab, from, index);
            self.wheel.relocate(&mut self.slab, from, index);
        }
        self.shrink_table_if_sparse();
        if self.policy == Policy::S3Fifo {
            self.sketch.fit(self.table.len());
        }
        node
    }

    /// The list that holds (or will hold) a node, and the slab to walk it with.
    #[inline]
    fn queue_of(&mut self, index: u32) -> (&mut List<OrderLinks>, &mut Slab<Node<K, V>>) {
        let list = match self.slab.get(index).queue {
            Queue::Main => &mut self.order,
            Queue::Small => &mut self.small,
        };
        (list, &mut self.slab)
    }

    fn remove_index(&mut self, index: u32) -> Node<K, V> {
        self.detach(index);
        self.take_detached(index)
    }

    /// Keeps the table's memory within what [`TABLE_SLOT_BYTES`] charges per entry. Shrinking
    /// rehashes the live entries, which is paid for by the removals that made it sparse.
    fn shrink_table_if_sparse(&mut self) {
        let len = self.table.len();
        // Capacity above 2.5 entries per live one: at 5 bytes per bucket and 8 buckets per 7 of
        // capacity, that is 14.3 bytes per entry, the most the charge leaves room for. A table
        // that just doubled holds 2 per entry, so growing and shrinking never alternate.
        if 2 * self.table.capacity() > 5 * len + 128 {
            // SAFETY: rehashing reads the nodes of the table's own addresses.
            self.table.shrink_to(len, |&p| unsafe { p.as_ref().hash });
        }
    }

    /// Removes a live entry and returns it; an expired one goes to `out` instead.
    pub(crate) fn remove<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        clock: &Clock,
        out: &mut Departures<K, V>,
    ) -> Option<(K, V)>
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.expire_due(clock, out);
        let index = self.find(hash, key)?;
        let node = self.remove_index(index);
        Some((node.key, node.value))
    }

    /// Gives a live entry a new expiry; `false` if absent or expired.
    pub(crate) fn set_expiry<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        expires: u64,
        clock: &Clock,
        out: &mut Departures<K, V>,
    ) -> bool
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.expire_due(clock, out);
        let Some(index) = self.find(hash, key) else {
            return false;
        };
        self.wheel.remove(&mut self.slab, index);
        self.slab.get_mut(index).expires = expires;
        if expires != NEVER {
            self.wheel.insert(&mut self.slab, index);
        }
        // An expiry in the past takes effect at once.
        self.expire_due(clock, out);
        true
    }

    /// Reclaims expired entries, then evicts least recently used ones until the shard fits.
    pub(crate) fn trim(&mut self, room: Room, clock: &Clock, out: &mut Departures<K, V>) {
        self.expire_due(clock, out);
        while self.over(room, 0, 0) && self.evict_one(out) {}
    }

    /// Removes every entry; expired ones are reported as such.
    pub(crate) fn purge(&mut self, clock: &Clock, out: &mut Departures<K, V>) {
        self.expire_due(clock, out);
        self.table.clear();
        self.table.shrink_to(0, |_| 0);
        self.order.clear();
        self.small.clear();
        self.small_len = 0;
        self.wheel.clear();
        self.bytes = 0;
        for chunk in self.slab.take_all() {
            out.extend(chunk.into_iter().map(|node| Departed {
                key: node.key,
                value: node.value,
                reason: DeleteReason::Removed,
            }));
        }
    }

    /// Charges every entry anew: `weigh` of its key and value plus `overhead`.
    pub(crate) fn recharge(&mut self, weigh: impl Fn(&K, &V) -> usize, overhead: usize) {
        let mut bytes = 0usize;
        for index in 0..self.slab.len() as u32 {
            let node = self.slab.get_mut(index);
            node.charge = weigh(&node.key, &node.value).saturating_add(overhead);
            bytes = bytes.saturating_add(node.charge);
        }
        self.bytes = bytes;
    }

    /// Visits the entries: LRU, least recently used first; S3-FIFO, the small queue then the
    /// main queue, each oldest first.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        let small = self.small.iter(&self.slab);
        for index in small.chain(self.order.iter(&self.slab)) {
            let node = self.slab.get(index);
            f(&node.key, &node.value);
        }
    }

    /// Bytes of memory the shard's structures hold now (nodes, table, sketch), for tests that
    /// compare accounting with reality.
    #[cfg(test)]
    pub(crate) fn structure_bytes(&self) -> usize {
        self.slab.allocated_bytes() + self.table.allocation_size() + self.sketch.allocated_bytes()
    }
}

fn is_expired_at(expires: u64, clock: &Clock) -> bool {
    expires != NEVER && expires <= clock.now_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::hooks::Departures;

    #[test]
    fn the_small_queue_target_needs_no_division() {
        let lens = if cfg!(miri) { 300 } else { 5_000usize };
        for len in 0..lens {
            for small_len in 0..=len.min(120) {
                assert_eq!(
                    small_over_target(small_len, len),
                    small_len > (len / 100).max(1),
                    "small_len {small_len}, len {len}"
                );
            }
        }
    }

    /// What a shard really allocates for its structures stays within what it accounts for
    /// them: the per-entry overhead of its entries plus the slab slack counted in the store's
    /// fixed overhead, whether it grows or shrinks.
    #[test]
    fn structures_stay_within_the_accounted_overhead() {
        for policy in [Policy::S3Fifo, Policy::Lru] {
            let clock = Clock::system();
            let mut shard: Shard<u64, u64> = Shard::new(policy);
            let mut out = Departures::new();
            let charge = 16 + entry_overhead::<u64, u64>(policy);
            // The smallest table and sketch are part of the fixed overhead too.
            let fixed = slab_slack::<u64, u64>() + crate::store::policy::MIN_SKETCH_BYTES + 64;
            // With u64 keys and values the whole charge is structure (the key and value live
            // inline in the node).
            let check = |shard: &Shard<u64, u64>, what: &str| {
                let accounted = shard.bytes() + fixed;
                assert!(
                    shard.structure_bytes() <= accounted,
                    "{policy:?} {what}: {} bytes allocated for {} entries, {accounted} accounted",
                    shard.structure_bytes(),
                    shard.len(),
                );
            };
            let room = Room {
                items: usize::MAX,
                bytes: usize::MAX,
            };
            let mut next = 0u64;
            // Miri: a few thousand entries still grow and shrink table, slab and sketch
            // several times.
            let (targets, check_every) = if cfg!(miri) {
                ([10usize, 300, 3_000], 500)
            } else {
                ([10, 1_000, 100_000], 10_000)
            };
            for target in targets {
                while shard.len() < target {
                    let hash = next.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    shard.insert(hash, next, next, charge, NEVER, room, &clock, &mut out);
                    next += 1;
                }
                check(&shard, "after growth");
            }
            // Remove nearly everything, in insertion order.
            for k in 0..next - 10 {
                let hash = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                shard.remove(hash, &k, &clock, &mut out);
                out.clear();
                if shard.len().is_multiple_of(check_every) {
                    check(&shard, "while shrinking");
                }
            }
            assert_eq!(shard.len(), 10);
            check(&shard, "after shrinking");
        }
    }
}
