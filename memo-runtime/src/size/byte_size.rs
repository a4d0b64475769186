//! Byte sizes: [`ByteSize`] and the conversions that size bounds accept.

use std::fmt;
use std::str::FromStr;

use crate::error::CacheError;
use crate::faas::share::{resolve_size_str, MemoryShare, ResolvedShare};
use crate::size::parse::{format_byte_size, parse_byte_size};
use crate::size::percent::parse_percent;

/// A number of bytes, parsed from and printed as `"64M"`, `"1.5G"`, `"512K"` (binary units,
/// K = 1024).
///
/// The units are `B`, `K`, `M`, `G`, `T`, `P`, in any case, optionally followed by `iB`
/// (`"64MiB"`, `"64 mib"`). `"64MB"` (or `"64 mb"`, `"1GB"`) is refused: it may mean 64 * 10^6
/// bytes (the SI prefix) or 64 * 2^20 (what most memory tools print), and the error suggests
/// `M` or `MiB`. The same parser checks `#[faas_cached(max_size = "..")]` at compile time and
/// [`Builder::max_size`](crate::Builder::max_size) and
/// [`change_byte_size`](crate::FaasCacheDict::change_byte_size) at run time.
///
/// # Examples
///
/// ```
/// use memo_runtime::ByteSize;
///
/// fn main() -> Result<(), memo_runtime::CacheError> {
///     let size: ByteSize = "64MiB".parse()?;
///     assert_eq!(size.as_u64(), 64 * 1024 * 1024);
///     assert_eq!(size.to_string(), "64M");
///     assert_eq!("1.5k".parse::<ByteSize>()?.as_u64(), 1536);
///     assert!("64Q".parse::<ByteSize>().is_err());
///
///     let ambiguous = "64MB".parse::<ByteSize>().unwrap_err().to_string();
///     assert!(ambiguous.contains("write `M` or `MiB`"), "{ambiguous}");
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(u64);

impl ByteSize {
    /// The number of bytes.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl From<u64> for ByteSize {
    fn from(bytes: u64) -> Self {
        ByteSize(bytes)
    }
}

impl FromStr for ByteSize {
    type Err = CacheError;

    /// Parses a size string.
    ///
    /// A share of the process's memory (`"10%"`, see [`MemoryShare`]) is resolved against
    /// [`process_memory`](crate::process_memory).
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] for an empty, negative, zero, fractional-byte or overflowing
    /// size, an unknown unit or an ambiguous one (`"64MB"`), or a share that is invalid,
    /// cannot be resolved or comes to zero bytes; the message names the input.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if parse_percent(s).is_some() {
            return match resolve_size_str(s)? {
                (bytes, Some(share)) if bytes.as_u64() == 0 => Err(CacheError::InvalidSize {
                    input: s.to_owned(),
                    reason: format!("{share} comes to 0 bytes"),
                }),
                (bytes, _) => Ok(bytes),
            };
        }
        parse_byte_size(s)
            .map(ByteSize)
            .map_err(|reason| CacheError::InvalidSize {
                input: s.to_owned(),
                reason: reason.to_string(),
            })
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_byte_size(self.0, f)
    }
}

/// Anything a byte bound can be given as: `&str`/`String` (`"64M"`, or a share of the
/// process's memory, `"10%"`), [`ByteSize`], [`MemoryShare`], or an integer number of bytes.
/// Zero and negative numbers are rejected.
pub trait IntoByteSize {
    /// Converts into a size greater than zero.
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] naming the input.
    fn into_byte_size(self) -> Result<ByteSize, CacheError>;

    /// The size, and the share it was resolved from if it was given as one (then the bytes
    /// may be zero: the caller decides what a share too small for it means).
    #[doc(hidden)]
    fn into_resolved_size(self) -> Result<(ByteSize, Option<ResolvedShare>), CacheError>
    where
        Self: Sized,
    {
        self.into_byte_size().map(|bytes| (bytes, None))
    }
}

impl IntoByteSize for MemoryShare {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.to_string().parse()
    }

    fn into_resolved_size(self) -> Result<(ByteSize, Option<ResolvedShare>), CacheError> {
        let resolved = self.resolve()?;
        Ok((ByteSize::from(resolved.bytes), Some(resolved)))
    }
}

