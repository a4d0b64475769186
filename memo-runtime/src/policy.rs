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

/// Rows of the sketch.
const ROWS: usize = 4;
/// Counters per row, per entry the sketch is sized for.
const WIDTH_PER_ENTRY: usize = 4;
const MIN_WIDTH: usize = 64;
/// Halve every counter after this many increments per entry the sketch is sized for (that is,
/// per `WIDTH_PER_ENTRY` counters of a row).
const RESET_PER_ENTRY: usize = 10;

/// Bytes of the smallest sketch, which a shard holds even when (nearly) empty.
pub(crate) const MIN_SKETCH_BYTES: usize = ROWS * MIN_WIDTH / 2;

/// Bytes the sketch may use per entry of its shard (counters are 4 bits; the width is at most
/// twice `WIDTH_PER_ENTRY` per entry before it is resized).
pub(crate) const SKETCH_BYTES_PER_ENTRY: usize = ROWS * 2 * WIDTH_PER_ENTRY / 2;

/// How often keys have missed recently: a count-min sketch of 4-bit counters.
#[derive(Debug, Default)]
pub(crate) struct Sketch {
    /// `ROWS` rows of `width` counters, 16 per word.
    words: Vec<u64>,
    /// log2 of the counters per row.
    width_bits: u32,
    additions: usize,
    /// Halve the counters when `additions` reaches this.
    reset_at: usize,
    /// Entry counts this size serves: outside `fit_low..=fit_high`, `fit` resizes.
    fit_low: usize,
    fit_high: usize,
}

impl Sketch {
    #[cfg(test)]
    fn width(&self) -> usize {
        if self.words.is_empty() {
            0
        } else {
            1 << self.width_bits
        }
    }

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
        let width = (entries * WIDTH_PER_ENTRY).next_power_of_two().max(MIN_WIDTH);
        self.width_bits = width.trailing_zeros();
        self.words = vec![0; ROWS * width / 16];
        self.additions = 0;
        self.reset_at = RESET_PER_ENTRY * width / WIDTH_PER_ENTRY;
        // Grow when the entries outnumber a quarter of the counters; shrink when the width is
        // more than four times what they need.
        self.fit_high = width / WIDTH_PER_ENTRY;
        self.fit_low = if width == MIN_WIDTH { 0 } else { width / WIDTH_PER_ENTRY / 8 + 1 };
    }

    /// The counter positions of a hash: one per row, by double hashing.
    #[inline]
    fn positions(&self, hash: u64) -> [usize; ROWS] {
        let h2 = hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let shift = 64 - self.width_bits;
        let mut positions = [0; ROWS];
        for (row, position) in positions.iter_mut().enumerate() {
            let column = (hash.wrapping_add((row as u64).wrapping_mul(h2)) >> shift) as usize;
            *position = (row << self.width_bits) + column;
        }
        positions
    }

    /// Counts one miss of the key with this hash and returns its new estimate. Conservative
    /// update: only the counters at the current minimum grow, which keeps unrelated keys
    /// sharing a counter from inflating each other (a one-off scan of new keys must not look
    /// frequent).
    #[inline]
    pub(crate) fn increment(&mut self, hash: u64) -> u8 {
        if self.words.is_empty() {
            return 0;
        }
        let positions = self.positions(hash);
        let minimum = self.estimate_at(&positions);
        if minimum < 15 {
            for position in positions {
                let (word, shift) = (position / 16, (position % 16) * 4);
                if (self.words[word] >> shift) & 0xF == u64::from(minimum) {
                    self.words[word] += 1 << shift;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.reset_at {
            self.age();
        }
        (minimum + 1).min(15)
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
        self.estimate_at(&self.positions(hash))
    }

    #[inline]
    fn estimate_at(&self, positions: &[usize; ROWS]) -> u8 {
        positions
            .iter()
            .map(|&position| ((self.words[position / 16] >> ((position % 16) * 4)) & 0xF) as u8)
            .min()
            .unwrap_or(0)
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
        for k in 1000..(1000 + 4 * sketch.width() as u64) {
            sketch.increment(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        assert!(sketch.estimate(7) < before, "{} < {before}", sketch.estimate(7));
    }

    #[test]
    fn resizing_follows_the_entry_count() {
        let mut sketch = Sketch::default();
        sketch.fit(1000);
        assert_eq!(sketch.width(), 4096);
        sketch.fit(1020);
        assert_eq!(sketch.width(), 4096, "no churn for small changes");
        sketch.fit(200);
        assert_eq!(sketch.width(), 4096, "no churn when shrinking a little");
        sketch.fit(10);
        assert_eq!(sketch.width(), 64);
        assert!(sketch.words.len() * 8 <= SKETCH_BYTES_PER_ENTRY * 1000);
    }
}
