//! Child processes of a test binary: the binary started again to run one `#[ignore]`d test
//! with a role, so that tests can use several real processes (and kill them).

use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};

/// The environment variable that tells a test it runs as a child of another.
pub const CHILD_ENV: &str = "FAAS_MEMO_TEST_CHILD";

/// The role this process was started with by [`child`], if it is a child.
pub fn child_role() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// Starts `test` (an `#[ignore]`d test of this binary) in a child process with `role` and the
/// given environment. Its stdout is piped: read what it prints with [`Child::wait_with_output`].
pub fn child(test: &str, role: &str, env: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(exe);
    command
        .args([
            "--ignored",
            "--exact",
            "--nocapture",
            "--test-threads=1",
            test,
        ])
        .env(CHILD_ENV, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("spawn a child test process")
}

/// What a child printed after `prefix` on each line that has it (the test harness may have
/// printed `test child_main ... ` before it on the same line).
pub fn reported(output: &std::process::Output, prefix: &str) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.find(prefix).map(|at| l[at + prefix.len()..].to_owned()))
        .collect()
}

/// Reads `child`'s stdout until a line ends with `announcement` (the child says it reached a
/// point of its run). The rest of its stdout is returned, to keep the pipe open while it runs.
pub fn await_announcement(child: &mut Child, announcement: &str) -> Lines<BufReader<ChildStdout>> {
    let mut lines = BufReader::new(child.stdout.take().expect("a piped stdout")).lines();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the child announces {announcement:?}"))
            .unwrap();
        if line.ends_with(announcement) {
            return lines;
        }
    }
}

/// Sends `signal` (`"KILL"`, `"STOP"`, `"CONT"`) to `child`.
pub fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {}", child.id());
}
