//! An async handler under tokio: concurrent requests for the same key share one backend call
//! (the others wait for it without blocking the runtime's threads).
//!
//! Run: `cargo run -p memo-examples --example async_handler`

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use memo_runtime::faas_cached;

static BACKEND_CALLS: AtomicU32 = AtomicU32::new(0);

#[faas_cached(ttl = 10, max_items = 100)]
async fn exchange_rate(from: &str, to: &str) -> Result<f64, String> {
    BACKEND_CALLS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await; // an HTTP call
    match (from, to) {
        ("EUR", "USD") => Ok(1.08),
        ("USD", "EUR") => Ok(0.93),
        _ => Err(format!("no rate for {from}/{to}")),
    }
}

async fn handle(request: u32) -> String {
    let (from, to) = if request.is_multiple_of(2) {
        ("EUR", "USD")
    } else {
        ("USD", "EUR")
    };
    match exchange_rate(from, to).await {
        Ok(rate) => format!("request {request}: {from}->{to} = {rate}"),
        Err(err) => format!("request {request}: {err}"),
    }
}

#[tokio::main]
async fn main() {
    let start = Instant::now();
    // 50 requests arrive at once: two keys, so two backend calls.
    let tasks: Vec<_> = (0..50).map(|r| tokio::spawn(handle(r))).collect();
    for task in tasks {
        let line = task.await.expect("handler panicked");
        if line.starts_with("request 0:") || line.starts_with("request 1:") {
            println!("{line}");
        }
    }
    println!(
        "50 concurrent requests in {:.0?}, {} backend calls",
        start.elapsed(),
        BACKEND_CALLS.load(Ordering::SeqCst)
    );
    println!("{}", handle(7).await);
    println!("{}", exchange_rate_cache_info());
}
