//! The memoization path through the tiers: the one place where a miss meets them.
//!
//! A leader (the one caller of this process computing a key, see `dedupe`) that missed in
//! memory asks the tiers before computing: a value found there goes to memory with what
//! remains of its TTL, and to this process's waiters. Otherwise it takes the key's lease in
//! the last tier (one lease request per process, however many of its threads missed), or
//! waits for the process that holds it; computes; writes the value to memory and every tier;
//! and gives the lease back. Tier failures never reach the caller: the leader computes.

use std::future::Future;
use std::hash::{BuildHasher, Hash};

use crate::memo::dedupe::Lead;
use crate::memo::fresh::FreshShape;
use crate::memo::fresh_compute::Old;
use crate::memo::memoize::Shape;
use crate::store::dict::FaasCacheDict;
use crate::tier::chain::{block_on, Before, Blocking, Found, NonBlocking, Tiers};
use crate::tier::store::{expiry_after, ttl_left};

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// A leader's miss with tiers: tiers, lease, `init`, then memory and tiers.
    pub(crate) fn lead_tiered<R>(
        &self,
        tiers: &Tiers<K, V>,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl FnOnce() -> R,
        shape: Shape<R, V>,
    ) -> R {
        let clock = || self.clock.system_now();
        match block_on(tiers.before(&Blocking, &key, true, &clock)) {
            Before::Found(found) => (shape.wrap)(self.finish_from_tier(lead, located, key, found)),
            Before::Compute(pending) => {
                let result = init();
                let value = (shape.value)(&result);
                // Nothing to write when the tiers were skipped (breakers open): no clock read.
                if pending.writes() {
                    let now = clock();
                    let expires = expiry_after(now, self.default_ttl_nanos());
                    block_on(tiers.after(&Blocking, pending, value, expires, now));
                }
                self.finish_lead(lead, located, key, value);
                result
            }
        }
    }

    /// [`lead_tiered`](Self::lead_tiered) for an async caller: blocking tier calls run on the
    /// I/O threads, and the wait for another process's lease sleeps without a thread.
    pub(crate) async fn lead_tiered_async<R>(
        &self,
        tiers: &Tiers<K, V>,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl Future<Output = R>,
        shape: Shape<R, V>,
    ) -> R {
        let clock = || self.clock.system_now();
        match tiers.before(&NonBlocking, &key, true, &clock).await {
            Before::Found(found) => (shape.wrap)(self.finish_from_tier(lead, located, key, found)),
            Before::Compute(pending) => {
                let result = lead.run_watched(init).await;
                let value = (shape.value)(&result);
                let now = clock();
                let expires = expiry_after(now, self.default_ttl_nanos());
                tiers
                    .after(&NonBlocking, pending, value, expires, now)
                    .await;
                self.finish_lead(lead, located, key, value);
                result
            }
        }
    }

    /// A miss without stampede protection (`dedupe = false`): tiers, then `init`, without a
    /// lease.
    pub(crate) fn undeduped_tiered<R>(
        &self,
        tiers: &Tiers<K, V>,
        key: K,
        init: impl FnOnce() -> R,
        shape: Shape<R, V>,
    ) -> R {
        let clock = || self.clock.system_now();
        match block_on(tiers.before(&Blocking, &key, false, &clock)) {
            Before::Found(found) => (shape.wrap)(self.keep_from_tier(key, found)),
            Before::Compute(pending) => {
                let result = init();
                let value = (shape.value)(&result);
                let now = clock();
                let expires = expiry_after(now, self.default_ttl_nanos());
                block_on(tiers.after(&Blocking, pending, value, expires, now));
                self.keep_undeduped(key, value);
                result
            }
        }
    }

    /// Async [`undeduped_tiered`](Self::undeduped_tiered).
    pub(crate) async fn undeduped_tiered_async<R>(
        &self,
        tiers: &Tiers<K, V>,
        key: K,
        init: impl Future<Output = R>,
        shape: Shape<R, V>,
    ) -> R {
        let clock = || self.clock.system_now();
        match tiers.before(&NonBlocking, &key, false, &clock).await {
            Before::Found(found) => (shape.wrap)(self.keep_from_tier(key, found)),
            Before::Compute(pending) => {
                let result = init.await;
                let value = (shape.value)(&result);
                let now = clock();
                let expires = expiry_after(now, self.default_ttl_nanos());
                tiers
                    .after(&NonBlocking, pending, value, expires, now)
                    .await;
                self.keep_undeduped(key, value);
                result
            }
        }
    }

    /// The leader's computation of a memoized function with timing options (see
    /// `fresh_compute`), with tiers: the tiers first (unless `read` is off: a forced refresh),
    /// then `init`, its value written to the tiers with its own TTL, then memory.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lead_fresh_tiered<R>(
        &self,
        tiers: &Tiers<K, V>,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl FnOnce() -> R,
        shape: FreshShape<R, V>,
        old: Option<Old<V>>,
        read: bool,
    ) -> (R, bool) {
        let clock = || self.clock.system_now();
        let pending = if read {
            match block_on(tiers.before(&Blocking, &key, true, &clock)) {
                Before::Found(found) => {
                    let left = left_of(clock(), found.expires);
                    let value = self.finish_from_tier(lead, located, key, found);
                    return ((shape.wrap)(value, left), true);
                }
                Before::Compute(pending) => pending,
            }
        } else {
            tiers.pending_write(&key)
        };
        let started = self.fresh.start(&self.clock);
        let result = init();
        self.fresh.record(&self.clock, started);
        if pending.writes() {
            let now = clock();
            let ttl = self.own_ttl(&shape, &result);
            let value = (shape.value)(&result).filter(|_| ttl != 0);
            block_on(tiers.after(&Blocking, pending, value, expiry_after(now, ttl), now));
        }
        self.settle_fresh(lead, located, key, result, shape, old)
    }

    /// Async [`lead_fresh_tiered`](Self::lead_fresh_tiered).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn lead_fresh_tiered_async<R>(
        &self,
        tiers: &Tiers<K, V>,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl Future<Output = R>,
        shape: FreshShape<R, V>,
        old: Option<Old<V>>,
        read: bool,
    ) -> (R, bool) {
        let clock = || self.clock.system_now();
        let pending = if read {
            match tiers.before(&NonBlocking, &key, true, &clock).await {
                Before::Found(found) => {
                    let left = left_of(clock(), found.expires);
                    let value = self.finish_from_tier(lead, located, key, found);
                    return ((shape.wrap)(value, left), true);
                }
                Before::Compute(pending) => pending,
            }
        } else {
            tiers.pending_write(&key)
        };
        let started = self.fresh.start(&self.clock);
        let result = lead.run_watched(init).await;
        self.fresh.record(&self.clock, started);
        if pending.writes() {
            let now = clock();
            let ttl = self.own_ttl(&shape, &result);
            let value = (shape.value)(&result).filter(|_| ttl != 0);
            tiers
                .after(&NonBlocking, pending, value, expiry_after(now, ttl), now)
                .await;
        }
        self.settle_fresh(lead, located, key, result, shape, old)
    }

    /// Puts a value found in a tier in memory, with what remains of its TTL, and hands it to
    /// the leader's waiters.
    fn finish_from_tier(
        &self,
        lead: Lead<'_, K, V>,
        (hash, index): (u64, usize),
        key: K,
        found: Found<V>,
    ) -> V {
        let handoff = lead
            .may_have_waiters()
            .then(|| (key.clone(), found.value.clone()));
        self.keep_found(hash, index, key, &found);
        lead.finish(handoff);
        found.value
    }

    fn keep_from_tier(&self, key: K, found: Found<V>) -> V {
        let (hash, index) = self.locate(&key);
        self.keep_found(hash, index, key, &found);
        found.value
    }

    /// Puts a value found in a tier in memory. Statistics: the caller's miss in memory was
    /// served without computing here: a hit (found in a tier), or a `waited` (another process
    /// computed it while this one waited for its lease).
    fn keep_found(&self, hash: u64, index: usize, key: K, found: &Found<V>) {
        if found.waited {
            self.memo_stats.count_waited();
        } else {
            self.memo_stats.count_late_hit();
        }
        let ttl = ttl_left(self.clock.system_now(), found.expires);
        let value = found.value.clone();
        if let Err(err) = self.insert_expiring_located(hash, index, key, value, ttl) {
            log::debug!(
                "faas-memo cache {:?}: tier value not kept in memory: {err}",
                self.name()
            );
        }
    }
}

/// The time a value found in a tier has left (`None`: no expiry).
fn left_of(
    now: std::time::SystemTime,
    expires: Option<std::time::SystemTime>,
) -> Option<std::time::Duration> {
    expires.map(|at| at.duration_since(now).unwrap_or_default())
}
