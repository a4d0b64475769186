//! `#[faas_cached]` written by a `macro_rules!` macro that passes options as `$e:expr` and
//! types as `$t:ty` (invisible groups around them).

use memo_runtime::faas_cached;

macro_rules! memoize {
    ($name:ident, $arg:ident: $ty:ty, $ttl:expr, $items:expr, $size:expr, $label:expr, $flag:expr) => {
        #[faas_cached(
                    ttl = $ttl,
                    max_items = $items,
                    max_size = $size,
                    name = $label,
                    dedupe = $flag,
                    result = $flag,
                    option = false,
                    policy = "lru"
                )]
        fn $name($arg: $ty) -> Result<u64, String> {
            Ok($arg.len() as u64)
        }
    };
}

memoize!(length, text: &str, 60, 16, "1M", "lengths", true);
memoize!(length_of_bytes, bytes: &[u8], 0.5, 1, 65_536, "byte lengths", false);

macro_rules! with_key {
    ($id:ident, $key:expr, $key_type:ty, $hook:expr) => {
        #[faas_cached(key = $key, key_type = $key_type, on_delete = $hook)]
        fn keyed($id: u64, #[exclude] verbose: bool) -> String {
            if verbose {
                format!("id {}", $id)
            } else {
                $id.to_string()
            }
        }
    };
}

with_key!(id, id % 10, u64, |_key: &u64, _value: &String, _why| {});

fn main() {
    assert_eq!(length("abc"), Ok(3));
    assert_eq!(length_cache_info().name, "lengths");
    assert_eq!(length_of_bytes(b"ab"), Ok(2));
    assert_eq!(length_of_bytes_cache_info().max_items, Some(1));
    assert_eq!(keyed(11, false), "11");
    assert_eq!(keyed(21, true), "11", "same key: 1");
    assert!(keyed_invalidate(1, false));
}
