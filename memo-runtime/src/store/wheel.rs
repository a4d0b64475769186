//! A hierarchical timer wheel over slab nodes: O(1) to schedule or cancel an expiry, and
//! expiring costs time proportional to what expires, never a scan of the store.
//!
//! Time is cut into ticks of 2^10 ns (about 1 µs). Level `L` has 64 slots of 64^L ticks; an
//! entry sits at the lowest level whose slot is not the current one, so it moves down at most
//! six times before it expires (tokio's timer wheel works the same way). Seven levels reach
//! 2^52 ns (52 days); an expiry beyond that waits in the last slot and is rescheduled from there.
//!
//! Expiry is exact to the nanosecond: entries due within the current tick wait in a small
//! `current` list that is checked against the precise time, and only nodes whose expiry is at
//! or before `now` are handed out.

use crate::store::list::{LinkField, Links, List};
use crate::store::slab::Slab;

const TICK_SHIFT: u32 = 10;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
const LEVELS: usize = 7;

/// A node's place in the wheel: `level * 64 + slot`, or one of these.
pub(crate) const POS_NONE: u16 = u16::MAX;
const POS_CURRENT: u16 = u16::MAX - 1;
const POS_EXPIRED: u16 = u16::MAX - 2;

/// What the wheel needs of a node.
pub(crate) trait TimerNode {
    /// Expiry in clock nanoseconds.
    fn expires(&self) -> u64;
    fn timer_links(&self) -> &Links;
    fn timer_links_mut(&mut self) -> &mut Links;
    fn wheel_pos(&self) -> u16;
    fn set_wheel_pos(&mut self, pos: u16);
}

/// Selects the timer links of a node.
#[derive(Debug)]
pub(crate) struct TimerLinks;

impl<N: TimerNode> LinkField<N> for TimerLinks {
    fn links(node: &N) -> &Links {
        node.timer_links()
    }
    fn links_mut(node: &mut N) -> &mut Links {
        node.timer_links_mut()
    }
}

/// `repr(C)` with `len` first: the shard checks `is_empty` on every operation, and the slot
/// lists that follow span 3.5 KB.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Wheel {
    /// Nodes in the wheel, `expired` included.
    len: usize,
    /// Ticks processed: every slot whose start is at or before `elapsed` has been emptied.
    elapsed: u64,
    /// Start tick of the earliest occupied slot (`u64::MAX` if none): a cheap early exit.
    next_due: u64,
    /// Earliest expiry (ns) in `current` (`u64::MAX` if empty).
    current_min: u64,
    occupied: [u64; LEVELS],
    slots: [[List<TimerLinks>; SLOTS]; LEVELS],
    /// Entries whose tick is at or before `elapsed` but that are not yet due to the nanosecond.
    current: List<TimerLinks>,
    /// Due entries waiting for the owner to take them with [`Wheel::pop_expired`].
    expired: List<TimerLinks>,
}

