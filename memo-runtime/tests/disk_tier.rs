//! The disk tier end to end: real SQLite files in temp directories, real faults (a full file
//! system, an unwritable directory, a damaged file, a lock held by another connection, a file
//! of a newer schema, a writer killed with SIGKILL) and real child processes (this test
//! binary, started again with a role: see `child_main`).
//!
//! Single-process tests use the builder (`.disk(dir)`); the child processes use
//! `#[faas_cached(disk = true, ..)]`, which reads the directory from `FAAS_MEMO_DISK_DIR`
//! (set by the parent for each child).
#![cfg(feature = "disk")]

#[path = "common/children.rs"]
mod children;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use children::{await_announcement, child, child_role, reported, send_signal};
use memo_runtime::{
    faas_cached, CacheError, FaasCacheDict, MockClock, TierInfo, DISK_DIR_ENV, DISK_FILE_NAME,
};
use rusqlite::Connection;

/// A directory of its own under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "faas-memo-disk-test-{}-{name}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn file(&self) -> PathBuf {
        self.0.join(DISK_FILE_NAME)
    }

    fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// A raw connection to the tier's file, as another program would open it.
    fn raw(&self) -> Connection {
        let conn = Connection::open(self.file()).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tmpfs of `size` mounted on a directory of its own (`options`: extra mount options), or
/// `None` when this process may not mount (not root, or a container without the right).
struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(name: &str, size: &str, options: &str) -> Option<Self> {
        let dir = TempDir::new(name);
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size}{options}"))
            .arg("tmpfs")
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

fn value_of(key: u64) -> String {
    format!("value-of-{key}")
}

/// A value of about 1 KiB.
fn kib_of(key: u64) -> String {
    format!("{key:08}").repeat(128)
}

fn store(dir: &TempDir, name: &str) -> FaasCacheDict<u64, String> {
    FaasCacheDict::builder()
        .name(name)
        .disk(dir.path())
        .build()
        .expect("a usable directory")
}

fn disk_info(store: &FaasCacheDict<u64, String>) -> TierInfo {
    let info = store.info();
    assert_eq!(info.tiers.len(), 1);
    assert_eq!(info.tiers[0].kind, "disk");
    info.tiers[0].clone()
}

fn errors_of(info: &TierInfo, kind: &str) -> u64 {
    info.errors_by_kind
        .iter()
        .find(|(k, _)| k == kind)
        .map_or(0, |(_, n)| *n)
}

fn rows(dir: &TempDir) -> i64 {
    dir.raw()
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap()
}

/// The bytes the triggers counted, and what the rows really take by the same measure.
fn counted_and_real_bytes(dir: &TempDir) -> (i64, i64) {
    let raw = dir.raw();
    let counted = raw
        .query_row("SELECT value FROM meta WHERE key = 'bytes'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let real = raw
        .query_row(
            "SELECT COALESCE(SUM(length(value) + 64), 0) FROM entries",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (counted, real)
}

// --- one process ---------------------------------------------------------------------------

#[test]
fn a_value_written_by_one_store_is_a_hit_for_the_next_with_the_remaining_ttl() {
    let dir = TempDir::new("warm");
    let build = || -> FaasCacheDict<u64, String> {
        FaasCacheDict::builder()
            .name("warm::ttl")
            .default_ttl(Duration::from_secs(60))
            .disk(dir.path())
            .build()
            .unwrap()
    };
    let first = build();
    assert_eq!(first.get_or_insert_with(1, || value_of(1)), value_of(1));
    assert!(dir.file().exists());
    let expires: i64 = dir
        .raw()
        .query_row("SELECT expires FROM entries", [], |r| r.get(0))
        .unwrap();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (now_ms + 55_000..=now_ms + 60_000).contains(&expires),
        "an absolute wall-clock expiry: {expires} vs now {now_ms}"
    );
    drop(first);
    let second = build();
    assert_eq!(second.get_or_insert_with(1, || unreachable!()), value_of(1));
    let left = second.get_ttl(&1).expect("a TTL");
    assert!(left <= Duration::from_secs(60) && left >= Duration::from_secs(50));
    let info = disk_info(&second);
    assert_eq!((info.hits, info.misses, info.errors), (1, 0, 0));
    assert!(info.bytes.unwrap() > 0);
    assert_eq!(info.location, dir.file().display().to_string());
}

#[test]
fn an_entry_past_its_absolute_expiry_is_a_miss_for_any_clock() {
    let dir = TempDir::new("expiry");
    let clock = MockClock::new();
    let build = |clock: &MockClock| -> FaasCacheDict<u64, String> {
        FaasCacheDict::builder()
            .name("expiry::abs")
            .default_ttl(Duration::from_secs(10))
            .clock(clock.clone())
            .disk(dir.path())
            .build()
            .unwrap()
    };
    let writer = build(&clock);
    writer.get_or_insert_with(1, || value_of(1));
    // Another store whose clock is 11 s later (another process, later): expired.
    clock.advance(Duration::from_secs(11));
    let reader = build(&clock);
    let computed = AtomicUsize::new(0);
    reader.get_or_insert_with(1, || {
        computed.fetch_add(1, Ordering::SeqCst);
        value_of(1)
    });
    assert_eq!(computed.load(Ordering::SeqCst), 1);
    // In real time too: the tier itself does not return a row past its expiry.
    let short: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("expiry::real")
        .default_ttl(Duration::from_millis(200))
        .disk(dir.path())
        .build()
        .unwrap();
    short.get_or_insert_with(2, || value_of(2));
    std::thread::sleep(Duration::from_millis(300));
    let later: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("expiry::real")
        .disk(dir.path())
        .build()
        .unwrap();
    assert_eq!(later.get_tiered(&2), None);
    assert_eq!(disk_info(&later).misses, 1);
}

#[test]
fn invalidate_and_clear_reach_the_disk() {
    let dir = TempDir::new("clear");
    let (a, b) = (store(&dir, "clear::a"), store(&dir, "clear::b"));
    for key in 0..10 {
        a.get_or_insert_with(key, || value_of(key));
    }
    b.get_or_insert_with(1, || value_of(1));
    assert_eq!(rows(&dir), 11);
    assert!(a.invalidate(&3));
    assert_eq!(rows(&dir), 10);
    let fresh = store(&dir, "clear::a");
    assert_eq!(fresh.get_tiered(&3), None, "invalidated on disk too");
    assert_eq!(fresh.get_tiered(&4), Some(value_of(4)));
    a.purge();
    assert_eq!(rows(&dir), 1, "only the other cache's entry is left");
    assert_eq!(b.get_tiered(&1), Some(value_of(1)));
}

#[test]
fn a_value_that_does_not_decode_is_a_miss_and_is_deleted() {
    let dir = TempDir::new("corrupt-value");
    let s = store(&dir, "corrupt::value");
    s.get_or_insert_with(1, || value_of(1));
    let changed = dir
        .raw()
        .execute("UPDATE entries SET value = x'01020304'", [])
        .unwrap();
    assert_eq!(changed, 1);
    let other = store(&dir, "corrupt::value");
    assert_eq!(other.get_tiered(&1), None, "a damaged value is a miss");
    assert_eq!(rows(&dir), 0, "and it was deleted");
    assert_eq!(other.get_or_insert_with(1, || value_of(1)), value_of(1));
    let third = store(&dir, "corrupt::value");
    assert_eq!(third.get_or_insert_with(1, || unreachable!()), value_of(1));
}

#[test]
fn the_byte_bound_holds_with_at_most_ten_rows_culled_per_write() {
    let dir = TempDir::new("bound");
    let bound = 64 * 1024;
    let s: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("bound::one")
        .disk(dir.path())
        .disk_max_size(bound)
        .build()
        .unwrap();
    let mut most_culled = 0;
    let mut before = 0;
    for key in 0..300 {
        s.get_or_insert_with(key, || kib_of(key));
        let (counted, real) = counted_and_real_bytes(&dir);
        assert_eq!(counted, real, "the triggers count every row");
        assert!(counted <= bound, "{counted} bytes after write {key}");
        let now = rows(&dir);
        most_culled = most_culled.max(before + 1 - now);
        before = now;
    }
    assert!(most_culled <= 10, "{most_culled}");
    // The newest entries are the ones kept.
    let fresh: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("bound::one")
        .disk(dir.path())
        .build()
        .unwrap();
    assert_eq!(fresh.get_tiered(&299), Some(kib_of(299)));
    assert_eq!(fresh.get_tiered(&0), None);
    // A value larger than the whole bound is not stored.
    let tiny: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("bound::tiny")
        .disk(dir.path())
        .disk_max_size(512)
        .build()
        .unwrap();
    tiny.get_or_insert_with(1, || kib_of(1));
    let fresh: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("bound::tiny")
        .disk(dir.path())
        .build()
        .unwrap();
    assert_eq!(fresh.get_tiered(&1), None);
}

#[test]
fn expired_rows_are_reclaimed_by_later_writes() {
    let dir = TempDir::new("reclaim-expired");
    let short: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("reclaim::short")
        .default_ttl(Duration::from_millis(100))
        .disk(dir.path())
        .build()
        .unwrap();
    for key in 0..25 {
        short.get_or_insert_with(key, || value_of(key));
    }
    std::thread::sleep(Duration::from_millis(200));
    let other = store(&dir, "reclaim::other");
    for key in 0..33 {
        other.get_or_insert_with(key, || value_of(key));
    }
    // Under the bound, every 16th write sweeps at most ten expired rows: the 1st, 17th and
    // 33rd removed all 25.
    assert_eq!(rows(&dir), 33);
}

#[test]
fn builder_settings_are_checked() {
    let dir = TempDir::new("settings");
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .disk_max_size("10%")
        .build()
        .unwrap_err();
    assert!(matches!(err, CacheError::InvalidSize { .. }), "{err}");
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .disk_max_size("64Q")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("64Q"), "{err}");
    let err = FaasCacheDict::<u64, String>::builder()
        .disk_max_size("1G")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("disk_max_size"), "{err}");
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .disk_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("disk_timeout"), "{err}");
}

