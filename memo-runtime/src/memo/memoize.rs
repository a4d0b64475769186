//! Compute on a miss, once per key however many callers miss at the same time:
//! [`FaasCacheDict::get_or_insert_with`] and friends, which `#[faas_cached]` calls.

use std::future::Future;
use std::hash::{BuildHasher, Hash};

use crate::memo::dedupe::{InFlight, Joined, Lead, Waited};
use crate::store::dict::FaasCacheDict;

/// How a computation's result relates to the value cached for it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Shape<R, V> {
    /// The value to cache, if the result is cacheable (`Ok`, `Some`, or any plain value).
    pub value: fn(&R) -> Option<&V>,
    /// The result to return for a cached value.
    pub wrap: fn(V) -> R,
}

impl<R, V> Clone for Shape<R, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, V> Copy for Shape<R, V> {}

impl<V> Shape<V, V> {
    /// Every result is cached.
    pub const PLAIN: Self = Shape {
        value: |v| Some(v),
        wrap: |v| v,
    };
}

impl<V, E> Shape<Result<V, E>, V> {
    /// Only `Ok` values are cached; errors are returned and the next call tries again.
    pub const OK: Self = Shape {
        value: |r| r.as_ref().ok(),
        wrap: Ok,
    };
}

impl<V> Shape<Option<V>, V> {
    /// Only `Some` values are cached.
    pub const SOME: Self = Shape {
        value: Option::as_ref,
        wrap: Some,
    };
}

