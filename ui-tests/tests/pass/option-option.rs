//! `option`: automatic for `Option`, `false` to cache `None` too, `true` for an alias, and
//! `true` on a `Result<Option<T>, E>` to cache only `Ok(Some(..))`.

use memo_runtime::{faas_cached, FaasCacheDict};

type Maybe<T> = Option<T>;

#[faas_cached]
fn even(n: u32) -> Option<u32> {
    (n % 2 == 0).then_some(n)
}

#[faas_cached(option = false)]
fn even_or_none(n: u32) -> Option<u32> {
    (n % 2 == 0).then_some(n)
}

#[faas_cached(option = true)]
fn odd(n: u32) -> Maybe<u32> {
    (n % 2 == 1).then_some(n)
}

#[faas_cached(option = true)]
fn find(n: u32) -> Result<Option<u32>, String> {
    if n == 0 {
        return Err("zero".to_owned());
    }
    Ok((n % 2 == 0).then_some(n))
}

fn main() {
    assert_eq!(even(2), Some(2));
    assert_eq!(even(3), None);
    let store: &FaasCacheDict<(u32,), u32> = even_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(even_or_none(3), None);
    let store: &FaasCacheDict<(u32,), Option<u32>> = even_or_none_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(odd(3), Some(3));
    let store: &FaasCacheDict<(u32,), u32> = odd_cache();
    assert_eq!(store.len(), 1);

    assert_eq!(find(0), Err("zero".to_owned()));
    assert_eq!(find(3), Ok(None));
    assert_eq!(find(4), Ok(Some(4)));
    let store: &FaasCacheDict<(u32,), u32> = find_cache();
    assert_eq!(store.keys(), [(4,)]);
}
