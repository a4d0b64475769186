//! The smallest byte bound of a memoized function's store, checked when the program is
//! compiled: `#[faas_cached(max_size = "8K")]` below the store's fixed overhead is a compile
//! error on `"8K"` that gives the minimum for the function's key and value types.
//!
//! The overhead depends on `size_of` of the key and value types, which a proc macro cannot
//! see, so the check is a `const` block in the generated code: its panic is the compile
//! error. The message is built here, in `const` code (a `const` panic formats nothing but a
//! `&str`), and the generated block panics itself, so that rustc reports the panic at the
//! attribute's token rather than inside this crate or `core`.

/// A message built at compile time: up to 256 bytes of UTF-8 (longer text is cut before the
/// first character that does not fit).
#[derive(Clone, Copy)]
pub struct ConstMessage {
    buf: [u8; 256],
    len: usize,
}

impl ConstMessage {
    const fn new() -> Self {
        ConstMessage {
            buf: [0; 256],
            len: 0,
        }
    }

    const fn text(mut self, text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut take = bytes.len();
        let room = self.buf.len() - self.len;
        if take > room {
            // Cut before the character that does not fit whole.
            take = room;
            while take > 0 && (bytes[take] & 0b1100_0000) == 0b1000_0000 {
                take -= 1;
            }
        }
        let mut i = 0;
        while i < take {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn number(mut self, mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            n /= 10;
            count += 1;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.buf.len() {
            count -= 1;
            self.buf[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// The message.
    pub const fn as_str(&self) -> &str {
        let (text, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "`max_size` is smaller than the store's fixed overhead",
        }
    }
}

impl core::fmt::Debug for ConstMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The smallest `max_size`, in bytes, of a memoized function's store with key `K` and value
/// `V` on any machine: one byte more than its largest fixed overhead.
pub const fn min_max_size<K, V>() -> u64 {
    crate::__private::max_fixed_overhead::<K, V>() as u64 + 1
}

/// `None` if `max_size` bytes can hold the fixed overhead of `function`'s store on every
/// machine, otherwise the compile error to give: the bound, the minimum for these types, and
/// a size to write (the minimum rounded up to KiB).
pub const fn max_size_error<K, V>(max_size: u64, function: &str) -> Option<ConstMessage> {
    let min = min_max_size::<K, V>();
    if max_size >= min {
        return None;
    }
    let kib = min.div_ceil(1024);
    Some(
        ConstMessage::new()
            .text("`max_size` is too small: ")
            .number(max_size)
            .text(" bytes cannot hold the fixed overhead of the store of `")
            .text(function)
            .text("`; with its key and value types, `max_size` must be at least ")
            .number(min)
            .text(" bytes: write `max_size = \"")
            .number(kib)
            .text("K\"` or more"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_states_the_bound_and_the_minimum() {
        type K = (u64,);
        let min = min_max_size::<K, u64>();
        assert!(min > 1024, "{min}");
        assert!(max_size_error::<K, u64>(min, "square").is_none());
        let message = max_size_error::<K, u64>(min - 1, "square").unwrap();
        let text = message.as_str();
        assert!(text.starts_with(&format!("`max_size` is too small: {} bytes", min - 1)));
        assert!(text.contains("the store of `square`"), "{text}");
        assert!(text.contains(&format!("at least {min} bytes")), "{text}");
        let kib = min.div_ceil(1024);
        assert!(
            text.ends_with(&format!("`max_size = \"{kib}K\"` or more")),
            "{text}"
        );
        // The suggestion is enough.
        assert!(max_size_error::<K, u64>(kib * 1024, "square").is_none());
    }

    #[test]
    fn the_minimum_grows_with_the_types() {
        assert!(min_max_size::<(u64, [u8; 4096]), u64>() > min_max_size::<(u64,), u64>());
    }

    #[test]
    fn a_message_longer_than_the_buffer_is_cut_at_a_character() {
        let long = "é".repeat(200);
        let message = ConstMessage::new().text("x").text(&long);
        let text = message.as_str();
        assert!(text.len() <= 256 && text.len() >= 254, "{}", text.len());
        assert!(text.starts_with("xé"));
        assert_eq!(ConstMessage::new().number(0).as_str(), "0");
        assert_eq!(
            ConstMessage::new().number(u64::MAX).as_str(),
            "18446744073709551615"
        );
    }

    /// Built where generated code builds it: in a `const`.
    const BUILT_IN_CONST: Option<ConstMessage> = max_size_error::<(u64,), u64>(1, "f");

    #[test]
    fn it_is_built_at_compile_time() {
        assert!(BUILT_IN_CONST.is_some_and(|m| m.as_str().contains("1 bytes")));
    }
}
