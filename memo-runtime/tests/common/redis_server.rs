//! A real `redis-server` for the Redis tier's tests: started on a free loopback port with a
//! temporary directory and no persistence, stopped when the handle is dropped (also when the
//! test panics, and also when the test process dies: see [`RedisServer::spawn`]).
//!
//! Without `redis-server` on the PATH, [`RedisServer::start`] prints a loud notice (once per
//! test binary, past the test harness's output capture) and returns `None`, and the test
//! returns early; with the `CI` environment variable set it panics instead, so that CI cannot
//! pass without running them. `scripts/test.sh` installs Debian's `redis-server` first.
//!
//! Also here: [`child`], to run one test of the same binary as a child process (the
//! multi-process tests).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

/// How the server is reached.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `requirepass`.
    pub password: Option<String>,
    /// Serve TLS only (certificates made with `openssl` in the server's directory).
    pub tls: bool,
}

/// A running (or killed, or paused) `redis-server` of one test.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    options: Options,
    /// The `sh` that started the server and kills it when its stdin closes.
    keeper: Option<(Child, ChildStdin)>,
    pid: u32,
    paused: bool,
}

static SKIP_NOTICE: Once = Once::new();
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// Whether `redis-server` can be run; otherwise prints the notice, or panics under CI.
fn available() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "redis-server is not on the PATH and CI is set: the Redis tier's tests must run \
             (scripts/test.sh installs Debian's redis-server package)"
        );
    }
    SKIP_NOTICE.call_once(|| {
        // Straight to the file descriptor: the test harness captures `eprintln!` of tests
        // that pass, and this must be seen.
        let _ = std::io::stderr().write_all(
            b"\n\
              ************************************************************************\n\
              *  SKIPPED: the Redis tier's tests did not run: redis-server is not on  *\n\
              *  the PATH. Run scripts/test.sh (it installs Debian's redis-server),   *\n\
              *  or `apt-get install redis-server`. With CI set, they fail instead.   *\n\
              ************************************************************************\n\n",
        );
    });
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl RedisServer {
    /// A plain server, or `None` (with a notice) when `redis-server` is missing.
    pub fn start() -> Option<RedisServer> {
        Self::start_with(Options::default())
    }

    /// A server with a password or TLS, or `None` when `redis-server` is missing.
    pub fn start_with(options: Options) -> Option<RedisServer> {
        if !available() {
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "faas-memo-redis-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the server's directory");
        if options.tls {
            make_certificates(&dir);
        }
        // A port taken by someone else between `free_port` and the server's bind: try another.
        for _ in 0..5 {
            let mut server = RedisServer {
                port: free_port(),
                dir: dir.clone(),
                options: options.clone(),
                keeper: None,
                pid: 0,
                paused: false,
            };
            if server.spawn() {
                return Some(server);
            }
        }
        panic!(
            "redis-server did not start; see the logs in {}",
            dir.display()
        );
    }

    /// `redis://` (or `rediss://`) URL of the server, with its password, database 0.
    pub fn url(&self) -> String {
        let auth = self
            .options
            .password
            .as_deref()
            .map(|p| format!(":{p}@"))
            .unwrap_or_default();
        let scheme = if self.options.tls { "rediss" } else { "redis" };
        format!("{scheme}://{auth}127.0.0.1:{}/0", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate of a TLS server (for `SSL_CERT_FILE`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Starts the server on `self.port`; `false` if it did not come up (port taken).
    fn spawn(&mut self) -> bool {
        let port = self.port.to_string();
        let mut args: Vec<String> = vec![
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            "".into(),
            "--appendonly".into(),
            "no".into(),
            "--dir".into(),
            self.dir.display().to_string(),
            "--logfile".into(),
            self.dir.join("redis.log").display().to_string(),
            "--daemonize".into(),
            "no".into(),
        ];
        if self.options.tls {
            args.extend(
                [
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-cert-file",
                    "server.crt",
                    "--tls-key-file",
                    "server.key",
                    "--tls-ca-cert-file",
                    "ca.crt",
                    "--tls-auth-clients",
                    "no",
                ]
                .map(String::from),
            );
        } else {
            args.extend(["--port".to_owned(), port]);
        }
        if let Some(password) = &self.options.password {
            args.extend(["--requirepass".to_owned(), password.clone()]);
        }
        // The keeper shell prints the server's pid, then waits for its stdin to close, which
        // happens when this handle is dropped or the test process dies whatever the way
        // (even SIGKILL): then it kills the server. No server outlives its test.
        let mut keeper = Command::new("sh")
            .arg("-c")
            .arg(r#"redis-server "$@" & echo $!; read _ignored; kill -9 $! 2>/dev/null; wait"#)
            .arg("sh")
            .args(&args)
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run sh to start redis-server");
        let stdin = keeper.stdin.take().expect("piped stdin");
        let stdout = keeper.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the keeper prints the server's pid");
        self.pid = line.trim().parse().expect("a pid");
        self.keeper = Some((keeper, stdin));
        self.paused = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return true;
            }
            if let Some((keeper, _)) = &mut self.keeper {
                if keeper.try_wait().ok().flatten().is_some() {
                    break; // the server exited: port taken, or a bad option
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop();
        false
    }

    /// Whether the server answers a PING now.
    pub fn ping(&self) -> bool {
        self.connection()
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).ok())
            .is_some_and(|pong| pong == "PONG")
    }

    /// A fresh connection with a short timeout (TLS without verification).
    pub fn connection(&self) -> Option<redis::Connection> {
        let url = if self.options.tls {
            format!("{}#insecure", self.url())
        } else {
            self.url()
        };
        let client = redis::Client::open(url).ok()?;
        let conn = client
            .get_connection_with_timeout(Duration::from_millis(500))
            .ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        Some(conn)
    }

    /// Runs one command on a fresh connection.
    pub fn command<T: redis::FromRedisValue>(&self, args: &[&str]) -> T {
        let mut conn = self.connection().expect("the server is up");
        let mut cmd = redis::cmd(args[0]);
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        cmd.query(&mut conn)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    /// Every key of the server (a test helper: never used by the tier itself).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.command(&["KEYS", "*"]);
        keys.sort();
        keys
    }

    pub fn flushall(&self) {
        let _: String = self.command(&["FLUSHALL"]);
    }

    /// Kills the server with SIGKILL and waits until it is gone.
    pub fn kill(&mut self) {
        self.stop();
    }

    /// Starts the server again, on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.spawn() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGSTOP: the server keeps its connections but answers nothing (a slow server).
    pub fn pause(&mut self) {
        signal("STOP", self.pid);
        self.paused = true;
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&mut self) {
        signal("CONT", self.pid);
        self.paused = false;
    }

    fn stop(&mut self) {
        if let Some((mut keeper, stdin)) = self.keeper.take() {
            // Closing stdin makes the keeper SIGKILL the server (paused or not) and reap it.
            drop(stdin);
            let _ = keeper.wait();
        }
        // The listening socket closes with the process; wait until nothing answers.
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn signal(name: &str, pid: u32) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl (Debian's openssl package)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=faas-memo test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("write san.ext");
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
}
