//! Generated code compiles without a warning under strict lints.

#![deny(
    warnings,
    unused,
    missing_docs,
    missing_debug_implementations,
    nonstandard_style,
    rust_2018_idioms,
    future_incompatible,
    unreachable_pub,
    unsafe_code,
    unused_qualifications,
    unused_lifetimes,
    single_use_lifetimes,
    trivial_casts,
    trivial_numeric_casts,
    unused_import_braces,
    elided_lifetimes_in_paths,
    let_underscore_drop,
    variant_size_differences,
    clippy::all,
    clippy::pedantic
)]

use memo_runtime::{faas_cached, DeepSize};

/// A cached value.
#[derive(Clone, Debug, DeepSize)]
pub struct Profile {
    /// The name.
    pub name: String,
}

/// Documented, with every kind of argument.
#[faas_cached(ttl = 60, max_size = "1M", max_items = 100)]
pub fn profile(id: u64, locale: &str, tags: &[u8], #[exclude] verbose: bool) -> Profile {
    Profile {
        name: if verbose {
            format!("{id}-{locale}-{}", tags.len())
        } else {
            id.to_string()
        },
    }
}

/// A fallible function.
///
/// # Errors
///
/// When `text` is not a number.
#[faas_cached]
pub fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
    text.parse()
}

/// A type with memoized methods.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Service {
    /// Its base address.
    pub base: String,
}

impl Service {
    /// A method keyed on `self`.
    #[faas_cached]
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An async method.
    #[faas_cached]
    pub async fn fetch(&self, id: u32) -> Option<u32> {
        Some(id + u32::try_from(self.base.len()).ok()?)
    }

    /// An associated function.
    #[faas_cached(in_impl)]
    #[must_use]
    pub fn version() -> u32 {
        1
    }
}

mod private {
    use memo_runtime::faas_cached;

    #[faas_cached]
    pub(crate) fn hidden(n: u8) -> u8 {
        n
    }
}

fn main() {
    let profile = profile(1, "fr", &[1], false);
    assert_eq!(profile.name, "1");
    assert!(profile_invalidate(1, "fr", &[1]));
    assert_eq!(profile_cache_info().misses, 1);
    profile_cache_clear();
    assert!(profile_cache().is_empty());

    assert_eq!(parse("1"), Ok(1));
    let service = Service {
        base: "b".to_owned(),
    };
    assert_eq!(service.url("/"), "b/");
    drop(service.fetch(1));
    assert_eq!(Service::version(), 1);
    assert_eq!(private::hidden(1), 1);
}