#[test]
fn async_callers_use_the_disk_under_tokio_and_under_a_minimal_executor() {
    let dir = TempDir::new("async");
    let first = store(&dir, "async::share");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let v = runtime.block_on(first.get_or_insert_with_async(7, async { value_of(7) }));
    assert_eq!(v, value_of(7));
    let second = store(&dir, "async::share");
    let v = pollster::block_on(second.get_or_insert_with_async(7, async { unreachable!() }));
    assert_eq!(v, value_of(7));
    assert_eq!(disk_info(&second).hits, 1);
}

// --- faults ------------------------------------------------------------------------------------

/// Calls `store` for `keys` and checks that every call returns its value.
fn every_call_returns(store: &FaasCacheDict<u64, String>, keys: std::ops::Range<u64>) {
    for key in keys {
        assert_eq!(store.get_or_insert_with(key, || kib_of(key)), kib_of(key));
    }
}

/// A full disk, as SQLite's page limit: writes fail with `full`, calls return their values,
/// and what was written before is still read.
#[test]
fn a_full_file_is_skipped_and_counted() {
    let dir = TempDir::new("full-pages");
    let s: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("full::pages")
        .disk(dir.path())
        .disk_page_limit(40)
        .build()
        .unwrap();
    every_call_returns(&s, 0..400);
    let info = disk_info(&s);
    assert!(errors_of(&info, "full") > 0, "{info:?}");
    let fresh: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("full::pages")
        .disk(dir.path())
        .disk_page_limit(40)
        .build()
        .unwrap();
    assert_eq!(fresh.get_tiered(&0), Some(kib_of(0)));
}

