//! Sizes given as a share of the process's memory: `"10%"`.

use std::fmt;
use std::str::FromStr;

use crate::error::CacheError;
use crate::faas::memory::{process_memory, ProcessMemory, LAMBDA_MEMORY_ENV};
use crate::size::byte_size::ByteSize;
use crate::size::percent::{format_percent, parse_percent, WHOLE};

/// A share of the memory the process may use ([`process_memory`]): `"10%"`, `"12.5%"` (above
/// 0%, at most 100%, at most four decimals). Every size setting that takes `"64M"` also takes
/// a share: `max_size = "10%"` in `#[faas_cached]`, [`Builder::max_size`](crate::Builder::max_size),
/// [`FaasCacheDict::change_byte_size`](crate::FaasCacheDict::change_byte_size) and the
/// process's memory budget.
///
/// # Examples
///
/// ```
/// use memo_runtime::{MemoryShare, ProcessMemory};
///
/// let share: MemoryShare = "12.5%".parse()?;
/// assert_eq!(share.to_string(), "12.5%");
/// assert_eq!(share.of(1 << 30), 128 << 20);
/// let resolved = share.resolve_against(ProcessMemory::new(1 << 30));
/// assert_eq!(resolved.to_string(), "12.5% of 1G (given by the program)");
/// assert!("150%".parse::<MemoryShare>().is_err());
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryShare {
    millionths: u32,
}

impl MemoryShare {
    /// A share of `millionths` millionths of the whole, for generated code (validated at
    /// compile time); clamped to 1..=1 000 000.
    #[doc(hidden)]
    pub const fn from_millionths(millionths: u32) -> Self {
        let millionths = if millionths == 0 {
            1
        } else if millionths > WHOLE {
            WHOLE
        } else {
            millionths
        };
        MemoryShare { millionths }
    }

    /// The share in millionths of the whole (`"10%"` is 100 000).
    pub const fn millionths(self) -> u32 {
        self.millionths
    }

    /// This share of `bytes`, rounded down.
    pub const fn of(self, bytes: u64) -> u64 {
        (bytes as u128 * self.millionths as u128 / WHOLE as u128) as u64
    }

    /// This share of `memory`.
    pub fn resolve_against(self, memory: ProcessMemory) -> ResolvedShare {
        ResolvedShare {
            share: self,
            bytes: self.of(memory.bytes()),
            of: memory,
        }
    }

    /// This share of the process's memory ([`process_memory`], read once).
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] when the process's memory is unknown (no cgroup limit, no
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, and no physical memory reading on this system).
    pub fn resolve(self) -> Result<ResolvedShare, CacheError> {
        match process_memory() {
            Some(memory) => Ok(self.resolve_against(memory)),
            None => Err(CacheError::InvalidSize {
                input: self.to_string(),
                reason: format!(
                    "a share of the memory the process may use, which is unknown here (no \
                     cgroup limit, no {LAMBDA_MEMORY_ENV}, no physical memory reading): give \
                     a size in bytes, or the memory with ProcessMemory::install"
                ),
            }),
        }
    }
}

impl FromStr for MemoryShare {
    type Err = CacheError;

    /// Parses `"10%"`.
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] naming the input when it is not a percentage above 0% and
    /// at most 100% with at most four decimals.
    fn from_str(s: &str) -> Result<Self, CacheError> {
        let invalid = |reason: String| CacheError::InvalidSize {
            input: s.to_owned(),
            reason,
        };
        match parse_percent(s) {
            Some(Ok(millionths)) => Ok(MemoryShare { millionths }),
            Some(Err(err)) => Err(invalid(err.to_string())),
            None => Err(invalid(
                "a share of memory ends with `%`, like \"10%\"".to_owned(),
            )),
        }
    }
}

impl fmt::Display for MemoryShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_percent(self.millionths, f)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MemoryShare {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MemoryShare {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A [`MemoryShare`] resolved against the process's memory: what `max_size = "10%"` (or a
/// budget of `"40%"`) came to, and from which source. Shown by
/// [`CacheInfo::max_size_share`](crate::CacheInfo::max_size_share).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct ResolvedShare {
    /// The share as given.
    pub share: MemoryShare,
    /// The memory it is a share of.
    pub of: ProcessMemory,
    /// The share of that memory, in bytes (rounded down).
    pub bytes: u64,
}

impl fmt::Display for ResolvedShare {
    /// `10% of 128M (cgroup v2 /sys/fs/cgroup/memory.max)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} ({})",
            self.share,
            ByteSize::from(self.of.bytes()),
            self.of.source()
        )
    }
}

/// A size setting as given: bytes, or a share resolved now. `None` share: bytes as given.
pub(crate) type ResolvedSize = (ByteSize, Option<ResolvedShare>);

/// A size string that may be a share: resolved against the process's memory.
pub(crate) fn resolve_size_str(s: &str) -> Result<ResolvedSize, CacheError> {
    if parse_percent(s).is_none() {
        return s.parse::<ByteSize>().map(|bytes| (bytes, None));
    }
    let resolved = s.parse::<MemoryShare>()?.resolve()?;
    Ok((ByteSize::from(resolved.bytes), Some(resolved)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_bytes_round_down_and_never_overflow() {
        let share: MemoryShare = "10%".parse().unwrap();
        assert_eq!(share.of(1000), 100);
        assert_eq!(share.of(9), 0);
        assert_eq!(MemoryShare::from_millionths(WHOLE).of(u64::MAX), u64::MAX);
        assert_eq!(MemoryShare::from_millionths(0).millionths(), 1);
        assert_eq!(MemoryShare::from_millionths(2 * WHOLE).millionths(), WHOLE);
    }

    #[test]
    fn errors_name_the_input() {
        for input in ["0%", "150%", "10", "x%", "-1%"] {
            match input.parse::<MemoryShare>() {
                Err(CacheError::InvalidSize { input: named, .. }) => assert_eq!(named, input),
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_size_string_is_bytes_unless_it_ends_with_a_percent_sign() {
        assert_eq!(
            resolve_size_str("64M").unwrap(),
            (ByteSize::from(64 << 20), None)
        );
        assert!(resolve_size_str("64Q").is_err());
        assert!(resolve_size_str("150%").is_err());
    }
}