impl Wheel {
    pub(crate) const fn new() -> Self {
        Wheel {
            elapsed: 0,
            next_due: u64::MAX,
            current_min: u64::MAX,
            occupied: [0; LEVELS],
            slots: [const { [const { List::new() }; SLOTS] }; LEVELS],
            current: List::new(),
            expired: List::new(),
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules a node (not in the wheel) at its `expires()`.
    pub(crate) fn insert<N: TimerNode>(&mut self, slab: &mut Slab<N>, index: u32) {
        debug_assert_eq!(slab.get(index).wheel_pos(), POS_NONE);
        self.len += 1;
        self.place(slab, index);
    }

    fn place<N: TimerNode>(&mut self, slab: &mut Slab<N>, index: u32) {
        let expires = slab.get(index).expires();
        let mut when = expires >> TICK_SHIFT;
        if when <= self.elapsed {
            self.current_min = self.current_min.min(expires);
            self.current.push_back(slab, index);
            slab.get_mut(index).set_wheel_pos(POS_CURRENT);
            return;
        }
        let mut level = level_of(self.elapsed, when);
        if level >= LEVELS {
            // Beyond the horizon: park in the last tick of the current top-level block; the
            // entry is rescheduled when that slot is processed.
            when = self.elapsed | ((1u64 << (SLOT_BITS * LEVELS as u32)) - 1);
            if when == self.elapsed {
                self.current_min = self.current_min.min(expires);
                self.current.push_back(slab, index);
                slab.get_mut(index).set_wheel_pos(POS_CURRENT);
                return;
            }
            level = level_of(self.elapsed, when);
        }
        let shift = SLOT_BITS * level as u32;
        let slot = ((when >> shift) as usize) & (SLOTS - 1);
        self.slots[level][slot].push_back(slab, index);
        self.occupied[level] |= 1 << slot;
        self.next_due = self.next_due.min((when >> shift) << shift);
        // Fits in u16: level < 7, slot < 64.
        slab.get_mut(index)
            .set_wheel_pos((level * SLOTS + slot) as u16);
    }

    /// Cancels a node's expiry; no-op for a node not in the wheel.
    #[inline]
    pub(crate) fn remove<N: TimerNode>(&mut self, slab: &mut Slab<N>, index: u32) {
        if slab.get(index).wheel_pos() != POS_NONE {
            self.remove_timed(slab, index);
        }
    }

    /// [`remove`](Self::remove) of a node known to be in the wheel.
    pub(crate) fn remove_timed<N: TimerNode>(&mut self, slab: &mut Slab<N>, index: u32) {
        let pos = slab.get(index).wheel_pos();
        match pos {
            POS_CURRENT => self.current.unlink(slab, index),
            POS_EXPIRED => self.expired.unlink(slab, index),
            _ => {
                let (level, slot) = (pos as usize / SLOTS, pos as usize % SLOTS);
                let list = &mut self.slots[level][slot];
                list.unlink(slab, index);
                if list.is_empty() {
                    self.occupied[level] &= !(1 << slot);
                }
            }
        }
        slab.get_mut(index).set_wheel_pos(POS_NONE);
        self.len -= 1;
    }

    /// Re-points the list neighbours of a node that the slab moved from `from` to `to`.
    #[inline]
    pub(crate) fn relocate<N: TimerNode>(&mut self, slab: &mut Slab<N>, from: u32, to: u32) {
        let pos = slab.get(to).wheel_pos();
        let list = match pos {
            POS_NONE => return,
            POS_CURRENT => &mut self.current,
            POS_EXPIRED => &mut self.expired,
            _ => &mut self.slots[pos as usize / SLOTS][pos as usize % SLOTS],
        };
        list.relocate(slab, from, to);
    }

    /// Moves every node whose expiry is at or before `now` (ns) to the expired list.
    #[inline]
    pub(crate) fn advance<N: TimerNode>(&mut self, slab: &mut Slab<N>, now: u64) {
        if (now >> TICK_SHIFT) < self.next_due && now < self.current_min {
            return;
        }
        self.advance_slow(slab, now);
    }

    #[cold]
    fn advance_slow<N: TimerNode>(&mut self, slab: &mut Slab<N>, now: u64) {
        let now_tick = now >> TICK_SHIFT;
        while let Some((level, slot, start)) = self.next_expiration() {
            if start > now_tick {
                break;
            }
            self.occupied[level] &= !(1 << slot);
            self.elapsed = self.elapsed.max(start);
            let mut chain = self.slots[level][slot].take();
            while let Some(index) = chain.next::<N, TimerLinks>(slab) {
                if slab.get(index).expires() <= now {
                    self.push_expired(slab, index);
                } else {
                    self.place(slab, index);
                }
            }
        }
        self.elapsed = self.elapsed.max(now_tick);
        if now >= self.current_min {
            self.current_min = u64::MAX;
            let mut chain = self.current.take();
            while let Some(index) = chain.next::<N, TimerLinks>(slab) {
                let expires = slab.get(index).expires();
                if expires <= now {
                    self.push_expired(slab, index);
                } else {
                    self.current_min = self.current_min.min(expires);
                    self.current.push_back(slab, index);
                }
            }
        }
        self.next_due = self
            .next_expiration()
            .map_or(u64::MAX, |(_, _, start)| start);
    }

    fn push_expired<N: TimerNode>(&mut self, slab: &mut Slab<N>, index: u32) {
        self.expired.push_back(slab, index);
        slab.get_mut(index).set_wheel_pos(POS_EXPIRED);
    }

    /// Takes one node that [`advance`](Self::advance) found due; it leaves the wheel.
    pub(crate) fn pop_expired<N: TimerNode>(&mut self, slab: &mut Slab<N>) -> Option<u32> {
        let index = self.expired.pop_front(slab)?;
        slab.get_mut(index).set_wheel_pos(POS_NONE);
        self.len -= 1;
        Some(index)
    }

    /// The earliest occupied slot: `(level, slot, start tick)`. Entries at a lower level are
    /// always due before any at a higher level, so the first level with an occupied slot holds it.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            if occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let block_shift = shift + SLOT_BITS;
            let current_slot = (self.elapsed >> shift) & (SLOTS as u64 - 1);
            let ahead = occupied & (u64::MAX << current_slot);
            let block_start = (self.elapsed >> block_shift) << block_shift;
            let (slot, start) = if ahead != 0 {
                let slot = ahead.trailing_zeros() as usize;
                (slot, block_start + ((slot as u64) << shift))
            } else {
                // Only reachable if a slot behind the current one were occupied: treat it as
                // belonging to the next block rather than losing it.
                let slot = occupied.trailing_zeros() as usize;
                (
                    slot,
                    block_start + (1 << block_shift) + ((slot as u64) << shift),
                )
            };
            return Some((level, slot, start));
        }
        None
    }

