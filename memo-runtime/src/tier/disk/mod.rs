//! The disk tier (feature `disk`): a SQLite file shared by every process of a machine (and
//! kept across their restarts: a warm start).
//!
//! - **File**: `<dir>/faas-memo.sqlite3`, in WAL mode with `synchronous = NORMAL`: readers
//!   never wait for a writer, and a commit survives the process being killed (see `db`).
//!   Every function (every namespace) with the same directory shares the file.
//! - **Rows**: the tier layer's envelope (full key, value, expiry) with its namespace, key
//!   hash, the time it was stored and its absolute expiry (wall clock, milliseconds since the
//!   Unix epoch), so that another process, or this one after a restart, honours the TTL. See
//!   `schema`.
//! - **Bound**: the bytes of the entries (envelope plus [`ROW_OVERHEAD`](schema::ROW_OVERHEAD)
//!   per row) are kept by triggers in one row of `meta`. Each write then removes at most
//!   [`CULL_LIMIT`] rows, in this order: expired ones (on every 16th write, or when over
//!   the bound), those of older versions of a function's code, and while the bytes exceed
//!   the bound the ones stored longest ago. A
//!   write never stalls on a big cull; a write storm stays within the bound because each
//!   write frees at least what it added.
//! - **Time budget**: SQLite's busy timeout (default 100 ms): a call that would wait longer for
//!   another process's lock fails with a `timeout` error, which the tier layer counts; the
//!   value is computed.
//! - **Leases**: rows of `leases`, taken with one upsert that succeeds only if nobody holds
//!   the key or its holder's lease has ended: a killed or frozen holder is taken over after
//!   its lease.

mod builder;
pub(crate) mod db;
mod schema;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;

use crate::error::CacheError;
use crate::size::byte_size::ByteSize;
use crate::tier::{Lease, LeaseToken, Namespace, Tier, TierError};
use db::{optional, Db, Problem};

/// The name of the disk tier's file in its directory.
pub const DISK_FILE_NAME: &str = "faas-memo.sqlite3";

/// The environment variable that `disk = true` (and
/// [`Builder::disk_from_env`](crate::Builder::disk_from_env)) read the directory from; unset
/// or empty: `<temp dir>/faas-memo`.
pub const DISK_DIR_ENV: &str = "FAAS_MEMO_DISK_DIR";

/// The default byte bound of the disk tier's file: 256 MiB, half of the smallest `/tmp` of a
/// Lambda function (512 MB).
pub const DEFAULT_DISK_MAX_SIZE: u64 = 256 << 20;

/// The default time budget of one disk tier call: SQLite's busy timeout.
pub const DEFAULT_DISK_TIMEOUT: Duration = Duration::from_millis(100);

/// Rows a write removes at most (expired, of older code, or over the bound): the eviction work
/// of one write is bounded, as python-diskcache's `cull_limit`.
pub const CULL_LIMIT: usize = 10;

/// Under the bound, every how many writes (of one cache, in one process) a write also removes
/// expired rows.
const SWEEP_EVERY: u64 = 16;

/// Where a builder's disk tier is.
#[derive(Clone, Debug)]
pub(crate) enum DiskSource {
    Dir(PathBuf),
    /// [`DISK_DIR_ENV`], else `<temp dir>/faas-memo`, read when the store is built.
    Env,
}

impl DiskSource {
    fn dir(&self) -> PathBuf {
        match self {
            DiskSource::Dir(dir) => dir.clone(),
            DiskSource::Env => default_dir(),
        }
    }
}

/// The directory of `disk = true`: [`DISK_DIR_ENV`], else `<temp dir>/faas-memo`.
pub fn default_dir() -> PathBuf {
    match std::env::var_os(DISK_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir().join("faas-memo"),
    }
}

/// The disk settings a builder collects.
#[derive(Debug, Default)]
pub(crate) struct DiskSettings {
    pub(crate) max_size: Option<Result<ByteSize, CacheError>>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) page_limit: Option<u64>,
}

