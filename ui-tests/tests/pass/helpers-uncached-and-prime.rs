//! `<fn>_uncached` and `<fn>_prime` for every function shape, and the user's attributes they
//! keep: lint levels (an `#[expect]` met by the body only), `must_use`, an `unsafe fn`.

#![deny(warnings, unfulfilled_lint_expectations)]

use memo_runtime::{faas_cached, CacheError};

#[faas_cached]
#[must_use]
fn double(n: u32) -> u32 {
    n * 2
}

/// The body's lint fires in `_uncached`, where the body is; the memoized function allows it.
#[faas_cached]
#[expect(clippy::needless_return, unused_mut)]
fn shout(text: &str) -> String {
    let mut out = text.to_uppercase();
    return out;
}

#[faas_cached]
unsafe fn read(ptr: usize) -> u8 {
    u8::try_from(ptr % 256).unwrap_or(0)
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Meter(u32);

impl Meter {
    #[faas_cached]
    fn scaled(&self, by: u32) -> u32 {
        self.0 * by
    }

    #[faas_cached]
    fn consume(mut self, #[exclude] extra: u32) -> u32 {
        self.0 += 1;
        self.0 + extra
    }

    #[faas_cached]
    async fn remote(&self) -> Result<u32, String> {
        Ok(self.0)
    }
}

fn main() {
    let doubled: Result<Option<u32>, CacheError> = double_prime(1, 5);
    assert_eq!(doubled, Ok(None));
    assert_eq!(double(1), 5);
    assert_eq!(double_uncached(1), 2);
    assert_eq!(shout_uncached("a"), "A");
    // SAFETY: `read` has no precondition; it is `unsafe` to show that the helpers keep it.
    assert_eq!(unsafe { read_uncached(300) }, 44);
    assert_eq!(read_prime(300, 1), Ok(None));
    // SAFETY: as above.
    assert_eq!(unsafe { read(300) }, 1);

    let meter = Meter(2);
    assert_eq!(meter.scaled_prime(3, 0), Ok(None));
    assert_eq!(meter.scaled(3), 0);
    assert_eq!(meter.scaled_uncached(3), 6);
    assert_eq!(meter.clone().consume_uncached(1), 4);
    assert_eq!(meter.consume_prime(9), Ok(None));
    assert_eq!(meter.clone().consume(100), 9);
    assert_eq!(meter.remote_prime(1), Ok(None));
    let _future = meter.remote_uncached();
}
