//! Second-level stores ("tiers") under the memory store: what they share.
//!
//! A memoized function or a store with a tier reads through it: L1 (the memory store), then
//! each tier in order (the disk before Redis), then computes. A value found in a tier fills
//! the memory store (and the tiers before it) with what remains of its TTL; a computed value
//! goes to the memory store and to every tier.
//!
//! - [`Tier`] is the one small trait a tier implements, on bytes: get, put, remove, clear by
//!   namespace, and a lease (an owner token with an expiry) for cross-process stampede
//!   protection. Its errors never reach the memoized function's caller: they are counted in
//!   [`TierInfo`](crate::TierInfo) and logged once per kind, and the call goes on without the tier.
//! - `codec` turns keys and values into a versioned envelope of bytes (serde + postcard) and
//!   keys into a hash that is the same in every process and every build.
//! - [`Namespace`] keeps the entries of one function (or one store) apart from the others in
//!   a shared tier, and apart from those of an older version of its code.
//! - `chain` is the typed layer a store holds; `memo::tiered` is the one place in the
//!   memoization path that calls it.

mod gate;
pub(crate) mod info;
pub(crate) mod private;
pub(crate) mod store;

#[cfg(feature = "tier")]
pub(crate) mod chain;
#[cfg(feature = "tier")]
pub(crate) mod codec;

#[cfg(feature = "disk")]
pub(crate) mod disk;
#[cfg(feature = "tier")]
pub(crate) mod io;
#[cfg(feature = "tier")]
mod namespace;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "tier")]
pub(crate) mod setup;
#[cfg(feature = "tier")]
pub(crate) mod stats;

#[cfg(feature = "tier")]
pub use namespace::Namespace;

#[cfg(feature = "tier")]
mod api {
    use std::fmt;
    use std::time::{Duration, SystemTime};

    use super::Namespace;

    /// A second-level store on bytes, shared by the processes of a machine (disk) or of a
    /// fleet (Redis), that a [`FaasCacheDict`](crate::FaasCacheDict) reads through.
    ///
    /// Entries are addressed by a [`Namespace`] and a 64-bit key hash. The bytes stored are an
    /// envelope made by the tier layer: it carries the full key (a hash collision is then a
    /// miss, never a wrong value), the value and the absolute expiry, so a tier stores and
    /// returns them as they are. A tier must:
    ///
    /// - keep each call within its time [`budget`](Self::budget) (a busy timeout, a response
    ///   timeout) and return an error rather than wait longer: the caller then computes;
    /// - honour `expires` (an absolute wall-clock time) on [`put`](Self::put): an entry past
    ///   it is never returned by [`get`](Self::get) (returning it is harmless, the layer checks
    ///   the envelope's expiry too, but it should be reclaimed);
    /// - implement [`lease`](Self::lease) atomically across every process that shares it, or
    ///   answer [`Lease::Unsupported`].
    ///
    /// Errors are never returned to a memoized function's caller: the layer counts them per
    /// tier and per [`TierErrorKind`], logs the first of each kind, and goes on without the
    /// tier for that call.
    ///
    /// # Examples
    ///
    /// A tier that keeps entries in a map of this process (a real tier is shared by several):
    ///
    /// ```
    /// use memo_runtime::tier::{Lease, LeaseToken, Namespace, Tier, TierError};
    /// use memo_runtime::FaasCacheDict;
    /// use std::collections::HashMap;
    /// use std::sync::{Arc, Mutex};
    /// use std::time::{Duration, SystemTime};
    ///
    /// #[derive(Debug, Default)]
    /// struct MapTier(Mutex<HashMap<(u64, u64), Vec<u8>>>);
    ///
    /// impl Tier for MapTier {
    ///     fn kind(&self) -> &'static str { "map" }
    ///     fn location(&self) -> String { "memory".to_owned() }
    ///     fn budget(&self) -> Duration { Duration::from_millis(10) }
    ///     fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError> {
    ///         Ok(self.0.lock().unwrap().get(&(ns.id(), hash)).cloned())
    ///     }
    ///     fn put(&self, ns: &Namespace, hash: u64, entry: &[u8], _expires: Option<SystemTime>,
    ///            _now: SystemTime) -> Result<(), TierError> {
    ///         self.0.lock().unwrap().insert((ns.id(), hash), entry.to_vec());
    ///         Ok(())
    ///     }
    ///     fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError> {
    ///         Ok(self.0.lock().unwrap().remove(&(ns.id(), hash)).is_some())
    ///     }
    ///     fn clear(&self, ns: &Namespace) -> Result<(), TierError> {
    ///         self.0.lock().unwrap().retain(|(id, _), _| *id != ns.id());
    ///         Ok(())
    ///     }
    ///     fn lease(&self, _: &Namespace, _: u64, _: LeaseToken, _: SystemTime, _: SystemTime)
    ///              -> Result<Lease, TierError> {
    ///         Ok(Lease::Unsupported) // one process: the in-process dedupe is enough
    ///     }
    ///     fn release(&self, _: &Namespace, _: u64, _: LeaseToken) -> Result<(), TierError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let shared = Arc::new(MapTier::default());
    /// let first: FaasCacheDict<u64, String> =
    ///     FaasCacheDict::builder().name("squares").tier(shared.clone()).build()?;
    /// assert_eq!(first.get_or_insert_with(4, || "16".to_owned()), "16");
    /// // A second store on the same tier (another process, for a real tier) finds it there.
    /// let second: FaasCacheDict<u64, String> =
    ///     FaasCacheDict::builder().name("squares").tier(shared).build()?;
    /// assert_eq!(second.get_or_insert_with(4, || unreachable!()), "16");
    /// assert_eq!(second.info().tiers[0].hits, 1);
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub trait Tier: Send + Sync + fmt::Debug + 'static {
        /// A short name for [`TierInfo`](crate::TierInfo) and logs: `"disk"`, `"redis"`.
        fn kind(&self) -> &'static str;

