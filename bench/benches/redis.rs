//! The Redis tier against a raw `redis` GET and `cached`'s `RedisCache`, on one local
//! `redis-server` that this benchmark starts (Debian's package; `scripts/test.sh` installs it):
//! `cargo bench -p memo-bench --bench redis`.
//!
//! Workloads (numbered as in BENCHMARKS.md, section "Redis tier"):
//! R1. an L1 hit with a Redis tier configured, against the same store without one;
//! R2. an L2 hit (a miss in memory, a hit in Redis, 1 KiB values), against a raw `redis`
//!     crate GET of the same bytes plus their decoding, and `cached`'s `RedisCache::cache_get`;
//! R3. a call with Redis down and the breaker open, against the same miss without a tier;
//! R4. a fleet: 4 processes (this binary started again) on Zipf traces, with and without the
//!     Redis tier: hit ratio per process and in all, Redis commands per request.
//!
//! Timed workloads interleave their contenders round by round (a noisy host slows all alike);
//! each cell is the median round. Without `--bench` (as `cargo test --all-targets` runs it)
//! everything shrinks to a smoke test.

use std::hint::black_box;
use std::time::Instant;

use cached::ConcurrentCached;
use memo_bench::{median, ns, shuffled, zipf_trace, Config, Table};
use memo_runtime::FaasCacheDict;

#[allow(unreachable_pub)]
#[path = "../../memo-runtime/tests/common/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

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