/// A full file system (a 256 KiB tmpfs, where this process may mount one; else the page
/// limit above stands for it).
#[test]
fn a_full_file_system_is_skipped_and_counted() {
    let Some(fs) = Tmpfs::mount("full-tmpfs", "256k", "") else {
        eprintln!("no tmpfs could be mounted: the page-limit test covers a full disk");
        let dir = TempDir::new("full-fallback");
        let s: FaasCacheDict<u64, String> = FaasCacheDict::builder()
            .name("full::fallback")
            .disk(dir.path())
            .disk_page_limit(40)
            .build()
            .unwrap();
        every_call_returns(&s, 0..400);
        assert!(errors_of(&disk_info(&s), "full") > 0);
        return;
    };
    let s: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("full::tmpfs")
        .disk(fs.0.path())
        .disk_max_size("1G")
        .build()
        .unwrap();
    every_call_returns(&s, 0..600);
    let info = disk_info(&s);
    assert!(info.errors > 0, "{info:?}");
    assert!(
        errors_of(&info, "full") > 0,
        "a full file system is a `full` error: {info:?}"
    );
    drop(s);
}

#[test]
fn an_unusable_directory_is_an_error_of_the_builder_and_a_counted_fault_of_the_macro() {
    let dir = TempDir::new("unwritable");
    // A directory under a regular file cannot be created, even by root.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let under = file.join("cache");
    let err = FaasCacheDict::<u64, String>::builder()
        .name("fault::dir")
        .disk(&under)
        .build()
        .unwrap_err();
    match &err {
        CacheError::TierUnavailable { tier, location, .. } => {
            assert_eq!(*tier, "disk");
            assert!(location.contains("a-file/cache"), "{location}");
        }
        other => panic!("{other}"),
    }
    // The macro's lenient build keeps the tier, counts its failures, computes.
    let lenient = FaasCacheDict::<u64, String>::builder()
        .name("fault::dir")
        .disk(&under)
        .build_lenient();
    every_call_returns(&lenient, 0..5);
    let info = disk_info(&lenient);
    assert!(errors_of(&info, "unavailable") > 0, "{info:?}");
    // A read-only file system (where this process may mount one).
    if let Some(ro) = Tmpfs::mount("read-only", "1m", ",ro") {
        let err = FaasCacheDict::<u64, String>::builder()
            .disk(ro.0.path())
            .build()
            .unwrap_err();
        assert!(err.to_string().contains(DISK_FILE_NAME), "{err}");
        let lenient = FaasCacheDict::<u64, String>::builder()
            .name("fault::ro")
            .disk(ro.0.path())
            .build_lenient();
        every_call_returns(&lenient, 0..5);
        assert!(disk_info(&lenient).errors > 0);
    }
}

