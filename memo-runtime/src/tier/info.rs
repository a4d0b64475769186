//! [`TierInfo`]: the statistics of one tier in a [`CacheInfo`](crate::CacheInfo).

use std::fmt;
use std::time::Duration;

/// What one second-level tier (disk, Redis) of a cache did, in
/// [`CacheInfo::tiers`](crate::CacheInfo::tiers). Counters are cumulative for the cache.
///
/// # Examples
///
/// ```
/// use memo_runtime::FaasCacheDict;
///
/// // Without a tier (the cargo features `disk` and `redis` add them), the list is empty.
/// let cache: FaasCacheDict<u64, u64> = FaasCacheDict::new();
/// assert!(cache.info().tiers.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct TierInfo {
    /// The tier's kind: `"disk"`, `"redis"`.
    pub kind: String,
    /// Where it is: the database file, the server.
    pub location: String,
    /// Lookups that found a live value there (after a miss in memory).
    pub hits: u64,
    /// Lookups that found nothing there, or an expired, undecodable or colliding entry.
    pub misses: u64,
    /// Values written there.
    pub writes: u64,
    /// Failed calls (each one skipped the tier and went on); see `errors_by_kind`.
    pub errors: u64,
    /// Failed calls per kind (`"timeout"`, `"full"`, `"corrupt"`...), kinds that occurred only.
    pub errors_by_kind: Vec<(String, u64)>,
    /// The last error's message, if any.
    pub last_error: Option<String>,
    /// Bytes this cache's entries take in the tier, when the tier can tell.
    pub bytes: Option<u64>,
    /// Time spent in calls to the tier.
    pub time_spent: Duration,
    /// Times this process waited for another process computing the same key (a lease held
    /// elsewhere).
    pub lease_waits: u64,
    /// Calls not made because the tier was skipping them (the Redis tier's circuit breaker
    /// open): neither errors nor misses.
    pub skipped: u64,
    /// The tier's health in a word, if it has one: the Redis tier's circuit breaker,
    /// `"closed"` (Redis used), `"open"` (skipped for a while after repeated failures) or
    /// `"half-open"` (the next call probes it).
    pub health: Option<String>,
}

impl fmt::Display for TierInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({}: hits={}, misses={}, writes={}, errors={}, bytes=",
            self.kind, self.location, self.hits, self.misses, self.writes, self.errors
        )?;
        match self.bytes {
            Some(bytes) => write!(f, "{bytes}")?,
            None => f.write_str("None")?,
        }
        write!(f, ", time_spent={:?}", self.time_spent)?;
        if self.skipped > 0 {
            write!(f, ", skipped={}", self.skipped)?;
        }
        match &self.health {
            Some(health) => write!(f, ", health={health})"),
            None => f.write_str(")"),
        }
    }
}
