//! Generic `impl` blocks: one store per concrete `Self`, even when the key and value types do
//! not mention the block's parameters.

use std::hash::Hash;

use memo_runtime::faas_cached;

#[derive(Clone, Hash, PartialEq, Eq)]
struct Wrapper<T>(T);

impl<T> Wrapper<T>
where
    T: Clone + Hash + Eq + Send + Sync + 'static,
{
    #[faas_cached]
    fn described(&self, suffix: &str) -> String {
        format!("{}{suffix}", std::any::type_name::<T>())
    }

    #[faas_cached]
    fn wrap(value: T) -> Self {
        Wrapper(value)
    }

    #[faas_cached]
    fn inner(&self) -> T {
        self.0.clone()
    }
}

struct Pair<A, const N: usize>([A; N]);

impl<A: Copy + Into<u64>, const N: usize> Pair<A, N> {
    #[faas_cached(in_impl)]
    fn width() -> usize {
        N
    }

    #[faas_cached]
    fn sum(#[exclude] &self, times: u64) -> u64 {
        self.0.iter().map(|&a| a.into()).sum::<u64>() * times
    }
}

fn main() {
    assert_eq!(Wrapper(1u8).described("!"), "u8!");
    assert_eq!(Wrapper(1u16).described("!"), "u16!");
    assert_eq!(Wrapper::<u8>::described_cache_info().misses, 1);
    assert_eq!(Wrapper::<u16>::described_cache().len(), 1);
    assert!(Wrapper::wrap("a".to_owned()) == Wrapper("a".to_owned()));
    assert_eq!(Wrapper(5u32).inner(), 5);

    assert_eq!(Pair::<u8, 3>::width(), 3);
    assert_eq!(Pair::<u8, 5>::width(), 5);
    assert_eq!(Pair::<u16, 3>::width_cache_info().misses, 0);
    assert_eq!(Pair([1u8, 2]).sum(2), 6);
    assert_eq!(Pair([1u8, 2, 3]).sum(2), 12);
    assert_eq!(Pair([1u16, 2]).sum(2), 6);
    assert!(Pair::<u8, 2>::sum_invalidate(2));
    assert!(Pair::<u8, 3>::sum_invalidate(2));
    assert!(!Pair::<u8, 3>::sum_invalidate(2));
}
