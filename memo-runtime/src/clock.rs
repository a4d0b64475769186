//! Time for TTLs: a coarse system clock that a hit can read for the price of one atomic load,
//! and a [`MockClock`] that tests advance by hand.
//!
//! `Instant::now()` costs 20-50 ns on virtual machines (measured on this project's CI host:
//! 49 ns, `CLOCK_MONOTONIC_COARSE` 4.4 ns), more than a whole cache hit. The system clock is
//! therefore a global atomic that a background thread (`faas-memo-clock`, started the first time
//! a store uses a TTL) refreshes every millisecond. Expiry is thus detected with about 1 ms of
//! resolution; a process frozen between invocations (AWS Lambda) wakes its ticker, whose sleep
//! is overdue, as soon as it is thawed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

/// How often the system clock's ticker refreshes the coarse time.
const TICK: Duration = Duration::from_millis(1);

/// Nanoseconds since [`epoch`], refreshed by the ticker thread.
static COARSE_NANOS: AtomicU64 = AtomicU64::new(0);
static TICKER: OnceLock<()> = OnceLock::new();

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn precise_nanos() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn ensure_ticker() {
    TICKER.get_or_init(|| {
        COARSE_NANOS.fetch_max(precise_nanos(), Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("faas-memo-clock".to_owned())
            .spawn(|| loop {
                std::thread::sleep(TICK);
                COARSE_NANOS.fetch_max(precise_nanos(), Ordering::Relaxed);
            });
        if let Err(err) = spawned {
            // Without a ticker, writes (which set expiries) refresh the coarse time instead:
            // expiry is then detected at the next write rather than within a millisecond.
            log::warn!("faas-memo: could not start the clock thread ({err}); expiry is coarser");
            NO_TICKER.store(true, Ordering::Relaxed);
        }
    });
}

static NO_TICKER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
    /// The coarse system clock (the default).
    pub fn system() -> Self {
        Clock(ClockKind::System)
    }

    /// Monotonic nanoseconds since an arbitrary epoch. One atomic load for the system clock.
    #[inline]
    pub(crate) fn now_nanos(&self) -> u64 {
        let now = self.now_nanos_for_hit();
        if now == 0 && matches!(self.0, ClockKind::System) {
            // The ticker has not started: no entry has a TTL yet.
            return Self::start_ticker();
        }
        now
    }

    #[cold]
    fn start_ticker() -> u64 {
        ensure_ticker();
        COARSE_NANOS.load(Ordering::Relaxed)
    }

    /// [`now_nanos`](Self::now_nanos) for checking an expiry that exists: it never starts the
    /// ticker, which setting that expiry did (see [`now_nanos_for_expiry`](Self::now_nanos_for_expiry)),
    /// so that a hit calls nothing. (Before the ticker's first tick it may read 0, a time
    /// before every expiry: nothing expires early.)
    #[inline]
    pub(crate) fn now_nanos_for_hit(&self) -> u64 {
        match &self.0 {
            ClockKind::System => COARSE_NANOS.load(Ordering::Relaxed),
            ClockKind::Mock(state) => state.nanos.load(Ordering::Acquire),
        }
    }

    /// Like [`now_nanos`](Self::now_nanos), and makes sure the system clock's ticker runs: called
    /// whenever an expiry is set, so that hits can rely on the coarse time.
    pub(crate) fn now_nanos_for_expiry(&self) -> u64 {
        if let ClockKind::System = self.0 {
            ensure_ticker();
            if NO_TICKER.load(Ordering::Relaxed) {
                COARSE_NANOS.fetch_max(precise_nanos(), Ordering::Relaxed);
            }
        }
        self.now_nanos()
    }

    /// Converts a wall-clock instant into this clock's monotonic nanoseconds (saturating).
    pub(crate) fn nanos_at(&self, at: SystemTime) -> u64 {
        let (now_nanos, now_system) = match &self.0 {
            ClockKind::System => (self.now_nanos_for_expiry(), SystemTime::now()),
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
    #[cfg_attr(
        miri,
        ignore = "depends on the wall-clock ticker, which Miri slows down"
    )]
    fn system_clock_moves_forward_in_coarse_steps() {
        let clock = Clock::system();
        let start = clock.now_nanos_for_expiry();
        std::thread::sleep(Duration::from_millis(20));
        let later = clock.now_nanos();
        assert!(later > start, "{later} > {start}");
        assert!(later - start >= 10_000_000, "moved {} ns", later - start);
        // A hit reads the same coarse time, at least as late as `later`.
        assert!(clock.now_nanos_for_hit() >= later);
    }

    #[test]
    fn mock_clock_is_shared_between_clones() {
        let mock = MockClock::new();
        let clock = Clock::from(mock.clone());
        let t0 = clock.now_nanos();
        mock.advance(Duration::from_millis(3));
        assert_eq!(clock.now_nanos() - t0, 3_000_000);
        assert_eq!(clock.now_nanos_for_hit(), clock.now_nanos());
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