impl DiskSettings {
    /// The tier in `source`'s directory. `strict`: the file is opened (created, checked) now,
    /// and what is wrong is an error naming its path; otherwise it is opened on first use,
    /// and what is wrong is counted in the tier's errors until it is put right.
    pub(crate) fn open(&self, source: &DiskSource, strict: bool) -> Result<DiskTier, CacheError> {
        let max_bytes = match &self.max_size {
            None => DEFAULT_DISK_MAX_SIZE,
            Some(Ok(size)) => size.as_u64(),
            Some(Err(err)) => return Err(err.clone()),
        };
        let timeout = self.timeout.unwrap_or(DEFAULT_DISK_TIMEOUT);
        if timeout.is_zero() {
            return Err(CacheError::InvalidBound {
                name: "disk_timeout",
                value: "0s".to_owned(),
                reason: "the time budget of a disk call must be greater than zero",
            });
        }
        let db = db::shared(&source.dir(), self.page_limit);
        if strict {
            db.ready(timeout)
                .map_err(|err| CacheError::TierUnavailable {
                    tier: "disk",
                    location: db.path().display().to_string(),
                    reason: err.to_string(),
                })?;
        }
        Ok(DiskTier {
            db,
            max_bytes: i64::try_from(max_bytes).unwrap_or(i64::MAX),
            timeout,
            writes: AtomicU64::new(0),
        })
    }
}

/// The disk tier: a namespace-aware view of one database file.
pub(crate) struct DiskTier {
    db: Arc<Db>,
    max_bytes: i64,
    timeout: Duration,
    /// Writes of this tier, to sweep expired rows every [`SWEEP_EVERY`].
    writes: AtomicU64,
}

impl std::fmt::Debug for DiskTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskTier")
            .field("path", &self.db.path())
            .field("max_bytes", &self.max_bytes)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch (0 before it).
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Bits of a rowid taken from the key hash; the namespace id's top bits go above them.
const KEY_BITS: u32 = 39;

/// The rowid of `hash` in the namespace of id `ns` (see `schema`): non-negative, the same in
/// every process.
fn row_id(ns: u64, hash: u64) -> i64 {
    namespace_rows(ns).0 | (hash >> (64 - KEY_BITS)) as i64
}

/// The first and last rowids of the namespace of id `ns`.
fn namespace_rows(ns: u64) -> (i64, i64) {
    let first = ((ns >> (64 - (63 - KEY_BITS))) << KEY_BITS) as i64;
    (first, first | ((1i64 << KEY_BITS) - 1))
}

/// A u64 as SQLite's signed integer (the same 64 bits).
fn int(v: u64) -> i64 {
    v as i64
}

impl DiskTier {
    /// The write of [`put`](Tier::put), and the bounded cull after it, in one transaction:
    /// at most [`CULL_LIMIT`] rows, expired ones first, then those of older versions of the
    /// code, then, while over the bound, the ones stored longest ago. Under the bound, expired
    /// rows are swept every [`SWEEP_EVERY`] writes only: the probe costs more than the rest of
    /// the cull when nothing has expired.
    fn write_and_cull(
        &self,
        conn: &rusqlite::Connection,
        row: (i64, &Namespace, u64),
        entry: &[u8],
        expires: Option<i64>,
        now: i64,
        stale: Option<&[i64]>,
    ) -> Result<Vec<i64>, Problem> {
        let (id, ns, hash) = row;
        conn.prepare_cached(schema::PUT)?.execute(params![
            id,
            int(ns.id()),
            int(hash),
            now,
            expires,
            entry
        ])?;
        let mut bytes: i64 = conn
            .prepare_cached(schema::BYTES)?
            .query_row([], |r| r.get(0))?;
        let over = bytes > self.max_bytes;
        let sweep = over
            || self
                .writes
                .fetch_add(1, Ordering::Relaxed)
                .is_multiple_of(SWEEP_EVERY);
        let mut budget = CULL_LIMIT;
        if sweep {
            budget -= conn
                .prepare_cached(schema::CULL_EXPIRED)?
                .execute(params![now, budget as i64])?;
        }
        let mut emptied = Vec::new();
        for &old in stale.unwrap_or_default() {
            if budget == 0 {
                break;
            }
            let (first, last) = namespace_rows(old as u64);
            let culled = conn
                .prepare_cached(schema::CULL_NAMESPACE)?
                .execute(params![first, last, old, budget as i64])?;
            if culled < budget {
                conn.prepare_cached(schema::FORGET_NAMESPACE)?
                    .execute(params![old])?;
                emptied.push(old);
            }
            budget -= culled;
        }
        if over && budget > 0 {
            bytes = conn
                .prepare_cached(schema::BYTES)?
                .query_row([], |r| r.get(0))?;
            let mut oldest = conn.prepare_cached(schema::CULL_OLDEST)?;
            while bytes > self.max_bytes && budget > 0 {
                match optional(oldest.query_row([], |r| r.get::<_, i64>(0)))? {
                    Some(freed) => bytes -= freed,
                    None => break,
                }
                budget -= 1;
            }
        }
        Ok(emptied)
    }
}

