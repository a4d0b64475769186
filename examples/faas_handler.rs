//! A FaaS-style handler: a warm function instance serves many events, and the memoized lookup
//! keeps its results between invocations, bounded in items, bytes and time.
//!
//! Run: `cargo run --release -p memo-examples --example faas_handler`

use std::time::{Duration, Instant};

use memo_runtime::{faas_cached, DeepSize};

/// What the slow backend returns.
#[derive(Clone, Debug, DeepSize)]
struct Profile {
    user_id: u64,
    display_name: String,
    greeting: String,
    tags: Vec<String>,
}

/// The slow part of the handler: a backend call that takes a few milliseconds.
/// Memoized for 60 s, at most 256 profiles and 64 MiB (keys + values + overhead).
#[faas_cached(ttl = 60, max_size = "64M", max_items = 256)]
fn user_profile(user_id: u64, locale: &str) -> Profile {
    std::thread::sleep(Duration::from_millis(2)); // network, disk, CPU...
    let greeting = match locale {
        "fr" => "Bonjour",
        "de" => "Hallo",
        _ => "Hello",
    };
    Profile {
        user_id,
        display_name: format!("user-{user_id}"),
        greeting: greeting.to_owned(),
        tags: vec!["beta".to_owned(); (user_id % 4) as usize],
    }
}

/// One invocation: what the FaaS runtime calls for every event.
fn handler(event: &(u64, &str)) -> String {
    let profile = user_profile(event.0, event.1);
    format!("{}, {}!", profile.greeting, profile.display_name)
}

fn main() {
    // The event loop of a warm instance: 2,000 events over 300 users and 3 locales, with the
    // skew real traffic has (a few users make most requests).
    let locales = ["en", "fr", "de"];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let events: Vec<(u64, &str)> = (0..2_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let user = (seed % 300) * (seed % 300) / 300; // skewed towards small ids
            (user, locales[(user % 3) as usize])
        })
        .collect();

    let start = Instant::now();
    let mut last = String::new();
    for event in &events {
        last = handler(event);
    }
    let elapsed = start.elapsed();

    let info = user_profile_cache_info();
    println!("last response: {last}");
    println!("{} events in {elapsed:.2?}", events.len());
    println!("{info}");
    println!(
        "hits {} / misses {} (hit ratio {:.1}%), {} entries, {} bytes accounted \
         (of at most {} bytes)",
        info.hits,
        info.misses,
        info.hit_ratio() * 100.0,
        info.current_items,
        info.current_size_bytes,
        info.max_size_bytes.unwrap_or(0),
    );
    println!(
        "without the cache: about {:.2?} of backend calls",
        Duration::from_millis(2) * events.len() as u32
    );
}
