//! The connections to one Redis server, shared by every tier that names the same URL and time
//! budget in this process, behind one circuit breaker.
//!
//! - **Sync functions**: blocking connections (the `redis` crate's `Connection`), kept idle in
//!   a small pool between calls. A connection is opened with the time budget as its connect
//!   timeout (TCP, TLS handshake, `AUTH` and `SELECT` included) and reads and writes with the
//!   budget as their socket timeouts. A connection that failed is dropped; one found dead on
//!   reuse (the server restarted, or closed it while the process was frozen) is replaced once
//!   at once. No runtime and no thread.
//! - **Async functions**: the same connections, used from the tier layer's I/O threads (see
//!   `tier::io`): the caller's future waits for the call without blocking its executor, under
//!   any executor, and no runtime is asked of the user or started here.
//!
//! Every call first asks the [`Breaker`]: while it is open, Redis is skipped at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::{Client, Cmd, Connection, FromRedisValue, Pipeline};

use super::breaker::{Admission, Breaker};

/// Idle blocking connections kept per server; more concurrent sync callers open more and
/// close the extra ones afterwards.
const MAX_IDLE: usize = 16;

/// Why a call did not reach Redis, or failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The breaker is open.
    Skipped,
    /// An error, or the time budget ran out.
    Failed(redis::RedisError),
}

pub(crate) type Reply<T> = Result<T, Failure>;

/// The connections to one server.
pub(crate) struct Link {
    client: Client,
    /// What the URL names, for logs (without the password).
    display: String,
    budget: Duration,
    idle: Mutex<Vec<Connection>>,
    pub(crate) breaker: Breaker,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("server", &self.display)
            .field("budget", &self.budget)
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

/// The link for `url` and `budget`, shared in the process.
///
/// # Errors
///
/// The URL's error, when it is not a valid Redis URL.
pub(crate) fn link(url: &str, budget: Duration) -> Result<Arc<Link>, String> {
    type Links = Mutex<HashMap<(String, Duration), Arc<Link>>>;
    static LINKS: OnceLock<Links> = OnceLock::new();
    let links = LINKS.get_or_init(Default::default);
    let mut links = links.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(link) = links.get(&(url.to_owned(), budget)) {
        return Ok(link.clone());
    }
    let client = Client::open(url).map_err(|e| e.to_string())?;
    let display = super::without_password(url);
    let link = Arc::new(Link {
        client,
        display,
        budget,
        idle: Mutex::new(Vec::new()),
        // A probe is one call: it has the budget, twice over (connect, then the command).
        breaker: Breaker::new(budget * 2 + Duration::from_millis(10)),
    });
    links.insert((url.to_owned(), budget), link.clone());
    Ok(link)
}

impl Link {
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }

    pub(crate) fn server(&self) -> &str {
        &self.display
    }

    /// Runs `pipe` on a blocking connection, within the budget.
    pub(crate) fn query<T: FromRedisValue>(&self, pipe: &Pipeline) -> Reply<T> {
        self.call(|conn| pipe.query::<T>(conn))
    }

    /// Runs one command (a single command costs a few microseconds less than a pipeline of
    /// one in the `redis` crate: what an L2 hit's `GET` takes).
    pub(crate) fn query_one<T: FromRedisValue>(&self, cmd: &Cmd) -> Reply<T> {
        self.call(|conn| cmd.query::<T>(conn))
    }

    /// Runs `run` on a pooled (or new) blocking connection, within the budget.
    fn call<T>(&self, run: impl Fn(&mut Connection) -> redis::RedisResult<T>) -> Reply<T> {
        let admission = self.breaker.admit();
        if admission == Admission::Skip {
            return Err(Failure::Skipped);
        }
        let start = Instant::now();
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reused = pooled.is_some();
        let result = match pooled {
            Some(mut conn) => match run(&mut conn) {
                // A connection that died while idle (the server restarted or closed it, the
                // process was frozen): one more try on a new one, within what is left.
                Err(err) if reused && is_stale(&err) => {
                    let left = self.budget.saturating_sub(start.elapsed());
                    self.fresh(left)
                        .and_then(|mut conn| run(&mut conn).map(|v| (v, conn)))
                }
                other => other.map(|v| (v, conn)),
            },
            None => self
                .fresh(self.budget)
                .and_then(|mut conn| run(&mut conn).map(|v| (v, conn))),
        };
        match result {
            Ok((value, conn)) => {
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < MAX_IDLE {
                    idle.push(conn);
                }
                drop(idle);
                self.ok();
                Ok(value)
            }
            Err(err) => {
                self.fail(admission, &err);
                Err(Failure::Failed(err))
            }
        }
    }

    /// A new blocking connection, opened within `within`, with the budget as its read and
    /// write timeouts.
    fn fresh(&self, within: Duration) -> redis::RedisResult<Connection> {
        if within.is_zero() {
            return Err(timed_out());
        }
        let conn = self.client.get_connection_with_timeout(within)?;
        conn.set_read_timeout(Some(self.budget))?;
        conn.set_write_timeout(Some(self.budget))?;
        Ok(conn)
    }

    fn ok(&self) {
        self.breaker.succeeded();
    }

    fn fail(&self, admission: Admission, err: &redis::RedisError) {
        let was_closed = self.breaker.state() == super::BreakerState::Closed;
        if self.breaker.failed(admission == Admission::Probe) && was_closed {
            log::warn!(
                "faas-memo: Redis at {} skipped for a while after {} failures in a row (the \
                 last: {err}); values are computed meanwhile",
                self.display,
                super::breaker::THRESHOLD
            );
        }
    }
}

/// Whether an error on a reused connection means it had died while idle (rather than that the
/// server is slow now, when a retry would only wait again).
fn is_stale(err: &redis::RedisError) -> bool {
    !err.is_timeout() && (err.is_connection_dropped() || err.is_io_error())
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "faas-memo: Redis time budget exhausted",
    ))
}
