//! A process frozen past an entry's TTL never gets that entry back after it is thawed.
//!
//! A FaaS instance is frozen between invocations: its threads stop, wall time goes on. The
//! parent test re-spawns this test binary as a child that inserts entries with a 1 s TTL (in a
//! store, and through a memoized function) and reads them in a loop; the parent stops the child
//! with SIGSTOP while the entries are live, keeps it stopped for 2 s, and resumes it with
//! SIGCONT. Every read the child makes is timed with the precise clock: a hit that started more
//! than the TTL (plus a margin for the coarse clock) after the insert is a failure. The child
//! also reports the hits it saw before the freeze and the longest pause of its loop, so that a
//! run where the stop missed the loop fails rather than passing vacuously.
//!
//! Each test pins its children with `sched_setaffinity`: all on one CPU (where the thawed loop
//! and any helper thread of the process compete for that CPU) and on two, four children at a
//! time. (Against a clock kept by a ticker thread, about one child in ten got its entry back
//! 1.1-1.4 s after its TTL.)
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use memo_runtime::{faas_cached, FaasCacheDict};

const TTL: Duration = Duration::from_secs(1);
/// How long the parent keeps a child stopped.
const FROZEN: Duration = Duration::from_secs(2);
/// How long a child reads after its insert: past the thaw (at about 0.3 + 2 s).
const CHILD_RUNS: Duration = Duration::from_millis(3_500);
/// Children per affinity setting, run at once.
const CHILDREN: usize = 4;
/// Set in a child's environment.
const CHILD_ENV: &str = "FAAS_MEMO_FREEZE_CHILD";

static COMPUTED: AtomicU64 = AtomicU64::new(0);

#[faas_cached(ttl = 1)]
fn stamped(key: u64) -> u64 {
    key * 1000 + COMPUTED.fetch_add(1, Ordering::Relaxed)
}

/// What a child saw, printed as one line for the parent.
#[derive(Debug, Default)]
struct Report {
    /// Hits before the TTL ran out (the loop was reading live entries).
    live_hits: u64,
    /// Hits that started after the TTL (plus the clock's resolution) had run out.
    late_hits: u64,
    /// How late the first late hit was, past the TTL, in ms.
    first_late_ms: u64,
    /// The longest time between two reads of the loop, in ms: the freeze.
    longest_pause_ms: u64,
}

impl Report {
    fn line(&self) -> String {
        format!(
            "REPORT live_hits={} late_hits={} first_late_ms={} longest_pause_ms={}",
            self.live_hits, self.late_hits, self.first_late_ms, self.longest_pause_ms
        )
    }

    fn parse(line: &str) -> Option<Report> {
        let mut report = Report::default();
        let start = line.find("REPORT ")? + "REPORT ".len();
        for field in line[start..].split(' ') {
            let (name, value) = field.split_once('=')?;
            let value = value.parse().ok()?;
            match name {
                "live_hits" => report.live_hits = value,
                "late_hits" => report.late_hits = value,
                "first_late_ms" => report.first_late_ms = value,
                "longest_pause_ms" => report.longest_pause_ms = value,
                _ => return None,
            }
        }
        Some(report)
    }
}

/// The resolution of the kernel's coarse clock, which the store reads: an entry may be
/// returned up to one tick after its TTL, or a little more on a virtual machine whose
/// timekeeping CPU the host holds back.
fn coarse_resolution() -> Duration {
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid, writable timespec.
    let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) } == 0;
    if ok {
        Duration::new(res.tv_sec as u64, res.tv_nsec as u32)
    } else {
        Duration::from_millis(10)
    }
}

