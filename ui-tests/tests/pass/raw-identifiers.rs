//! Raw identifiers: `fn r#type()` gets helpers `type_cache_info` and so on.

use memo_runtime::faas_cached;

#[faas_cached]
fn r#type(r#match: u32, r#in: &str) -> String {
    format!("{match}{in}", match = r#match, in = r#in)
}

#[faas_cached]
fn r#fn() -> u8 {
    1
}

struct Keywords;

impl Keywords {
    #[faas_cached(in_impl)]
    fn r#loop(n: u8) -> u8 {
        n
    }
}

fn main() {
    assert_eq!(r#type(1, "a"), "1a");
    assert_eq!(type_cache_info().misses, 1);
    assert!(type_invalidate(1, "a"));
    type_cache_clear();
    assert!(type_cache().is_empty());
    assert_eq!(r#fn(), 1);
    assert_eq!(fn_cache_info().misses, 1);
    assert_eq!(Keywords::r#loop(2), 2);
    assert!(Keywords::loop_invalidate(2));
}
