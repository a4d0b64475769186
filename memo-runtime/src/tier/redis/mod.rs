//! The Redis tier (feature `redis`): the second level shared by a fleet of processes.
//!
//! - **Keys**: `<prefix>:<namespace>:<key hash>` (the hash in 16 hex digits, the namespace as
//!   `name#tag`); the value is the tier layer's envelope, which carries the full key bytes (a
//!   hash collision is a miss) and the absolute expiry. The server expires the entry itself:
//!   `SET .. PX` with what remains of its TTL.
//! - **Leases**: `<key>:lease`, taken with `SET NX PX` and the owner's random token (with its
//!   `PTTL` in the same round trip, for a holder's expiry), and released by a script that
//!   deletes it only if it still holds that token, so a holder whose lease expired and was
//!   taken over cannot delete the next holder's.
//! - **Clear**: the namespace's keys found with `SCAN MATCH` (never `KEYS` or `FLUSHDB`),
//!   deleted in batches with `UNLINK`.
//! - **Outages**: every call has the time budget (`redis_timeout`, default 50 ms) and goes
//!   through a circuit breaker shared by every cache on the same server (see `breaker`); a
//!   call that fails or is skipped is an error of the tier, which the tier layer counts and
//!   the memoized function never sees.

mod breaker;
mod builder;
mod link;
#[cfg(test)]
mod server_tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use redis::Value;

use crate::error::CacheError;
use crate::tier::{Lease, LeaseToken, Namespace, Tier, TierError, TierErrorKind};

pub use breaker::BreakerState;
use link::{Failure, Link};

/// The prefix of every key the Redis tier writes, before the namespace:
/// `faas-memo:<namespace>:<key hash>`.
pub const DEFAULT_REDIS_PREFIX: &str = "faas-memo";

/// The default time budget of one Redis call (`redis_timeout`).
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(50);

/// The environment variable that `redis = true` (and
/// [`Builder::redis_from_env`](crate::Builder::redis_from_env)) read the URL from.
pub const REDIS_URL_ENV: &str = "FAAS_MEMO_REDIS_URL";

/// Deletes the lease only if it still holds the caller's token.
const RELEASE: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                       return redis.call('del', KEYS[1]) else return 0 end";

/// Keys asked per `SCAN` step and deleted per `UNLINK` by `clear`.
const CLEAR_BATCH: usize = 500;

/// Where a builder's Redis tier connects to.
#[derive(Clone, Debug)]
pub(crate) enum RedisSource {
    Url(String),
    /// [`REDIS_URL_ENV`], read when the store is built.
    Env,
}

/// The Redis settings a builder collects.
#[derive(Clone, Debug)]
pub(crate) struct RedisSpec {
    pub(crate) source: RedisSource,
    pub(crate) timeout: Duration,
    pub(crate) prefix: String,
}

impl RedisSpec {
    #[cfg(test)]
    pub(crate) fn new(source: RedisSource) -> Self {
        RedisSpec {
            source,
            timeout: DEFAULT_REDIS_TIMEOUT,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }

    /// The tier, or why it cannot be used: no URL in the environment, a URL that is not a
    /// Redis URL, a zero budget. Nothing is sent to the server: an unreachable server is an
    /// outage like any other, which the breaker handles.
    pub(crate) fn open(&self) -> Result<RedisTier, CacheError> {
        let unavailable = |location: String, reason: String| CacheError::TierUnavailable {
            tier: "redis",
            location,
            reason,
        };
        let url = match &self.source {
            RedisSource::Url(url) => url.clone(),
            RedisSource::Env => match std::env::var(REDIS_URL_ENV) {
                Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
                _ => {
                    return Err(unavailable(
                        format!("${REDIS_URL_ENV}"),
                        format!("`redis = true` reads the server's URL from {REDIS_URL_ENV}, which is not set"),
                    ))
                }
            },
        };
        if self.timeout.is_zero() {
            return Err(CacheError::InvalidBound {
                name: "redis_timeout",
                value: "0s".to_owned(),
                reason: "the time budget of a Redis call must be greater than zero",
            });
        }
        let link = link::link(&url, self.timeout)
            .map_err(|reason| unavailable(without_password(&url), reason))?;
        Ok(RedisTier {
            link,
            prefix: self.prefix.clone(),
        })
    }
}

/// The Redis tier: a namespace-aware view of the connections to one server.
pub(crate) struct RedisTier {
    link: Arc<Link>,
    prefix: String,
}

impl fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTier")
            .field("server", &self.link.server())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisTier {
    fn key(&self, ns: &Namespace, hash: u64) -> String {
        format!("{}:{}:{hash:016x}", self.prefix, ns.as_str())
    }

    fn lease_key(&self, ns: &Namespace, hash: u64) -> String {
        format!("{}:{}:{hash:016x}:lease", self.prefix, ns.as_str())
    }

    fn run(&self, pipe: &redis::Pipeline) -> Result<Vec<Value>, TierError> {
        self.link.query::<Vec<Value>>(pipe).map_err(tier_error)
    }

    pub(crate) fn breaker(&self) -> BreakerState {
        self.link.breaker.state()
    }
}

impl Tier for RedisTier {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn location(&self) -> String {
        self.link.server().to_owned()
    }

    fn budget(&self) -> Duration {
        self.link.budget()
    }

    fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError> {
        let mut get = redis::cmd("GET");
        get.arg(self.key(ns, hash));
        match self.link.query_one::<Value>(&get).map_err(tier_error)? {
            Value::BulkString(bytes) => Ok(Some(bytes)),
            Value::Nil => Ok(None),
            other => Err(unexpected("GET", Some(other))),
        }
    }

    fn put(
        &self,
        ns: &Namespace,
        hash: u64,
        entry: &[u8],
        expires: Option<SystemTime>,
        now: SystemTime,
    ) -> Result<(), TierError> {
        let key = self.key(ns, hash);
        let cmd = match expires.map(|at| at.duration_since(now).unwrap_or_default()) {
            // Expired already (a slow body with a short TTL): nothing worth storing, and an
            // older value must not outlive it.
            Some(left) if left < Duration::from_millis(1) => {
                let mut unlink = redis::cmd("UNLINK");
                unlink.arg(key);
                unlink
            }
            Some(left) => {
                let mut set = redis::cmd("SET");
                set.arg(key)
                    .arg(entry)
                    .arg("PX")
                    .arg(left.as_millis() as u64);
                set
            }
            None => {
                let mut set = redis::cmd("SET");
                set.arg(key).arg(entry);
                set
            }
        };
        self.link
            .query_one::<Value>(&cmd)
            .map(drop)
            .map_err(tier_error)
    }

    fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError> {
        let mut unlink = redis::cmd("UNLINK");
        unlink.arg(self.key(ns, hash));
        match self.link.query_one::<Value>(&unlink).map_err(tier_error)? {
            Value::Int(n) => Ok(n > 0),
            other => Err(unexpected("UNLINK", Some(other))),
        }
    }

    fn clear(&self, ns: &Namespace) -> Result<(), TierError> {
        let pattern = format!("{}*", glob_escape(&format!("{}:{}:", self.prefix, ns)));
        let mut cursor = 0u64;
        loop {
            let mut scan = redis::pipe();
            scan.cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(CLEAR_BATCH);
            let reply = self.run(&scan)?.pop();
            let (next, keys): (u64, Vec<Vec<u8>>) = reply
                .and_then(|v| redis::from_redis_value(v).ok())
                .ok_or_else(|| unexpected("SCAN", None))?;
            if !keys.is_empty() {
                let mut unlink = redis::pipe();
                unlink.cmd("UNLINK").arg(keys).ignore();
                self.run(&unlink)?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    fn lease(
        &self,
        ns: &Namespace,
        hash: u64,
        owner: LeaseToken,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, TierError> {
        let key = self.lease_key(ns, hash);
        let length = until.duration_since(now).unwrap_or_default();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(&key)
            .arg(owner.0)
            .arg("NX")
            .arg("PX")
            .arg((length.as_millis() as u64).max(1))
            .cmd("PTTL")
            .arg(&key);
        let mut replies = self.run(&pipe)?.into_iter();
        match (replies.next(), replies.next()) {
            (Some(Value::Okay), _) => Ok(Lease::Acquired),
            (Some(Value::Nil), Some(Value::Int(left))) => Ok(Lease::Held {
                // -2: released since; -1: no expiry (not ours): treat as ending now.
                until: now + Duration::from_millis(left.max(0) as u64),
            }),
            (other, _) => Err(unexpected("SET NX", other)),
        }
    }

    fn release(&self, ns: &Namespace, hash: u64, owner: LeaseToken) -> Result<(), TierError> {
        let mut pipe = redis::pipe();
        pipe.cmd("EVAL")
            .arg(RELEASE)
            .arg(1)
            .arg(self.lease_key(ns, hash))
            .arg(owner.0)
            .ignore();
        self.run(&pipe).map(drop)
    }

    fn health(&self) -> Option<&'static str> {
        Some(match self.breaker() {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        })
    }

    fn skipping(&self) -> bool {
        self.link.breaker.skipping()
    }
}

fn tier_error(failure: Failure) -> TierError {
    match failure {
        Failure::Skipped => TierError::new(
            TierErrorKind::Unavailable,
            "skipped: the circuit breaker is open after repeated failures",
        ),
        Failure::Failed(err) => {
            let kind = if err.is_timeout() {
                TierErrorKind::Timeout
            } else if err.code() == Some("OOM") {
                TierErrorKind::Full
            } else if err.is_io_error()
                || err.is_connection_refusal()
                || err.is_connection_dropped()
            {
                TierErrorKind::Unavailable
            } else {
                TierErrorKind::Other
            };
            TierError::new(kind, err.to_string())
        }
    }
}

fn unexpected(command: &str, reply: Option<Value>) -> TierError {
    TierError::new(
        TierErrorKind::Other,
        format!("unexpected reply to {command}: {reply:?}"),
    )
}

/// The URL with its password replaced, for logs and errors.
pub(crate) fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A `SCAN MATCH` pattern that matches `literal` literally.
fn glob_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape("a:b*c?[d]"), "a:b\\*c\\?\\[d\\]");
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            without_password("rediss://:s3cret@cache:6380/1"),
            "rediss://:***@cache:6380/1"
        );
        assert_eq!(
            without_password("redis://user:pw@h/0"),
            "redis://user:***@h/0"
        );
        assert_eq!(without_password("redis://h:6379"), "redis://h:6379");
    }
}
