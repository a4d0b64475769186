//! The builder's side of the tiers: the settings [`Builder`] collects, and how `build()` turns
//! them into a store's [`Tiers`].

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::CacheError;
use crate::store::builder::{Builder, DEFAULT_DEDUPE_TIMEOUT};
use crate::tier::chain::{Layers, Tiers};
use crate::tier::codec::Codec;
use crate::tier::{Namespace, Tier};

/// The tiers a builder was given and their settings.
pub(crate) struct TierSetup<K, V> {
    /// How keys and values become bytes; set by every method that adds a tier (they require
    /// the serde bounds), or by the macro.
    pub(crate) codec: Option<Codec<K, V>>,
    pub(crate) sources: Vec<TierSource>,
    /// The namespace's tag: `version`, or the macro's hash of the function.
    pub(crate) tag: String,
    /// `redis_timeout` and `redis_prefix`, applied to the Redis tier when it is opened.
    #[cfg(feature = "redis")]
    pub(crate) redis_timeout: Option<std::time::Duration>,
    #[cfg(feature = "redis")]
    pub(crate) redis_prefix: Option<String>,
    /// `disk_max_size`, `disk_timeout` and the test's page limit, applied to the disk tier.
    #[cfg(feature = "disk")]
    pub(crate) disk: crate::tier::disk::DiskSettings,
}

impl<K, V> Default for TierSetup<K, V> {
    fn default() -> Self {
        TierSetup {
            codec: None,
            sources: Vec::new(),
            tag: String::new(),
            #[cfg(feature = "redis")]
            redis_timeout: None,
            #[cfg(feature = "redis")]
            redis_prefix: None,
            #[cfg(feature = "disk")]
            disk: crate::tier::disk::DiskSettings::default(),
        }
    }
}

/// A tier to open at `build()`.
pub(crate) enum TierSource {
    /// Given ready-made, through [`Builder::tier`].
    Ready(Arc<dyn Tier>),
    /// A directory of this machine (read first).
    #[cfg(feature = "disk")]
    Disk(crate::tier::disk::DiskSource),
    /// A Redis server (read after the disk, before ready-made tiers).
    #[cfg(feature = "redis")]
    Redis(crate::tier::redis::RedisSource),
}

impl TierSource {
    /// Tiers are read nearest first: the disk (this machine) before Redis (the fleet);
    /// ready-made tiers in the order given, after those.
    fn rank(&self) -> u8 {
        match self {
            #[cfg(feature = "disk")]
            TierSource::Disk(_) => 0,
            #[cfg(feature = "redis")]
            TierSource::Redis(_) => 1,
            TierSource::Ready(_) => 2,
        }
    }
}

impl<K, V, S> Builder<K, V, S> {
    /// Adds a second-level tier that misses read through and computed values are written to:
    /// a tier of your own (see [`Tier`]); the built-in ones have their own methods
    /// (`disk`, `redis`). Tiers are read in order: the disk first, then Redis, then these.
    ///
    /// Keys are encoded with `serde` (the tier stores the full key next to the value), values
    /// encoded and decoded with it.
    ///
    /// # Examples
    ///
    /// See [`Tier`].
    pub fn tier(mut self, tier: impl Tier) -> Self
    where
        K: Serialize,
        V: Serialize + DeserializeOwned,
    {
        self.tiers.codec = Some(Codec::serde());
        self.tiers.sources.push(TierSource::Ready(Arc::new(tier)));
        self
    }