#[test]
fn a_damaged_file_is_an_error_of_the_builder_and_a_counted_fault_of_the_macro() {
    let dir = TempDir::new("corrupt-file");
    std::fs::write(dir.file(), vec![0x5a; 64 * 1024]).unwrap();
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains(&dir.file().display().to_string()),
        "{err}"
    );
    let lenient = FaasCacheDict::<u64, String>::builder()
        .name("fault::corrupt")
        .disk(dir.path())
        .build_lenient();
    every_call_returns(&lenient, 0..5);
    let info = disk_info(&lenient);
    assert!(errors_of(&info, "corrupt") > 0, "{info:?}");
    // The file is left as it was.
    assert_eq!(std::fs::read(dir.file()).unwrap(), vec![0x5a; 64 * 1024]);
}

#[test]
fn a_file_of_a_newer_schema_is_left_alone() {
    let dir = TempDir::new("newer");
    store(&dir, "newer::init").get_or_insert_with(1, || value_of(1));
    dir.raw().pragma_update(None, "user_version", 99).unwrap();
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
    assert!(
        err.to_string().contains(&dir.file().display().to_string()),
        "{err}"
    );
    let lenient = FaasCacheDict::<u64, String>::builder()
        .name("newer::init")
        .disk(dir.path())
        .build_lenient();
    // Not even the entry of schema 1 is read: a newer layout may mean something else.
    let computed = AtomicUsize::new(0);
    lenient.get_or_insert_with(1, || {
        computed.fetch_add(1, Ordering::SeqCst);
        value_of(1)
    });
    assert_eq!(computed.load(Ordering::SeqCst), 1);
    let info = disk_info(&lenient);
    assert!(errors_of(&info, "incompatible") > 0, "{info:?}");
    let version: i64 = dir
        .raw()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99, "untouched");
    assert_eq!(rows(&dir), 1);
}