fn ratio(results: &[(&'static str, f64)], a: usize, b: usize) -> f64 {
    results[a].1 / results[b].1
}

fn value_of(key: u64) -> Vec<u8> {
    let mut v = vec![0u8; 1024];
    v[..8].copy_from_slice(&key.to_le_bytes());
    v
}

// --- R1 -----------------------------------------------------------------------------------

fn r1(cfg: &Config, url: &str) -> Table {
    let keys = shuffled(cfg.size(10_000, 100), 1);
    let passes = cfg.size(100, 1);
    let order: Vec<u64> = (0..passes).flat_map(|_| keys.iter().copied()).collect();
    let memory: FaasCacheDict<u64, u64> = FaasCacheDict::builder().build().unwrap();
    let tiered: FaasCacheDict<u64, u64> = FaasCacheDict::builder()
        .name("bench::r1")
        .redis(url)
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
            "with a Redis tier: `get_or_insert_with` hit in memory",
            Box::new(|| per_op(&order, |k| tiered.get_or_insert_with(k, || 0) as usize)),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    assert_eq!(tiered.info().tiers[0].hits, 0, "every lookup hit memory");
    let mut table = Table::new(&["u64 -> u64, 10 000 warm keys", "ns per call", "ratio"]);
    for (i, (name, t)) in results.iter().enumerate() {
        table.row(vec![
            (*name).to_owned(),
            ns(*t),
            format!("{:.3}x", ratio(&results, i, 0)),
        ]);
    }
    table
}

// --- R2 -----------------------------------------------------------------------------------

fn r2(cfg: &Config, server: &RedisServer) -> Table {
    let url = server.url();
    let n = cfg.size(2_000, 50);
    let keys = shuffled(n, 2);
    let name = "bench::r2";
    let writer: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name(name)
        .redis(&url)
        .build()
        .unwrap();
    // An L1 of one entry: every lookup of a new key misses memory and hits Redis.
    let reader: FaasCacheDict<u64, Vec<u8>> = FaasCacheDict::builder()
        .name(name)
        .max_items(1)
        .redis(&url)
        .build()
        .unwrap();
    let mut raw = server.connection().expect("a connection");
    let cached_store: cached::RedisCache<u64, Vec<u8>> = cached::RedisCache::builder("bench")
        .connection_string(&url)
        .build()
        .expect("cached's RedisCache");
    let mut envelope_bytes = 0;
    for &k in &keys {
        writer.get_or_insert_with(k, || value_of(k));
        // The raw contender reads a value encoded the same way (postcard), of the same size.
        let bytes = postcard::to_allocvec(&value_of(k)).unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("raw:{k}"))
            .arg(&bytes)
            .query(&mut raw)
            .unwrap();
        cached_store.cache_set(k, value_of(k)).unwrap();
    }
    for key in server
        .keys()
        .iter()
        .filter(|k| k.starts_with("faas-memo:bench::r2"))
    {
        let len: usize = server.command(&["STRLEN", key]);
        envelope_bytes = envelope_bytes.max(len);
    }
    let raw_keys: Vec<String> = (0..n as u64).map(|k| format!("raw:{k}")).collect();
    // Round trips are long and the host's load changes within a second: the contenders take
    // turns key by key (the first one rotating), each lookup is timed alone, and each cell is
    // the median lookup of its contender over every round.
    let names = [
        "floor: raw `redis` GET + postcard decode",
        "faas-memo: L1 miss, L2 hit (`get_or_insert_with`)",
        "cached `RedisCache::cache_get`",
    ];
    let mut samples: [Vec<f64>; 3] = Default::default();
    for round in 0..cfg.rounds {
        for (i, &k) in keys.iter().enumerate() {
            for turn in 0..3 {
                let contender = (turn + i + round) % 3;
                let start = Instant::now();
                let len = match contender {
                    0 => {
                        let bytes: Vec<u8> = redis::cmd("GET")
                            .arg(&raw_keys[k as usize])
                            .query(&mut raw)
                            .unwrap();
                        postcard::from_bytes::<Vec<u8>>(&bytes).unwrap().len()
                    }
                    1 => reader.get_or_insert_with(k, || unreachable!()).len(),
                    _ => cached_store.cache_get(&k).unwrap().unwrap().len(),
                };
                samples[contender].push(start.elapsed().as_nanos() as f64);
                black_box(len);
            }
        }
    }
    let results: Vec<(&'static str, f64)> = names
        .iter()
        .zip(samples)
        .map(|(name, s)| (*name, median(s)))
        .collect();
    let info = reader.info().tiers[0].clone();
    assert_eq!(info.errors, 0, "{info:?}");
    assert!(info.hits >= keys.len() as u64);
    let mut table = Table::new(&[
        &format!("1 KiB values ({envelope_bytes} bytes stored with their key), {n} keys"),
        "median us per lookup",
        "ratio",
    ]);
    for (i, (name, t)) in results.iter().enumerate() {
        table.row(vec![
            (*name).to_owned(),
            format!("{:.1} us", t / 1000.0),
            format!("{:.3}x", ratio(&results, i, 0)),
        ]);
    }
    table
}

// --- R3 -----------------------------------------------------------------------------------

fn r3(cfg: &Config, server: &mut RedisServer) -> Table {
    let n = cfg.size(200_000, 2_000);
    let memory: FaasCacheDict<u64, u64> =
        FaasCacheDict::builder().max_items(10_000).build().unwrap();
    let tiered: FaasCacheDict<u64, u64> = FaasCacheDict::builder()
        .name("bench::r3")
        .max_items(10_000)
        .redis(server.url())
        .build()
        .unwrap();
    tiered.get_or_insert_with(0, || 0);
    server.kill();
    // A few failed calls open the breaker.
    for k in 1..10 {
        tiered.get_or_insert_with(k, || k);
    }
    assert_eq!(tiered.info().tiers[0].health.as_deref(), Some("open"));
    // The same keys for both: new ones each round.
    let (mut next_memory, mut next_tiered) = (1_000_000u64, 1_000_000u64);
    let control: FaasCacheDict<u64, u64> =
        FaasCacheDict::builder().max_items(10_000).build().unwrap();
    let mut next_control = 1_000_000u64;
    let mut contenders: Vec<Timed<'_>> = vec![
        (
            "memory only: miss, body, insert",
            Box::new(|| {
                next_memory += n as u64;
                let keys: Vec<u64> = (next_memory..next_memory + n as u64).collect();
                per_op(&keys, |k| memory.get_or_insert_with(k, || k ^ 1) as usize)
            }),
        ),
        (
            "control: memory only again",
            Box::new(|| {
                next_control += n as u64;
                let keys: Vec<u64> = (next_control..next_control + n as u64).collect();
                per_op(&keys, |k| control.get_or_insert_with(k, || k ^ 1) as usize)
            }),
        ),
        (
            "Redis down, breaker open: miss, body, insert",
            Box::new(|| {
                next_tiered += n as u64;
                let keys: Vec<u64> = (next_tiered..next_tiered + n as u64).collect();
                per_op(&keys, |k| tiered.get_or_insert_with(k, || k ^ 1) as usize)
            }),
        ),
    ];
    let results = interleaved(cfg, &mut contenders);
    let mut table = Table::new(&["u64 -> u64, new keys", "ns per call", "difference"]);
    for (name, t) in &results {
        table.row(vec![(*name).to_owned(), ns(*t), ns(t - results[0].1)]);
    }
    table
}

// --- R4 -----------------------------------------------------------------------------------

const ROLE_ENV: &str = "FAAS_MEMO_BENCH_FLEET";

/// One process of the fleet: its trace, through a store with or without Redis; prints
/// `requests hits_memory hits_redis`.
fn fleet_process(spec: &str) {
    let mut parts = spec.split(',');
    let (mode, seed, requests, url) = (
        parts.next().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
        parts.next().unwrap_or_default(),
    );
    let builder = FaasCacheDict::<u64, u64>::builder()
        .name("bench::fleet")
        .max_items(2_000);
    let store = if mode == "redis" {
        builder.redis(url).build().unwrap()
    } else {
        builder.build().unwrap()
    };
    let trace = zipf_trace(100_000, requests, 0.99, seed);
    for request in &trace {
        let key = request.key();
        store.get_or_insert_with(key, || key.wrapping_mul(7));
    }
    let info = store.info();
    // `hits` counts the calls served without computing here: from memory, or from Redis
    // (`tiers[0].hits`) or another process's computation (`waited`).
    let redis_hits = info.tiers.first().map_or(0, |t| t.hits);
    println!(
        "fleet {} {} {}",
        trace.len(),
        info.hits + info.waited,
        redis_hits
    );
}

fn r4(cfg: &Config, server: &RedisServer) -> Table {
    let requests = cfg.size(200_000, 2_000);
    let mut table = Table::new(&[
        "4 processes, L1 of 2 000 items, Zipf s = 0.99 over 100 000 keys",
        "process hit ratios",
        "all",
        "Redis commands per request",
    ]);
    for mode in ["memory", "redis"] {
        let _: () = server.command(&["CONFIG", "RESETSTAT"]);
        let children: Vec<_> = (0..4)
            .map(|p| {
                let spec = format!("{mode},{},{requests},{}", 100 + p, server.url());
                std::process::Command::new(std::env::current_exe().unwrap())
                    .env(ROLE_ENV, spec)
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut ratios = Vec::new();
        let (mut all_requests, mut all_hits) = (0u64, 0u64);
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            let line = String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("fleet ").map(str::to_owned))
                .expect("a fleet report");
            let n: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
            let hits = n[1];
            ratios.push(format!("{:.1}%", 100.0 * hits as f64 / n[0] as f64));
            all_requests += n[0];
            all_hits += hits;
        }
        let stats: String = server.command(&["INFO", "commandstats"]);
        let commands: u64 = stats
            .lines()
            .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info"))
            .filter(|l| !l.starts_with("cmdstat_config"))
            .filter_map(|l| {
                l.split("calls=")
                    .nth(1)?
                    .split(',')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        table.row(vec![
            if mode == "redis" {
                "with the Redis tier".to_owned()
            } else {
                "memory only".to_owned()
            },
            ratios.join(" / "),
            format!("{:.1}%", 100.0 * all_hits as f64 / all_requests as f64),
            format!("{:.2}", commands as f64 / all_requests as f64),
        ]);
    }
    table
}

fn main() {
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        return fleet_process(&spec);
    }
    let cfg = Config::from_args();
    let Some(mut server) = RedisServer::start() else {
        println!("redis-server is not installed: the Redis benchmarks did not run");
        return;
    };
    let started = Instant::now();
    // `FAAS_MEMO_BENCH_SELECT=R2,R3` runs some workloads only.
    let select = std::env::var("FAAS_MEMO_BENCH_SELECT").unwrap_or_default();
    let selected = |name: &str| select.is_empty() || select.split(',').any(|s| s == name);
    if selected("R1") {
        println!("## R1. An L1 hit with a Redis tier configured\n");
        println!("{}", r1(&cfg, &server.url()).render());
    }
    if selected("R2") {
        println!("## R2. An L2 hit: a miss in memory, a hit in Redis\n");
        println!("{}", r2(&cfg, &server).render());
    }
    if selected("R4") {
        println!("## R4. A fleet of 4 processes sharing one Redis\n");
        println!("{}", r4(&cfg, &server).render());
    }
    if selected("R3") {
        // Last: it kills the server.
        println!("## R3. Redis down, the breaker open\n");
        println!("{}", r3(&cfg, &mut server).render());
    }
    println!(
        "{} rounds, medians; {:.0} s in all",
        cfg.rounds,
        started.elapsed().as_secs_f64()
    );
}
