//! The disk tier against a raw `rusqlite` lookup of the same rows and `cached`'s `RedbCache`:
//! `cargo bench -p memo-bench --bench disk`. Files in a fresh directory under the temp dir.
//!
//! Workloads (numbered as in BENCHMARKS.md, section "Disk tier"):
//! D1. an L1 hit with a disk tier configured, against the same store without one;
//! D2. an L2 hit (a miss in memory, a hit on disk, 1 KiB values), p50 and p99, against a raw
//!     `rusqlite` SELECT of the same row by its rowid (the floor), an async caller (the hop to
//!     the tier layer's I/O threads), and `RedbCache::cache_get`;
//! D3. a write-through (`insert`: memory and disk), p50 and p99, against a raw `rusqlite`
//!     upsert of the same bytes in a transaction, and `RedbCache::cache_set`;
//! D4. L2-hit throughput of 1, 2 and 4 processes (this binary started again) on one file.
//!
//! Timed workloads interleave their contenders lookup by lookup (a noisy host slows all
//! alike). Without `--bench` (as `cargo test --all-targets` runs it) everything shrinks to a
//! smoke test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cached::ConcurrentCached;
use memo_bench::{median, ns, shuffled, Config, Table};
use memo_runtime::FaasCacheDict;

/// A timed contender: runs its measurement once, returns nanoseconds per operation.
type Timed<'a> = (&'static str, Box<dyn FnMut() -> f64 + 'a>);

