//! The database's layout, and every statement the disk tier runs (each prepared once per
//! connection and kept in its statement cache).
//!
//! | table | row | key |
//! | --- | --- | --- |
//! | `entries` | one cached value: its namespace id, key hash, the time it was stored and its expiry (milliseconds since the Unix epoch; `NULL`: none), the tier layer's envelope | `id`, the rowid: the top 24 bits of the namespace id, then the top 39 bits of the key hash, so a lookup is one B-tree descent and a namespace's rows are one range of rowids (no index on the namespace to keep up at each write); `ns` and `hash` are compared too, so two keys on one rowid are a miss, never a wrong value |
//! | `leases` | who computes a key now, until when | (namespace, key hash) |
//! | `namespaces` | every namespace that attached: name and tag, to find the older versions of a function's code | namespace id |
//! | `meta` | `bytes`: what the entries take, kept by triggers on `entries` | name |
//!
//! `PRAGMA user_version` holds [`SCHEMA_VERSION`] and `PRAGMA application_id`
//! [`APPLICATION_ID`]: a file of a newer schema, or someone else's database, is left alone.

/// The layout version this build reads and writes.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// `PRAGMA application_id` of a faas-memo database: "FMEM".
pub(crate) const APPLICATION_ID: i64 = 0x464D_454D;

/// What a row costs beyond its envelope, in the byte count the bound applies to: its
/// integers, its entries in the two indexes, the cell's header. An estimate, so that the
/// bound on many small entries is nearer to the file's size.
pub(crate) const ROW_OVERHEAD: i64 = 64;

/// Creates the schema in a new file (run inside `BEGIN IMMEDIATE`, after checking that
/// `user_version` is still 0).
pub(crate) const CREATE: &str = "
CREATE TABLE IF NOT EXISTS entries (
    id      INTEGER PRIMARY KEY,
    ns      INTEGER NOT NULL,
    hash    INTEGER NOT NULL,
    stored  INTEGER NOT NULL,
    expires INTEGER,
    value   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_stored ON entries (stored);
CREATE INDEX IF NOT EXISTS entries_expires ON entries (expires) WHERE expires IS NOT NULL;
CREATE TABLE IF NOT EXISTS leases (
    ns    INTEGER NOT NULL,
    hash  INTEGER NOT NULL,
    owner INTEGER NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (ns, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS namespaces (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    tag  TEXT NOT NULL,
    seen INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS namespaces_name ON namespaces (name);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('bytes', 0);
CREATE TRIGGER IF NOT EXISTS entries_insert AFTER INSERT ON entries BEGIN
    UPDATE meta SET value = value + length(NEW.value) + 64 WHERE key = 'bytes';
END;
CREATE TRIGGER IF NOT EXISTS entries_delete AFTER DELETE ON entries BEGIN
    UPDATE meta SET value = value - length(OLD.value) - 64 WHERE key = 'bytes';
END;
CREATE TRIGGER IF NOT EXISTS entries_update AFTER UPDATE OF value ON entries BEGIN
    UPDATE meta SET value = value - length(OLD.value) + length(NEW.value) WHERE key = 'bytes';
END;
";

pub(crate) const GET: &str = "SELECT value FROM entries \
     WHERE id = ?1 AND ns = ?2 AND hash = ?3 AND (expires IS NULL OR expires > ?4)";

/// Writes an entry; an entry of another (namespace, hash) on the same id is replaced (a
/// collision of ids: the older one becomes a miss).
pub(crate) const PUT: &str = "INSERT INTO entries (id, ns, hash, stored, expires, value) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
     ON CONFLICT (id) DO UPDATE SET ns = excluded.ns, hash = excluded.hash, \
     stored = excluded.stored, expires = excluded.expires, value = excluded.value";

pub(crate) const REMOVE: &str = "DELETE FROM entries WHERE id = ?1 AND ns = ?2 AND hash = ?3";

/// The rows of namespace `?3`: rowids `?1..=?2`.
pub(crate) const CLEAR: &str = "DELETE FROM entries WHERE id BETWEEN ?1 AND ?2 AND ns = ?3";
pub(crate) const CLEAR_LEASES: &str = "DELETE FROM leases WHERE ns = ?1";

/// At most `?2` entries expired at `?1`, the soonest expired first (the partial index on
/// `expires`: one seek when none has).
pub(crate) const CULL_EXPIRED: &str = "DELETE FROM entries WHERE id IN \
     (SELECT id FROM entries WHERE expires <= ?1 ORDER BY expires LIMIT ?2)";

/// The entry stored longest ago, and the bytes it freed.
pub(crate) const CULL_OLDEST: &str = "DELETE FROM entries WHERE id = \
     (SELECT id FROM entries ORDER BY stored LIMIT 1) RETURNING length(value) + 64";

/// At most `?4` entries of namespace `?3` (an older version of a function's code), rowids
/// `?1..=?2`.
pub(crate) const CULL_NAMESPACE: &str = "DELETE FROM entries WHERE id IN \
     (SELECT id FROM entries WHERE id BETWEEN ?1 AND ?2 AND ns = ?3 LIMIT ?4)";

pub(crate) const FORGET_NAMESPACE: &str = "DELETE FROM namespaces WHERE id = ?1";

pub(crate) const BYTES: &str = "SELECT value FROM meta WHERE key = 'bytes'";

pub(crate) const NAMESPACE_BYTES: &str = "SELECT COALESCE(SUM(length(value) + 64), 0) \
     FROM entries WHERE id BETWEEN ?1 AND ?2 AND ns = ?3";

/// Records a namespace (`seen`: when it last attached).
pub(crate) const ATTACH: &str = "INSERT INTO namespaces (id, name, tag, seen) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE SET seen = excluded.seen";

pub(crate) const KNOWN_NAMESPACE: &str = "SELECT 1 FROM namespaces WHERE id = ?1";

/// The other namespaces of the same name: older (or other) versions of the code.
pub(crate) const OTHER_VERSIONS: &str = "SELECT id FROM namespaces WHERE name = ?1 AND id != ?2";

/// Takes the lease if nobody holds it or its holder's lease ended by `?5`.
pub(crate) const LEASE: &str = "INSERT INTO leases (ns, hash, owner, until) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (ns, hash) DO UPDATE SET owner = excluded.owner, until = excluded.until \
     WHERE leases.until <= ?5";

pub(crate) const LEASE_HOLDER: &str = "SELECT until FROM leases WHERE ns = ?1 AND hash = ?2";

pub(crate) const RELEASE: &str = "DELETE FROM leases WHERE ns = ?1 AND hash = ?2 AND owner = ?3";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_triggers_count_the_row_overhead() {
        // The literal in the triggers and statements is ROW_OVERHEAD.
        assert_eq!(ROW_OVERHEAD, 64);
        assert_eq!(CREATE.matches("+ 64").count(), 1);
        assert_eq!(CREATE.matches("- 64").count(), 1);
        assert!(CULL_OLDEST.ends_with("length(value) + 64"));
    }
}
