//! The default hasher: keyed with per-process random keys so that request-controlled keys
//! cannot be chosen to collide (HashDoS).

use std::hash::BuildHasher;

/// The default [`BuildHasher`] of a store: aHash with keys drawn from the operating system's
/// random source. It hashes a `u64` in about 1 ns (SipHash, std's default: 11 ns on the same
/// machine) and, unlike unkeyed hashes such as FxHash, an attacker who does not know the keys
/// cannot precompute colliding inputs. To use SipHash instead, pass
/// `std::collections::hash_map::RandomState` to
/// [`Builder::hasher`](crate::Builder::hasher).
///
/// # Examples
///
/// ```
/// use memo_runtime::DefaultHashBuilder;
/// use std::hash::BuildHasher;
///
/// let (a, b) = (DefaultHashBuilder::default(), DefaultHashBuilder::default());
/// // Each store gets its own keys.
/// assert_ne!(a.hash_one(42u64), b.hash_one(42u64));
/// assert_eq!(a.hash_one(42u64), a.hash_one(42u64));
/// ```
#[derive(Clone, Debug, Default)]
pub struct DefaultHashBuilder(ahash::RandomState);

impl BuildHasher for DefaultHashBuilder {
    type Hasher = ahash::AHasher;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}
