//! Methods: `&self` and `self` are part of the key; `#[exclude] &self` and
//! `#[exclude] &mut self` are not (a keyed `&mut self` is an error); the helpers of any method
//! take `&self`; associated functions that mention `Self`.

use memo_runtime::{faas_cached, FaasCacheDict};

#[derive(Clone, Hash, PartialEq, Eq)]
struct Pricing {
    currency: String,
}

impl Pricing {
    #[faas_cached]
    fn convert(&self, cents: u64) -> String {
        format!("{cents} {}", self.currency)
    }

    #[faas_cached]
    fn convert_mut(#[exclude] &mut self, cents: u64) -> u64 {
        self.currency.push('!');
        cents
    }

    /// With a custom key, the receiver is not the key: `&mut self` is allowed, and
    /// `invalidate` takes `&self`.
    #[faas_cached(key = cents, key_type = u64)]
    fn charge(&mut self, cents: u64) -> u64 {
        self.currency.push('$');
        cents * 2
    }

    #[faas_cached]
    fn into_label(self) -> String {
        format!("[{}]", self.currency)
    }

    #[faas_cached]
    fn shared_rate(#[exclude] &self, day: u32) -> u32 {
        day * 10
    }

    /// An associated function, recognised by the `Self` it mentions.
    #[faas_cached(max_items = 4)]
    pub fn named(code: &str) -> Self {
        Pricing {
            currency: code.to_owned(),
        }
    }

    #[faas_cached]
    fn same_as(&self, other: &Self) -> bool {
        self == other
    }

    #[faas_cached(key = self.currency.len(), key_type = usize)]
    fn by_length(&self) -> usize {
        self.currency.len()
    }
}

fn main() {
    let eur = Pricing::named("EUR");
    assert_eq!(eur.convert(5), "5 EUR");
    let store: &FaasCacheDict<(Pricing, u64), String> = Pricing::convert_cache();
    assert_eq!(store.len(), 1);
    assert!(eur.convert_invalidate(5));
    assert_eq!(Pricing::convert_cache_info().current_items, 0);

    let mut usd = Pricing::named("USD");
    assert_eq!(usd.convert_mut(3), 3);
    assert!(Pricing::convert_mut_invalidate(3), "self excluded: an associated function");
    assert_eq!(usd.charge(3), 6);
    assert!(usd.charge_invalidate(3), "takes `&self`");

    assert_eq!(eur.clone().into_label(), "[EUR]");
    assert!(eur.into_label_invalidate(), "borrows `self`, does not consume it");

    assert_eq!(eur.shared_rate(2), 20);
    assert!(Pricing::shared_rate_invalidate(2));

    assert_eq!(Pricing::named_cache_info().max_items, Some(4));
    assert!(Pricing::named_invalidate("EUR"));

    assert!(eur.same_as(&eur));
    assert!(eur.same_as_invalidate(&eur));
    assert_eq!(eur.by_length(), 3);
    assert!(eur.by_length_invalidate());
    Pricing::by_length_cache_clear();
}
