//! Time for TTLs: the kernel's coarse monotonic clock, read at every check of an expiry, and a
//! [`MockClock`] that tests advance by hand.
//!
//! No correctness depends on a background thread being scheduled: a FaaS process is frozen
//! between invocations (its threads stop, wall time goes on), and after a thaw its first
//! instruction may be a cache hit. A time kept in an atomic by a ticker thread would be read
//! before the ticker runs again, and an entry that expired during the freeze would be returned
//! more than a second late. Every check therefore reads the kernel's clock (see `system.rs`
//! for the cost and the candidates measured). An entry without a TTL is never
//! checked: its hit reads no clock at all.
//!
//! Resolution: the kernel's tick (`clock_getres(CLOCK_MONOTONIC_COARSE)`, 1-4 ms). An entry
//! may be returned up to one tick after its TTL ran out, never later.

pub(crate) mod system;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The time source of a store. Cheap to clone; compare with [`MockClock`].
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, MockClock};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let cache: FaasCacheDict<u32, u32> = FaasCacheDict::builder()
///     .default_ttl(Duration::from_secs(10))
///     .clock(clock.clone())
///     .build()?;
/// cache.insert(1, 1)?;
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(cache.get(&1), None);
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Clock(ClockKind);

#[derive(Clone, Debug, Default)]
enum ClockKind {
    #[default]
    System,
    Mock(Arc<MockState>),
}

impl Clock {
    /// The system's coarse monotonic clock (the default).
    pub fn system() -> Self {
        Clock(ClockKind::System)
    }

    /// Monotonic nanoseconds since an arbitrary epoch: the kernel's coarse clock (a vDSO
    /// call, no system call) for the system clock.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        match &self.0 {
            ClockKind::System => system::coarse_nanos(),
            ClockKind::Mock(state) => state.nanos.load(Ordering::Acquire),
        }
    }

    /// The wall-clock time now: `SystemTime::now()`, or a [`MockClock`]'s reading. Tiers
    /// store absolute expiries, shared with other processes, in this time.
    #[cfg_attr(not(feature = "tier"), allow(dead_code))]
    pub(crate) fn system_now(&self) -> SystemTime {
        match &self.0 {
            ClockKind::System => SystemTime::now(),
            ClockKind::Mock(state) => {
                state.system_base + Duration::from_nanos(state.nanos.load(Ordering::Acquire))
            }
        }
    }

    /// Converts a wall-clock instant into this clock's monotonic nanoseconds (saturating).
    pub(crate) fn nanos_at(&self, at: SystemTime) -> u64 {
        let (now_nanos, now_system) = match &self.0 {
            ClockKind::System => (self.now_nanos(), SystemTime::now()),
            ClockKind::Mock(state) => {
                let nanos = state.nanos.load(Ordering::Acquire);
                (nanos, state.system_base + Duration::from_nanos(nanos))
            }
        };
        match at.duration_since(now_system) {
            Ok(ahead) => now_nanos.saturating_add(duration_nanos(ahead)),
            Err(behind) => now_nanos.saturating_sub(duration_nanos(behind.duration())),
        }
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX` (585 years).
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[derive(Debug)]
struct MockState {
    nanos: AtomicU64,
    system_base: SystemTime,
}

/// A clock that only moves when told to: TTL tests without sleeping.
///
/// Clones share the same time. Pass it to [`Builder::clock`](crate::Builder::clock).
///
/// # Examples
///
/// ```
/// use memo_runtime::MockClock;
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.elapsed(), Duration::from_millis(1500));
/// ```
#[derive(Clone, Debug)]
pub struct MockClock {
    state: Arc<MockState>,
}

impl MockClock {
    /// A clock at zero elapsed time whose wall-clock reading starts at `SystemTime::now()`.
    pub fn new() -> Self {
        MockClock {
            state: Arc::new(MockState {
                // Start away from zero so that "expired long ago" is representable.
                nanos: AtomicU64::new(1 << 40),
                system_base: SystemTime::now() - Duration::from_nanos(1 << 40),
            }),
        }
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        self.state
            .nanos
            .fetch_add(duration_nanos(by), Ordering::AcqRel);
    }

    /// Time advanced since [`MockClock::new`].
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.state.nanos.load(Ordering::Acquire) - (1 << 40))
    }

    /// The wall-clock time this clock reads now, as `expire_at` sees it.
    pub fn system_now(&self) -> SystemTime {
        self.state.system_base + Duration::from_nanos(self.state.nanos.load(Ordering::Acquire))
    }
}

impl Default for MockClock {
    fn default() -> Self {
        Self::new()
    }
}

impl From<MockClock> for Clock {
    fn from(mock: MockClock) -> Self {
        Clock(ClockKind::Mock(mock.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "sleeps; Miri's clock runs at its own pace")]
    fn system_clock_follows_the_precise_clock_within_a_tick() {
        let clock = Clock::system();
        let precise = std::time::Instant::now();
        let start = clock.now_nanos();
        std::thread::sleep(Duration::from_millis(30));
        let later = clock.now_nanos();
        let slept = duration_nanos(precise.elapsed());
        assert!(later > start, "{later} > {start}");
        // At most one kernel tick (4 ms at HZ = 250) of lag at either end, with margin.
        let moved = later - start;
        assert!(
            moved + 10_000_000 >= slept,
            "moved {moved} ns in {slept} ns"
        );
        assert!(clock.now_nanos() >= later);
    }

    #[test]
    fn mock_clock_is_shared_between_clones() {
        let mock = MockClock::new();
        let clock = Clock::from(mock.clone());
        let t0 = clock.now_nanos();
        mock.advance(Duration::from_millis(3));
        assert_eq!(clock.now_nanos() - t0, 3_000_000);
        assert_eq!(mock.elapsed(), Duration::from_millis(3));
    }

    #[test]
    fn system_time_maps_to_monotonic_nanos() {
        let mock = MockClock::new();
        let clock = Clock::from(mock.clone());
        let now = clock.now_nanos();
        let in_five = mock.system_now() + Duration::from_secs(5);
        assert_eq!(clock.nanos_at(in_five), now + 5_000_000_000);
        let past = mock.system_now() - Duration::from_secs(1);
        assert_eq!(clock.nanos_at(past), now - 1_000_000_000);
    }
}
