//! What the first call of a memoized function costs in a new process, as on a FaaS cold start:
//! `cargo run --release -p memo-bench --example cold_start [runs]`.
//!
//! The parent runs this program again `runs` times (default 30), each child in a fresh
//! process; a child times, with the precise clock:
//! - the first call of a memoized function (a miss): its store is created (the lazy `static`),
//!   registered (`caches()`, the memory budget, `FAAS_MEMO_BUDGET` read once), and the clock
//!   read for the first time;
//! - the first call of a second memoized function (its store is created, the rest is done);
//! - a miss on a new key of the first function once warm (what any miss costs);
//! - the first hit, and the mean of 1 000 hits after it.
//!
//! The bodies do next to nothing, so the figures are the cache's own. The parent prints the
//! median of each over the runs (30 by default, 3 in a debug build).

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use memo_runtime::faas_cached;

const CHILD_ENV: &str = "MEMO_COLD_START_CHILD";

#[faas_cached(ttl = 60, max_items = 1000)]
fn first(key: u64) -> u64 {
    key.wrapping_mul(31)
}

#[faas_cached(ttl = 60, max_size = "1M")]
fn second(key: u64) -> String {
    key.to_string()
}

fn nanos(start: Instant) -> u64 {
    start.elapsed().as_nanos() as u64
}

/// One fresh process: prints `first_call second_fn_first_call warm_miss first_hit mean_hit`.
fn child() {
    let start = Instant::now();
    black_box(first(black_box(1)));
    let first_call = nanos(start);

    let start = Instant::now();
    black_box(second(black_box(1)));
    let second_fn = nanos(start);

    let start = Instant::now();
    black_box(first(black_box(2)));
    let warm_miss = nanos(start);

    let start = Instant::now();
    black_box(first(black_box(1)));
    let first_hit = nanos(start);

    let start = Instant::now();
    for _ in 0..1000 {
        black_box(first(black_box(1)));
    }
    let mean_hit = nanos(start) / 1000;
    println!("{first_call} {second_fn} {warm_miss} {first_hit} {mean_hit}");
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values[values.len() / 2]
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 3 } else { 30 });
    let exe = std::env::current_exe().expect("the path of this program");
    let mut columns: [Vec<u64>; 5] = Default::default();
    for _ in 0..runs {
        let output = Command::new(&exe)
            .env(CHILD_ENV, "1")
            .output()
            .expect("a child process");
        assert!(output.status.success(), "child failed: {output:?}");
        let line = String::from_utf8(output.stdout).expect("UTF-8");
        let figures: Vec<u64> = line
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect();
        assert_eq!(figures.len(), 5, "{line:?}");
        for (column, figure) in columns.iter_mut().zip(figures) {
            column.push(figure);
        }
    }
    let [first_call, second_fn, warm_miss, first_hit, mean_hit] = columns.map(median);
    println!("first call in a new process, median of {runs} processes:");
    println!("  first call of a memoized function (store created):  {first_call:>8} ns");
    println!("  first call of a second memoized function:           {second_fn:>8} ns");
    println!("  a miss once warm (new key):                         {warm_miss:>8} ns");
    println!("  the first hit:                                      {first_hit:>8} ns");
    println!("  a hit, mean of 1 000:                               {mean_hit:>8} ns");
    println!(
        "  first call / warm miss: {:.1}x",
        first_call as f64 / warm_miss.max(1) as f64
    );
}
