//! One database file, shared by every disk tier of this process that names its directory:
//! opening it (pragmas, schema check), a pool of connections, a process-wide write lock, and
//! SQLite's errors as tier errors.
//!
//! - **Connections**: rusqlite's `Connection` is used by one thread at a time; idle ones wait
//!   in a small pool, each with its prepared statements cached. Every connection sets
//!   `synchronous = NORMAL` (with WAL: a commit is durable against a crash of the process,
//!   which is what a cache needs; a power loss may undo the last commits, never corrupt the
//!   file), and the busy timeout (the tier's time budget). No `mmap_size`: with it, the
//!   write-through took 1.5x as long (memo-bench `disk`, D3). Its effect on reads is not
//!   settled: an L2 hit was 1.63x the raw lookup with it and 1.18x without (D2), but D4's
//!   throughput was 124 000 reads/s with it and 70 000 without, in runs under different loads.
//! - **Writers of this process** take a mutex before `BEGIN IMMEDIATE`: they queue on it in
//!   microseconds, where SQLite's busy handler would make them sleep 1, 2, 5 ms... SQLite's
//!   own locks order the writers of different processes, within the busy timeout.
//! - **Readers** never wait for a writer (WAL): a read sees the last commit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::schema::{APPLICATION_ID, CREATE, SCHEMA_VERSION};
use crate::tier::{TierError, TierErrorKind};

/// How long opening a file may wait for another process that creates its schema.
pub(crate) const INIT_BUDGET: Duration = Duration::from_secs(2);

/// Idle connections kept; more concurrent callers open more and close the extra ones.
const MAX_IDLE: usize = 16;

/// Statements cached per connection (the tier runs about 20).
const STATEMENTS: usize = 32;

/// A pooled connection and the busy timeout it is set to.
struct Conn {
    conn: Connection,
    timeout: Duration,
}

