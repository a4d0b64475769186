//! `<fn>_uncached` (the body without the cache) and `<fn>_prime` (a value put in without
//! computing it) on free functions, methods, associated functions, generic `impl` blocks and
//! `async fn`s.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use memo_runtime::{faas_cached, CacheError, DeepSize};

static SQUARE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached(max_items = 16)]
fn square(n: u64) -> u64 {
    SQUARE_CALLS.fetch_add(1, Ordering::SeqCst);
    n * n
}

#[test]
fn uncached_runs_the_body_and_leaves_the_cache_and_its_statistics_alone() {
    assert_eq!(square_uncached(3), 9);
    assert_eq!(square_uncached(3), 9);
    assert_eq!(SQUARE_CALLS.load(Ordering::SeqCst), 2);
    let info = square_cache_info();
    assert_eq!((info.hits, info.misses, info.current_items), (0, 0, 0));

    assert_eq!(square(3), 9);
    assert_eq!(square_uncached(3), 9, "runs even when a value is cached");
    assert_eq!(SQUARE_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(square_cache_info().misses, 1);
}

static PRICE_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
fn price(sku: &str, quantity: u32) -> u64 {
    PRICE_CALLS.fetch_add(1, Ordering::SeqCst);
    sku.len() as u64 * u64::from(quantity)
}

#[test]
fn prime_puts_a_value_in_without_computing_it() {
    assert_eq!(price_prime("apple", 2, 99), Ok(None));
    assert_eq!(price("apple", 2), 99, "served from the primed entry");
    assert_eq!(PRICE_CALLS.load(Ordering::SeqCst), 0);
    assert_eq!(
        price_prime("apple", 2, 7),
        Ok(Some(99)),
        "returns the replaced value"
    );
    assert_eq!(price("apple", 2), 7);
    let info = price_cache_info();
    assert_eq!((info.hits, info.misses), (2, 0));
    assert!(price_invalidate("apple", 2));
    assert_eq!(price("apple", 2), 10);
}

#[faas_cached]
fn parse_port(text: &str) -> Result<u16, std::num::ParseIntError> {
    text.parse()
}

#[faas_cached]
fn find(id: u32) -> Option<String> {
    (id == 1).then(|| "one".to_owned())
}

#[test]
fn prime_of_a_result_or_option_function_takes_the_ok_or_some_value() {
    assert_eq!(parse_port_prime("http", 80), Ok(None));
    assert_eq!(parse_port("http"), Ok(80));
    assert!(parse_port_uncached("http").is_err());
    assert_eq!(find_prime(2, "two".to_owned()), Ok(None));
    assert_eq!(find(2).as_deref(), Some("two"));
    assert_eq!(find_uncached(2), None);
}

#[faas_cached(max_size = "16K")]
fn blob(id: u32) -> Vec<u8> {
    vec![0; id as usize]
}

#[test]
fn prime_reports_a_value_too_large_for_max_size() {
    let err = blob_prime(1, vec![0; 1 << 20]).unwrap_err();
    assert!(matches!(err, CacheError::DataTooLarge { .. }), "{err}");
    assert_eq!(blob_cache_info().current_items, 0);
    assert_eq!(blob_prime(1, vec![1, 2]), Ok(None));
    assert_eq!(blob(1), [1, 2]);
}

#[derive(Clone, Hash, PartialEq, Eq)]
struct Account {
    id: u64,
}

static BALANCE_CALLS: AtomicUsize = AtomicUsize::new(0);

impl Account {
    #[faas_cached]
    fn balance(&self, currency: &str) -> String {
        BALANCE_CALLS.fetch_add(1, Ordering::SeqCst);
        format!("{} {currency}", self.id * 100)
    }

    #[faas_cached]
    fn into_summary(self) -> String {
        format!("account {}", self.id)
    }

    #[faas_cached]
    fn shared_limit(#[exclude] &self, tier: u8) -> u64 {
        u64::from(tier) * 1000
    }

    #[faas_cached(in_impl)]
    fn fee(percent: u8) -> u64 {
        u64::from(percent) * 3
    }
}

#[test]
fn methods_and_associated_functions_have_both_helpers() {
    let account = Account { id: 7 };
    assert_eq!(account.balance_uncached("EUR"), "700 EUR");
    assert_eq!(Account::balance_cache_info().misses, 0);
    assert_eq!(account.balance_prime("EUR", "1 EUR".to_owned()), Ok(None));
    assert_eq!(account.balance("EUR"), "1 EUR");
    assert_eq!(Account { id: 8 }.balance("EUR"), "800 EUR", "keyed on self");
    assert_eq!(BALANCE_CALLS.load(Ordering::SeqCst), 2);

    // A by-value receiver: `_uncached` consumes `self` like the method, `_prime` borrows it.
    assert_eq!(account.into_summary_prime("primed".to_owned()), Ok(None));
    assert_eq!(account.clone().into_summary_uncached(), "account 7");
    assert_eq!(account.clone().into_summary(), "primed");

    // An excluded receiver: the helpers are associated functions without it.
    assert_eq!(Account::shared_limit_prime(2, 5), Ok(None));
    assert_eq!(account.shared_limit(2), 5);
    assert_eq!(account.shared_limit_uncached(2), 2000);

    assert_eq!(Account::fee_prime(10, 1), Ok(None));
    assert_eq!(Account::fee(10), 1);
    assert_eq!(Account::fee_uncached(10), 30);
}

struct Codec<T>(std::marker::PhantomData<T>);

impl<T: Default + std::fmt::Debug + 'static> Codec<T> {
    #[faas_cached(in_impl)]
    fn describe(width: usize) -> String {
        format!("{:?}/{width}", T::default())
    }
}