impl Tier for DiskTier {
    fn kind(&self) -> &'static str {
        "disk"
    }

    fn location(&self) -> String {
        self.db.path().display().to_string()
    }

    fn budget(&self) -> Duration {
        self.timeout
    }

    /// Checks the file (see `Db::ready`), records the namespace if it is new, and looks for
    /// older versions of the function's code, whose entries the writes then reclaim. Only a
    /// new namespace writes: a writer of another process that holds the lock does not keep a
    /// known one from reading (it then fails on its writes only, counted there).
    fn attach(&self, ns: &Namespace) -> Result<(), TierError> {
        let (id, name) = (int(ns.id()), ns.name());
        let read = || {
            self.db.with(self.timeout, |conn| {
                let known = optional(
                    conn.prepare_cached(schema::KNOWN_NAMESPACE)?
                        .query_row(params![id], |_| Ok(())),
                )?
                .is_some();
                let others = conn
                    .prepare_cached(schema::OTHER_VERSIONS)?
                    .query_map(params![name, id], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()?;
                Ok((known, others))
            })
        };
        // Once per namespace and process: a file that another process is creating or
        // switching to WAL answers "busy" without SQLite's busy handler for a moment.
        let started = std::time::Instant::now();
        let (known, others) = loop {
            match read() {
                Err(err)
                    if err.kind() == crate::tier::TierErrorKind::Timeout
                        && started.elapsed() < db::INIT_BUDGET =>
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other?,
            }
        };
        if !known {
            let now = millis(SystemTime::now());
            let recorded = self.db.write(self.timeout, |conn| {
                conn.prepare_cached(schema::ATTACH)?
                    .execute(params![id, name, ns.tag(), now])?;
                Ok(())
            });
            match recorded {
                Ok(()) => {}
                // Recorded by the next process (or the next attach of this one).
                Err(err) if err.kind() == crate::tier::TierErrorKind::Timeout => {}
                Err(err) => return Err(err),
            }
        }
        self.db.add_stale(&others);
        Ok(())
    }

    fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError> {
        let now = millis(SystemTime::now());
        self.db.with(self.timeout, |conn| {
            let mut get = conn.prepare_cached(schema::GET)?;
            optional(get.query_row(
                params![row_id(ns.id(), hash), int(ns.id()), int(hash), now],
                |r| r.get::<_, Vec<u8>>(0),
            ))
        })
    }

    fn put(
        &self,
        ns: &Namespace,
        hash: u64,
        entry: &[u8],
        expires: Option<SystemTime>,
        now: SystemTime,
    ) -> Result<(), TierError> {
        let (now, expires) = (millis(now), expires.map(millis));
        let cost = entry.len() as i64 + schema::ROW_OVERHEAD;
        // Expired already (a slow body with a short TTL), or larger than the whole bound:
        // not stored, and an older value must not outlive it.
        if expires.is_some_and(|at| at <= now) || cost > self.max_bytes {
            return self.remove(ns, hash).map(drop);
        }
        let id = row_id(ns.id(), hash);
        let stale = self.db.stale();
        let emptied = self.db.write(self.timeout, |conn| {
            self.write_and_cull(conn, (id, ns, hash), entry, expires, now, stale.as_deref())
        })?;
        if !emptied.is_empty() {
            self.db.reclaimed(&emptied);
        }
        Ok(())
    }

    fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError> {
        self.db.write(self.timeout, |conn| {
            let removed = conn.prepare_cached(schema::REMOVE)?.execute(params![
                row_id(ns.id(), hash),
                int(ns.id()),
                int(hash)
            ])?;
            Ok(removed > 0)
        })
    }

    fn clear(&self, ns: &Namespace) -> Result<(), TierError> {
        self.db.write(self.timeout, |conn| {
            let (first, last) = namespace_rows(ns.id());
            conn.prepare_cached(schema::CLEAR)?
                .execute(params![first, last, int(ns.id())])?;
            conn.prepare_cached(schema::CLEAR_LEASES)?
                .execute(params![int(ns.id())])?;
            Ok(())
        })
    }

    fn lease(
        &self,
        ns: &Namespace,
        hash: u64,
        owner: LeaseToken,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<Lease, TierError> {
        let (until_ms, now_ms) = (millis(until), millis(now));
        self.db.write(self.timeout, |conn| {
            let taken = conn.prepare_cached(schema::LEASE)?.execute(params![
                int(ns.id()),
                int(hash),
                int(owner.0),
                until_ms,
                now_ms
            ])?;
            if taken > 0 {
                return Ok(Lease::Acquired);
            }
            let held: Option<i64> = optional(
                conn.prepare_cached(schema::LEASE_HOLDER)?
                    .query_row(params![int(ns.id()), int(hash)], |r| r.get(0)),
            )?;
            let left = held.map_or(0, |at| at.saturating_sub(now_ms).max(0)) as u64;
            Ok(Lease::Held {
                until: now + Duration::from_millis(left),
            })
        })
    }

    fn release(&self, ns: &Namespace, hash: u64, owner: LeaseToken) -> Result<(), TierError> {
        self.db.write(self.timeout, |conn| {
            conn.prepare_cached(schema::RELEASE)?.execute(params![
                int(ns.id()),
                int(hash),
                int(owner.0)
            ])?;
            Ok(())
        })
    }

    fn bytes(&self, ns: &Namespace) -> Option<u64> {
        self.db
            .with(self.timeout, |conn| {
                let (first, last) = namespace_rows(ns.id());
                let bytes: i64 = conn
                    .prepare_cached(schema::NAMESPACE_BYTES)?
                    .query_row(params![first, last, int(ns.id())], |r| r.get(0))?;
                Ok(bytes.max(0) as u64)
            })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ids_are_stable_and_a_namespace_is_one_range() {
        let (a, b) = (Namespace::new("f", "1"), Namespace::new("f", "2"));
        assert_eq!(row_id(a.id(), 7), row_id(Namespace::new("f", "1").id(), 7));
        assert_ne!(namespace_rows(a.id()), namespace_rows(b.id()));
        for hash in [0, 1, u64::MAX, 0x8000_0000_0000_0000, 12_345_678_901_234] {
            for ns in [&a, &b] {
                let (first, last) = namespace_rows(ns.id());
                let id = row_id(ns.id(), hash);
                assert!(id >= 0 && first <= id && id <= last, "{hash} {id}");
            }
        }
        assert_ne!(row_id(a.id(), u64::MAX), row_id(a.id(), 0));
        let (first, last) = namespace_rows(u64::MAX);
        assert_eq!(last, i64::MAX);
        assert!(first > 0);
    }

    #[test]
    fn millis_before_the_epoch_are_zero() {
        assert_eq!(millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert_eq!(millis(UNIX_EPOCH + Duration::from_millis(1500)), 1500);
    }
}
