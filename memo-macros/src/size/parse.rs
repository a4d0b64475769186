//! Parser for human byte sizes such as `"64M"` or `"1.5GiB"`.
//!
//! This file exists twice, byte for byte: `memo-macros/src/size/parse.rs` and
//! `memo-runtime/src/size/parse.rs`. The macro parses `max_size = "64M"` with it, so that
//! `#[faas_cached(max_size = "64Q")]` is rejected at compile time by exactly the rule the
//! runtime applies, and each crate still builds alone from its published files (a `#[path]`
//! to the other crate would point outside the package). `ui-tests/tests/shared_parsers.rs`
//! fails when the two differ: edit one, then copy it over the other. It depends on nothing but
//! `core`.

use core::fmt;

/// Why a size string was rejected. The caller adds the input itself to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SizeParseError {
    /// Nothing but whitespace.
    Empty,
    /// No digits where the number should be.
    BadNumber,
    /// More than one `.` in the number.
    SeveralDots,
    /// A negative number.
    Negative,
    /// A unit other than B, K, M, G, T, P (optionally followed by `iB`).
    UnknownUnit,
    /// `KB`, `MB`, `GB`, `TB`, `PB` in any case: decimal (10^6) or binary (2^20)? Rejected,
    /// with the unit's letter, to suggest `M` or `MiB`.
    AmbiguousUnit(char),
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
            SizeParseError::BadNumber => {
                "the size does not start with a number, like \"64M\" or \"1.5G\""
            }
            SizeParseError::SeveralDots => "the number has more than one `.`",
            SizeParseError::Negative => "the size is negative",
            SizeParseError::UnknownUnit => {
                "unknown unit; accepted: B, K, M, G, T, P, optionally followed by iB (binary \
                 units, K = 1024), case-insensitive"
            }
            SizeParseError::AmbiguousUnit(letter) => {
                return write!(
                    f,
                    "`{letter}B` is ambiguous (decimal or binary?): write `{letter}` or \
                     `{letter}iB`, binary units (K = 1024)"
                );
            }
            SizeParseError::Zero => "the size must be greater than zero",
            SizeParseError::Overflow => "the size does not fit in 64 bits",
            SizeParseError::FractionalBytes => "a size in bytes must be a whole number",
        })
    }
}

/// Parses `"1024"`, `"512K"`, `"64M"`, `"1.5G"`, `"2T"`, `"64MiB"`, `"100B"` into bytes.
///
/// Units are binary (K = 1024) and case-insensitive; an `iB` suffix is optional (`"64MiB"`).
/// `"64MB"` (any case) is an error: a reader cannot tell whether it means 64 * 10^6 or
/// 64 * 2^20 bytes, and the message suggests `M` or `MiB`;
/// whitespace around the number and between number and unit is allowed, and so are `_`
/// separators after the first digit. A fractional number is rounded down to whole bytes
/// (`"1.5K"` is 1536), exactly whatever the number of fraction digits. Total: any input gives
/// a value or an error, never a panic.
pub(crate) fn parse_byte_size(input: &str) -> Result<u64, SizeParseError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(SizeParseError::Empty);
    }
    if s.starts_with('-') {
        return Err(SizeParseError::Negative);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    // Only ASCII bytes so far, so `number_end` is a char boundary.
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(number_end);

    let (int_part, frac_part) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if frac_part.contains('.') {
        return Err(SizeParseError::SeveralDots);
    }
    // From here on both parts hold only ASCII digits and `_`.
    let has_digit = |part: &str| part.bytes().any(|b| b.is_ascii_digit());
    if number.starts_with('_') || !(has_digit(int_part) || has_digit(frac_part)) {
        return Err(SizeParseError::BadNumber);
    }
    let shift = unit_shift(unit.trim_start())?;

    // At most u64::MAX: checked at every digit, so `whole * 10 + d` never overflows u128.
    let mut whole: u128 = 0;
    for d in digits(int_part) {
        whole = whole * 10 + u128::from(d);
        if whole > u128::from(u64::MAX) {
            return Err(SizeParseError::Overflow);
        }
    }
    if shift == 0 && digits(frac_part).any(|d| d != 0) {
        return Err(SizeParseError::FractionalBytes);
    }
    // `whole < 2^64` and `shift <= 50`: fits in u128.
    let bytes = (whole << shift) + scaled_fraction(frac_part, shift);
    if bytes > u128::from(u64::MAX) {
        return Err(SizeParseError::Overflow);
    }
    if bytes == 0 {
        return Err(SizeParseError::Zero);
    }
    // Fits: checked just above.
    Ok(bytes as u64)
}

/// The decimal digits of a part of the number, skipping `_` (the only other byte the caller
/// lets through; anything else is skipped too rather than trusted).
fn digits(s: &str) -> impl DoubleEndedIterator<Item = u8> + '_ {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0')
}

/// `floor(0.d1d2..dn * 2^shift)`, exactly, for any number of digits: the schoolbook
/// multiplication of the decimal fraction by `2^shift`, from its last digit to its first. The
/// carry out of the first digit is the integer part of the product. The carry stays below
/// `2^shift` (`carry' = (d * 2^shift + carry) / 10 < 2^shift`), so nothing overflows.
fn scaled_fraction(frac: &str, shift: u32) -> u128 {
    let factor: u128 = 1 << shift;
    let mut carry: u128 = 0;
    for d in digits(frac).rev() {
        carry = (u128::from(d) * factor + carry) / 10;
    }
    carry
}

