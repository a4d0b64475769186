//! Shared pieces of the faas-memo benchmarks (`benches/compare.rs`, `benches/memory.rs`):
//! deterministic random numbers, key orders, Zipf traces, medians and markdown tables.
//!
//! Nothing here measures; it only prepares inputs and formats results, so that every contender
//! of a workload gets the same inputs.

use std::fmt::Write as _;

/// How much work a run does: `cargo bench` passes `--bench` and gets the full run; without it
/// (as `cargo test --all-targets` runs the benchmarks) every workload shrinks to a smoke test.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Repetitions of each timed workload; contenders are interleaved within a round.
    pub rounds: usize,
    /// Divides every size (keys, operations, trace length).
    pub scale: usize,
}

impl Config {
    /// The configuration for this process's command line.
    pub fn from_args() -> Config {
        if std::env::args().any(|a| a == "--bench") {
            Config {
                rounds: 9,
                scale: 1,
            }
        } else {
            Config {
                rounds: 1,
                scale: 100,
            }
        }
    }

    /// `n` scaled down for a smoke run, but never below `floor`.
    pub fn size(&self, n: usize, floor: usize) -> usize {
        (n / self.scale).max(floor)
    }

    /// Whether this is the full run (`cargo bench`).
    pub fn full(&self) -> bool {
        self.scale == 1
    }
}

/// SplitMix64: a small, fast, deterministic generator (not for cryptography).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// `0..n` in a random order.
pub fn shuffled(n: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::new(seed);
    let mut order: Vec<u64> = (0..n as u64).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}

/// The median of some samples (the upper one of an even count).
///
/// # Panics
///
/// With no samples.
pub fn median(mut samples: Vec<f64>) -> f64 {
    assert!(!samples.is_empty(), "a median needs samples");
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// A request of a trace: the key's popularity rank (0 is the most popular), or a key of a
/// one-off scan that is never requested again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// A Zipf-distributed request, by popularity rank.
    Zipf(u64),
    /// A key of a sequential scan (unique in the trace).
    Scan(u64),
}

impl Request {
    /// The cache key of the request. Ranks are spread over the key space by an odd
    /// multiplier, so that popularity says nothing about a key's bits; scan keys lie above
    /// every rank's key space.
    pub fn key(self) -> u64 {
        match self {
            Request::Zipf(rank) => rank.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 1,
            Request::Scan(i) => (1 << 63) | i,
        }
    }
}

/// `requests` draws from a Zipf distribution with exponent `s` over `keys` ranks.
pub fn zipf_trace(keys: usize, requests: usize, s: f64, seed: u64) -> Vec<Request> {
    let mut cdf = Vec::with_capacity(keys);
    let mut total = 0.0;
    for rank in 1..=keys {
        total += (rank as f64).powf(-s);
        cdf.push(total);
    }
    let mut rng = Rng::new(seed);
    (0..requests)
        .map(|_| {
            let u = rng.next_f64() * total;
            let rank = cdf.partition_point(|&c| c <= u).min(keys - 1);
            Request::Zipf(rank as u64)
        })
        .collect()
}

/// The trace with a sequential scan of `scan_len` new keys inserted before every
/// `every`-th request.
pub fn with_scans(trace: &[Request], every: usize, scan_len: usize) -> Vec<Request> {
    let mut out = Vec::with_capacity(trace.len() + trace.len() / every * scan_len);
    let mut next_scan = 0;
    for (i, &request) in trace.iter().enumerate() {
        if i > 0 && i % every == 0 {
            out.extend((next_scan..next_scan + scan_len as u64).map(Request::Scan));
            next_scan += scan_len as u64;
        }
        out.push(request);
    }
    out
}

/// Hit ratio, in percent of the Zipf requests, of a cache driven by `lookup`: it is called
/// for every request (scans included) and returns whether the key was there; a cache inserts
/// on a miss itself. Scan requests are not counted: a scan is all misses for any cache.
pub fn hit_percent(trace: &[Request], mut lookup: impl FnMut(u64) -> bool) -> f64 {
    let (mut hits, mut counted) = (0u64, 0u64);
    for &request in trace {
        let hit = lookup(request.key());
        if let Request::Zipf(_) = request {
            counted += 1;
            hits += u64::from(hit);
        }
    }
    100.0 * hits as f64 / counted.max(1) as f64
}

/// Hit ratio of a static oracle that holds the `capacity` most popular keys.
pub fn oracle_percent(trace: &[Request], capacity: usize) -> f64 {
    let zipf = trace.iter().filter(|r| matches!(r, Request::Zipf(_)));
    let (hits, total) = zipf.fold((0u64, 0u64), |(h, t), r| match r {
        Request::Zipf(rank) => (h + u64::from(*rank < capacity as u64), t + 1),
        Request::Scan(_) => (h, t),
    });
    100.0 * hits as f64 / total.max(1) as f64
}

/// A markdown table, built row by row.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles; the first column is left-aligned, the others right.
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as columns).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    /// The table as markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.header.join(" | "));
        let align: Vec<&str> = (0..self.header.len())
            .map(|i| if i == 0 { "---" } else { "--:" })
            .collect();
        let _ = writeln!(out, "| {} |", align.join(" | "));
        for row in &self.rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        out
    }
}

/// Nanoseconds with one decimal.
pub fn ns(value: f64) -> String {
    format!("{value:.1} ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_is_a_permutation() {
        let mut order = shuffled(1000, 7);
        assert_ne!(order[..10], (0..10).collect::<Vec<u64>>()[..]);
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<u64>>());
    }

    #[test]
    fn zipf_favours_low_ranks_and_matches_the_oracle_bound() {
        let trace = zipf_trace(10_000, 200_000, 0.99, 1);
        let top = trace
            .iter()
            .filter(|r| matches!(r, Request::Zipf(0)))
            .count();
        // P(rank 1) = 1 / H(10 000, 0.99), about 0.099.
        assert!((18_000..22_000).contains(&top), "rank 0 drawn {top} times");
        let oracle = oracle_percent(&trace, 100);
        assert!((50.0..56.0).contains(&oracle), "oracle {oracle}");
    }

    #[test]
    fn scans_are_inserted_and_not_counted() {
        let trace = vec![Request::Zipf(0); 10];
        let scanned = with_scans(&trace, 5, 3);
        assert_eq!(scanned.len(), 13);
        assert_eq!(scanned[5], Request::Scan(0));
        // A cache that hits every Zipf request and misses every scan: 100%.
        let percent = hit_percent(&scanned, |key| key >> 63 == 0);
        assert!((percent - 100.0).abs() < 1e-9);
        assert_ne!(Request::Scan(0).key(), Request::Zipf(0).key());
    }

    #[test]
    fn median_and_table() {
        assert!((median(vec![3.0, 1.0, 2.0]) - 2.0).abs() < 1e-12);
        let mut table = Table::new(&["a", "b"]);
        table.row(vec!["x".into(), ns(1.25)]);
        assert_eq!(table.render(), "| a | b |\n| --- | --: |\n| x | 1.2 ns |\n");
    }
}