/// The database of one directory.
pub(crate) struct Db {
    dir: PathBuf,
    path: PathBuf,
    /// `PRAGMA max_page_count` of every connection: a full disk on demand, for tests.
    page_limit: Option<u64>,
    idle: Mutex<Vec<Conn>>,
    /// Whether the schema was checked (and created) by this process.
    ready: AtomicBool,
    init: Mutex<()>,
    /// Writers of this process, one at a time (see the module's doc).
    write: parking_lot::Mutex<()>,
    /// Namespaces of older versions of a function's code, whose entries the writes of this
    /// process reclaim a few at a time.
    stale: Mutex<Vec<i64>>,
    has_stale: AtomicBool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The database of `dir`, shared in the process (nothing is opened yet).
pub(crate) fn shared(dir: &Path, page_limit: Option<u64>) -> Arc<Db> {
    type Dbs = Mutex<HashMap<(PathBuf, Option<u64>), Weak<Db>>>;
    static DBS: OnceLock<Dbs> = OnceLock::new();
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut dbs = DBS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let key = (dir.clone(), page_limit);
    if let Some(db) = dbs.get(&key).and_then(Weak::upgrade) {
        return db;
    }
    dbs.retain(|_, db| db.strong_count() > 0);
    let db = Arc::new(Db {
        path: dir.join(super::DISK_FILE_NAME),
        dir,
        page_limit,
        idle: Mutex::new(Vec::new()),
        ready: AtomicBool::new(false),
        init: Mutex::new(()),
        write: parking_lot::Mutex::new(()),
        stale: Mutex::new(Vec::new()),
        has_stale: AtomicBool::new(false),
    });
    dbs.insert(key, Arc::downgrade(&db));
    db
}

impl Db {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file if this process has not yet: creates the directory, the file and its
    /// schema, or checks the schema of an existing file.
    ///
    /// # Errors
    ///
    /// `Unavailable` (the directory or file cannot be created or opened), `Corrupt` (not a
    /// database), `Incompatible` (a newer schema, or another program's database), `Timeout`.
    pub(crate) fn ready(&self, timeout: Duration) -> Result<(), TierError> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _init = self.init.lock().unwrap_or_else(|e| e.into_inner());
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            TierError::new(
                TierErrorKind::Unavailable,
                format!("cannot create the directory {}: {e}", self.dir.display()),
            )
        })?;
        let mut conn = self.open(timeout)?;
        // Processes that start together race to create the file's schema, and switching a
        // new file to WAL does not wait for SQLite's busy handler: retry, for longer than one
        // call's budget (it happens once per file, and a loaded machine may take that long
        // to create it), so that a cold start of several processes does not leave the tier
        // skipped.
        let started = std::time::Instant::now();
        let budget = timeout.max(INIT_BUDGET);
        loop {
            match self.init_schema(&mut conn.conn).map_err(|e| error(&e)) {
                Ok(()) => break,
                Err(err) if err.kind() == TierErrorKind::Timeout && started.elapsed() < budget => {
                    if !conn.conn.is_autocommit() {
                        let _ = conn.conn.execute_batch("ROLLBACK");
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(err) => return Err(err),
            }
        }
        self.ready.store(true, Ordering::Release);
        self.give_back(conn);
        Ok(())
    }

    /// The schema check of [`ready`](Self::ready), on its connection.
    fn init_schema(&self, conn: &mut Connection) -> Result<(), Problem> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let app: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Problem::Tier(TierError::new(
                TierErrorKind::Incompatible,
                format!(
                    "{} was written by a newer faas-memo (schema {version}; this one reads \
                     {SCHEMA_VERSION}): left alone, values are computed",
                    self.path.display()
                ),
            )));
        }
        let foreign = |what: String| {
            Problem::Tier(TierError::new(
                TierErrorKind::Incompatible,
                format!(
                    "{} is not a faas-memo database ({what}): left alone; give `disk` a \
                     directory of its own",
                    self.path.display()
                ),
            ))
        };
        if app != 0 && app != APPLICATION_ID {
            return Err(foreign(format!("application_id {app:#x}")));
        }
        if version == SCHEMA_VERSION {
            let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                conn.pragma_update(None, "journal_mode", "WAL")?;
            }
            return Ok(());
        }
        // A new (empty) file: WAL is set outside a transaction and kept by the file.
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
             AND name NOT IN ('entries', 'leases', 'namespaces', 'meta')",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(foreign(format!("{tables} tables of another program")));
        }
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Problem::Tier(TierError::new(
                TierErrorKind::Unavailable,
                format!(
                    "{}: the file system does not support SQLite's WAL mode (journal_mode is {mode})",
                    self.path.display()
                ),
            )));
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have created it meanwhile.
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 0 {
            tx.execute_batch(CREATE)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A new connection with the tier's pragmas.
    fn open(&self, timeout: Duration) -> Result<Conn, TierError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| {
            let mut err = error(&Problem::Sqlite(e));
            if err.kind() == TierErrorKind::Other {
                err = TierError::new(TierErrorKind::Unavailable, err.message());
            }
            TierError::new(
                err.kind(),
                format!("cannot open {}: {}", self.path.display(), err.message()),
            )
        })?;
        let setup = || -> rusqlite::Result<()> {
            conn.busy_timeout(timeout)?;
            conn.set_prepared_statement_cache_capacity(STATEMENTS);
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            if let Some(pages) = self.page_limit {
                conn.pragma_update(None, "max_page_count", pages as i64)?;
            }
            Ok(())
        };
        setup().map_err(|e| error(&Problem::Sqlite(e)))?;
        Ok(Conn { conn, timeout })
    }

    fn give_back(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Runs `run` on a pooled (or new) connection set to `timeout`.
    pub(crate) fn with<T>(
        &self,
        timeout: Duration,
        run: impl FnOnce(&Connection) -> Result<T, Problem>,
    ) -> Result<T, TierError> {
        self.ready(timeout)?;
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => self.open(timeout)?,
        };
        if conn.timeout != timeout {
            conn.conn
                .busy_timeout(timeout)
                .map_err(|e| error(&Problem::Sqlite(e)))?;
            conn.timeout = timeout;
        }
        match run(&conn.conn) {
            Ok(value) => {
                self.give_back(conn);
                Ok(value)
            }
            Err(problem) => {
                if !conn.conn.is_autocommit() {
                    let _ = conn.conn.execute_batch("ROLLBACK");
                }
                let err = error(&problem);
                // A connection that met a damaged or vanished file is not reused.
                if !matches!(
                    err.kind(),
                    TierErrorKind::Corrupt | TierErrorKind::Unavailable
                ) {
                    self.give_back(conn);
                }
                Err(err)
            }
        }
    }

    /// Runs `run` in a write transaction (`BEGIN IMMEDIATE`), after the writers of this
    /// process before it; within `timeout` for both waits.
    pub(crate) fn write<T>(
        &self,
        timeout: Duration,
        run: impl FnOnce(&Connection) -> Result<T, Problem>,
    ) -> Result<T, TierError> {
        let Some(_turn) = self.write.try_lock_for(timeout) else {
            return Err(TierError::new(
                TierErrorKind::Timeout,
                format!(
                    "{}: other writers of this process held it for the whole budget",
                    self.path.display()
                ),
            ));
        };
        self.with(timeout, |conn| {
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            let value = run(conn)?;
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(value)
        })
    }

    /// Records namespaces whose entries the writes of this process reclaim.
    pub(crate) fn add_stale(&self, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if !stale.contains(id) {
                stale.push(*id);
            }
        }
        self.has_stale.store(true, Ordering::Release);
    }

    /// The namespaces to reclaim, if any (one atomic load when there are none).
    pub(crate) fn stale(&self) -> Option<Vec<i64>> {
        if !self.has_stale.load(Ordering::Acquire) {
            return None;
        }
        let stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        Some(stale.clone())
    }

    /// Namespaces found empty: no more reclaiming.
    pub(crate) fn reclaimed(&self, ids: &[i64]) {
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        stale.retain(|id| !ids.contains(id));
        self.has_stale.store(!stale.is_empty(), Ordering::Release);
    }
}

/// What went wrong in a call: SQLite's error, or one of the tier's own.
#[derive(Debug)]
pub(crate) enum Problem {
    Sqlite(rusqlite::Error),
    Tier(TierError),
}

impl From<rusqlite::Error> for Problem {
    fn from(err: rusqlite::Error) -> Self {
        Problem::Sqlite(err)
    }
}

/// SQLite's error as a tier error of the kind the tier layer counts.
pub(crate) fn error(problem: &Problem) -> TierError {
    let err = match problem {
        Problem::Tier(err) => return err.clone(),
        Problem::Sqlite(err) => err,
    };
    let kind = match err {
        rusqlite::Error::SqliteFailure(e, _) => match e.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => TierErrorKind::Timeout,
            ErrorCode::DiskFull => TierErrorKind::Full,
            // SQLITE_IOERR_SHMSIZE: no room to grow the WAL index (a full tmpfs).
            ErrorCode::SystemIoFailure if e.extended_code == 4874 => TierErrorKind::Full,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => TierErrorKind::Corrupt,
            ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::PermissionDenied
            | ErrorCode::SystemIoFailure
            | ErrorCode::NotFound => TierErrorKind::Unavailable,
            _ => TierErrorKind::Other,
        },
        _ => TierErrorKind::Other,
    };
    TierError::new(kind, err.to_string())
}

/// `Option` of a row that may be missing.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>, Problem> {
    result.optional().map_err(Problem::from)
}