#[test]
fn another_programs_database_is_left_alone() {
    let dir = TempDir::new("foreign");
    dir.raw()
        .execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER)")
        .unwrap();
    let err = FaasCacheDict::<u64, String>::builder()
        .disk(dir.path())
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("not a faas-memo database"),
        "{err}"
    );
}

/// Another connection holds the write lock far beyond the busy timeout: reads still answer
/// (WAL), writes give up after the budget, every call returns its value at once.
#[test]
fn a_lock_held_beyond_the_busy_timeout_costs_one_budget() {
    let dir = TempDir::new("locked");
    let budget = Duration::from_millis(50);
    let build = || -> FaasCacheDict<u64, String> {
        FaasCacheDict::builder()
            .name("fault::locked")
            .disk(dir.path())
            .disk_timeout(budget)
            .build()
            .unwrap()
    };
    build().get_or_insert_with(1, || value_of(1));
    let holder = dir.raw();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    holder
        .execute("UPDATE meta SET value = value WHERE key = 'bytes'", [])
        .unwrap();
    let s = build();
    let start = Instant::now();
    // A read is not blocked by the writer.
    assert_eq!(s.get_or_insert_with(1, || unreachable!()), value_of(1));
    assert!(start.elapsed() < Duration::from_millis(500));
    for key in 2..6 {
        let start = Instant::now();
        assert_eq!(s.get_or_insert_with(key, || value_of(key)), value_of(key));
        // Attach or lease, then the write: each gives up after the budget.
        assert!(
            start.elapsed() < budget * 4 + Duration::from_millis(600),
            "{:?}",
            start.elapsed()
        );
    }
    let info = disk_info(&s);
    assert!(errors_of(&info, "timeout") > 0, "{info:?}");
    holder.execute_batch("COMMIT").unwrap();
    // Released: the tier works again.
    let after = build();
    after.get_or_insert_with(10, || value_of(10));
    assert_eq!(build().get_tiered(&10), Some(value_of(10)));
}

// --- several processes ---------------------------------------------------------------------

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(disk = true, ttl = 60, dedupe_timeout = 10)]
fn shared(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    if let Ok(ms) = std::env::var("FAAS_MEMO_TEST_BODY_MS") {
        std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
    }
    value_of(key)
}

#[faas_cached(disk = true)]
async fn shared_async(key: u64) -> Option<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    (key != 0).then(|| value_of(key))
}

/// The holder of the lease test: a lease of 2 s, a body that announces itself and hangs.
#[faas_cached(disk = true, dedupe_timeout = 2)]
fn held(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    if std::env::var("FAAS_MEMO_TEST_HANG").is_ok() {
        println!("holding");
        std::thread::sleep(Duration::from_secs(120));
    }
    value_of(key)
}

/// The write storm: 1 KiB values into a 64 KiB bound.
#[faas_cached(disk = true, disk_max_size = 65536)]
fn stormy(key: u64) -> String {
    kib_of(key)
}

/// Two versions of one function's code (the same `name`, so the same cache; different
/// bodies, so different namespaces), and two versions pinned by `version`.
#[faas_cached(disk = true, name = "code::f")]
fn code_v1(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("v1:{key}")
}

#[faas_cached(disk = true, name = "code::f")]
fn code_v2(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("v2:{key}")
}

#[faas_cached(disk = true, name = "code::pinned", version = "1")]
fn pinned_v1(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("pinned:{key}")
}

#[faas_cached(disk = true, name = "code::pinned", version = "1")]
fn pinned_v2(key: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    // A different body, the same version: the entries of v1 stay valid.
    format!("pinned:{}", key)
}

