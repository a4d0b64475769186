//! The builder's disk settings: [`Builder::disk`] and friends.

use std::path::PathBuf;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::DiskSource;
use crate::size::byte_size::IntoByteSize;
use crate::store::builder::Builder;
use crate::tier::codec::Codec;
use crate::tier::setup::TierSource;

impl<K, V, S> Builder<K, V, S> {
    /// Adds the disk tier: a SQLite file in `dir` (created if missing), shared by every
    /// process of the machine that names the same directory and kept across their restarts.
    /// It is read after memory (before Redis, if any) and written with every computed value.
    ///
    /// Keys and values are stored with serde (keys need `Serialize`, values `Serialize` and
    /// `Deserialize`), with their absolute expiry. The file's entries are bounded by
    /// [`disk_max_size`](Self::disk_max_size) (default 256 MiB); each call waits for another
    /// process's lock at most [`disk_timeout`](Self::disk_timeout) (default 100 ms). A call
    /// that fails (a full disk, a locked or damaged file) is counted in
    /// [`CacheInfo::tiers`](crate::CacheInfo::tiers) and the value is computed instead.
    /// Several processes that miss the same key compute it once: the others wait for the
    /// value for up to [`dedupe_timeout`](Self::dedupe_timeout), which is also the lease of
    /// the one that computes.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) returns [`CacheError::TierUnavailable`](crate::CacheError),
    /// naming the file, when the directory cannot be created, the file cannot be opened or is
    /// not a faas-memo database, or was written by a newer version.
    ///
    /// # Examples
    ///
    /// ```
    /// use memo_runtime::FaasCacheDict;
    ///
    /// let dir = std::env::temp_dir().join(format!("faas-memo-doc-{}", std::process::id()));
    /// let build = || -> Result<FaasCacheDict<u64, String>, memo_runtime::CacheError> {
    ///     FaasCacheDict::builder()
    ///         .name("reports")
    ///         .disk(&dir)
    ///         .disk_max_size("64M")
    ///         .build()
    /// };
    /// let first = build()?;
    /// assert_eq!(first.get_or_insert_with(7, || "computed once".to_owned()), "computed once");
    /// // Another store on the same directory (another process, or this one after a restart)
    /// // finds it on disk.
    /// let second = build()?;
    /// assert_eq!(second.get_or_insert_with(7, || unreachable!()), "computed once");
    /// assert_eq!(second.info().tiers[0].hits, 1);
    /// # drop((first, second));
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), memo_runtime::CacheError>(())
    /// ```
    pub fn disk(self, dir: impl Into<PathBuf>) -> Self
    where
        K: Serialize,
        V: Serialize + DeserializeOwned,
    {
        self.with_disk_codec()
            .disk_source(DiskSource::Dir(dir.into()))
    }

    /// [`disk`](Self::disk) in the directory named by the environment variable
    /// `FAAS_MEMO_DISK_DIR` ([`DISK_DIR_ENV`](crate::DISK_DIR_ENV)) when the store is built,
    /// or `<temp dir>/faas-memo` when it is not set (`/tmp/faas-memo` on Lambda).
    ///
    /// # Errors
    ///
    /// As [`disk`](Self::disk).
    pub fn disk_from_env(self) -> Self
    where
        K: Serialize,
        V: Serialize + DeserializeOwned,
    {
        self.with_disk_codec().disk_source(DiskSource::Env)
    }

    /// Bounds the bytes of the disk tier's entries (each one's envelope, key and value, plus
    /// 64 bytes of row overhead): `"1G"`, `"512M"`, a [`ByteSize`](crate::ByteSize) or an
    /// integer number of bytes. Default 256 MiB
    /// ([`DEFAULT_DISK_MAX_SIZE`](crate::DEFAULT_DISK_MAX_SIZE)). Each write removes at most
    /// 10 rows to keep it (expired ones first, then the ones stored longest ago); a value
    /// larger than the bound is not stored on disk. Caches that share a directory share its
    /// file: each write keeps the bound of the cache that writes.
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) rejects an invalid size, a share of memory (`"10%"`), and a
    /// bound without a disk tier.
    pub fn disk_max_size(mut self, size: impl IntoByteSize) -> Self {
        self.tiers.disk.max_size = Some(disk_size(size));
        self
    }

    /// The time budget of one disk call: how long it waits for a lock that another process
    /// holds (SQLite's busy timeout) before the value is computed instead. Default 100 ms
    /// ([`DEFAULT_DISK_TIMEOUT`](crate::DEFAULT_DISK_TIMEOUT)).
    ///
    /// # Errors
    ///
    /// [`build`](Self::build) rejects zero, and a budget without a disk tier.
    pub fn disk_timeout(mut self, budget: Duration) -> Self {
        self.tiers.disk.timeout = Some(budget);
        self
    }

    /// `PRAGMA max_page_count` on the disk tier's connections: the file cannot grow past
    /// `pages` pages (4 KiB each), as on a full disk. For tests of that fault.
    #[doc(hidden)]
    pub fn disk_page_limit(mut self, pages: u64) -> Self {
        self.tiers.disk.page_limit = Some(pages);
        self
    }

    fn with_disk_codec(mut self) -> Self
    where
        K: Serialize,
        V: Serialize + DeserializeOwned,
    {
        self.tiers.codec = Some(Codec::serde());
        self
    }

    /// The disk tier for code generated by `#[faas_cached(disk = "dir")]`, which sets the
    /// codec itself (`tier_codec`) after asserting the serde bounds on the user's types.
    #[doc(hidden)]
    pub fn disk_dir_unchecked(self, dir: &str) -> Self {
        self.disk_source(DiskSource::Dir(dir.into()))
    }

    /// `#[faas_cached(disk = true)]`: see [`disk_dir_unchecked`](Self::disk_dir_unchecked).
    #[doc(hidden)]
    pub fn disk_from_env_unchecked(self) -> Self {
        self.disk_source(DiskSource::Env)
    }

    fn disk_source(mut self, source: DiskSource) -> Self {
        self.tiers.sources.push(TierSource::Disk(source));
        self
    }
}

/// A disk bound: a size in bytes; a share of the process's memory says nothing of a disk.
fn disk_size(
    size: impl IntoByteSize,
) -> Result<crate::size::byte_size::ByteSize, crate::error::CacheError> {
    match size.into_resolved_size()? {
        (_, Some(share)) => Err(crate::error::CacheError::InvalidSize {
            input: share.share.to_string(),
            reason: "a share of the process's memory does not bound a disk: give bytes, like \
                     \"1G\""
                .to_owned(),
        }),
        (bytes, None) => Ok(bytes),
    }
}
