// The fix the float hint gives: key on the bits.
use memo_runtime::faas_cached;

#[faas_cached(max_items = 100, key = (price.to_bits(), region), key_type = (u64, u32))]
fn tax(price: f64, region: u32) -> f64 {
    price * f64::from(region) / 100.0
}

fn main() {
    assert_eq!(tax(10.0, 20), 2.0);
    assert_eq!(tax(10.0, 20), 2.0);
    assert_eq!(tax_cache_info().hits, 1);
    assert_eq!(tax(-0.0, 20), -0.0);
    assert_eq!(tax_cache_info().misses, 2); // 0.0 and -0.0 have different bits
}