    /// Forgets every node (the owner is discarding them all).
    pub(crate) fn clear(&mut self) {
        let elapsed = self.elapsed;
        *self = Wheel::new();
        self.elapsed = elapsed;
    }
}

/// The level at which `when` (> `elapsed`) goes: the index of the highest 6-bit group in which
/// the two differ.
fn level_of(elapsed: u64, when: u64) -> usize {
    let differing = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - differing.leading_zeros();
    (significant / SLOT_BITS) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::slab::Slab;

    struct Node {
        expires: u64,
        links: Links,
        pos: u16,
    }

    impl TimerNode for Node {
        fn expires(&self) -> u64 {
            self.expires
        }
        fn timer_links(&self) -> &Links {
            &self.links
        }
        fn timer_links_mut(&mut self) -> &mut Links {
            &mut self.links
        }
        fn wheel_pos(&self) -> u16 {
            self.pos
        }
        fn set_wheel_pos(&mut self, pos: u16) {
            self.pos = pos;
        }
    }

    fn node(expires: u64) -> Node {
        Node {
            expires,
            links: Links::UNLINKED,
            pos: POS_NONE,
        }
    }

    fn drain(wheel: &mut Wheel, slab: &mut Slab<Node>, now: u64) -> Vec<u64> {
        wheel.advance(slab, now);
        let mut out = Vec::new();
        while let Some(i) = wheel.pop_expired(slab) {
            out.push(slab.get(i).expires);
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn expires_exactly_at_the_nanosecond() {
        let mut slab = Slab::new();
        let mut wheel = Wheel::new();
        for e in [5_000, 5_001, 70_000, 3_000_000_000] {
            let i = slab.push(node(e));
            wheel.insert(&mut slab, i);
        }
        assert!(drain(&mut wheel, &mut slab, 4_999).is_empty());
        assert_eq!(drain(&mut wheel, &mut slab, 5_000), [5_000]);
        assert_eq!(drain(&mut wheel, &mut slab, 5_000), Vec::<u64>::new());
        assert_eq!(drain(&mut wheel, &mut slab, 5_001), [5_001]);
        assert_eq!(drain(&mut wheel, &mut slab, 69_999), Vec::<u64>::new());
        assert_eq!(drain(&mut wheel, &mut slab, 2_999_999_999), [70_000]);
        assert_eq!(drain(&mut wheel, &mut slab, u64::MAX / 2), [3_000_000_000]);
        assert!(wheel.is_empty());
    }

    #[test]
    fn matches_a_sorted_reference_for_random_expiries() {
        // xorshift, deterministic
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut slab = Slab::new();
        let mut wheel = Wheel::new();
        let mut reference = Vec::new();
        let mut now = 1_000u64;
        // Miri: the reference filter is quadratic in the rounds; 150 still mixes every span.
        let rounds = if cfg!(miri) { 150 } else { 2_000 };
        for round in 0..rounds {
            for _ in 0..5 {
                let span = [1_000u64, 1 << 20, 1 << 34, 1 << 50, 1 << 60][(rand() % 5) as usize];
                let e = now + rand() % span;
                let i = slab.push(node(e));
                wheel.insert(&mut slab, i);
                reference.push(e);
            }
            now += rand() % [10u64, 1 << 16, 1 << 30][round % 3];
            let got = drain(&mut wheel, &mut slab, now);
            let mut want: Vec<u64> = reference.iter().copied().filter(|&e| e <= now).collect();
            want.sort_unstable();
            reference.retain(|&e| e > now);
            assert_eq!(got, want, "round {round}, now {now}");
        }
        let rest = drain(&mut wheel, &mut slab, u64::MAX);
        assert_eq!(rest.len(), reference.len());
    }

    #[test]
    fn removed_nodes_never_expire() {
        let mut slab = Slab::new();
        let mut wheel = Wheel::new();
        let a = slab.push(node(10_000));
        let b = slab.push(node(10_000));
        wheel.insert(&mut slab, a);
        wheel.insert(&mut slab, b);
        wheel.remove(&mut slab, a);
        assert_eq!(slab.get(a).pos, POS_NONE);
        assert_eq!(drain(&mut wheel, &mut slab, 20_000), [10_000]);
        assert!(wheel.is_empty());
    }
}