impl<K, V, S> FaasCacheDict<K, V, S>
where
    K: Hash + Eq + Clone,
    V: Clone,
    S: BuildHasher,
{
    /// The value for `key`, computing and inserting it with `init` on a miss.
    ///
    /// When several threads miss on the same key at once, `init` runs once and the others wait
    /// for its value; threads on other keys do not wait. If `init` panics, the waiters are
    /// released and one of them computes instead. A waiter whose leader shows no progress for
    /// the store's [dedupe timeout](crate::Builder::dedupe_timeout) computes itself.
    ///
    /// A value too large for the byte bound is returned without being cached.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u64, u64> = FaasCacheDict::new();
    /// assert_eq!(cache.get_or_insert_with(3, || 3 * 3), 9);
    /// assert_eq!(cache.get_or_insert_with(3, || unreachable!()), 9);
    /// ```
    pub fn get_or_insert_with(&self, key: K, init: impl FnOnce() -> V) -> V {
        self.compute(key, init, Shape::PLAIN)
    }

    /// Like [`get_or_insert_with`](Self::get_or_insert_with) for a fallible computation: only
    /// an `Ok` value is cached; an error is returned to the caller that computed it, and any
    /// callers waiting for it try again.
    ///
    /// # Errors
    ///
    /// The error of `init`, when this caller ran it.
    pub fn try_get_or_insert_with<E>(
        &self,
        key: K,
        init: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        self.compute(key, init, Shape::OK)
    }

    /// Async [`get_or_insert_with`](Self::get_or_insert_with): waiting callers yield to their
    /// executor instead of blocking it, and a leader future that is dropped, or that nobody
    /// polls for the dedupe timeout, hands over to a waiter. Works with any executor.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u64, u64> = FaasCacheDict::new();
    /// let value = block_on(cache.get_or_insert_with_async(2, async { 4 }));
    /// assert_eq!(value, 4);
    /// # // A minimal executor, to show that none in particular is needed.
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl std::task::Wake for Unpark {
    /// #         fn wake(self: std::sync::Arc<Self>) { self.0.unpark() }
    /// #     }
    /// #     let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         match f.as_mut().poll(&mut cx) {
    /// #             std::task::Poll::Ready(v) => return v,
    /// #             std::task::Poll::Pending => std::thread::park(),
    /// #         }
    /// #     }
    /// # }
    /// ```
    pub async fn get_or_insert_with_async(&self, key: K, init: impl Future<Output = V>) -> V {
        self.compute_async(key, init, Shape::PLAIN).await
    }

    /// Async [`try_get_or_insert_with`](Self::try_get_or_insert_with).
    ///
    /// # Errors
    ///
    /// The error of `init`, when this caller ran it.
    pub async fn try_get_or_insert_with_async<E>(
        &self,
        key: K,
        init: impl Future<Output = Result<V, E>>,
    ) -> Result<V, E> {
        self.compute_async(key, init, Shape::OK).await
    }

    pub(crate) fn in_flight(&self) -> &InFlight<K, V> {
        self.in_flight.get_or_init(|| Box::new(InFlight::new()))
    }

    /// Caches the value of a computation, if it fits (if not, it counts as uncached).
    fn keep(&self, hash: u64, index: usize, key: K, value: V) {
        if let Err(err) = self.insert_located(hash, index, key, value) {
            self.memo_stats.count_uncached();
            log::debug!(
                "faas-memo cache {:?}: result not cached: {err}",
                self.name()
            );
        }
    }

    /// Caches a leader's cacheable value and releases its waiters, handing them a copy if
    /// some may be waiting.
    pub(crate) fn finish_lead(
        &self,
        lead: Lead<'_, K, V>,
        located: (u64, usize),
        key: K,
        value: Option<&V>,
    ) {
        let Some(value) = value else {
            self.memo_stats.count_uncached();
            return lead.finish(None);
        };
        let handoff = lead
            .may_have_waiters()
            .then(|| (key.clone(), value.clone()));
        self.keep(located.0, located.1, key, value.clone());
        lead.finish(handoff);
    }

    #[doc(hidden)]
    pub fn compute<R>(&self, key: K, init: impl FnOnce() -> R, shape: Shape<R, V>) -> R {
        let (hash, index) = self.locate(&key);
        match self.get_located(hash, index, &key) {
            Some(value) => (shape.wrap)(value),
            None => self.compute_missed(key, init, shape),
        }
    }

    /// The miss path of [`compute`](Self::compute), for a caller that has just looked the key
    /// up (by a borrowed form) and counted the miss.
    ///
    /// Statistics: that miss stands if this caller computes; if another caller's computation
    /// serves it, it becomes a `waited`, and if the value turns up in the store before it
    /// computes, a hit (see `MemoStats`). A caller that did not count a miss first must not
    /// come here, or `misses` would be one short.
    #[doc(hidden)]
    pub fn compute_missed<R>(&self, key: K, init: impl FnOnce() -> R, shape: Shape<R, V>) -> R {
        let (hash, index) = self.locate(&key);
        loop {
            match self.in_flight().join(hash, false) {
                Joined::Lead(lead) => {
                    // Another leader may have finished between our miss and our joining.
                    if lead.may_be_stored() {
                        if let Some(value) = self.peek_located(hash, index, &key) {
                            lead.finish(None);
                            self.memo_stats.count_late_hit();
                            return (shape.wrap)(value);
                        }
                    }
                    #[cfg(feature = "tier")]
                    if let Some(tiers) = self.tiers() {
                        return self.lead_tiered(tiers, lead, (hash, index), key, init, shape);
                    }
                    let result = init();
                    self.finish_lead(lead, (hash, index), key, (shape.value)(&result));
                    return result;
                }
                Joined::Wait(waiter) => match waiter.wait(&key, self.dedupe_timeout) {
                    Waited::Done(value) => {
                        self.memo_stats.count_waited();
                        return (shape.wrap)(value);
                    }
                    Waited::Retry => {}
                },
            }
        }
    }

    #[doc(hidden)]
    pub async fn compute_async<R>(
        &self,
        key: K,
        init: impl Future<Output = R>,
        shape: Shape<R, V>,
    ) -> R {
        let (hash, index) = self.locate(&key);
        match self.get_located(hash, index, &key) {
            Some(value) => (shape.wrap)(value),
            None => self.compute_missed_async(key, init, shape).await,
        }
    }

    /// The miss path of [`compute_async`](Self::compute_async).
    #[doc(hidden)]
    pub async fn compute_missed_async<R>(
        &self,
        key: K,
        init: impl Future<Output = R>,
        shape: Shape<R, V>,
    ) -> R {
        let (hash, index) = self.locate(&key);
        loop {
            match self.in_flight().join(hash, true) {
                Joined::Lead(lead) => {
                    if lead.may_be_stored() {
                        if let Some(value) = self.peek_located(hash, index, &key) {
                            lead.finish(None);
                            self.memo_stats.count_late_hit();
                            return (shape.wrap)(value);
                        }
                    }
                    #[cfg(feature = "tier")]
                    if let Some(tiers) = self.tiers() {
                        return self
                            .lead_tiered_async(tiers, lead, (hash, index), key, init, shape)
                            .await;
                    }
                    let result = lead.run_watched(init).await;
                    self.finish_lead(lead, (hash, index), key, (shape.value)(&result));
                    return result;
                }
                Joined::Wait(waiter) => match waiter.wait_async(&key, self.dedupe_timeout).await {
                    Waited::Done(value) => {
                        self.memo_stats.count_waited();
                        return (shape.wrap)(value);
                    }
                    Waited::Retry => {}
                },
            }
        }
    }

    /// After a miss, computes without stampede protection: every caller that misses computes.
    #[doc(hidden)]
    pub fn compute_undeduped_missed<R>(
        &self,
        key: K,
        init: impl FnOnce() -> R,
        shape: Shape<R, V>,
    ) -> R {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return self.undeduped_tiered(tiers, key, init, shape);
        }
        let result = init();
        self.keep_undeduped(key, (shape.value)(&result));
        result
    }

    /// Async [`compute_undeduped_missed`](Self::compute_undeduped_missed).
    #[doc(hidden)]
    pub async fn compute_undeduped_missed_async<R>(
        &self,
        key: K,
        init: impl Future<Output = R>,
        shape: Shape<R, V>,
    ) -> R {
        #[cfg(feature = "tier")]
        if let Some(tiers) = self.tiers() {
            return self.undeduped_tiered_async(tiers, key, init, shape).await;
        }
        let result = init.await;
        self.keep_undeduped(key, (shape.value)(&result));
        result
    }

    /// Caches the cacheable value of an undeduplicated computation, or counts it as uncached.
    pub(crate) fn keep_undeduped(&self, key: K, value: Option<&V>) {
        match value {
            Some(value) => {
                let (hash, index) = self.locate(&key);
                self.keep(hash, index, key, value.clone());
            }
            None => self.memo_stats.count_uncached(),
        }
    }
}
