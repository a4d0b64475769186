//! Return types that carry more than the value: [`Cached`] (whether a memoized call was served
//! from the cache, `cached_flag`) and [`WithTtl`] (a value that sets its own time to live).

use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// A memoized function's value and whether it came from the cache: what a function with
/// `#[faas_cached(cached_flag)]` returns (`Cached<T>`, or `Result<Cached<T>, E>` /
/// `Option<Cached<T>>` for a fallible one). It derefs to the value.
///
/// [`was_cached`](Self::was_cached) is `false` exactly when this call ran the body and returns
/// its result; a hit, a value another caller computed while this one waited, a stale value and
/// a fallback value are all `true`.
///
/// The function's body returns the plain type (`T`, `Result<T, E>`); the attribute wraps it.
///
/// # Examples
///
/// ```
/// use memo_runtime::{faas_cached, Cached};
///
/// #[faas_cached(cached_flag)]
/// fn square(x: u64) -> Cached<u64> {
///     x * x // the body returns the plain value
/// }
///
/// let first = square(3);
/// assert_eq!((*first, first.was_cached()), (9, false));
/// let second = square(3);
/// assert!(second.was_cached());
/// assert_eq!(second.into_inner(), 9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cached<T> {
    value: T,
    was_cached: bool,
}

impl<T> Cached<T> {
    /// A value and whether it came from the cache.
    pub const fn new(value: T, was_cached: bool) -> Self {
        Cached { value, was_cached }
    }

    /// Whether the value came from the cache (the call did not run the body for it).
    pub const fn was_cached(&self) -> bool {
        self.was_cached
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Cached<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Cached<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> AsRef<T> for Cached<T> {
    fn as_ref(&self) -> &T {
        &self.value
    }
}

/// A value with its own time to live, as an HTTP response with `Cache-Control: max-age`: a
/// memoized function that returns `WithTtl<T>` (or `Result<WithTtl<T>, E>`,
/// `Option<WithTtl<T>>`) caches `T` for the TTL the body chose, instead of the function's
/// `ttl`.
///
/// The store holds `T`. A hit returns the value with the time it has left
/// ([`ttl`](Self::ttl)); a zero TTL returns the value without caching it.
///
/// # Examples
///
/// ```
/// use memo_runtime::{faas_cached, WithTtl};
/// use std::time::Duration;
///
/// #[faas_cached]
/// fn token(scope: &str) -> WithTtl<String> {
///     // The identity provider says how long the token lives.
///     WithTtl::new(format!("token-for-{scope}"), Duration::from_secs(300))
/// }
///
/// let fresh = token("read");
/// assert_eq!(fresh.value(), "token-for-read");
/// let hit = token("read");
/// assert!(hit.ttl().unwrap() <= Duration::from_secs(300));
/// assert!(token_cache().get_ttl(&("read".to_owned(),)).is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WithTtl<T> {
    value: T,
    ttl: Option<Duration>,
}

impl<T> WithTtl<T> {
    /// `value`, to be cached for `ttl` (not at all for `Duration::ZERO`).
    pub const fn new(value: T, ttl: Duration) -> Self {
        WithTtl {
            value,
            ttl: Some(ttl),
        }
    }

    /// `value`, cached without expiry.
    pub const fn without_expiry(value: T) -> Self {
        WithTtl { value, ttl: None }
    }

    /// The value.
    pub const fn value(&self) -> &T {
        &self.value
    }

    /// The time to live: as set by the body, or, for a value returned from the cache, the time
    /// it has left (zero for a stale or fallback value). `None`: no expiry.
    pub const fn ttl(&self) -> Option<Duration> {
        self.ttl
    }

    /// The value, without its TTL.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value and its TTL.
    pub fn into_parts(self) -> (T, Option<Duration>) {
        (self.value, self.ttl)
    }
}

impl<T> Deref for WithTtl<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_hand_out_their_parts() {
        let mut cached = Cached::new(vec![1], true);
        cached.push(2);
        assert!(cached.was_cached());
        assert_eq!(cached.as_ref(), &[1, 2]);
        assert_eq!(cached.into_inner(), [1, 2]);
        let timed = WithTtl::new("v", Duration::from_secs(2));
        assert_eq!(
            (*timed.value(), timed.ttl()),
            ("v", Some(Duration::from_secs(2)))
        );
        assert_eq!(timed.len(), 1);
        assert_eq!(WithTtl::without_expiry(1).into_parts(), (1, None));
    }
}
