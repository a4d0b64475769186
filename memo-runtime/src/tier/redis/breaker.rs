//! The circuit breaker in front of Redis: after [`THRESHOLD`] failures in a row, Redis is
//! skipped for a cool-down (a skipped call costs two atomic loads and a clock read), then one
//! caller probes it with its real operation: a success closes the breaker, a failure opens it
//! again for twice as long (up to [`MAX_COOL_DOWN`]).
//!
//! No background thread: the state advances only when callers ask, so a process frozen
//! between invocations (FaaS) resumes where it stopped, and the first call after a thaw that
//! finds the cool-down over probes.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Failures in a row that open the breaker.
pub(crate) const THRESHOLD: u32 = 3;
/// The first cool-down; each failed probe doubles it.
pub(crate) const MIN_COOL_DOWN: Duration = Duration::from_millis(250);
/// The longest cool-down: a fleet whose Redis is down spends one timed-out call per process
/// this often.
pub(crate) const MAX_COOL_DOWN: Duration = Duration::from_secs(5);

/// The breaker's state, as reported by `CacheInfo`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Redis is used.
    Closed,
    /// Redis is skipped until the cool-down ends.
    Open,
    /// The cool-down is over: the next call probes Redis (or a probe is under way).
    HalfOpen,
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        })
    }
}

/// What [`Breaker::admit`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Use Redis.
    Go,
    /// Use Redis: this call is the probe of a half-open breaker.
    Probe,
    /// Skip Redis.
    Skip,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    /// The [`now`] until which Redis is skipped; 0 while closed.
    open_until: AtomicU64,
    /// Failures in a row.
    failures: AtomicU32,
    /// Times the breaker opened in a row without a success in between (sets the cool-down).
    opened: AtomicU32,
    /// A probe is under way, since `probe_started` (a [`now`]).
    probing: AtomicBool,
    probe_started: AtomicU64,
    /// How long a probe may take before another caller may probe (the probing caller froze).
    probe_limit: Duration,
}

