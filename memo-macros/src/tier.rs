//! What a tier option (`disk`, `redis`, and `version`) adds to the expansion: the serde assertions, the
//! builder calls that give the store its tiers (codec, namespace tag, the tiers themselves),
//! and the `_invalidate` that reaches them. `expand` calls these only when
//! [`Options::has_tier`] holds.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::args::{DiskDir, Options, RedisUrl};
use crate::ast::{span_of, Function};

impl Options {
    /// Whether the function has a second-level tier.
    pub(crate) fn has_tier(&self) -> bool {
        self.redis.is_some() || self.disk.is_some()
    }
}

/// `assert_tier_key::<Part>()` for each key part and `assert_tier_value::<V>()`, spanned on
/// the user's types: a missing `Serialize`/`Deserialize` is one error, on the type, naming the
/// trait. (Without the tier features the traits are empty and the assertions pass: the
/// feature's own error is the one reported, by [`builder_calls`].)
pub(crate) fn assertions(key_parts: &[&TokenStream], value: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    for part in key_parts {
        out.extend(quote_spanned!(span_of(part)=>
            ::memo_runtime::__private::assert_tier_key::<#part>();
        ));
    }
    out.extend(quote_spanned!(span_of(value)=>
        ::memo_runtime::__private::assert_tier_value::<#value>();
    ));
    out
}

/// The namespace tag: `version = ".."`, or the crate's version and a hash of the function's
/// signature and body, so that a change of the code makes the old entries unreachable.
fn tag(options: &Options, function: &Function) -> TokenStream {
    if let Some(version) = &options.version {
        return quote!(#version);
    }
    let sig = &function.item.sig;
    let block = &function.item.block;
    let code = quote!(#sig #block).to_string();
    let hash = format!("{:016x}", fnv1a(code.as_bytes()));
    quote!(::core::concat!(::core::env!("CARGO_PKG_VERSION"), ":", #hash))
}

/// FNV-1a, 64 bits: stable across processes and builds (unlike std's hashers).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Appends the tier calls to `builder` (an expression of the store's concrete `Builder`):
///
/// ```text
/// ::memo_runtime::__faas_memo_redis!(                        // with `redis`
///     ::memo_runtime::__faas_memo_disk!(#builder =>          // with `disk`
///         .tier_codec({ (&CodecWith::<K, V>::new()).codec() })   // serde, when the bounds hold
///         .tier_tag(TAG)                                          // see `tag`
///         .disk_dir_unchecked("dir") | .disk_from_env_unchecked()
///         [.disk_max_size(N)])
///     => .redis_url_unchecked("redis://..") | .redis_from_env_unchecked()
///        [.redis_timeout(Duration::from_nanos(N))])
/// ```
///
/// The codec and tag go in the innermost gate. The runtime's `__faas_memo_disk!` and
/// `__faas_memo_redis!` expand to the calls when its feature is on, and otherwise to the
/// builder alone and one `compile_error!` that names the feature.
pub(crate) fn builder_calls(
    options: &Options,
    function: &Function,
    builder: TokenStream,
    key_ty: &TokenStream,
    value: &TokenStream,
) -> TokenStream {
    if !options.has_tier() {
        return builder;
    }
    let tag = tag(options, function);
    let mut common = Some(quote! {
        .tier_codec({
            #[allow(unused_imports)]
            use ::memo_runtime::__private::{NoCodec as _, SerdeCodec as _};
            (&::memo_runtime::__private::CodecWith::<#key_ty, #value>::new()).codec()
        })
        .tier_tag(#tag)
    });
    let mut builder = builder;
    if let Some(disk) = &options.disk {
        let common = common.take();
        let source = match &disk.value {
            DiskDir::Literal(dir) => quote!(.disk_dir_unchecked(#dir)),
            DiskDir::Env => quote!(.disk_from_env_unchecked()),
        };
        let max_size = options.disk_max_size.as_ref().map(|size| {
            let bytes = proc_macro2::Literal::u64_suffixed(size.value);
            quote!(.disk_max_size(#bytes))
        });
        let span = span_of(&disk.tokens);
        builder = quote_spanned! {span=>
            ::memo_runtime::__faas_memo_disk!(#builder => #common #source #max_size)
        };
    }
    if let Some(redis) = &options.redis {
        let common = common.take();
        let source = match &redis.value {
            RedisUrl::Literal(url) => quote!(.redis_url_unchecked(#url)),
            RedisUrl::Env => quote!(.redis_from_env_unchecked()),
        };
        let timeout = options.redis_timeout.as_ref().map(|t| {
            let nanos = proc_macro2::Literal::u64_suffixed(t.value);
            quote!(.redis_timeout(::core::time::Duration::from_nanos(#nanos)))
        });
        let span = span_of(&redis.tokens);
        builder = quote_spanned! {span=>
            ::memo_runtime::__faas_memo_redis!(#builder => #common #source #timeout)
        };
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_hash_is_stable() {
        // FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
