//! `#[faas_cached]` on an `impl` block: the methods it marks are memoized, in a trait `impl`
//! too (one store per implementing type, helpers in an inherent `impl` of it), and associated
//! functions need no `in_impl`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use memo_runtime::{faas_cached, FaasCacheDict};

trait Pricer {
    fn price(&self, sku: &str) -> u64;
    fn currency() -> String;
    fn discount(&self, percent: u8) -> u64 {
        u64::from(percent)
    }
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Shop {
    markup: u64,
}

static SHOP_CALLS: AtomicUsize = AtomicUsize::new(0);
static EURO_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
impl Pricer for Shop {
    /// Keyed on `self` and `sku`, like a method of an inherent `impl`.
    #[faas_cached(max_items = 64)]
    fn price(&self, sku: &str) -> u64 {
        SHOP_CALLS.fetch_add(1, Ordering::SeqCst);
        sku.len() as u64 * self.markup
    }

    /// An associated function: no `in_impl` needed under the block's attribute.
    #[faas_cached]
    fn currency() -> String {
        EURO_CALLS.fetch_add(1, Ordering::SeqCst);
        "EUR".to_owned()
    }
    // `discount` keeps the trait's default: items without the attribute are left alone.
}

#[test]
fn a_trait_method_is_memoized_and_its_helpers_are_inherent() {
    let shop = Shop { markup: 10 };
    assert_eq!(shop.price("apple"), 50);
    assert_eq!(shop.price("apple"), 50);
    assert_eq!(Shop { markup: 2 }.price("apple"), 10, "self is in the key");
    assert_eq!(SHOP_CALLS.load(Ordering::SeqCst), 2);
    let info = Shop::price_cache_info();
    assert_eq!((info.hits, info.misses), (1, 2));
    assert!(info.name.ends_with("Shop::price"), "{}", info.name);
    let store: &FaasCacheDict<(Shop, String), u64> = Shop::price_cache();
    assert_eq!(store.len(), 2);
    assert!(shop.price_invalidate("apple"));
    assert_eq!(shop.price_uncached("kiwi"), 40);
    assert_eq!(shop.price_prime("kiwi", 1), Ok(None));
    assert_eq!(shop.price("kiwi"), 1);
    Shop::price_cache_clear();
    Shop::price_reset_stats();
    assert_eq!(Shop::price_cache_info().hits, 0);
    assert_eq!(shop.discount(5), 5);

    // Through the trait, generically: the same store.
    fn total<P: Pricer>(p: &P, skus: &[&str]) -> u64 {
        skus.iter().map(|s| p.price(s)).sum()
    }
    assert_eq!(total(&shop, &["ab", "ab"]), 40);
    assert_eq!(Shop::price_cache_info().hits, 1);

    assert_eq!(Shop::currency(), "EUR");
    assert_eq!(<Shop as Pricer>::currency(), "EUR");
    assert_eq!(EURO_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(Shop::currency_cache_info().hits, 1);
}

/// Two types implementing one trait: one store each.
#[derive(Clone, Hash, PartialEq, Eq)]
struct Market;

#[faas_cached]
impl Pricer for Market {
    #[faas_cached]
    fn price(&self, sku: &str) -> u64 {
        sku.len() as u64
    }

    fn currency() -> String {
        "USD".to_owned()
    }
}

#[test]
fn each_implementation_has_its_own_store() {
    assert_eq!(Market.price("melon"), 5);
    assert_eq!(Market.price("melon"), 5);
    assert_eq!(Market::price_cache_info().hits, 1);
    assert!(Market::price_cache().contains_key(&(Market, "melon".to_owned())));
    assert!(!Shop::price_cache().contains_key(&(Shop { markup: 1 }, "melon".to_owned())));
}

/// A generic implementing type: one store per concrete type, helpers on `Wrapper<T>`.
#[derive(Clone, Hash, PartialEq, Eq)]
struct Wrapper<T>(T);

impl<T: fmt::Display + Clone + std::hash::Hash + Eq + Send + Sync + 'static> fmt::Display
    for Wrapper<T>
where
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[faas_cached]
impl<T: fmt::Display + Clone + std::hash::Hash + Eq + Send + Sync + 'static> Labelled
    for Wrapper<T>
{
    #[faas_cached]
    fn label(&self) -> String {
        format!("<{}>", self.0)
    }
}

trait Labelled {
    fn label(&self) -> String;
}

#[test]
fn generic_implementing_types_get_a_store_per_type() {
    assert_eq!(Wrapper(7u8).to_string(), "<7>");
    assert_eq!(Wrapper(7u8).label(), "<7>");
    assert_eq!(Wrapper("a").label(), "<a>");
    assert_eq!(Wrapper::<u8>::label_cache_info().hits, 1);
    assert_eq!(Wrapper::<&str>::label_cache_info().misses, 1);
}

/// An inherent `impl` block under the attribute: associated functions without `in_impl`.
struct Rates;

#[faas_cached]
impl Rates {
    #[faas_cached]
    pub fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }

    fn untouched() -> u32 {
        1
    }
}

#[test]
fn an_inherent_block_needs_no_in_impl() {
    assert_eq!(Rates::rate_of("abc"), 3);
    assert_eq!(Rates::rate_of("abc"), 3);
    assert_eq!(Rates::rate_of_cache_info().hits, 1);
    assert_eq!(Rates::untouched(), 1);
}

/// An `async fn` of a trait.
trait Fetch {
    async fn fetch(&self, id: u64) -> String;
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Client;

static FETCH_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
impl Fetch for Client {
    #[faas_cached(ttl = 60)]
    async fn fetch(&self, id: u64) -> String {
        FETCH_CALLS.fetch_add(1, Ordering::SeqCst);
        format!("item {id}")
    }
}

#[test]
fn async_trait_methods_are_memoized() {
    assert_eq!(pollster::block_on(Client.fetch(1)), "item 1");
    assert_eq!(pollster::block_on(Client.fetch(1)), "item 1");
    assert_eq!(FETCH_CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(Client::fetch_cache_info().hits, 1);
}

/// `pub` on a trait's method (where Rust allows none) gives the helpers that visibility.
mod visibility {
    use memo_runtime::faas_cached;

    pub trait Area {
        fn area(&self) -> u64;
    }

    #[derive(Clone, Hash, PartialEq, Eq)]
    pub struct Square(pub u64);

    #[faas_cached]
    impl Area for Square {
        #[faas_cached]
        pub fn area(&self) -> u64 {
            self.0 * self.0
        }
    }
}

#[test]
fn pub_on_a_trait_method_is_the_helpers_visibility() {
    use visibility::{Area, Square};
    assert_eq!(Square(3).area(), 9);
    assert_eq!(Square::area_cache_info().misses, 1);
    assert!(Square(3).area_invalidate());
}