/// Waits until the wall-clock time (ms since the epoch) in `FAAS_MEMO_TEST_START`, so that
/// children started one after the other call at the same moment.
fn wait_for_start() {
    if let Ok(at) = std::env::var("FAAS_MEMO_TEST_START") {
        let at = UNIX_EPOCH + Duration::from_millis(at.parse().unwrap());
        if let Ok(wait) = at.duration_since(SystemTime::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// What each child does, by role. Every child prints `ran=<bodies run here>` last.
#[test]
#[ignore = "a child process of the multi-process tests"]
fn child_main() {
    let Some(role) = child_role() else { return };
    wait_for_start();
    let key: u64 = std::env::var("FAAS_MEMO_TEST_KEY").map_or(1, |k| k.parse().unwrap());
    match role.as_str() {
        "call" => {
            assert_eq!(shared(key), value_of(key));
            println!("l2_hits={}", shared_cache_info().tiers[0].hits);
        }
        "stampede" => {
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| assert_eq!(shared(key), value_of(key)));
                }
            });
            let info = shared_cache_info();
            println!("lease_waits={}", info.tiers[0].lease_waits);
            println!("tier={:?}", info.tiers[0]);
        }
        "async" => {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            assert_eq!(runtime.block_on(shared_async(key)), Some(value_of(key)));
            assert_eq!(runtime.block_on(shared_async(0)), None);
            println!("l2_hits={}", shared_async_cache_info().tiers[0].hits);
        }
        "hold" => {
            held(key);
        }
        "take" => {
            let start = Instant::now();
            assert_eq!(held(key), value_of(key));
            println!("waited_ms={}", start.elapsed().as_millis());
        }
        "storm" => {
            for i in 0..300 {
                let key = key * 1_000 + i;
                assert_eq!(stormy(key), kib_of(key));
            }
            let info = stormy_cache_info();
            println!("errors={}", info.tiers[0].errors);
        }
        "writer" => {
            // Writes until killed; a key is printed once its write has returned.
            let s: FaasCacheDict<u64, String> = FaasCacheDict::builder()
                .name("kill::writer")
                .disk(std::env::var(DISK_DIR_ENV).unwrap())
                .build()
                .unwrap();
            for key in 0.. {
                s.insert(key, kib_of(key)).unwrap();
                println!("wrote={key}");
            }
        }
        "code-v1" => {
            for key in 0..5 {
                assert_eq!(code_v1(key), format!("v1:{key}"));
                assert_eq!(pinned_v1(key), format!("pinned:{key}"));
            }
        }
        "code-v2" => {
            for key in 0..5 {
                assert_eq!(code_v2(key), format!("v2:{key}"));
                assert_eq!(pinned_v2(key), format!("pinned:{key}"));
            }
            println!("v2_hits={}", code_v2_cache_info().tiers[0].hits);
            println!("pinned_hits={}", pinned_v2_cache_info().tiers[0].hits);
        }
        other => panic!("unknown role {other}"),
    }
    println!("ran={}", RUNS.load(Ordering::SeqCst));
}

fn run_children(
    dir: &TempDir,
    role: &str,
    count: usize,
    extra: &[(&str, &str)],
) -> Vec<std::process::Output> {
    let start = (SystemTime::now() + Duration::from_millis(1500))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let mut env = vec![(DISK_DIR_ENV, dir.str()), ("FAAS_MEMO_TEST_START", &start)];
    env.extend_from_slice(extra);
    let children: Vec<_> = (0..count)
        .map(|_| child("child_main", role, &env))
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "a child failed: {out:?}");
            out
        })
        .collect()
}

fn ran(outputs: &[std::process::Output]) -> Vec<usize> {
    outputs
        .iter()
        .map(|o| reported(o, "ran=")[0].parse().unwrap())
        .collect()
}

