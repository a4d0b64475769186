//! `#[faas_cached]` inside `impl` blocks: methods keyed on `self` (or not), associated
//! functions, generic impl blocks, async methods.

use std::sync::atomic::{AtomicUsize, Ordering};

use memo_runtime::{faas_cached, FaasCacheDict};

#[derive(Clone, Hash, PartialEq, Eq)]
struct Pricing {
    currency: String,
}

static CONVERT_CALLS: AtomicUsize = AtomicUsize::new(0);
static SHARED_CALLS: AtomicUsize = AtomicUsize::new(0);

impl Pricing {
    /// `&self` is part of the key: two `Pricing` values never share results.
    #[faas_cached]
    fn convert(&self, cents: u64) -> String {
        CONVERT_CALLS.fetch_add(1, Ordering::SeqCst);
        format!("{cents} {}", self.currency)
    }

    /// `#[exclude]` on the receiver shares results across every `Pricing`.
    #[faas_cached]
    fn shared_rate(#[exclude] &self, day: u32) -> u32 {
        SHARED_CALLS.fetch_add(1, Ordering::SeqCst);
        day * 10
    }

    /// An associated function is recognised by the `Self` it mentions...
    #[faas_cached(max_items = 4)]
    fn new_cached(code: &str) -> Self {
        Pricing {
            currency: code.to_owned(),
        }
    }

    /// ...or must be marked `in_impl` when it mentions neither `self` nor `Self`.
    #[faas_cached(in_impl)]
    fn rate_of(code: &str) -> u32 {
        code.len() as u32
    }

    /// A receiver taken by value is keyed by value.
    #[faas_cached]
    fn into_label(self) -> String {
        format!("[{}]", self.currency)
    }

    /// `&mut self` is allowed when excluded: the key is `cents` alone.
    #[faas_cached]
    fn charge(#[exclude] &mut self, cents: u64) -> u64 {
        self.currency.push('+');
        cents * 2
    }

    #[faas_cached]
    async fn quote(&self, cents: u64) -> u64 {
        cents + self.currency.len() as u64
    }
}

#[test]
fn methods_are_keyed_on_self_unless_it_is_excluded() {
    let eur = Pricing {
        currency: "EUR".to_owned(),
    };
    let usd = Pricing {
        currency: "USD".to_owned(),
    };
    assert_eq!(eur.convert(5), "5 EUR");
    assert_eq!(usd.convert(5), "5 USD");
    assert_eq!(eur.convert(5), "5 EUR");
    assert_eq!(CONVERT_CALLS.load(Ordering::SeqCst), 2);
    let store: &FaasCacheDict<(Pricing, u64), String> = Pricing::convert_cache();
    assert_eq!(store.len(), 2);
    assert!(
        eur.convert_invalidate(5),
        "keyed on self: invalidate is a method"
    );
    assert_eq!(Pricing::convert_cache_info().current_items, 1);

    assert_eq!(eur.shared_rate(3), 30);
    assert_eq!(usd.shared_rate(3), 30);
    assert_eq!(SHARED_CALLS.load(Ordering::SeqCst), 1);
    assert!(
        Pricing::shared_rate_invalidate(3),
        "self excluded: an associated function"
    );
}

#[test]
fn associated_functions_and_by_value_receivers() {
    assert!(Pricing::new_cached("GBP") == Pricing::new_cached("GBP"));
    assert_eq!(Pricing::new_cached_cache_info().hits, 1);
    assert_eq!(Pricing::rate_of("abc"), 3);
    assert_eq!(Pricing::rate_of_cache().len(), 1);
    let chf = Pricing {
        currency: "CHF".to_owned(),
    };
    assert_eq!(chf.clone().into_label(), "[CHF]");
    assert_eq!(chf.clone().into_label(), "[CHF]");
    assert_eq!(Pricing::into_label_cache_info().hits, 1);
    // `invalidate` of a by-value method borrows `self`: `chf` is still usable afterwards.
    assert!(chf.into_label_invalidate());
    assert!(!chf.into_label_invalidate());
    assert_eq!(chf.into_label(), "[CHF]");
    assert_eq!(Pricing::into_label_cache_info().misses, 2);
}

#[test]
fn async_methods_are_memoized() {
    let jpy = Pricing {
        currency: "JPY".to_owned(),
    };
    assert_eq!(pollster::block_on(jpy.quote(10)), 13);
    assert_eq!(pollster::block_on(jpy.quote(10)), 13);
    assert_eq!(Pricing::quote_cache_info().hits, 1);
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Wrapper<T>(T);

impl<T: Clone + std::hash::Hash + Eq + Send + Sync + 'static> Wrapper<T> {
    /// A generic impl block: one store per concrete `T`.
    #[faas_cached]
    fn described(&self, suffix: &str) -> String {
        format!("{}{suffix}", std::any::type_name::<T>())
    }
}

