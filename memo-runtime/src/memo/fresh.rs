//! What a memoized function does with an entry's age, when it asks for more than "hit while the
//! TTL lasts": `stale` (serve an expired value at once while one caller recomputes it),
//! `fallback` (answer a failed recomputation with the expired value), `refresh_on_hit` (a hit
//! extends the entry's life), `refresh_ahead` (recompute before expiry, XFetch), a per-value
//! TTL ([`WithTtl`](crate::WithTtl)) and forced refreshes.
//!
//! The macro picks this path at expansion time, only for a function that uses one of these:
//! every other function keeps the plain hit path (`FaasCacheDict::get`), and no entry carries
//! extra state for them. The store knows a function's settings ([`Freshness`]), and keeps each
//! entry `grace = max(stale, fallback)` past its TTL, so that an entry's expiry in the shard
//! is `fresh_until + grace`: one number per entry, as for every store.
//!
//! Nothing here relies on a background thread: the caller that finds a stale entry (or wins
//! the XFetch draw) recomputes it in its own call, and callers that find a computation in
//! flight return the value they found.

use std::cell::Cell;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hashbrown::Equivalent;

use crate::clock::Clock;
use crate::store::dict::FaasCacheDict;
use crate::store::shard::NEVER;

/// A memoized function's settings, kept by its store (all zero for other stores).
#[derive(Debug, Default)]
pub(crate) struct Freshness {
    /// How long an entry is kept past its TTL: `max(stale, fallback)`, in nanoseconds.
    pub(crate) grace: u64,
    /// How long past its TTL an entry is served at once while one caller recomputes it.
    pub(crate) stale: u64,
    /// How long past its TTL a failed recomputation returns the expired value.
    pub(crate) fallback: u64,
    pub(crate) refresh_on_hit: bool,
    pub(crate) refresh_ahead: bool,
    /// How long the body takes, in clock nanoseconds: a moving average over the
    /// computations (XFetch's `delta`, kept per function rather than per entry so that entries
    /// carry nothing extra).
    cost: AtomicU64,
}

impl Freshness {
    pub(crate) fn new(
        stale: u64,
        fallback: u64,
        refresh_on_hit: bool,
        refresh_ahead: bool,
    ) -> Self {
        Freshness {
            grace: stale.max(fallback),
            stale,
            fallback,
            refresh_on_hit,
            refresh_ahead,
            cost: AtomicU64::new(0),
        }
    }

    /// The time a computation starts, when its duration is needed (`refresh_ahead`).
    #[inline]
    pub(crate) fn start(&self, clock: &Clock) -> Option<u64> {
        self.refresh_ahead.then(|| clock.now_nanos())
    }

    /// Records how long a computation took: an exponential moving average (1/4 weight to the
    /// newest), so that one slow call does not make every key refresh early for long.
    pub(crate) fn record(&self, clock: &Clock, started: Option<u64>) {
        let Some(started) = started else { return };
        let took = clock.now_nanos().saturating_sub(started);
        let old = self.cost.load(Ordering::Relaxed);
        let new = if old == 0 {
            took
        } else {
            old - old / 4 + took / 4
        };
        self.cost.store(new, Ordering::Relaxed);
    }

    /// XFetch (Vattani, Chierichetti, Lowenstein, "Optimal Probabilistic Cache Stampede
    /// Prevention", VLDB 2015): recompute now, `left` nanoseconds before expiry, with
    /// probability `P(cost * -ln(U) >= left)` = `exp(-left / cost)`, `U` uniform in (0, 1]. A
    /// body that takes long is refreshed earlier; one that takes no measurable time never is.
    pub(crate) fn refresh_early(&self, left: u64) -> bool {
        let cost = self.cost.load(Ordering::Relaxed);
        cost != 0 && cost as f64 * -uniform().ln() >= left as f64
    }
}