/// The time now, in nanoseconds of the kernel's coarse monotonic clock (1-4 ms resolution,
/// plenty for cool-downs of 250 ms and more, and about 6 ns to read where `Instant::now()`
/// takes 30-40: a call with the breaker open must cost next to nothing). Never 0, which means
/// "closed".
#[inline]
pub(crate) fn now() -> u64 {
    crate::clock::system::coarse_nanos().max(1)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Breaker {
    /// A closed breaker whose probes may take `probe_limit`.
    pub(crate) fn new(probe_limit: Duration) -> Breaker {
        Breaker {
            open_until: AtomicU64::new(0),
            failures: AtomicU32::new(0),
            opened: AtomicU32::new(0),
            probing: AtomicBool::new(false),
            probe_started: AtomicU64::new(0),
            probe_limit,
        }
    }

    /// Whether a call may use Redis now.
    #[inline]
    pub(crate) fn admit(&self) -> Admission {
        self.admit_at(now())
    }

    pub(crate) fn admit_at(&self, now: u64) -> Admission {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Admission::Go;
        }
        if now < until {
            return Admission::Skip;
        }
        // Half-open: one probe at a time, and a new one if the last never reported.
        let started = self.probe_started.load(Ordering::Acquire);
        let stale = now.saturating_sub(started) > nanos(self.probe_limit);
        if self
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
            || (stale
                && self
                    .probe_started
                    .compare_exchange(started, now, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok())
        {
            self.probe_started.store(now, Ordering::Release);
            return Admission::Probe;
        }
        Admission::Skip
    }

    /// A call that used Redis succeeded.
    #[inline]
    pub(crate) fn succeeded(&self) {
        if self.open_until.load(Ordering::Relaxed) != 0 {
            self.open_until.store(0, Ordering::Release);
            self.opened.store(0, Ordering::Relaxed);
            self.probing.store(false, Ordering::Release);
            log::info!("faas-memo: Redis answers again; the tier resumes");
        }
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
    }

    /// A call that used Redis failed (an error or its time budget ran out); `probe` if it was
    /// admitted as the probe. Returns whether this failure opened the breaker.
    pub(crate) fn failed(&self, probe: bool) -> bool {
        self.failed_at(probe, now())
    }

    pub(crate) fn failed_at(&self, probe: bool, now: u64) -> bool {
        let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if !probe && failures < THRESHOLD {
            return false;
        }
        if !probe && self.open_until.load(Ordering::Acquire) != 0 {
            // Already open (a call admitted before it opened): keep the cool-down.
            return false;
        }
        let opened = self.opened.fetch_add(1, Ordering::AcqRel);
        let cool_down = MIN_COOL_DOWN
            .saturating_mul(1u32 << opened.min(16))
            .min(MAX_COOL_DOWN);
        self.open_until
            .store(now.saturating_add(nanos(cool_down)), Ordering::Release);
        self.probing.store(false, Ordering::Release);
        true
    }

    /// Whether calls are skipped now without a probe due: what a caller checks before it
    /// prepares a call at all (one atomic load while closed).
    #[inline]
    pub(crate) fn skipping(&self) -> bool {
        let until = self.open_until.load(Ordering::Acquire);
        until != 0 && now() < until
    }

    /// The state now.
    pub(crate) fn state(&self) -> BreakerState {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            BreakerState::Closed
        } else if now() < until {
            BreakerState::Open
        } else {
            BreakerState::HalfOpen
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(Duration::from_millis(100))
    }

    #[test]
    fn opens_after_the_threshold_and_skips_until_the_cool_down_ends() {
        let b = breaker();
        let t0 = now();
        for _ in 1..THRESHOLD {
            assert!(!b.failed_at(false, t0));
            assert_eq!(b.admit_at(t0), Admission::Go);
        }
        assert!(b.failed_at(false, t0));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.admit_at(t0 + nanos(MIN_COOL_DOWN) / 2), Admission::Skip);
        // Over: one probe, the others still skip.
        let later = t0 + nanos(MIN_COOL_DOWN) + 1_000_000;
        assert_eq!(b.admit_at(later), Admission::Probe);
        assert_eq!(b.admit_at(later), Admission::Skip);
        b.succeeded();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit_at(later), Admission::Go);
    }

    #[test]
    fn a_success_resets_the_count_of_failures_in_a_row() {
        let b = breaker();
        let t0 = now();
        for _ in 0..10 {
            for _ in 1..THRESHOLD {
                b.failed_at(false, t0);
            }
            b.succeeded();
        }
        assert_eq!(b.admit_at(t0), Admission::Go);
    }

    #[test]
    fn a_failed_probe_doubles_the_cool_down_up_to_the_maximum() {
        let b = breaker();
        let mut now = super::now();
        for _ in 0..THRESHOLD {
            b.failed_at(false, now);
        }
        let mut expected = nanos(MIN_COOL_DOWN);
        for _ in 0..8 {
            assert_eq!(b.admit_at(now + expected - 1_000_000), Admission::Skip);
            now += expected;
            assert_eq!(b.admit_at(now), Admission::Probe);
            assert!(b.failed_at(true, now));
            expected = (expected * 2).min(nanos(MAX_COOL_DOWN));
        }
        assert_eq!(expected, nanos(MAX_COOL_DOWN));
    }

    #[test]
    fn a_probe_that_never_reports_is_replaced() {
        let b = breaker();
        let t0 = now();
        for _ in 0..THRESHOLD {
            b.failed_at(false, t0);
        }
        let over = t0 + nanos(MIN_COOL_DOWN);
        assert_eq!(b.admit_at(over), Admission::Probe);
        assert_eq!(b.admit_at(over + 50_000_000), Admission::Skip);
        // The prober froze: after the probe limit, another caller probes.
        assert_eq!(b.admit_at(over + 150_000_000), Admission::Probe);
    }
}