#[test]
fn generic_impl_blocks_get_one_store_per_type() {
    assert_eq!(Wrapper(1u8).described("!"), "u8!");
    assert_eq!(Wrapper(1u16).described("!"), "u16!");
    assert_eq!(Wrapper(1u8).described("!"), "u8!");
    assert_eq!(Wrapper::<u8>::described_cache_info().hits, 1);
    assert_eq!(Wrapper::<u16>::described_cache_info().hits, 0);
    assert_eq!(Wrapper::<u16>::described_cache().len(), 1);
}

struct Pair<const N: usize>;

impl<const N: usize> Pair<N> {
    /// Neither key nor value mentions `N`: each `Pair<N>` still gets its own store.
    #[faas_cached(in_impl)]
    fn width() -> usize {
        N
    }

    #[faas_cached]
    fn scaled(#[exclude] &self, by: usize) -> usize {
        N * by
    }
}

struct Named<T>(std::marker::PhantomData<T>);

impl<T: 'static> Named<T> {
    #[faas_cached(in_impl)]
    fn name() -> &'static str {
        std::any::type_name::<T>()
    }
}

/// A `Self` that borrows: the store is shared by every lifetime of it.
struct Parser<'a>(&'a str);

impl<'a> Parser<'a> {
    #[faas_cached]
    fn version(#[exclude] &self, major: u32) -> String {
        format!("{major}.{}", self.0.len())
    }
}

#[test]
fn generic_impl_blocks_get_one_store_per_instantiation_whatever_the_store_type() {
    assert_eq!(Pair::<3>::width(), 3);
    assert_eq!(Pair::<5>::width(), 5);
    assert_eq!(Pair::<3>::width(), 3);
    let (three, five) = (Pair::<3>::width_cache_info(), Pair::<5>::width_cache_info());
    assert_eq!((three.hits, three.misses), (1, 1));
    assert_eq!((five.hits, five.misses), (0, 1));
    assert!(!std::ptr::eq(
        Pair::<3>::width_cache(),
        Pair::<5>::width_cache()
    ));

    assert_eq!(Pair::<3>.scaled(2), 6);
    assert_eq!(Pair::<5>.scaled(2), 10);
    assert_eq!(Pair::<5>.scaled(2), 10);
    assert_eq!(Pair::<3>::scaled_cache_info().hits, 0);
    assert_eq!(Pair::<5>::scaled_cache_info().hits, 1);
    assert!(Pair::<3>::scaled_invalidate(2));
    assert_eq!(Pair::<5>::scaled_cache().len(), 1);

    assert_eq!(Named::<u8>::name(), "u8");
    assert_eq!(Named::<String>::name(), "alloc::string::String");
    assert_eq!(Named::<u8>::name(), "u8");
    assert_eq!(Named::<u8>::name_cache_info().hits, 1);
    assert_eq!(Named::<String>::name_cache_info().hits, 0);

    let text = String::from("abc");
    assert_eq!(Parser(&text).version(1), "1.3");
    assert_eq!(
        Parser("other").version(1),
        "1.3",
        "excluded self: shared by design"
    );
    assert_eq!(Parser::version_cache_info().hits, 1);
}

#[test]
fn an_excluded_mut_self_is_not_keyed() {
    let mut sek = Pricing {
        currency: "SEK".to_owned(),
    };
    assert_eq!(sek.charge(4), 8);
    assert_eq!(sek.charge(4), 8);
    assert_eq!(
        sek.currency, "SEK+",
        "the hit skipped the body, as documented"
    );
    assert!(Pricing::charge_invalidate(4));
}

/// Two types of one module with a memoized `get` each: their names tell them apart.
mod catalog {
    use memo_runtime::faas_cached;

    pub struct Books;
    #[derive(Clone)]
    pub struct Films;

    impl Books {
        #[faas_cached]
        pub fn get(#[exclude] &self, id: u32) -> String {
            format!("book {id}")
        }
    }

    impl Films {
        #[faas_cached]
        pub fn get(#[exclude] &self, id: u32) -> String {
            format!("film {id}")
        }

        #[faas_cached(name = "films")]
        pub fn count() -> Self {
            Films
        }
    }
}

#[test]
fn a_method_is_named_after_its_type() {
    use catalog::{Books, Films};
    assert_eq!(Books.get(1), "book 1");
    assert_eq!(Films.get(1), "film 1");
    assert_eq!(
        Books::get_cache_info().name,
        "macro_methods::catalog::Books::get"
    );
    assert_eq!(
        Films::get_cache_info().name,
        "macro_methods::catalog::Films::get"
    );
    assert_eq!(Films::count_cache_info().name, "films", "`name` still wins");
    // A generic impl block: the type's arguments are part of the name.
    assert_eq!(
        Wrapper::<u8>::described_cache_info().name,
        "macro_methods::Wrapper<u8>::described"
    );
    assert_eq!(
        Pair::<3>::width_cache_info().name,
        "macro_methods::Pair<3>::width"
    );
    // A `Self` that borrows: lifetimes are erased.
    assert_eq!(
        Parser::version_cache_info().name,
        "macro_methods::Parser<'_>::version"
    );
}
