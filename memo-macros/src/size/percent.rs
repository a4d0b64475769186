//! Parser for shares of the process's memory: `"10%"`, `"12.5 %"`.
//!
//! This file exists twice, byte for byte, like `parse.rs`: `memo-macros/src/size/percent.rs`
//! and `memo-runtime/src/size/percent.rs`, so that `#[faas_cached(max_size = "150%")]` is
//! rejected at compile time by the rule the runtime applies.
//! `ui-tests/tests/shared_parsers.rs` fails when the two differ. It depends on nothing but
//! `core`.

use core::fmt;

/// A share is kept in millionths of the whole: `"10%"` is 100 000.
pub(crate) const WHOLE: u32 = 1_000_000;

/// Why a percentage was rejected. The caller adds the input itself to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PercentParseError {
    /// No number before the `%`, or a character other than digits and one `.`.
    BadNumber,
    /// A negative share.
    Negative,
    /// 0% (a bound of zero bytes can hold nothing).
    Zero,
    /// More than 100%: more memory than the process may use.
    OverHundred,
    /// More than four decimals: finer than a millionth of the memory.
    TooPrecise,
}

impl fmt::Display for PercentParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PercentParseError::BadNumber => {
                "a share of memory is a number followed by `%`, like \"10%\" or \"12.5%\""
            }
            PercentParseError::Negative => "the share is negative",
            PercentParseError::Zero => "the share must be greater than 0%",
            PercentParseError::OverHundred => {
                "the share is above 100% of the memory the process may use"
            }
            PercentParseError::TooPrecise => "a share has at most four decimals (\"12.3456%\")",
        })
    }
}

/// `None` if `input` is not a percentage (it does not end with `%`), otherwise the share in
/// millionths (`"10%"` is 100 000), or why it is invalid. Whitespace around the number and
/// before the `%` is allowed. Total: never panics.
pub(crate) fn parse_percent(input: &str) -> Option<Result<u32, PercentParseError>> {
    let number = input.trim().strip_suffix('%')?.trim_end();
    Some(parse_share(number))
}

fn parse_share(number: &str) -> Result<u32, PercentParseError> {
    if number.starts_with('-') {
        return Err(PercentParseError::Negative);
    }
    let number = number.strip_prefix('+').unwrap_or(number);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !digits_only(int_part)
        || !digits_only(frac_part)
    {
        return Err(PercentParseError::BadNumber);
    }
    // Past four decimals only zeros may follow.
    let (kept, rest) = frac_part.split_at(frac_part.len().min(4));
    if rest.bytes().any(|b| b != b'0') {
        return Err(PercentParseError::TooPrecise);
    }
    let mut percent: u32 = 0;
    for b in int_part.bytes() {
        percent = percent * 10 + u32::from(b - b'0');
        if percent > 100 {
            return Err(PercentParseError::OverHundred);
        }
    }
    let mut fraction: u32 = 0;
    for i in 0..4 {
        fraction = fraction * 10 + kept.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
    }
    // Ten thousandths of a percent are millionths of the whole.
    let share = percent * 10_000 + fraction;
    match share {
        0 => Err(PercentParseError::Zero),
        s if s > WHOLE => Err(PercentParseError::OverHundred),
        s => Ok(s),
    }
}

/// Writes a share in millionths as a percentage, without trailing zeros (`"12.5%"`).
pub(crate) fn format_percent(millionths: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (whole, fraction) = (millionths / 10_000, millionths % 10_000);
    if fraction == 0 {
        return write!(f, "{whole}%");
    }
    let mut digits = [0u8; 4];
    let mut rest = fraction;
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    let len = 4 - digits.iter().rev().take_while(|&&d| d == b'0').count();
    // ASCII digits only.
    let decimals = core::str::from_utf8(&digits[..len]).unwrap_or("0");
    write!(f, "{whole}.{decimals}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_in_millionths() {
        assert_eq!(parse_percent("10%"), Some(Ok(100_000)));
        assert_eq!(parse_percent(" 12.5 % "), Some(Ok(125_000)));
        assert_eq!(parse_percent("100%"), Some(Ok(WHOLE)));
        assert_eq!(parse_percent("100.0000%"), Some(Ok(WHOLE)));
        assert_eq!(parse_percent("0.0001%"), Some(Ok(1)));
        assert_eq!(parse_percent(".5%"), Some(Ok(5_000)));
        assert_eq!(parse_percent("+3%"), Some(Ok(30_000)));
        assert_eq!(parse_percent("1.50000%"), Some(Ok(15_000)));
        assert_eq!(parse_percent("64M"), None);
        assert_eq!(parse_percent("10"), None);
    }

    #[test]
    fn invalid_percentages_are_errors_not_panics() {
        use PercentParseError::*;
        for (input, err) in [
            ("%", BadNumber),
            ("abc%", BadNumber),
            ("1.2.3%", BadNumber),
            ("10%%", BadNumber),
            ("1_0%", BadNumber),
            ("-5%", Negative),
            ("0%", Zero),
            ("0.00001%", TooPrecise),
            ("100.01%", OverHundred),
            ("101%", OverHundred),
            ("99999999999999999999%", OverHundred),
            ("1.23456%", TooPrecise),
            ("é%", BadNumber),
        ] {
            assert_eq!(parse_percent(input), Some(Err(err)), "{input:?}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        struct Show(u32);
        impl fmt::Display for Show {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_percent(self.0, f)
            }
        }
        for (millionths, shown) in [
            (100_000, "10%"),
            (125_000, "12.5%"),
            (1, "0.0001%"),
            (WHOLE, "100%"),
            (123_456, "12.3456%"),
        ] {
            let text = Show(millionths).to_string();
            assert_eq!(text, shown);
            assert_eq!(parse_percent(&text), Some(Ok(millionths)));
        }
    }
}