#[test]
fn a_second_process_starts_warm() {
    let dir = TempDir::new("warm-start");
    let first = run_children(&dir, "call", 1, &[("FAAS_MEMO_TEST_KEY", "21")]);
    let second = run_children(&dir, "call", 1, &[("FAAS_MEMO_TEST_KEY", "21")]);
    assert_eq!(ran(&first), [1]);
    assert_eq!(ran(&second), [0], "a hit in the second process");
    assert_eq!(reported(&second[0], "l2_hits="), ["1"]);
}

#[test]
fn four_processes_of_four_threads_on_one_cold_key_run_the_body_once() {
    let dir = TempDir::new("stampede");
    let outputs = run_children(
        &dir,
        "stampede",
        4,
        &[
            ("FAAS_MEMO_TEST_KEY", "99"),
            ("FAAS_MEMO_TEST_BODY_MS", "400"),
        ],
    );
    let ran = ran(&outputs);
    let tiers: Vec<String> = outputs.iter().flat_map(|o| reported(o, "tier=")).collect();
    assert_eq!(
        ran.iter().sum::<usize>(),
        1,
        "bodies run per process: {ran:?}; {tiers:#?}"
    );
    // One lease request per process: the other threads waited in their process.
    let waits: usize = outputs
        .iter()
        .map(|o| reported(o, "lease_waits=")[0].parse::<usize>().unwrap())
        .sum();
    assert!(waits <= 3, "{waits}");
}

#[test]
fn async_functions_share_values_across_processes() {
    let dir = TempDir::new("async-procs");
    let first = run_children(&dir, "async", 1, &[("FAAS_MEMO_TEST_KEY", "8")]);
    let second = run_children(&dir, "async", 1, &[("FAAS_MEMO_TEST_KEY", "8")]);
    // `None` (key 0) is never cached, so each process runs it: 2 bodies, then 1.
    assert_eq!(ran(&first), [2]);
    assert_eq!(ran(&second), [1]);
    assert_eq!(reported(&second[0], "l2_hits="), ["1"]);
}

