//! The computing side of [`Looked`]: who recomputes a stale, early or forced entry, who waits,
//! who is served the old value, and what is stored (with the value's own TTL) or returned
//! instead of a failure (`fallback`). Sync and async, with the tiers through `tiered.rs`.
//!
//! | found | this caller |
//! | --- | --- |
//! | stale, early | recomputes if no one else is (without waiting); otherwise returns the value found at once |
//! | expired within `fallback`, missing, forced | leads the computation, or waits for the caller that leads it (stampede protection) |
//!
//! A failed recomputation (`Err`) returns the old value when it is within `fallback` (or still
//! fresh: an early refresh), and leaves the entry as it was either way: a stale value stays
//! until `stale` runs out.

use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

use crate::memo::dedupe::{Joined, Lead, Waited};
use crate::memo::fresh::{FreshShape, Looked};
use crate::store::dict::FaasCacheDict;

/// The value a recomputation replaces, and whether a failure returns it.
pub(crate) struct Old<V> {
    pub(crate) value: V,
    pub(crate) fallback: bool,
}

/// What [`FaasCacheDict::compute_fresh`] does after looking at what was found.
enum Next<'a, K, V> {
    /// Return this (the value found, or a fresh one someone else just stored).
    Done(V, Option<Duration>),
    /// This caller recomputes without waiting for anyone: it holds the lead.
    Lead(Lead<'a, K, V>, Option<Old<V>>),
    /// Lead or wait, as on a miss.
    Join { old: Option<Old<V>>, forced: bool },
}

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// Decides, from what the lookup found, whether this caller returns at once, recomputes
    /// without waiting (then it holds `lead`), or joins the computation in flight.
    fn next<'a>(
        &'a self,
        looked: Looked<V>,
        (hash, index): (u64, usize),
        key: &K,
        eager_slot: bool,
    ) -> Next<'a, K, V> {
        match looked {
            Looked::Hit(value, left) => Next::Done(value, left),
            Looked::Stale(value, since) => {
                let fallback = since < self.fresh.fallback;
                self.lead_refresh(value, fallback, true, (hash, index), key, eager_slot)
            }
            Looked::Early(value) => {
                // Still fresh: a failed early refresh returns it.
                self.lead_refresh(value, true, false, (hash, index), key, eager_slot)
            }
            Looked::Expired(value, since) => {
                self.memo_stats.count_recomputed();
                self.memo_stats.count_refresh();
                let old = Old {
                    value,
                    fallback: since < self.fresh.fallback,
                };
                Next::Join {
                    old: Some(old),
                    forced: false,
                }
            }
            Looked::Missing => Next::Join {
                old: None,
                forced: false,
            },
            Looked::Forced => {
                self.memo_stats.count_forced();
                self.memo_stats.count_refresh();
                Next::Join {
                    old: None,
                    forced: true,
                }
            }
        }
    }

    /// A stale or early entry: recompute if nobody is, else return the value found.
    fn lead_refresh<'a>(
        &'a self,
        value: V,
        fallback: bool,
        stale: bool,
        (hash, index): (u64, usize),
        key: &K,
        eager_slot: bool,
    ) -> Next<'a, K, V> {
        let Some(lead) = self.in_flight().try_lead(hash, eager_slot) else {
            if stale {
                self.memo_stats.count_stale_hit();
                return Next::Done(value, Some(Duration::ZERO));
            }
            let left = self.fresh_left(hash, index, key);
            return Next::Done(value, left);
        };
        // Another caller may have refreshed a stale value between our lookup and now (an early
        // one is still fresh: a second early refresh is harmless, and rare).
        if stale && lead.may_be_stored() {
            if let Some((value, left)) = self.peek_fresh(hash, index, key) {
                lead.finish(None);
                return Next::Done(value, left);
            }
        }
        self.memo_stats.count_recomputed();
        self.memo_stats.count_refresh();
        Next::Lead(lead, Some(Old { value, fallback }))
    }

    /// The miss path of a memoized function with timing options (`stale`, `fallback`,
    /// `refresh_on_hit`, `refresh_ahead`, a `WithTtl` return, `force_refresh`), after
    /// [`look_fresh`](Self::look_fresh): returns the result and whether it came from the
    /// cache (`false`: this call ran `init` and returns its result).
    #[doc(hidden)]
    pub fn compute_fresh<R>(
        &self,
        looked: Looked<V>,
        key: K,
        init: impl FnOnce() -> R,
        shape: FreshShape<R, V>,
    ) -> (R, bool) {
        let located = self.locate(&key);
        let (old, forced) = match self.next(looked, located, &key, false) {
            Next::Done(value, left) => return ((shape.wrap)(value, left), true),
            Next::Lead(lead, old) => {
                return self.lead_fresh(lead, located, key, init, shape, old, true)
            }
            Next::Join { old, forced } => (old, forced),
        };
        let (hash, index) = located;
        loop {
            match self.in_flight().join(hash, false) {
                Joined::Lead(lead) => {
                    if !forced && lead.may_be_stored() {
                        if let Some((value, left)) = self.peek_fresh(hash, index, &key) {
                            lead.finish(None);
                            self.memo_stats.count_late_hit();
                            return ((shape.wrap)(value, left), true);
                        }
                    }
                    return self.lead_fresh(lead, located, key, init, shape, old, !forced);
                }
                Joined::Wait(waiter) => match waiter.wait(&key, self.dedupe_timeout) {
                    Waited::Done(value) => {
                        self.memo_stats.count_waited();
                        let left = self.fresh_left(hash, index, &key);
                        return ((shape.wrap)(value, left), true);
                    }
                    Waited::Retry => {}
                },
            }
        }
    }

    /// Async [`compute_fresh`](Self::compute_fresh).
    #[doc(hidden)]
    pub async fn compute_fresh_async<R>(
        &self,
        looked: Looked<V>,
        key: K,
        init: impl Future<Output = R>,
        shape: FreshShape<R, V>,
    ) -> (R, bool) {
        let located = self.locate(&key);
        let (old, forced) = match self.next(looked, located, &key, true) {
            Next::Done(value, left) => return ((shape.wrap)(value, left), true),
            Next::Lead(lead, old) => {
                return self
                    .lead_fresh_async(lead, located, key, init, shape, old, true)
                    .await
            }
            Next::Join { old, forced } => (old, forced),
        };
        let (hash, index) = located;
        loop {
            match self.in_flight().join(hash, true) {
                Joined::Lead(lead) => {
                    if !forced && lead.may_be_stored() {
                        if let Some((value, left)) = self.peek_fresh(hash, index, &key) {
                            lead.finish(None);
                            self.memo_stats.count_late_hit();
                            return ((shape.wrap)(value, left), true);
                        }
                    }
                    return self
                        .lead_fresh_async(lead, located, key, init, shape, old, !forced)
                        .await;
                }
                Joined::Wait(waiter) => match waiter.wait_async(&key, self.dedupe_timeout).await {
                    Waited::Done(value) => {
                        self.memo_stats.count_waited();
                        let left = self.fresh_left(hash, index, &key);
                        return ((shape.wrap)(value, left), true);
                    }
                    Waited::Retry => {}
                },
            }
        }
    }

    /// A leader's computation: through the tiers if the store has any (`read_tiers`: look
    /// there first; not for a forced refresh), then [`settle_fresh`](Self::settle_fresh).
    #[allow(clippy::too_many_arguments)]
    fn lead_fresh<R>(
        &self,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl FnOnce() -> R,
        shape: FreshShape<R, V>,
        old: Option<Old<V>>,
        read_tiers: bool,
    ) -> (R, bool) {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return self.lead_fresh_tiered(tiers, lead, located, key, init, shape, old, read_tiers);
        }
        let _ = read_tiers;
        let started = self.fresh.start(&self.clock);
        let result = init();
        self.fresh.record(&self.clock, started);
        self.settle_fresh(lead, located, key, result, shape, old)
    }

    /// Async [`lead_fresh`](Self::lead_fresh).
    #[allow(clippy::too_many_arguments)]
    async fn lead_fresh_async<R>(
        &self,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        init: impl Future<Output = R>,
        shape: FreshShape<R, V>,
        old: Option<Old<V>>,
        read_tiers: bool,
    ) -> (R, bool) {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return self
                .lead_fresh_tiered_async(tiers, lead, located, key, init, shape, old, read_tiers)
                .await;
        }
        let _ = read_tiers;
        let started = self.fresh.start(&self.clock);
        let result = lead.run_watched(init).await;
        self.fresh.record(&self.clock, started);
        self.settle_fresh(lead, located, key, result, shape, old)
    }

    /// After a leader computed: stores a cacheable value with its TTL (a zero TTL is returned
    /// uncached), or answers a failure with the old value (`fallback`, an early refresh), or
    /// returns the result uncached; then releases the waiters with what was returned.
    pub(crate) fn settle_fresh<R>(
        &self,
        lead: Lead<'_, K, V>,
        (hash, index): (u64, usize),
        key: K,
        result: R,
        shape: FreshShape<R, V>,
        old: Option<Old<V>>,
    ) -> (R, bool) {
        if let Some(value) = (shape.value)(&result) {
            let ttl = self.own_ttl(&shape, &result);
            if ttl == 0 {
                self.memo_stats.count_uncached();
                lead.finish(None);
                return (result, false);
            }
            let handoff = lead
                .may_have_waiters()
                .then(|| (key.clone(), value.clone()));
            if let Err(err) = self.insert_expiring_located(hash, index, key, value.clone(), ttl) {
                self.memo_stats.count_uncached();
                log::debug!(
                    "faas-memo cache {:?}: result not cached: {err}",
                    self.name()
                );
            }
            lead.finish(handoff);
            return (result, false);
        }
        match old {
            Some(old) if old.fallback && (shape.failed)(&result) => {
                self.memo_stats.count_fallback();
                let handoff = lead.may_have_waiters().then(|| (key, old.value.clone()));
                lead.finish(handoff);
                ((shape.wrap)(old.value, Some(Duration::ZERO)), true)
            }
            _ => {
                self.memo_stats.count_uncached();
                lead.finish(None);
                (result, false)
            }
        }
    }
}
