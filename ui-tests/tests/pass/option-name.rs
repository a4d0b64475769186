//! `name`, and the default name (`module_path::fn_name`).

use memo_runtime::faas_cached;

#[faas_cached(name = "squares")]
fn square(n: u64) -> u64 {
    n * n
}

mod nested {
    #[memo_runtime::faas_cached]
    pub(crate) fn cube(n: u64) -> u64 {
        n * n * n
    }
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(square_cache_info().name, "squares");
    assert_eq!(nested::cube(2), 8);
    assert!(nested::cube_cache_info().name.ends_with("nested::cube"));
}
