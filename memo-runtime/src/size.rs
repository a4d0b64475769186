//! Byte sizes: [`ByteSize`] and the conversions that size bounds accept.

use std::fmt;
use std::str::FromStr;

use crate::error::CacheError;
use crate::size_parse::{format_byte_size, parse_byte_size};

/// A number of bytes, parsed from and printed as `"64M"`, `"1.5G"`, `"512K"` (binary units,
/// K = 1024).
///
/// # Examples
///
/// ```
/// use memo_runtime::ByteSize;
///
/// let size: ByteSize = "64MiB".parse()?;
/// assert_eq!(size.as_u64(), 64 * 1024 * 1024);
/// assert_eq!(size.to_string(), "64M");
/// assert_eq!("1.5k".parse::<ByteSize>()?.as_u64(), 1536);
/// assert!("64Q".parse::<ByteSize>().is_err());
/// # Ok::<(), memo_runtime::CacheError>(())
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
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] for an empty, negative, zero, fractional-byte or overflowing
    /// size, or an unknown unit; the message names the input.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
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

/// Anything a byte bound can be given as: `&str`/`String` (`"64M"`), [`ByteSize`], or an
/// integer number of bytes. Zero and negative numbers are rejected.
pub trait IntoByteSize {
    /// Converts into a size greater than zero.
    ///
    /// # Errors
    ///
    /// [`CacheError::InvalidSize`] naming the input.
    fn into_byte_size(self) -> Result<ByteSize, CacheError>;
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
}

impl IntoByteSize for String {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.parse()
    }
}

impl IntoByteSize for &String {
    fn into_byte_size(self) -> Result<ByteSize, CacheError> {
        self.parse()
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
