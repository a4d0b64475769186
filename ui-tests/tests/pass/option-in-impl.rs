//! `in_impl` for an associated function that mentions neither `self` nor `Self`.

use memo_runtime::faas_cached;

struct Rates;

impl Rates {
    #[faas_cached(in_impl)]
    fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }

    #[faas_cached(in_impl = true, ttl = 30)]
    pub fn fee(cents: u64) -> u64 {
        cents / 100
    }
}

fn main() {
    assert_eq!(Rates::rate_of("EUR"), 3);
    assert_eq!(Rates::rate_of_cache_info().misses, 1);
    assert!(Rates::rate_of_invalidate("EUR"));
    assert_eq!(Rates::fee(1_000), 10);
    Rates::fee_cache_clear();
    assert!(Rates::fee_cache().is_empty());
}