/// A uniform number in (0, 1], from a per-thread xorshift generator (seeded from the thread's
/// stack address and the time): XFetch needs no better randomness than that.
fn uniform() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE.with(|state| {
        let mut x = state.get();
        if x == 0 {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            x = (seed ^ (state as *const _ as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        ((x >> 11) + 1) as f64 / (1u64 << 53) as f64
    })
}

/// What a lookup by a memoized function with timing options found.
#[doc(hidden)]
#[derive(Debug)]
pub enum Looked<V> {
    /// A fresh value, and the time it has left (`None`: no expiry).
    Hit(V, Option<Duration>),
    /// A fresh value that this caller was picked to recompute early (`refresh_ahead`).
    Early(V),
    /// A value past its TTL by the given nanoseconds, within `stale`: served at once unless
    /// this caller is the one to recompute it.
    Stale(V, u64),
    /// A value past its TTL by the given nanoseconds, beyond `stale` but within `fallback`:
    /// recomputed, and returned if that fails.
    Expired(V, u64),
    /// Nothing usable.
    Missing,
    /// Not looked up: recompute and replace (`force_refresh`, `<fn>_refresh`).
    Forced,
}

/// How a result relates to the value cached for it, on the path of [`Looked`]: [`Shape`](crate::__private::Shape)
/// plus the value's own TTL and what counts as a failure.
#[doc(hidden)]
#[derive(Debug)]
pub struct FreshShape<R, V> {
    /// The value to cache, if the result is cacheable.
    pub value: fn(&R) -> Option<&V>,
    /// The result to return for a cached value, with the time it has left.
    pub wrap: fn(V, Option<Duration>) -> R,
    /// The value's own TTL (`Some(None)`: no expiry); `None`: the store's default.
    pub ttl: fn(&R) -> Option<Option<Duration>>,
    /// Whether the result is a failure that `fallback` may answer with the old value (`Err`).
    pub failed: fn(&R) -> bool,
}

impl<R, V> Clone for FreshShape<R, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, V> Copy for FreshShape<R, V> {}

fn no_ttl<R>(_: &R) -> Option<Option<Duration>> {
    None
}

fn never_failed<R>(_: &R) -> bool {
    false
}

fn is_err<T, E>(r: &Result<T, E>) -> bool {
    r.is_err()
}

impl<V> FreshShape<V, V> {
    /// Every result is cached.
    pub const PLAIN: Self = FreshShape {
        value: |v| Some(v),
        wrap: |v, _| v,
        ttl: no_ttl,
        failed: never_failed,
    };
}

impl<V, E> FreshShape<Result<V, E>, V> {
    /// `Ok` values are cached; an `Err` is a failure.
    pub const OK: Self = FreshShape {
        value: |r| r.as_ref().ok(),
        wrap: |v, _| Ok(v),
        ttl: no_ttl,
        failed: is_err,
    };
}

impl<V> FreshShape<Option<V>, V> {
    /// `Some` values are cached.
    pub const SOME: Self = FreshShape {
        value: Option::as_ref,
        wrap: |v, _| Some(v),
        ttl: no_ttl,
        failed: never_failed,
    };
}

impl<V, E> FreshShape<Result<Option<V>, E>, V> {
    /// `Ok(Some(..))` values are cached; an `Err` is a failure.
    pub const OK_SOME: Self = FreshShape {
        value: |r| match r {
            Ok(Some(v)) => Some(v),
            _ => None,
        },
        wrap: |v, _| Ok(Some(v)),
        ttl: no_ttl,
        failed: is_err,
    };
}

use crate::memo::returns::WithTtl;

impl<V> FreshShape<WithTtl<V>, V> {
    /// Every value is cached, with its own TTL.
    pub const TTL_PLAIN: Self = FreshShape {
        value: |r| Some(r.value()),
        wrap: with_ttl,
        ttl: |r| Some(r.ttl()),
        failed: never_failed,
    };
}

impl<V, E> FreshShape<Result<WithTtl<V>, E>, V> {
    /// `Ok` values are cached with their own TTL.
    pub const TTL_OK: Self = FreshShape {
        value: |r| r.as_ref().ok().map(WithTtl::value),
        wrap: |v, left| Ok(with_ttl(v, left)),
        ttl: |r| r.as_ref().ok().map(WithTtl::ttl),
        failed: is_err,
    };
}

impl<V> FreshShape<Option<WithTtl<V>>, V> {
    /// `Some` values are cached with their own TTL.
    pub const TTL_SOME: Self = FreshShape {
        value: |r| r.as_ref().map(WithTtl::value),
        wrap: |v, left| Some(with_ttl(v, left)),
        ttl: |r| r.as_ref().map(WithTtl::ttl),
        failed: never_failed,
    };
}

impl<V, E> FreshShape<Result<Option<WithTtl<V>>, E>, V> {
    /// `Ok(Some(..))` values are cached with their own TTL.
    pub const TTL_OK_SOME: Self = FreshShape {
        value: |r| match r {
            Ok(Some(v)) => Some(v.value()),
            _ => None,
        },
        wrap: |v, left| Ok(Some(with_ttl(v, left))),
        ttl: |r| match r {
            Ok(Some(v)) => Some(v.ttl()),
            _ => None,
        },
        failed: is_err,
    };
}

fn with_ttl<V>(value: V, left: Option<Duration>) -> WithTtl<V> {
    match left {
        Some(left) => WithTtl::new(value, left),
        None => WithTtl::without_expiry(value),
    }
}

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq,
    V: Clone,
    S: BuildHasher,
{
    /// The lookup of a memoized function with timing options: counts a hit (any entry found,
    /// fresh or kept past its TTL) or a miss, like `get`; extends the entry's life on a hit
    /// (`refresh_on_hit`), and tells fresh, early-refresh, stale and expired entries apart.
    #[doc(hidden)]
    #[inline]
    pub fn look_fresh<Q>(&self, key: &Q) -> Looked<V>
    where
        Q: ?Sized + Hash + Equivalent<K>,
    {
        let (hash, index) = self.locate(key);
        let Some((value, expires, now)) = self.get_timed_located(hash, index, key) else {
            return Looked::Missing;
        };
        if expires == NEVER {
            return Looked::Hit(value, None);
        }
        let fresh = &self.fresh;
        let fresh_until = expires.saturating_sub(fresh.grace);
        if now < fresh_until {
            let mut left = fresh_until - now;
            if fresh.refresh_on_hit {
                left = self
                    .refresh_on_hit(hash, index, key, expires, now)
                    .unwrap_or(left);
            }
            if fresh.refresh_ahead && fresh.refresh_early(left) {
                return Looked::Early(value);
            }
            return Looked::Hit(value, Some(Duration::from_nanos(left)));
        }
        let since = now - fresh_until;
        if since < fresh.stale {
            Looked::Stale(value, since)
        } else {
            Looked::Expired(value, since)
        }
    }

    /// Moves a hit entry's expiry to a whole TTL from now, and returns the time it then has
    /// left (`None`: not moved). The move takes the shard's exclusive lock, so it is skipped while it would gain
    /// less than 1/1024 of the TTL (3.5 s of an hour, 10 ms of 10 s): a hot key then takes the
    /// lock about once per 1/1024 of its TTL rather than on every tick of the clock, and an
    /// entry still lives at least 1023/1024 of the TTL after any hit. The check inlines; the
    /// move is out of line.
    #[inline(always)]
    fn refresh_on_hit<Q>(
        &self,
        hash: u64,
        index: usize,
        key: &Q,
        expires: u64,
        now: u64,
    ) -> Option<u64>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let ttl = self.default_ttl_nanos.load(Ordering::Relaxed);
        if ttl == NEVER {
            return None;
        }
        let extended = now.saturating_add(ttl).saturating_add(self.fresh.grace);
        if extended <= expires.saturating_add(ttl / 1024) {
            return None;
        }
        self.extend_cold(hash, index, key, extended);
        Some(ttl)
    }

    #[cold]
    #[inline(never)]
    fn extend_cold<Q>(&self, hash: u64, index: usize, key: &Q, expires: u64)
    where
        Q: ?Sized + Equivalent<K>,
    {
        self.extend_located(hash, index, key, expires);
    }

    /// The fresh time left of a live entry, for a caller handed its value by another
    /// (`None`: no expiry, or gone).
    pub(crate) fn fresh_left<Q>(&self, hash: u64, index: usize, key: &Q) -> Option<Duration>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let (_, expires) = self.peek_timed_located(hash, index, key)?;
        (expires != NEVER).then(|| {
            let until = expires.saturating_sub(self.fresh.grace);
            Duration::from_nanos(until.saturating_sub(self.clock.now_nanos()))
        })
    }

    /// A fresh value of `key`, if one is stored now (another caller may just have refreshed
    /// it), with its time left.
    pub(crate) fn peek_fresh<Q>(
        &self,
        hash: u64,
        index: usize,
        key: &Q,
    ) -> Option<(V, Option<Duration>)>
    where
        Q: ?Sized + Equivalent<K>,
    {
        let (value, expires) = self.peek_timed_located(hash, index, key)?;
        if expires == NEVER {
            return Some((value, None));
        }
        let until = expires.saturating_sub(self.fresh.grace);
        let now = self.clock.now_nanos();
        (now < until).then(|| (value, Some(Duration::from_nanos(until - now))))
    }

    /// The TTL, in nanoseconds, to store a computed value with: its own, else the default.
    pub(crate) fn own_ttl<R>(&self, shape: &FreshShape<R, V>, result: &R) -> u64 {
        match (shape.ttl)(result) {
            Some(Some(ttl)) => crate::clock::duration_nanos(ttl),
            Some(None) => NEVER,
            None => self.default_ttl_nanos.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xfetch_never_refreshes_a_free_body_and_nearly_always_one_due_now() {
        let fresh = Freshness::new(0, 0, false, true);
        assert!(!fresh.refresh_early(0), "no cost measured yet");
        fresh.cost.store(1_000_000_000, Ordering::Relaxed);
        // One second of work, 30 s before expiry: exp(-30) per call.
        assert!((0..10_000).all(|_| !fresh.refresh_early(30_000_000_000)));
        // 1 ms before expiry: exp(-0.001) per call.
        assert!((0..100).filter(|_| fresh.refresh_early(1_000_000)).count() > 90);
    }

    #[test]
    fn the_cost_is_a_moving_average() {
        let mock = crate::MockClock::new();
        let clock = Clock::from(mock.clone());
        let fresh = Freshness::new(0, 0, false, true);
        let started = fresh.start(&clock);
        mock.advance(Duration::from_millis(400));
        fresh.record(&clock, started);
        assert_eq!(fresh.cost.load(Ordering::Relaxed), 400_000_000);
        let started = fresh.start(&clock);
        fresh.record(&clock, started);
        assert_eq!(fresh.cost.load(Ordering::Relaxed), 300_000_000);
        assert_eq!(Freshness::default().start(&clock), None);
    }

    #[test]
    fn uniform_numbers_stay_in_the_unit_interval() {
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let u = uniform();
            assert!(u > 0.0 && u <= 1.0, "{u}");
            sum += u;
        }
        assert!((sum / 10_000.0 - 0.5).abs() < 0.05);
    }
}
