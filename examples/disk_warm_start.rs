//! A warm start from the disk tier: run this program twice. The first run computes every
//! result (50 ms each) and writes it to a SQLite file; the second, a new process with nothing
//! in its memory, reads them from the file and computes nothing.
//!
//! Run: `cargo run --release -p memo-examples --example disk_warm_start` (twice).
//!
//! The file is `faas-memo.sqlite3` in `FAAS_MEMO_DISK_DIR`, or else in `<temp dir>/faas-memo`
//! (`/tmp/faas-memo` on Linux and on AWS Lambda, whose `/tmp` survives warm invocations and
//! can be seeded). `--fresh` deletes it first, for a cold start.

use std::time::{Duration, Instant};

use memo_runtime::faas_cached;
use serde::{Deserialize, Serialize};

/// What the slow part returns: with a tier, cached values are stored with serde.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Report {
    region: String,
    total_cents: u64,
}

/// The slow part: 50 ms per call. In memory and on disk for an hour; the disk's entries are
/// bounded to 64 MiB. Changing this function's code makes its old disk entries unreachable
/// (and they are reclaimed); `version = ".."` would pin them instead.
#[faas_cached(ttl = 3600, max_items = 1000, disk = true, disk_max_size = "64M")]
fn report(region: &str) -> Report {
    std::thread::sleep(Duration::from_millis(50)); // a query, a model, a slow API
    Report {
        region: region.to_owned(),
        total_cents: region.bytes().map(u64::from).sum::<u64>() * 1_013,
    }
}

const REGIONS: [&str; 8] = [
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
];

fn main() {
    let dir = memo_runtime::default_disk_dir();
    if std::env::args().any(|a| a == "--fresh") {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let start = Instant::now();
    let total: u64 = REGIONS.iter().map(|r| report(r).total_cents).sum();
    let info = report_cache_info();
    let disk = &info.tiers[0];
    println!(
        "{} reports in {} ms (sum {total}): computed {}, read from disk {}, disk errors {}",
        REGIONS.len(),
        start.elapsed().as_millis(),
        REGIONS.len() as u64 - disk.hits,
        disk.hits,
        disk.errors,
    );
    println!(
        "file: {} ({} bytes of entries for this function)",
        dir.join(memo_runtime::DISK_FILE_NAME).display(),
        disk.bytes.unwrap_or_default()
    );
    if disk.hits == 0 {
        println!("run it again: the next process starts warm");
    }
}
