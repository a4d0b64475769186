//! The store's error type.

use std::fmt;

/// What went wrong in a store operation or a builder setting.
///
/// Every message names the offending input and what is accepted instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheError {
    /// One entry alone is larger than the byte bound; it was refused and nothing was evicted.
    DataTooLarge {
        /// Accounted size of the refused entry: key + value + per-entry overhead.
        entry_bytes: u64,
        /// Bytes the bound leaves for entries once the store's fixed overhead is counted.
        available_bytes: u64,
        /// The byte bound itself.
        max_size_bytes: u64,
    },
    /// An entry that the process's memory budget ([`set_memory_budget`](crate::set_memory_budget),
    /// `FAAS_MEMO_BUDGET`) cannot hold: larger than the budget, or nothing was left to evict
    /// for it (every byte left is a store's fixed overhead or another insert's reservation). It
    /// was not stored.
    OverBudget {
        /// Accounted size of the refused entry: key + value + per-entry overhead.
        entry_bytes: u64,
        /// The budget.
        budget_bytes: u64,
    },
    /// A size string or number that is not a valid byte size (`"64Q"`, `"-1"`, `""`, `0`).
    InvalidSize {
        /// The input as given.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A bound or setting that is out of range (`max_items(0)`, zero shards).
    InvalidBound {
        /// The setting, as named in the builder (`max_items`).
        name: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        reason: &'static str,
    },
    /// A second-level tier (disk, Redis) that cannot be used, found when the store is built:
    /// a directory that cannot be created or written, a file that is not a faas-memo
    /// database or was written by a newer version, an unreachable server.
    TierUnavailable {
        /// The tier's kind: `"disk"`, `"redis"`.
        tier: &'static str,
        /// Where: the database file's path, the server's URL (without its password).
        location: String,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for CacheError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CacheError::DataTooLarge {
                entry_bytes,
                available_bytes,
                max_size_bytes,
            } => write!(
                f,
                "entry of {entry_bytes} bytes (key + value + per-entry overhead) is larger than \
                 the {available_bytes} bytes that max_size = {max_size_bytes} leaves for entries; \
                 it was not stored and nothing was evicted"
            ),
            CacheError::OverBudget {
                entry_bytes,
                budget_bytes,
            } => write!(
                f,
                "entry of {entry_bytes} bytes (key + value + per-entry overhead) does not fit in \
                 the process's memory budget of {budget_bytes} bytes (nothing left to evict); it \
                 was not stored"
            ),
            CacheError::InvalidSize { input, reason } => {
                write!(f, "invalid size {input:?}: {reason}")
            }
            CacheError::InvalidBound {
                name,
                value,
                reason,
            } => write!(f, "invalid {name} = {value}: {reason}"),
            CacheError::TierUnavailable {
                tier,
                location,
                reason,
            } => write!(f, "{tier} tier at {location} cannot be used: {reason}"),
        }
    }
}

impl std::error::Error for CacheError {}
