//! The memoization layer over the store: compute on a miss, once per key however many callers
//! miss at the same time.

pub(crate) mod dedupe;
pub(crate) mod fresh;
pub(crate) mod fresh_compute;
pub(crate) mod memoize;
pub(crate) mod returns;
#[cfg(feature = "tier")]
pub(crate) mod tiered;
