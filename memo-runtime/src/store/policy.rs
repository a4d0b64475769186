//! Eviction policies: which entry leaves first when a bound needs room.

/// Which entry an insert evicts when the store is full.
///
/// # S3-FIFO (the default)
///
/// Two FIFO queues: new entries arrive in a *small* queue (1% of the shard's entries); an
/// entry that is hit while there moves to the *main* queue when it reaches the small queue's
/// end, the others are evicted from there (one-hit wonders and scans never disturb the main
/// queue). The main queue evicts from its end, but an entry hit since its last pass goes back
/// to the start with one hit less (hits are counted up to 3). Instead of S3-FIFO's ghost queue,
/// a compact frequency sketch of misses (4-bit count-min with conservative update, halved
/// periodically, as in TinyLFU) admits a key that has missed three times recently straight
/// into the main queue.
///
/// A hit only sets a small counter in the entry, and only while it is below 3: hits take a
/// shared lock and write nothing shared, so they scale across threads. On a Zipf trace it hits
/// within 2 points of an oracle that holds the most popular keys, and a sequential scan does
/// not flush it (see BENCHMARKS.md).
///
/// `keys()` lists the small queue oldest first, then the main queue oldest first.
///
/// # LRU
///
/// Exact least-recently-used order, as in Python's `faas-cache-dict`: every hit moves the
/// entry to the most recent end, so hits take the shard's exclusive lock. `keys()` lists the
/// least recently used first, and that entry is the next to go. Choose it when the order
/// itself matters; it is slower on hits and a scan of new keys flushes it.
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, Policy};
///
/// let lru: FaasCacheDict<u32, u32> =
///     FaasCacheDict::builder().policy(Policy::Lru).max_items(2).build()?;
/// lru.insert(1, 1)?;
/// lru.insert(2, 2)?;
/// lru.get(&1);
/// lru.insert(3, 3)?; // evicts 2, the least recently used
/// assert_eq!(lru.keys(), [1, 3]);
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Policy {
    /// Scan-resistant S3-FIFO with frequency-based admission; hits scale across threads.
    #[default]
    S3Fifo,
    /// Exact least-recently-used order.
    Lru,
}

/// Counters consulted per key. Two, not the usual four: counting a miss is the largest single
/// step of an insert that evicts, and with 16 counters per entry the second pair of counters
/// bought nothing. Measured (`profile_ops zipf`, and workload 6 of the `compare` benchmark):
/// Zipf hit ratio 64.65% with 2 against 64.61% with 4 at 10 000 entries (with scans: 64.65%
/// against 64.63%), 79.09% against 79.08% at 100 000 entries, 59.49% against 59.45% at 1 000;
/// and a miss + insert + evict 1.44x `Mutex<lru>` against 1.58x (`profile_ops time-miss`).
/// Fewer counters per entry (8) lost 0.4 points at 10 000 entries, below quick_cache.
const DEPTH: usize = 2;
/// Counters per entry the sketch is sized for.
const COUNTERS_PER_ENTRY: usize = 16;
/// Smallest sketch, in 64-bit words of 16 counters.
const MIN_WORDS: usize = 8;
/// Halve every counter after this many increments per entry the sketch is sized for. With 16
/// counters per entry and admission at 3 misses, this keeps a one-off scan of new keys from
/// looking frequent, and on the Zipf traces of the `compare` benchmark it hit 64.6% (quick_cache
/// 64.3%) where 4 or 10 per entry gave 64.2-64.7% (values chosen by a sweep over three seeds).
const RESET_PER_ENTRY: usize = 6;

/// Bytes of the smallest sketch, which a shard holds even when (nearly) empty.
pub(crate) const MIN_SKETCH_BYTES: usize = MIN_WORDS * 8;

/// Bytes the sketch may use per entry of its shard: 16 counters of 4 bits, and up to twice
/// that just before it is resized.
pub(crate) const SKETCH_BYTES_PER_ENTRY: usize = 2 * COUNTERS_PER_ENTRY / 2;

/// How often keys have missed recently: a count-min sketch of 4-bit counters, block-based as
/// in Caffeine: a key's [`DEPTH`] counters are distinct nibbles of one 64-bit word, so that
/// counting a miss reads and writes one word.
#[derive(Debug, Default)]
pub(crate) struct Sketch {
    /// 16 counters per word.
    words: Vec<u64>,
    /// log2 of the word count.
    word_bits: u32,
    additions: usize,
    /// Halve the counters when `additions` reaches this.
    reset_at: usize,
    /// Entry counts this size serves: outside `fit_low..=fit_high`, `fit` resizes.
    fit_low: usize,
    fit_high: usize,
}

impl Sketch {
    /// Resizes (and resets) the sketch when the shard's entry count has moved far from what it
    /// was sized for.
    #[inline]
    pub(crate) fn fit(&mut self, entries: usize) {
        if entries < self.fit_low || entries > self.fit_high {
            self.resize(entries);
        }
    }