        /// Where the tier is (a file path, a URL without its password), for logs and errors.
        fn location(&self) -> String;

        /// The longest one call may take before the tier gives up with an error.
        fn budget(&self) -> Duration;

        /// Whether a call may block its thread (file or socket I/O without an executor of its
        /// own): async callers then run it on the tier layer's I/O threads instead of their
        /// executor's. Default `true`.
        fn blocks(&self) -> bool {
            true
        }

        /// Prepares the tier for a namespace: creates what it needs, and may start reclaiming
        /// entries of other namespaces of the same [`name`](Namespace::name) (an older version
        /// of the function's code). Called before the namespace's first other call, and again
        /// after it failed. Default: nothing to prepare.
        ///
        /// # Errors
        ///
        /// Why the tier cannot serve this namespace now.
        fn attach(&self, ns: &Namespace) -> Result<(), TierError> {
            let _ = ns;
            Ok(())
        }

        /// The entry stored for `hash` in `ns`, if any.
        ///
        /// # Errors
        ///
        /// Why the tier could not answer within its budget.
        fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError>;

        /// Stores `entry` for `hash` in `ns`, replacing any entry there, until `expires`
        /// (`None`: no expiry); `now` is the caller's wall-clock time.
        ///
        /// # Errors
        ///
        /// Why the entry was not stored.
        fn put(
            &self,
            ns: &Namespace,
            hash: u64,
            entry: &[u8],
            expires: Option<SystemTime>,
            now: SystemTime,
        ) -> Result<(), TierError>;

        /// Removes the entry for `hash` in `ns`; whether there was one.
        ///
        /// # Errors
        ///
        /// Why the tier could not remove it.
        fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError>;

        /// Removes every entry of `ns` (and only of `ns`).
        ///
        /// # Errors
        ///
        /// Why the tier could not clear it.
        fn clear(&self, ns: &Namespace) -> Result<(), TierError>;