/// A holder that stops (SIGKILL, or SIGSTOP: a frozen FaaS instance) in the middle of its
/// computation is taken over once its lease (2 s) expires.
fn holder_is_taken_over(signal: &str) {
    let dir = TempDir::new("lease");
    let env = [
        (DISK_DIR_ENV, dir.str()),
        ("FAAS_MEMO_TEST_KEY", "5"),
        ("FAAS_MEMO_TEST_HANG", "1"),
    ];
    let mut holder = child("child_main", "hold", &env);
    let started = Instant::now();
    let _lines = await_announcement(&mut holder, "holding");
    let taker = child(
        "child_main",
        "take",
        &[(DISK_DIR_ENV, dir.str()), ("FAAS_MEMO_TEST_KEY", "5")],
    );
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&holder, signal);
    let out = taker.wait_with_output().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(reported(&out, "ran="), ["1"], "the taker computed");
    let waited: u64 = reported(&out, "waited_ms=")[0].parse().unwrap();
    assert!(
        waited >= 1000,
        "took over before the lease expired: {waited} ms"
    );
    // The lease ran out 2 s after the holder took it; not the 4 s bound of a wait.
    assert!(
        started.elapsed() < Duration::from_millis(3900) + Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_holder_killed_with_sigkill_is_taken_over_after_its_lease() {
    holder_is_taken_over("KILL");
}

#[test]
fn a_frozen_holder_is_taken_over_after_its_lease() {
    holder_is_taken_over("STOP");
}

#[test]
fn the_byte_bound_holds_under_a_write_storm_of_four_processes() {
    let dir = TempDir::new("storm");
    let bound = 65_536;
    let start = (SystemTime::now() + Duration::from_millis(1500))
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let children: Vec<_> = (1..=4)
        .map(|k| {
            child(
                "child_main",
                "storm",
                &[
                    (DISK_DIR_ENV, dir.str()),
                    ("FAAS_MEMO_TEST_START", &start),
                    ("FAAS_MEMO_TEST_KEY", &k.to_string()),
                ],
            )
        })
        .collect();
    // Sample the committed byte count while they write.
    let mut most = 0;
    let mut samples = 0;
    let mut children = children;
    let outputs: Vec<_> = loop {
        let opened = dir
            .file()
            .exists()
            .then(|| Connection::open(dir.file()).ok())
            .flatten();
        if let Some(raw) = opened {
            raw.busy_timeout(Duration::from_secs(5)).unwrap();
            if let Ok(bytes) =
                raw.query_row("SELECT value FROM meta WHERE key = 'bytes'", [], |r| {
                    r.get::<_, i64>(0)
                })
            {
                most = most.max(bytes);
                samples += 1;
            }
        }
        if children.iter_mut().all(|c| c.try_wait().unwrap().is_some()) {
            break children
                .into_iter()
                .map(|c| c.wait_with_output().unwrap())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    for out in &outputs {
        assert!(out.status.success(), "{out:?}");
    }
    assert!(samples > 0);
    assert!(most <= bound, "{most} bytes seen during the storm");
    let (counted, real) = counted_and_real_bytes(&dir);
    assert_eq!(counted, real);
    assert!(counted <= bound && counted > bound / 2, "{counted}");
    let errors: u64 = outputs
        .iter()
        .map(|o| reported(o, "errors=")[0].parse::<u64>().unwrap())
        .sum();
    let check: String = dir
        .raw()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // Four writers contend for one lock: a write may give up after its budget, rarely.
    assert!(errors < 4 * 300 / 10, "{errors} failed calls of 1200");
}

#[test]
fn a_writer_killed_mid_writes_loses_nothing_it_returned() {
    let dir = TempDir::new("sigkill");
    let mut writer = child("child_main", "writer", &[(DISK_DIR_ENV, dir.str())]);
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    let mut returned = Vec::new();
    while returned.len() < 300 {
        let line = lines.next().expect("the writer writes").unwrap();
        if let Some(at) = line.find("wrote=") {
            returned.push(line[at + 6..].parse::<u64>().unwrap());
        }
    }
    writer.kill().unwrap(); // SIGKILL
    writer.wait().unwrap();
    // What it printed after we stopped reading also returned.
    for line in lines.map_while(Result::ok) {
        if let Some(at) = line.find("wrote=") {
            if let Ok(key) = line[at + 6..].parse::<u64>() {
                returned.push(key);
            }
        }
    }
    let check: String = dir
        .raw()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let reader: FaasCacheDict<u64, String> = FaasCacheDict::builder()
        .name("kill::writer")
        .disk(dir.path())
        .build()
        .unwrap();
    for key in &returned {
        assert_eq!(reader.get_tiered(key), Some(kib_of(*key)), "key {key}");
    }
}

#[test]
fn a_change_of_code_makes_old_entries_unreachable_and_reclaims_them_unless_pinned() {
    let dir = TempDir::new("code");
    let first = run_children(&dir, "code-v1", 1, &[]);
    assert_eq!(ran(&first), [10]);
    let namespaces: i64 = dir
        .raw()
        .query_row("SELECT count(*) FROM namespaces", [], |r| r.get(0))
        .unwrap();
    assert_eq!(namespaces, 2);
    let second = run_children(&dir, "code-v2", 1, &[]);
    // v2's body differs: its namespace too, so v1's values are not its own...
    assert_eq!(reported(&second[0], "v2_hits="), ["0"]);
    // ...while the pinned version's are.
    assert_eq!(reported(&second[0], "pinned_hits="), ["5"]);
    assert_eq!(ran(&second), [5]);
    // v1's entries were reclaimed by v2's writes (at most ten rows each).
    let raw = dir.raw();
    let v1_rows: i64 = raw
        .query_row(
            "SELECT count(*) FROM entries WHERE ns NOT IN (SELECT id FROM namespaces)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v1_rows, 0);
    let names: Vec<String> = raw
        .prepare("SELECT name || '#' || tag FROM namespaces ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("code::f#"), "{names:?}");
    assert_eq!(names[1], "code::pinned#1");
    assert_eq!(rows(&dir), 10, "v2's five and the pinned five");
}