/// The power of two of a unit: `""`/`"B"` 0, `"K"`/`"KiB"` 10, and so on; `"KB"` is ambiguous.
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
        "" | "ib" => Ok(shift),
        "b" => Err(SizeParseError::AmbiguousUnit(first.to_ascii_uppercase())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_fractions() {
        assert_eq!(parse_byte_size("1024"), Ok(1024));
        assert_eq!(parse_byte_size(" 64 MiB "), Ok(64 << 20));
        assert_eq!(parse_byte_size("1.5k"), Ok(1536));
        assert_eq!(parse_byte_size(".5K"), Ok(512));
        assert_eq!(parse_byte_size("5.K"), Ok(5 << 10));
        assert_eq!(parse_byte_size("1_000"), Ok(1000));
        assert_eq!(parse_byte_size("1.0"), Ok(1));
        assert_eq!(parse_byte_size("+2T"), Ok(2 << 40));
    }

    #[test]
    fn several_dots_are_an_error_not_a_panic() {
        for input in ["..", "..5K", "1..5K", "1.5.5", ".", ". K", "1.2.3M", "..."] {
            let expected = if input.starts_with(". ") || input == "." {
                SizeParseError::BadNumber
            } else {
                SizeParseError::SeveralDots
            };
            assert_eq!(parse_byte_size(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn many_fraction_digits_are_exact() {
        // 1.5 * 2^50, whatever the number of trailing zeros.
        assert_eq!(
            parse_byte_size("1.500000000000000000000000P"),
            Ok(1_688_849_860_263_936)
        );
        let mut long = String::from("1.5");
        long.extend(core::iter::repeat_n('0', 200));
        long.push('P');
        assert_eq!(parse_byte_size(&long), Ok(1_688_849_860_263_936));
        // Just below 1P: rounded down to 2^50 - 1.
        assert_eq!(
            parse_byte_size("0.999999999999999999999999999999P"),
            Ok((1 << 50) - 1)
        );
        // Just above 1P, with the excess far beyond 30 digits: still rounded down to 2^50.
        let mut above = String::from("1.");
        above.extend(core::iter::repeat_n('0', 60));
        above.push_str("1P");
        assert_eq!(parse_byte_size(&above), Ok(1 << 50));
        // A fraction that is less than a byte once scaled.
        assert_eq!(parse_byte_size("0.0001K"), Err(SizeParseError::Zero));
        assert_eq!(parse_byte_size("0.001K"), Ok(1)); // 1.024 bytes
    }

    #[test]
    fn overflow_and_other_errors() {
        assert_eq!(
            parse_byte_size("16383.999P"),
            Ok(18_446_742_947_809_644_773)
        );
        assert_eq!(parse_byte_size("16384P"), Err(SizeParseError::Overflow));
        assert_eq!(
            parse_byte_size("18446744073709551615"),
            Ok(u64::MAX),
            "u64::MAX bytes"
        );
        assert_eq!(
            parse_byte_size("18446744073709551616"),
            Err(SizeParseError::Overflow)
        );
        assert_eq!(
            parse_byte_size("99999999999999999999999999999999999999999999"),
            Err(SizeParseError::Overflow)
        );
        assert_eq!(parse_byte_size(""), Err(SizeParseError::Empty));
        assert_eq!(parse_byte_size("-1K"), Err(SizeParseError::Negative));
        assert_eq!(parse_byte_size("64Q"), Err(SizeParseError::UnknownUnit));
        assert_eq!(parse_byte_size("K"), Err(SizeParseError::BadNumber));
        assert_eq!(parse_byte_size("_1K"), Err(SizeParseError::BadNumber));
        assert_eq!(parse_byte_size("0"), Err(SizeParseError::Zero));
        assert_eq!(parse_byte_size("1.5"), Err(SizeParseError::FractionalBytes));
        assert_eq!(
            parse_byte_size("1.5 B"),
            Err(SizeParseError::FractionalBytes)
        );
        assert_eq!(parse_byte_size("1é"), Err(SizeParseError::UnknownUnit));
    }

    #[test]
    fn decimal_looking_units_are_ambiguous_and_binary_ones_accepted() {
        for (input, letter) in [("64MB", 'M'), ("64 mb", 'M'), ("1.5Gb", 'G'), ("2kB", 'K')] {
            let err = parse_byte_size(input);
            assert_eq!(err, Err(SizeParseError::AmbiguousUnit(letter)), "{input:?}");
        }
        let message = parse_byte_size("64 mb").unwrap_err().to_string();
        assert!(
            message.contains("`MB` is ambiguous") && message.contains("write `M` or `MiB`"),
            "{message}"
        );
        assert_eq!(parse_byte_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_byte_size("64 mib"), Ok(64 << 20));
        assert_eq!(parse_byte_size("64m"), Ok(64 << 20));
        assert_eq!(parse_byte_size("64 B"), Ok(64));
    }

    /// Every string of up to 4 bytes over an alphabet of the bytes that matter never panics,
    /// and a success is at least one byte.
    #[test]
    fn exhaustive_short_inputs_never_panic() {
        const ALPHABET: &[u8] = b"09._+- KkMPbBiQ\xc3\xa9";
        let mut buf = [0u8; 4];
        // Miri: 17^4 parses take minutes; up to 3 bytes is every pair of units and digits.
        let max_len = if cfg!(miri) { 3 } else { 4 };
        for len in 0..=max_len {
            let total = ALPHABET.len().pow(len as u32);
            for mut n in 0..total {
                for slot in buf.iter_mut().take(len) {
                    *slot = ALPHABET[n % ALPHABET.len()];
                    n /= ALPHABET.len();
                }
                if let Ok(s) = core::str::from_utf8(&buf[..len]) {
                    if let Ok(bytes) = parse_byte_size(s) {
                        assert!(bytes > 0, "{s:?}");
                    }
                }
            }
        }
    }
}