#[test]
fn a_generic_impl_block_primes_the_store_of_its_own_type() {
    assert_eq!(
        Codec::<u8>::describe_prime(1, "primed".to_owned()),
        Ok(None)
    );
    assert_eq!(Codec::<u8>::describe(1), "primed");
    assert_eq!(Codec::<u16>::describe(1), "0/1", "another store");
    assert_eq!(Codec::<u8>::describe_uncached(1), "0/1");
}

static FETCH_CALLS: AtomicUsize = AtomicUsize::new(0);

#[faas_cached]
async fn fetch(url: &str) -> Result<String, String> {
    FETCH_CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("body of {url}"))
}

#[test]
fn async_functions_get_an_async_uncached_and_a_synchronous_prime() {
    pollster::block_on(async {
        assert_eq!(fetch_uncached("a").await.as_deref(), Ok("body of a"));
        assert_eq!(fetch_prime("b", "primed".to_owned()), Ok(None));
        assert_eq!(fetch("b").await.as_deref(), Ok("primed"));
        assert_eq!(fetch("a").await.as_deref(), Ok("body of a"));
    });
    assert_eq!(FETCH_CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(fetch_cache_info().misses, 1);
}

#[derive(Clone, DeepSize)]
struct Profile {
    name: String,
}

#[faas_cached(key = user_id, key_type = u64)]
fn profile(user_id: u64, #[exclude] verbose: bool) -> Profile {
    Profile {
        name: if verbose {
            format!("user #{user_id}")
        } else {
            user_id.to_string()
        },
    }
}

#[faas_cached]
fn area((width, height): (u32, u32), mut scale: u32, value: u32) -> u32 {
    scale += value;
    width * height * scale
}

#[test]
fn custom_keys_patterns_and_an_argument_named_value() {
    assert_eq!(
        profile_prime(
            1,
            false,
            Profile {
                name: "ada".to_owned()
            }
        )
        .map(|_| ()),
        Ok(())
    );
    assert_eq!(profile(1, true).name, "ada");
    assert_eq!(profile_uncached(1, true).name, "user #1");

    assert_eq!(area_uncached((2, 3), 1, 1), 12);
    assert_eq!(
        area_prime((2, 3), 1, 1, 5),
        Ok(None),
        "the value comes last"
    );
    assert_eq!(area((2, 3), 1, 1), 5);
}

#[faas_cached(ttl = 60)]
fn timed(n: u32) -> u32 {
    n
}

#[test]
fn a_primed_entry_gets_the_caches_ttl() {
    assert_eq!(timed_prime(1, 10), Ok(None));
    let left = timed_cache().get_ttl(&(1,)).expect("the ttl applies");
    assert!(left <= Duration::from_secs(60) && left > Duration::from_secs(50));
}