fn interleaved(cfg: &Config, contenders: &mut [Timed<'_>]) -> Vec<(&'static str, f64)> {
    let mut samples = vec![Vec::new(); contenders.len()];
    for _ in 0..cfg.rounds {
        for (i, (_, run)) in contenders.iter_mut().enumerate() {
            samples[i].push(run());
        }
    }
    contenders
        .iter()
        .zip(samples)
        .map(|((name, _), s)| (*name, median(s)))
        .collect()
}

#[inline(never)]
fn per_op(keys: &[u64], mut f: impl FnMut(u64) -> usize) -> f64 {
    let start = Instant::now();
    let mut acc = 0usize;
    for &k in keys {
        acc = acc.wrapping_add(f(black_box(k)));
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / keys.len() as f64
}

/// The `q`-quantile (0..=1) of `samples`, in microseconds.
fn quantile_us(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[at] / 1000.0
}

fn value_of(key: u64) -> Vec<u8> {
    let mut v = vec![0u8; 1024];
    v[..8].copy_from_slice(&key.to_le_bytes());
    v
}

/// A fresh directory of this run.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faas-memo-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn raw_connection(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join(memo_runtime::DISK_FILE_NAME)).unwrap();
    conn.busy_timeout(Duration::from_millis(100)).unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.pragma_update(None, "mmap_size", 64i64 << 20).unwrap();
    conn
}

// --- D1 -----------------------------------------------------------------------------------

fn d1(cfg: &Config, dir: &Path) -> Table {
    let keys = shuffled(cfg.size(10_000, 100), 1);
    let passes = cfg.size(100, 1);
    let order: Vec<u64> = (0..passes).flat_map(|_| keys.iter().copied()).collect();
    let memory: FaasCacheDict<u64, u64> = FaasCacheDict::builder().build().unwrap();
    let tiered: FaasCacheDict<u64, u64> = FaasCacheDict::builder()
        .name("bench::d1")
        .disk(dir)
        .build()
        .unwrap();
    for &k in &keys {
        memory.get_or_insert_with(k, || k * 3);
        tiered.get_or_insert_with(k, || k * 3);
    }
    let mut contenders: Vec<Timed<'_>> = vec![
        (
            "memory only: `get_or_insert_with` hit",
            Box::new(|| per_op(&order, |k| memory.get_or_insert_with(k, || 0) as usize)),
        ),
        (
            "with a disk tier: `get_or_insert_with` hit in memory",
            Box::new(|| per_op(&order, |k| tiered.get_or_insert_with(k, || 0) as usize)),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    assert_eq!(tiered.info().tiers[0].hits, 0, "every lookup hit memory");
    let mut table = Table::new(&["u64 -> u64, 10 000 warm keys", "ns per call", "ratio"]);
    for (name, t) in &results {
        table.row(vec![
            (*name).to_owned(),
            ns(*t),
            format!("{:.3}x", t / results[0].1),
        ]);
    }
    table
}

// --- D2 -----------------------------------------------------------------------------------

fn d2(cfg: &Config, dir: &Path) -> Table {
    let n = cfg.size(5_000, 50);
    let keys = shuffled(n, 2);
    let name = "bench::d2";
    let writer: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name(name)
        .disk(dir)
        .build()
        .unwrap();
    // An L1 of one entry: every lookup of another key misses memory and hits the disk.
    let reader: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name(name)
        .max_items(1)
        .disk(dir)
        .build()
        .unwrap();
    let async_reader: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name(name)
        .max_items(1)
        .disk(dir)
        .build()
        .unwrap();
    let redb_dir = dir.join("redb");
    let redb: cached::RedbCache<u64, Vec<u8>> = cached::RedbCache::builder("bench-d2")
        .disk_dir(&redb_dir)
        .durable(false)
        .build()
        .expect("cached's RedbCache");
    for &k in &keys {
        writer.get_or_insert_with(k, || value_of(k));
        redb.cache_set(k, value_of(k)).unwrap();
    }
    // The raw floor reads the same rows, by the rowid the tier gave them.
    let raw = raw_connection(dir);
    let ids: Vec<i64> = raw
        .prepare("SELECT id FROM entries ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids.len(), n);
    let stored: i64 = raw
        .query_row("SELECT max(length(value)) FROM entries", [], |r| r.get(0))
        .unwrap();
    let names = [
        "floor: raw `rusqlite` SELECT of the row by rowid (prepared, cached)",
        "faas-memo: L1 miss, L2 hit (`get_or_insert_with`)",
        "faas-memo async: L1 miss, L2 hit on an I/O thread (`pollster`)",
        "cached `RedbCache::cache_get` (redb)",
    ];
    let mut samples: [Vec<f64>; 4] = Default::default();
    for round in 0..cfg.rounds {
        for (i, &k) in keys.iter().enumerate() {
            for turn in 0..4 {
                let contender = (turn + i + round) % 4;
                let start = Instant::now();
                let len = match contender {
                    0 => {
                        let mut get = raw
                            .prepare_cached("SELECT value FROM entries WHERE id = ?1")
                            .unwrap();
                        let bytes: Vec<u8> = get.query_row([ids[i]], |r| r.get(0)).unwrap();
                        bytes.len()
                    }
                    1 => reader.get_or_insert_with(k, || unreachable!()).len(),
                    2 => pollster::block_on(
                        async_reader.get_or_insert_with_async(k, async { unreachable!() }),
                    )
                    .len(),
                    _ => redb.cache_get(&k).unwrap().unwrap().len(),
                };
                samples[contender].push(start.elapsed().as_nanos() as f64);
                black_box(len);
            }
        }
    }
    let info = reader.info().tiers[0].clone();
    assert_eq!(info.errors, 0, "{info:?}");
    assert!(info.hits >= keys.len() as u64);
    let mut table = Table::new(&[
        &format!("1 KiB values ({stored} bytes stored with their key), {n} keys"),
        "p50",
        "p99",
        "p50 ratio",
    ]);
    let floor = quantile_us(&mut samples[0].clone(), 0.5);
    for (name, mut s) in names.iter().zip(samples) {
        let p50 = quantile_us(&mut s, 0.5);
        let p99 = quantile_us(&mut s, 0.99);
        table.row(vec![
            (*name).to_owned(),
            format!("{p50:.1} us"),
            format!("{p99:.1} us"),
            format!("{:.2}x", p50 / floor),
        ]);
    }
    table
}

// --- D3 -----------------------------------------------------------------------------------

fn d3(cfg: &Config, dir: &Path) -> Table {
    let n = cfg.size(5_000, 50);
    let keys = shuffled(n, 3);
    let tiered: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name("bench::d3")
        .disk(dir)
        .build()
        .unwrap();
    let memory: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder().build().unwrap();
    let raw = raw_connection(dir);
    raw.execute_batch(
        "CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, value BLOB NOT NULL)",
    )
    .unwrap();
    let redb_dir = dir.join("redb-d3");
    let redb: cached::RedbCache<u64, Vec<u8>> = cached::RedbCache::builder("bench-d3")
        .disk_dir(&redb_dir)
        .durable(false)
        .build()
        .expect("cached's RedbCache");
    let names = [
        "floor: raw `rusqlite` BEGIN IMMEDIATE, upsert, COMMIT",
        "faas-memo: `insert` to memory and disk",
        "memory only: `insert`",
        "cached `RedbCache::cache_set` (redb, durable(false))",
    ];
    let mut samples: [Vec<f64>; 4] = Default::default();
    for round in 0..cfg.rounds {
        for (i, &k) in keys.iter().enumerate() {
            let value = value_of(k ^ round as u64);
            for turn in 0..4 {
                let contender = (turn + i + round) % 4;
                let start = Instant::now();
                match contender {
                    0 => {
                        raw.prepare_cached("BEGIN IMMEDIATE")
                            .unwrap()
                            .execute([])
                            .unwrap();
                        raw.prepare_cached(
                            "INSERT INTO raw (id, value) VALUES (?1, ?2) \
                             ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                        )
                        .unwrap()
                        .execute(rusqlite::params![k as i64, &value])
                        .unwrap();
                        raw.prepare_cached("COMMIT").unwrap().execute([]).unwrap();
                    }
                    1 => {
                        tiered.insert(k, value.clone()).unwrap();
                    }
                    2 => {
                        memory.insert(k, value.clone()).unwrap();
                    }
                    _ => {
                        redb.cache_set(k, value.clone()).unwrap();
                    }
                }
                samples[contender].push(start.elapsed().as_nanos() as f64);
            }
        }
    }
    let info = tiered.info().tiers[0].clone();
    assert_eq!(info.errors, 0, "{info:?}");
    let mut table = Table::new(&[
        &format!("1 KiB values, {n} keys rewritten each round"),
        "p50",
        "p99",
    ]);
    for (name, mut s) in names.iter().zip(samples) {
        table.row(vec![
            (*name).to_owned(),
            format!("{:.1} us", quantile_us(&mut s, 0.5)),
            format!("{:.1} us", quantile_us(&mut s, 0.99)),
        ]);
    }
    table
}

// --- D4 -----------------------------------------------------------------------------------

const ROLE_ENV: &str = "FAAS_MEMO_BENCH_DISK_READER";
const KEYS: u64 = 2_000;

/// One reader process: L2 hits (an L1 of one item) for `millis`; prints `reads <n>`.
fn reader_process(spec: &str) {
    let (dir, millis) = spec.split_once(',').unwrap();
    let store: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name("bench::d4")
        .max_items(1)
        .disk(dir)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_millis(millis.parse().unwrap());
    let mut reads = 0u64;
    let mut key = u64::from(std::process::id());
    while Instant::now() < deadline {
        for _ in 0..100 {
            key = key.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let k = (key >> 33) % KEYS;
            black_box(store.get_or_insert_with(k, || unreachable!()).len());
            reads += 1;
        }
    }
    assert_eq!(store.info().tiers[0].errors, 0);
    println!("reads {reads}");
}

fn d4(cfg: &Config, dir: &Path) -> Table {
    let writer: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name("bench::d4")
        .disk(dir)
        .build()
        .unwrap();
    for k in 0..KEYS {
        writer.insert(k, value_of(k)).unwrap();
    }
    let millis = if cfg.full() { 2_000 } else { 100 };
    let mut table = Table::new(&[
        "L2 hits of 1 KiB values, 2 000 keys, one file",
        "reads per second, all processes",
        "per process",
    ]);
    for processes in [1, 2, 4] {
        let mut per_run = Vec::new();
        for _ in 0..cfg.rounds.min(3) {
            let children: Vec<_> = (0..processes)
                .map(|_| {
                    std::process::Command::new(std::env::current_exe().unwrap())
                        .env(ROLE_ENV, format!("{},{millis}", dir.display()))
                        .stdout(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let mut total = 0u64;
            for c in children {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success());
                let line = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .find_map(|l| l.strip_prefix("reads ").map(str::to_owned))
                    .expect("a reader's report");
                total += line.parse::<u64>().unwrap();
            }
            per_run.push(total as f64 * 1000.0 / millis as f64);
        }
        let rate = median(per_run);
        table.row(vec![
            format!(
                "{processes} process{}",
                if processes == 1 { "" } else { "es" }
            ),
            format!("{:.0}", rate),
            format!("{:.0}", rate / processes as f64),
        ]);
    }
    table
}

fn main() {
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        return reader_process(&spec);
    }
    let cfg = Config::from_args();
    let started = Instant::now();
    // `FAAS_MEMO_BENCH_SELECT=D2,D3` runs some workloads only.
    let select = std::env::var("FAAS_MEMO_BENCH_SELECT").unwrap_or_default();
    let selected = |name: &str| select.is_empty() || select.split(',').any(|s| s == name);
    let mut dirs = Vec::new();
    let mut dir = |name: &str| {
        let d = fresh_dir(name);
        dirs.push(d.clone());
        d
    };
    if selected("D1") {
        println!("## D1. An L1 hit with a disk tier configured\n");
        println!("{}", d1(&cfg, &dir("d1")).render());
    }
    if selected("D2") {
        println!("## D2. An L2 hit: a miss in memory, a hit on disk\n");
        println!("{}", d2(&cfg, &dir("d2")).render());
    }
    if selected("D3") {
        println!("## D3. A write-through\n");
        println!("{}", d3(&cfg, &dir("d3")).render());
    }
    if selected("D4") {
        println!("## D4. Read throughput of several processes on one file\n");
        println!("{}", d4(&cfg, &dir("d4")).render());
    }
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
    println!(
        "{} rounds; {:.0} s in all",
        cfg.rounds,
        started.elapsed().as_secs_f64()
    );
}
