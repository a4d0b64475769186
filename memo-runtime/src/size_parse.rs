//! Parser for human byte sizes such as `"64M"` or `"1.5GiB"`.
//!
//! This file is compiled twice: as a module of `memo-runtime` and, through `#[path]`, as a
//! module of `memo-macros`, so that `#[faas_cached(max_size = "64Q")]` is rejected at compile
//! time by exactly the rule the runtime applies. It must therefore depend on nothing but `core`.

use core::fmt;

/// Why a size string was rejected. The caller adds the input itself to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeParseError {
    /// Nothing but whitespace.
    Empty,
    /// No digits where the number should be, or more than one `.`.
    BadNumber,
    /// A negative number.
    Negative,
    /// A unit other than B, K, M, G, T, P (optionally followed by `B` or `iB`).
    UnknownUnit,
    /// The size is zero (a bound of zero bytes can hold nothing).
    Zero,
    /// More than `u64::MAX` bytes.
    Overflow,
    /// A fraction of a byte, such as `"1.5"` or `"1.5B"`.
    FractionalBytes,
}

impl fmt::Display for SizeParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SizeParseError::Empty => "the size is empty",
            SizeParseError::BadNumber => "the size does not start with a number",
            SizeParseError::Negative => "the size is negative",
            SizeParseError::UnknownUnit => {
                "unknown unit; accepted: B, K, M, G, T, P, optionally followed by B or iB \
                 (binary units, K = 1024), case-insensitive"
            }
            SizeParseError::Zero => "the size must be greater than zero",
            SizeParseError::Overflow => "the size does not fit in 64 bits",
            SizeParseError::FractionalBytes => "a size in bytes must be a whole number",
        })
    }
}

/// Parses `"1024"`, `"512K"`, `"64M"`, `"1.5G"`, `"2T"`, `"64MiB"`, `"64mb"` into bytes.
///
/// Units are binary (K = 1024) and case-insensitive; `B` and `iB` suffixes are optional;
/// whitespace around the number and between number and unit is allowed. A fractional number
/// is rounded down to whole bytes (`"1.5K"` is 1536).
pub(crate) fn parse_byte_size(input: &str) -> Result<u64, SizeParseError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(SizeParseError::Empty);
    }
    if s.starts_with('-') {
        return Err(SizeParseError::Negative);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(number_end);
    let shift = unit_shift(unit.trim_start())?;

    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    let int_digits = digits(int_part);
    let frac_digits = digits(frac_part);
    if int_digits.clone().next().is_none() && frac_digits.clone().next().is_none()
        || frac_part.contains('.')
        || number.starts_with('_')
    {
        return Err(SizeParseError::BadNumber);
    }

    let mut whole: u128 = 0;
    for d in int_digits {
        whole = whole * 10 + d;
        if whole > u128::from(u64::MAX) {
            return Err(SizeParseError::Overflow);
        }
    }
    let mut bytes = whole << shift;
    // The fraction, scaled by the unit and rounded down: 0.d1d2.. * 2^shift.
    let mut numerator: u128 = 0;
    let mut denominator: u128 = 1;
    for d in frac_digits.take(30) {
        numerator = numerator * 10 + d;
        denominator *= 10;
    }
    if numerator != 0 {
        if shift == 0 {
            return Err(SizeParseError::FractionalBytes);
        }
        bytes += (numerator << shift) / denominator;
    }
    if bytes > u128::from(u64::MAX) {
        return Err(SizeParseError::Overflow);
    }
    if bytes == 0 {
        return Err(SizeParseError::Zero);
    }
    // Fits: checked just above.
    Ok(bytes as u64)
}

fn digits(s: &str) -> impl Iterator<Item = u128> + Clone + '_ {
    s.bytes()
        .filter(|b| *b != b'_')
        .map(|b| u128::from(b - b'0'))
}

/// The power of two of a unit: `""`/`"B"` 0, `"K"`/`"KB"`/`"KiB"` 10, and so on.
fn unit_shift(unit: &str) -> Result<u32, SizeParseError> {
    let mut chars = unit.chars();
    let Some(first) = chars.next() else {
        return Ok(0);
    };
    let shift = match first.to_ascii_lowercase() {
        'b' if chars.as_str().is_empty() => return Ok(0),
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        'p' => 50,
        _ => return Err(SizeParseError::UnknownUnit),
    };
    match chars.as_str().to_ascii_lowercase().as_str() {
        "" | "b" | "ib" => Ok(shift),
        _ => Err(SizeParseError::UnknownUnit),
    }
}

/// Formats bytes the way they are written: the largest binary unit that divides them exactly
/// (`"64M"`, `"1536K"`), or plain bytes.
pub(crate) fn format_byte_size(bytes: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const UNITS: [(u32, &str); 5] = [(50, "P"), (40, "T"), (30, "G"), (20, "M"), (10, "K")];
    for (shift, name) in UNITS {
        if bytes != 0 && bytes.trailing_zeros() >= shift {
            return write!(f, "{}{}", bytes >> shift, name);
        }
    }
    write!(f, "{bytes}")
}