        /// Tries to take the lease of `hash` in `ns` for `owner` until `until`: granted when
        /// nobody holds it or its holder's lease expired before `now`. The holder computes
        /// the value; the others wait for it to appear, or for the lease to expire and take
        /// it over. A tier shared by one process only may answer [`Lease::Unsupported`].
        ///
        /// # Errors
        ///
        /// Why the tier could not answer: the caller then computes without a lease.
        fn lease(
            &self,
            ns: &Namespace,
            hash: u64,
            owner: LeaseToken,
            until: SystemTime,
            now: SystemTime,
        ) -> Result<Lease, TierError>;

        /// Gives the lease of `hash` in `ns` back, if `owner` still holds it (a lease taken
        /// over by another owner is left alone).
        ///
        /// # Errors
        ///
        /// Why the tier could not answer; the lease then ends at its expiry.
        fn release(&self, ns: &Namespace, hash: u64, owner: LeaseToken) -> Result<(), TierError>;

        /// Bytes the entries of `ns` take in the tier, for [`TierInfo`](crate::TierInfo), if
        /// the tier knows it cheaply. Default `None`.
        fn bytes(&self, ns: &Namespace) -> Option<u64> {
            let _ = ns;
            None
        }

        /// Whether the tier skips every call now (a circuit breaker open after repeated
        /// failures). The layer then neither encodes for the tier nor calls it, and counts the
        /// calls in [`TierInfo::skipped`](crate::TierInfo::skipped): a call then costs what it
        /// costs without the tier. Checked before each call, so keep it to an atomic load or
        /// two. Default `false`.
        fn skipping(&self) -> bool {
            false
        }