    /// Pins the tiers' namespace: entries written under one version are found by stores of
    /// the same [`name`](Self::name) and version, in this process and in others. Stores of
    /// the same name and another version do not see them, and a tier reclaims them.
    /// Default: no version (the name alone).
    ///
    /// `#[faas_cached]` sets it to a hash of the function's code and the crate's version
    /// unless its `version = "..."` option pins it.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let cache: FaasCacheDict<u64, String> =
    ///     FaasCacheDict::builder().name("profiles").version("2024-06").build()?;
    /// assert_eq!(cache.name(), "profiles");
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.tiers.tag = version.into();
        self
    }

    /// The namespace tag computed by `#[faas_cached]`.
    #[doc(hidden)]
    pub fn tier_tag(mut self, tag: &str) -> Self {
        self.tiers.tag = tag.to_owned();
        self
    }

    /// The codec chosen by the macro (`None` when the serde bounds are missing: the
    /// generated code then fails to compile with an error on the offending type).
    #[doc(hidden)]
    pub fn tier_codec(mut self, codec: Option<crate::__private::TierCodec<K, V>>) -> Self {
        self.tiers.codec = codec.map(|c| c.0);
        self
    }

    /// Opens the tiers configured (`strict`: an error for a tier that cannot be used now;
    /// otherwise such a tier is kept, skipped and counted until it can be used).
    pub(crate) fn open_tiers(&mut self, strict: bool) -> Result<Option<Tiers<K, V>>, CacheError> {
        let setup = std::mem::take(&mut self.tiers);
        #[cfg(feature = "redis")]
        if let Some(timeout) = setup.redis_timeout {
            let has_redis = setup
                .sources
                .iter()
                .any(|s| matches!(s, TierSource::Redis(_)));
            if !has_redis || timeout.is_zero() {
                return Err(CacheError::InvalidBound {
                    name: "redis_timeout",
                    value: format!("{timeout:?}"),
                    reason: if has_redis {
                        "the time budget of a Redis call must be greater than zero"
                    } else {
                        "a Redis time budget needs a Redis tier: add .redis(url)"
                    },
                });
            }
        }
        #[cfg(feature = "disk")]
        {
            let has_disk = setup
                .sources
                .iter()
                .any(|s| matches!(s, TierSource::Disk(_)));
            if !has_disk {
                if let Some(size) = &setup.disk.max_size {
                    return Err(CacheError::InvalidBound {
                        name: "disk_max_size",
                        value: size
                            .as_ref()
                            .map_or_else(|_| "?".to_owned(), |s| s.to_string()),
                        reason: "a bound of the disk tier needs a disk tier: add .disk(dir)",
                    });
                }
                if let Some(timeout) = setup.disk.timeout {
                    return Err(CacheError::InvalidBound {
                        name: "disk_timeout",
                        value: format!("{timeout:?}"),
                        reason: "a disk time budget needs a disk tier: add .disk(dir)",
                    });
                }
            }
        }
        if setup.sources.is_empty() {
            return Ok(None);
        }
        let Some(codec) = setup.codec else {
            return Ok(None);
        };
        let mut sources = setup.sources;
        sources.sort_by_key(TierSource::rank);
        let mut tiers: Vec<Arc<dyn Tier>> = Vec::with_capacity(sources.len());
        for source in sources {
            match source {
                TierSource::Ready(tier) => tiers.push(tier),
                #[cfg(feature = "disk")]
                TierSource::Disk(source) => match setup.disk.open(&source, strict) {
                    Ok(tier) => tiers.push(Arc::new(tier)),
                    Err(err) if strict => return Err(err),
                    // The macro's lenient build opens the file on first use (what is wrong
                    // then is counted in the tier's errors); only a bad setting gets here.
                    Err(err) => log::error!(
                        "faas-memo cache {:?}: no disk tier: {err}",
                        self.name.as_deref().unwrap_or("FaasCacheDict")
                    ),
                },
                #[cfg(feature = "redis")]
                TierSource::Redis(source) => {
                    let spec = crate::tier::redis::RedisSpec {
                        source,
                        timeout: setup
                            .redis_timeout
                            .unwrap_or(crate::tier::redis::DEFAULT_REDIS_TIMEOUT),
                        prefix: setup
                            .redis_prefix
                            .clone()
                            .unwrap_or_else(|| crate::tier::redis::DEFAULT_REDIS_PREFIX.to_owned()),
                    };
                    match spec.open() {
                        Ok(tier) => tiers.push(Arc::new(tier)),
                        Err(err) if strict => return Err(err),
                        // The macro's lenient build: no tier (the error is logged once);
                        // the function works from memory.
                        Err(err) => log::error!(
                            "faas-memo cache {:?}: no Redis tier: {err}",
                            self.name.as_deref().unwrap_or("FaasCacheDict")
                        ),
                    }
                }
            }
        }
        let _ = strict;
        if tiers.is_empty() {
            // Every tier failed to open in a lenient build: the store works from memory.
            return Ok(None);
        }
        // A memoized function's name is its path (`module::Type::method` in an `impl` block,
        // with the concrete `Self`): its namespace is its own.
        let name = self.name.as_deref().unwrap_or("FaasCacheDict").to_owned();
        let ns = Namespace::new(&name, &setup.tag);
        let lease_ttl = self.dedupe_timeout.unwrap_or(DEFAULT_DEDUPE_TIMEOUT);
        Ok(Some(Tiers::new(
            Layers::new(tiers, ns, name),
            codec,
            lease_ttl,
        )))
    }
}
