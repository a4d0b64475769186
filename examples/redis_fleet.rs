//! Two processes of a fleet sharing results through Redis: the first computes, the second
//! (a cold instance, nothing in its memory) finds every result in Redis and computes nothing.
//!
//! Run: `cargo run --release -p memo-examples --example redis_fleet`
//!
//! It uses the Redis server named by `FAAS_MEMO_REDIS_URL` (`redis://host:6379/0`), or else
//! starts a private `redis-server` (Debian's `redis-server` package) on a free loopback port
//! for the length of the run. The two "instances" are this program started again as child
//! processes, as a FaaS platform would start them.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use memo_runtime::{faas_cached, REDIS_URL_ENV};
use serde::{Deserialize, Serialize};

/// What the slow backend returns: with a Redis tier, cached values are stored with serde.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Quote {
    symbol: String,
    cents: u64,
}

/// The slow part: 50 ms per call. In memory for 60 s, in Redis (URL from
/// `FAAS_MEMO_REDIS_URL`) with the same TTL; a Redis call that takes more than 20 ms is given
/// up and the value computed instead.
#[faas_cached(ttl = 60, max_items = 1000, redis = true, redis_timeout = 0.02)]
fn quote(symbol: &str) -> Quote {
    std::thread::sleep(Duration::from_millis(50)); // a backend call
    let cents = symbol.bytes().map(u64::from).sum::<u64>() * 7;
    Quote {
        symbol: symbol.to_owned(),
        cents,
    }
}

const SYMBOLS: [&str; 8] = [
    "ACME", "GLOBEX", "INITECH", "HOOLI", "UMBRELLA", "WAYNE", "STARK", "TYRELL",
];

/// One instance: serves a request for each symbol and reports what it did.
fn instance(name: &str) {
    let start = Instant::now();
    let total: u64 = SYMBOLS.iter().map(|s| quote(s).cents).sum();
    let info = quote_cache_info();
    let redis = &info.tiers[0];
    println!(
        "{name}: {} requests in {:>4} ms (sum {total}); hits {} (from Redis {}), \
         computed here {}, Redis errors {}",
        SYMBOLS.len(),
        start.elapsed().as_millis(),
        info.hits,
        redis.hits,
        info.misses,
        redis.errors,
    );
}

fn main() {
    if let Some(name) = std::env::args().nth(1) {
        return instance(&name);
    }
    // The parent: find or start a Redis server, then run two instances one after the other.
    let private_server = match std::env::var(REDIS_URL_ENV) {
        Ok(url) => {
            println!("using Redis at {url}");
            None
        }
        Err(_) => Some(start_private_server()),
    };
    let url = match &private_server {
        Some((_, url)) => url.clone(),
        None => std::env::var(REDIS_URL_ENV).unwrap_or_default(),
    };
    let exe = std::env::current_exe().expect("this program's path");
    for name in ["instance 1 (cold fleet)", "instance 2 (new process)"] {
        let status = Command::new(&exe)
            .arg(name)
            .env(REDIS_URL_ENV, &url)
            .status()
            .expect("start an instance");
        assert!(status.success());
    }
    if let Some((mut server, _)) = private_server {
        // Clear what this run wrote in a private server by stopping it (no persistence).
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// Starts `redis-server` on a free loopback port, without persistence.
fn start_private_server() -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let server = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect(
            "redis-server is not installed: `apt-get install redis-server`, or set \
             FAAS_MEMO_REDIS_URL to a server's URL",
        );
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let url = format!("redis://127.0.0.1:{port}/0");
    println!("started a private redis-server at {url}");
    (server, url)
}