        /// The tier's health in a word, for [`TierInfo::health`](crate::TierInfo::health):
        /// the Redis tier reports its circuit breaker (`"closed"`, `"open"`, `"half-open"`).
        /// Default `None`.
        fn health(&self) -> Option<&'static str> {
            None
        }
    }

    impl<T: Tier + ?Sized> Tier for std::sync::Arc<T> {
        fn kind(&self) -> &'static str {
            (**self).kind()
        }
        fn location(&self) -> String {
            (**self).location()
        }
        fn budget(&self) -> Duration {
            (**self).budget()
        }
        fn blocks(&self) -> bool {
            (**self).blocks()
        }
        fn attach(&self, ns: &Namespace) -> Result<(), TierError> {
            (**self).attach(ns)
        }
        fn get(&self, ns: &Namespace, hash: u64) -> Result<Option<Vec<u8>>, TierError> {
            (**self).get(ns, hash)
        }
        fn put(
            &self,
            ns: &Namespace,
            hash: u64,
            entry: &[u8],
            expires: Option<SystemTime>,
            now: SystemTime,
        ) -> Result<(), TierError> {
            (**self).put(ns, hash, entry, expires, now)
        }
        fn remove(&self, ns: &Namespace, hash: u64) -> Result<bool, TierError> {
            (**self).remove(ns, hash)
        }
        fn clear(&self, ns: &Namespace) -> Result<(), TierError> {
            (**self).clear(ns)
        }
        fn lease(
            &self,
            ns: &Namespace,
            hash: u64,
            owner: LeaseToken,
            until: SystemTime,
            now: SystemTime,
        ) -> Result<Lease, TierError> {
            (**self).lease(ns, hash, owner, until, now)
        }
        fn release(&self, ns: &Namespace, hash: u64, owner: LeaseToken) -> Result<(), TierError> {
            (**self).release(ns, hash, owner)
        }
        fn bytes(&self, ns: &Namespace) -> Option<u64> {
            (**self).bytes(ns)
        }
        fn skipping(&self) -> bool {
            (**self).skipping()
        }
        fn health(&self) -> Option<&'static str> {
            (**self).health()
        }
    }

    /// The answer to [`Tier::lease`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum Lease {
        /// The caller holds the lease: it computes, stores, then releases.
        Acquired,
        /// Another owner holds it until this time: wait for its value, or take the lease over
        /// once it expired.
        Held {
            /// When the holder's lease expires.
            until: SystemTime,
        },
        /// The tier has no leases (a tier of one process): compute without one.
        Unsupported,
    }

    /// A random token that tells one lease holder from every other, in this process and in
    /// others.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::tier::LeaseToken;
    ///
    /// assert_ne!(LeaseToken::random(), LeaseToken::random());
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct LeaseToken(pub u64);

    impl LeaseToken {
        /// A new token: random, never zero.
        pub fn random() -> Self {
            use std::hash::{BuildHasher, Hash, Hasher};
            use std::sync::atomic::{AtomicU64, Ordering};
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            // std's RandomState draws its keys from the OS once per process; hashing a
            // counter, the process id and the time with it gives unpredictable, distinct tokens.
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut hasher);
            std::process::id().hash(&mut hasher);
            SystemTime::now().hash(&mut hasher);
            LeaseToken(hasher.finish().max(1))
        }
    }

    /// What kind of failure a [`TierError`] is: errors are counted per kind and the first of
    /// each kind is logged.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum TierErrorKind {
        /// The tier cannot be opened or reached (a missing or unwritable directory, a refused
        /// connection).
        Unavailable,
        /// The call did not complete within the budget (a lock held by another process, a
        /// slow server).
        Timeout,
        /// No space left (a full disk, the database's page limit, Redis out of memory).
        Full,
        /// The stored data is damaged (a corrupt file).
        Corrupt,
        /// The data was written by a newer version of faas-memo, which this one leaves alone.
        Incompatible,
        /// A key or value that serde could not encode.
        Encode,
        /// Anything else.
        Other,
    }

    impl TierErrorKind {
        pub(crate) const ALL: [TierErrorKind; 7] = [
            TierErrorKind::Unavailable,
            TierErrorKind::Timeout,
            TierErrorKind::Full,
            TierErrorKind::Corrupt,
            TierErrorKind::Incompatible,
            TierErrorKind::Encode,
            TierErrorKind::Other,
        ];

        pub(crate) fn index(self) -> usize {
            self as usize
        }

        /// The kind's name in logs and [`TierInfo`](crate::TierInfo): `"timeout"`, `"full"`...
        pub fn as_str(self) -> &'static str {
            match self {
                TierErrorKind::Unavailable => "unavailable",
                TierErrorKind::Timeout => "timeout",
                TierErrorKind::Full => "full",
                TierErrorKind::Corrupt => "corrupt",
                TierErrorKind::Incompatible => "incompatible",
                TierErrorKind::Encode => "encode",
                TierErrorKind::Other => "other",
            }
        }
    }

    impl fmt::Display for TierErrorKind {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.as_str())
        }
    }

    /// A failed tier call: its kind and a message for the log.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::tier::{TierError, TierErrorKind};
    ///
    /// let err = TierError::new(TierErrorKind::Timeout, "database is locked");
    /// assert_eq!(err.kind(), TierErrorKind::Timeout);
    /// assert_eq!(err.to_string(), "timeout: database is locked");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TierError {
        kind: TierErrorKind,
        message: String,
    }

    impl TierError {
        /// An error of `kind`, described by `message`.
        pub fn new(kind: TierErrorKind, message: impl Into<String>) -> Self {
            TierError {
                kind,
                message: message.into(),
            }
        }

        /// Its kind.
        pub fn kind(&self) -> TierErrorKind {
            self.kind
        }

        /// Its message.
        pub fn message(&self) -> &str {
            &self.message
        }
    }

    impl fmt::Display for TierError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.kind, self.message)
        }
    }

    impl std::error::Error for TierError {}
}

#[cfg(feature = "tier")]
pub use api::{Lease, LeaseToken, Tier, TierError, TierErrorKind};