    #[cold]
    fn resize(&mut self, entries: usize) {
        let words = (entries * COUNTERS_PER_ENTRY / 16)
            .next_power_of_two()
            .max(MIN_WORDS);
        self.word_bits = words.trailing_zeros();
        self.words = vec![0; words];
        self.additions = 0;
        let capacity = words * 16 / COUNTERS_PER_ENTRY;
        self.reset_at = RESET_PER_ENTRY * capacity;
        // Grow when the entries outnumber the capacity; shrink when they use under half of it,
        // so that the sketch never holds more than `SKETCH_BYTES_PER_ENTRY` per entry.
        self.fit_high = capacity;
        self.fit_low = if words == MIN_WORDS { 0 } else { capacity / 2 };
    }

    /// The word of a hash and the shifts of its counters in it (distinct: an odd step through
    /// the 16 nibbles).
    #[inline]
    fn slots(&self, hash: u64) -> (usize, [u32; DEPTH]) {
        let word = (hash >> (64 - self.word_bits)) as usize;
        let start = (hash & 15) as u32;
        let step = ((hash >> 4) & 15) as u32 | 1;
        let shift = |i: u32| ((start + i * step) & 15) * 4;
        (word, [shift(0), shift(1)])
    }

    /// Counts one miss of the key with this hash and returns its new estimate. Conservative
    /// update: only the counters at the current minimum grow, which keeps unrelated keys
    /// sharing a counter from inflating each other (a one-off scan of new keys must not look
    /// frequent).
    #[inline]
    pub(crate) fn increment(&mut self, hash: u64) -> u8 {
        let (index, [s0, s1]) = self.slots(hash);
        let Some(word) = self.words.get_mut(index) else {
            // Not sized yet (no entry).
            return 0;
        };
        // Written out for the two counters: this runs on every miss.
        let [c0, c1] = [s0, s1].map(|s| (*word >> s) & 0xF);
        let minimum = c0.min(c1);
        if minimum < 15 {
            let bit = |c: u64, s: u32| u64::from(c == minimum) << s;
            *word += bit(c0, s0) | bit(c1, s1);
        }
        self.additions += 1;
        if self.additions >= self.reset_at {
            self.age();
        }
        (minimum as u8 + 1).min(15)
    }

    #[cold]
    fn age(&mut self) {
        // Halve every counter, so that old popularity fades.
        for word in &mut self.words {
            *word = (*word >> 1) & 0x7777_7777_7777_7777;
        }
        self.additions /= 2;
    }

    /// Recent misses of the key with this hash (an over-estimate, never an under-estimate).
    #[cfg(test)]
    pub(crate) fn estimate(&self, hash: u64) -> u8 {
        if self.words.is_empty() {
            return 0;
        }
        let (index, shifts) = self.slots(hash);
        let word = self.words[index];
        shifts
            .iter()
            .map(|&shift| ((word >> shift) & 0xF) as u8)
            .min()
            .unwrap_or(0)
    }

    /// Bytes of counters allocated now.
    #[cfg(test)]
    pub(crate) fn allocated_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.words.len() * 16 / COUNTERS_PER_ENTRY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_saturate_at_fifteen_and_never_underestimate() {
        let mut sketch = Sketch::default();
        sketch.fit(100);
        for _ in 0..20 {
            sketch.increment(42);
        }
        assert_eq!(sketch.estimate(42), 15);
        for k in 0..50u64 {
            sketch.increment(k.wrapping_mul(0xA24B_AED4_963E_E407));
            assert!(sketch.estimate(k.wrapping_mul(0xA24B_AED4_963E_E407)) >= 1);
        }
    }

    #[test]
    fn counters_age_by_halving() {
        let mut sketch = Sketch::default();
        sketch.fit(16);
        for _ in 0..8 {
            sketch.increment(7);
        }
        let before = sketch.estimate(7);
        for k in 1000..(1000 + 20 * sketch.capacity() as u64) {
            sketch.increment(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert!(
            sketch.estimate(7) < before,
            "{} < {before}",
            sketch.estimate(7)
        );
    }

    #[test]
    fn resizing_follows_the_entry_count() {
        let mut sketch = Sketch::default();
        sketch.fit(1000);
        assert_eq!(sketch.capacity(), 1024);
        sketch.fit(1020);
        assert_eq!(sketch.capacity(), 1024, "no churn for small changes");
        sketch.fit(600);
        assert_eq!(sketch.capacity(), 1024, "no churn when shrinking a little");
        sketch.fit(5);
        assert_eq!(sketch.capacity(), MIN_WORDS);
        sketch.fit(1000);
        assert!(sketch.words.len() * 8 <= SKETCH_BYTES_PER_ENTRY * 1000);
    }
}
