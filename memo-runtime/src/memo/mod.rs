//! The memoization layer over the store: compute on a miss, once per key however many callers
//! miss at the same time.

pub(crate) mod dedupe;
pub(crate) mod memoize;
#[cfg(feature = "tier")]
pub(crate) mod tiered;