impl IntoByteSize for ByteSize {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        if self.0 == 0 {
            return Err(CacheError::InvalidSize {
                input: "0".to_owned(),
                reason: "the size must be greater than zero".to_owned(),
            });
        }
        Ok(self)
    }
}

impl IntoByteSize for &str {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.parse()
    }

    fn into_resolved_size(self) -> Result<(ByteSize, Option<ResolvedShare>), CacheError> {
        resolve_size_str(self)
    }
}

impl IntoByteSize for String {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.parse()
    }

    fn into_resolved_size(self) -> Result<(ByteSize, Option<ResolvedShare>), CacheError> {
        resolve_size_str(&self)
    }
}

impl IntoByteSize for &String {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.parse()
    }

    fn into_resolved_size(self) -> Result<(ByteSize, Option<ResolvedShare>), CacheError> {
        resolve_size_str(self)
    }
}

macro_rules! int_into_byte_size {
    ($($t:ty),*) => {$(
        impl IntoByteSize for $t {
            #[allow(unused_comparisons)]
            fn into_byte_size(self) -> Result<ByteSize, CacheError> {
                let invalid = |reason: &str| CacheError::InvalidSize {
                    input: self.to_string(),
                    reason: reason.to_owned(),
                };
                if self < 0 {
                    return Err(invalid("the size is negative"));
                }
                if self == 0 {
                    return Err(invalid("the size must be greater than zero"));
                }
                u64::try_from(self)
                    .map(ByteSize)
                    .map_err(|_| invalid("the size does not fit in 64 bits"))
            }
        }
    )*};
}
int_into_byte_size!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FaasCacheDict;
    use proptest::prelude::*;

    #[test]
    fn invalid_strings_are_errors_naming_the_input() {
        for input in [
            "..",
            "..5K",
            "1.2.3M",
            "16384P",
            "99999999999999999999999",
            "1.5",
        ] {
            match input.parse::<ByteSize>() {
                Err(CacheError::InvalidSize { input: named, .. }) => assert_eq!(named, input),
                other => panic!("{input:?}: {other:?}"),
            }
            let built = FaasCacheDict::<u64, u64>::builder().max_size(input).build();
            assert!(built.is_err(), "{input:?}");
        }
        let err = "..".parse::<ByteSize>().unwrap_err().to_string();
        assert!(
            err.contains("\"..\"") && err.contains("more than one `.`"),
            "{err}"
        );
    }

    #[test]
    fn many_fraction_digits_are_exact() {
        let parse = |s: &str| s.parse::<ByteSize>().map(ByteSize::as_u64).ok();
        assert_eq!(
            parse("1.500000000000000000000000P"),
            Some(1_688_849_860_263_936)
        );
        assert_eq!(
            parse("0.999999999999999999999999999999P"),
            Some((1 << 50) - 1)
        );
    }

    /// `floor((whole + frac / 10^digits) * 2^shift)`, with `digits <= 20` so that u128 holds it.
    fn reference(whole: u64, frac: u64, digits: u32, shift: u32) -> Option<u64> {
        let scaled =
            (u128::from(whole) << shift) + ((u128::from(frac) << shift) / 10u128.pow(digits));
        u64::try_from(scaled).ok().filter(|&b| b > 0)
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = s.parse::<ByteSize>();
        }

        #[test]
        fn arbitrary_size_like_strings_never_panic(s in "[ +\\-]?[0-9._]{0,40}[ ]?[kKmMgGtTpPbBiQ]{0,3}") {
            if let Ok(size) = s.parse::<ByteSize>() {
                prop_assert!(size.as_u64() > 0);
            }
        }

        #[test]
        fn fractions_round_down_exactly(
            whole in 0u64..100_000,
            frac in 0u64..10_000_000_000,
            digits in 10u32..=20,
            extra_zeros in 0usize..40,
            unit in 1usize..6,
        ) {
            let (shift, name) = [(0, "B"), (10, "K"), (20, "M"), (30, "G"), (40, "T"), (50, "P")][unit];
            let zeros = "0".repeat(extra_zeros);
            let input = format!("{whole}.{frac:0width$}{zeros}{name}", width = digits as usize);
            let parsed = input.parse::<ByteSize>().ok().map(ByteSize::as_u64);
            prop_assert_eq!(parsed, reference(whole, frac, digits, shift), "{}", input);
        }
    }
}