/// The child's side: insert, announce, read until well past the thaw, report.
fn run_child() {
    // Far below the second that a stale clock is late by after the freeze, and far above
    // what the coarse clock lags the precise one on a loaded host.
    let margin = coarse_resolution() * 2 + Duration::from_millis(100);
    let store: FaasCacheDict<u64, u64> = FaasCacheDict::builder().default_ttl(TTL).build().unwrap();
    store.insert(1, 100).unwrap();
    let first = stamped(1);
    let inserted = Instant::now();
    println!("READY");
    let mut report = Report::default();
    let mut last = Instant::now();
    while inserted.elapsed() < CHILD_RUNS {
        let before = Instant::now();
        report.longest_pause_ms = report
            .longest_pause_ms
            .max(before.duration_since(last).as_millis() as u64);
        last = before;
        // Both reads are hits only while the entries live; a fresh `stamped` value after the
        // TTL is a recomputation, not a hit.
        let hits = u64::from(store.get(&1).is_some()) + u64::from(stamped(1) == first);
        let age = before.duration_since(inserted);
        if age < TTL {
            report.live_hits += hits;
        } else if age > TTL + margin && hits > 0 {
            if report.late_hits == 0 {
                report.first_late_ms = (age - TTL).as_millis() as u64;
            }
            report.late_hits += hits;
        }
    }
    println!("{}", report.line());
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `cpu_set_t` is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: pid 0 is this thread; `set` is a valid, writable cpu_set_t of the size given.
    let ok = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) } == 0;
    assert!(ok, "sched_getaffinity: {}", std::io::Error::last_os_error());
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

fn spawn_child(cpus: &[usize]) -> Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["freeze_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: `cpu_set_t` is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: `cpu` comes from `allowed_cpus`, below CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: the closure runs in the forked child before exec and only makes one system call
    // (async-signal-safe) on a set copied into it; the whole child process, and every thread
    // it starts, then runs on `cpus`.
    unsafe {
        command.pre_exec(move || {
            if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().expect("re-spawn the test binary")
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: a plain system call on our own child, which has not been waited for yet.
    let ok = unsafe { libc::kill(pid, sig) } == 0;
    assert!(
        ok,
        "kill({pid}, {sig}): {}",
        std::io::Error::last_os_error()
    );
}

/// Runs `CHILDREN` children on `cpus` at once, stops them all for `FROZEN` while their entries
/// live, and checks what each saw.
fn freeze_children(cpus: &[usize]) {
    let mut children: Vec<(Child, BufReader<std::process::ChildStdout>)> = (0..CHILDREN)
        .map(|_| {
            let mut child = spawn_child(cpus);
            let stdout = BufReader::new(child.stdout.take().unwrap());
            (child, stdout)
        })
        .collect();
    for (_, stdout) in &mut children {
        let ready = stdout
            .lines()
            .map_while(Result::ok)
            // libtest may print the test's name on the same line first.
            .find(|line| line.ends_with("READY"));
        assert!(ready.is_some(), "a child exited before inserting");
    }
    // Let the children read live entries, then freeze them well before the TTL runs out.
    std::thread::sleep(Duration::from_millis(300));
    for (child, _) in &children {
        signal(child, libc::SIGSTOP);
    }
    std::thread::sleep(FROZEN);
    for (child, _) in &children {
        signal(child, libc::SIGCONT);
    }
    for (mut child, stdout) in children {
        let lines: Vec<String> = stdout.lines().map_while(Result::ok).collect();
        let status = child.wait().unwrap();
        assert!(status.success(), "child on CPUs {cpus:?}: {status}");
        let report = lines
            .iter()
            .find_map(|line| Report::parse(line))
            .unwrap_or_else(|| panic!("no report from the child on CPUs {cpus:?}: {lines:?}"));
        eprintln!("CPUs {cpus:?}: {report:?}");
        assert_eq!(
            report.late_hits, 0,
            "on CPUs {cpus:?}, an entry came back {} ms after its TTL ran out: {report:?}",
            report.first_late_ms
        );
        assert!(
            report.live_hits > 0,
            "the loop never read a live entry: {report:?}"
        );
        assert!(
            report.longest_pause_ms >= 1_500,
            "the freeze did not fall inside the loop: {report:?}"
        );
    }
}

/// Not a test of its own: the child's role when the parent re-spawns this binary (and a
/// no-op otherwise).
#[test]
fn freeze_child() {
    if std::env::var_os(CHILD_ENV).is_some() {
        run_child();
    }
}

#[test]
fn an_entry_expired_during_a_freeze_stays_expired_on_one_cpu() {
    let cpus = allowed_cpus();
    freeze_children(&cpus[..1]);
}

#[test]
fn an_entry_expired_during_a_freeze_stays_expired_on_two_cpus() {
    let cpus = allowed_cpus();
    if cpus.len() < 2 {
        eprintln!("only one CPU allowed ({cpus:?}): running on it");
    }
    freeze_children(&cpus[..cpus.len().min(2)]);
}
