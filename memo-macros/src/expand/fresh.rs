//! What the options about an entry's age and the call's outcome add to the expansion:
//! `cached_flag`, `refresh_on_hit`, `fallback`, `force_refresh`, a `WithTtl` return, `stale`,
//! `refresh_ahead`, and the `<fn>_refresh` helper every function gets.
//!
//! A function that uses none of them keeps the plain path (`memoized` in `expand.rs`): the
//! choice is made here, at expansion time, so that their cost is paid only by the functions
//! that ask for them.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;

use super::{uncached_call, Key, Names};
use crate::args::Options;
use crate::ast::{Function, Shape};
use crate::symbol;

impl Options {
    /// The first option that takes the path of this module, for messages.
    pub(crate) fn fresh_option_name(&self, with_ttl: bool) -> Option<&'static str> {
        [
            (symbol::STALE, self.stale.is_some()),
            (symbol::FALLBACK, self.fallback.is_some()),
            (symbol::REFRESH_ON_HIT, self.refresh_on_hit.is_some()),
            (symbol::REFRESH_AHEAD, self.refresh_ahead.is_some()),
            (symbol::FORCE_REFRESH, self.force_refresh.is_some()),
            (symbol::CACHED_FLAG, self.cached_flag.is_some()),
            ("a `WithTtl` return", with_ttl),
        ]
        .into_iter()
        .find_map(|(name, on)| on.then_some(name))
    }

    /// Whether a hit needs the entry's age (the timed lookup).
    fn timed(&self, function: &Function) -> bool {
        self.stale.is_some()
            || self.fallback.is_some()
            || self.refresh_on_hit.is_some()
            || self.refresh_ahead.is_some()
            || function.output.with_ttl
    }

    /// Whether the memoized function takes this module's path.
    pub(crate) fn fresh_path(&self, function: &Function) -> bool {
        self.fresh_option_name(function.output.with_ttl).is_some()
    }
}

/// The builder calls of these options: the store's [`Freshness`] and its clock.
pub(super) fn builder_calls(options: &Options) -> TokenStream {
    let mut calls = TokenStream::new();
    let stale = options.stale.as_ref().map_or(0, |s| s.value);
    let fallback = options.fallback.as_ref().map_or(0, |s| s.value);
    let (on_hit, ahead) = (
        options.refresh_on_hit.is_some(),
        options.refresh_ahead.is_some(),
    );
    if stale != 0 || fallback != 0 || on_hit || ahead {
        let (stale, fallback) = (
            Literal::u64_suffixed(stale),
            Literal::u64_suffixed(fallback),
        );
        calls.extend(quote!(.memo_freshness(#stale, #fallback, #on_hit, #ahead)));
    }
    if let Some(clock) = &options.clock {
        calls.extend(quote!(.clock(#clock)));
    }
    calls
}

/// `::memo_runtime::__private::FreshShape::OK` and friends.
fn shape(function: &Function) -> TokenStream {
    let base = match function.output.shape {
        Shape::Plain => "PLAIN",
        Shape::Ok => "OK",
        Shape::Some => "SOME",
        Shape::OkSome => "OK_SOME",
    };
    let name = if function.output.with_ttl {
        format_ident!("TTL_{}", base)
    } else {
        format_ident!("{}", base)
    };
    quote!(::memo_runtime::__private::FreshShape::#name)
}

/// The returned value from `__memo_result` (the body's type) and `__memo_cached`: wrapped in
/// `Cached` at the value's place with `cached_flag`, as is otherwise.
fn finish(function: &Function) -> TokenStream {
    if !function.output.cached_flag {
        return quote!(__memo_result);
    }
    let wrap = quote!(|__memo_v| ::memo_runtime::Cached::new(__memo_v, __memo_cached));
    match function.output.shape {
        Shape::Plain => quote!(::memo_runtime::Cached::new(__memo_result, __memo_cached)),
        Shape::Ok | Shape::Some => quote!(__memo_result.map(#wrap)),
        Shape::OkSome => quote!(__memo_result.map(|__memo_o| __memo_o.map(#wrap))),
    }
}

/// The body of the memoized function on this path, and of `<fn>_refresh` (`forced`):
///
/// ```text
/// assert_cache_key::<A>(); ..;                                                 // see `Key`
/// fn __memo_look<K0, Q0, V>(store, lookup) -> Looked<V> { store.look_fresh(&KeyRef(lookup)) }
///     // without a timing option: match store.get(..) { Some(v) => Looked::Hit(v, None), None => Looked::Missing }
/// fn __memo_miss<K0, Q0, V, R, F, M>(store, looked, make: M, shape) -> (R, bool) {
///     miss(move || { let (key, compute) = make(); store.compute_fresh(looked, key, compute, shape) })
/// }
/// let __memo_store = [Self::]f_cache();
/// [let __memo_key: KeyType = <key expr>;]
/// let __memo_looked = if <force_refresh expr> { Looked::Forced } else { __memo_look::<..>(store, (&a,)) };
/// let (__memo_result, __memo_cached) = match __memo_looked {
///     Looked::Hit(hit, left) => ((SHAPE.wrap)(hit, left), true),
///     looked => __memo_miss::<..>(store, looked, move || ((a.clone(),), move || f_uncached(a)), SHAPE),
///     // async: __memo_miss_async::<..>(store, looked, (a.clone(),), f_uncached(a), SHAPE).await
/// };
/// [Cached::new(__memo_result, __memo_cached) | __memo_result.map(..) | __memo_result]
/// ```
pub(super) fn body(
    options: &Options,
    function: &Function,
    names: &Names,
    key: &Key,
    forced: bool,
) -> TokenStream {
    let returns = &function.output.returns;
    let generic = key.generic();
    let (key_ty, lookup_param, lookup) = (&generic.key, &generic.lookup_param, &generic.lookup);
    let store = quote!(&'static ::memo_runtime::FaasCacheDict<#key_ty, V>);
    let looked_ty = quote!(::memo_runtime::__private::Looked<V>);
    let look_body = if options.timed(function) {
        quote!(__memo_store.look_fresh(#lookup))
    } else {
        quote! {
            match __memo_store.get(#lookup) {
                ::core::option::Option::Some(__memo_hit) => {
                    ::memo_runtime::__private::Looked::Hit(__memo_hit, ::core::option::Option::None)
                }
                ::core::option::Option::None => ::memo_runtime::__private::Looked::Missing,
            }
        }
    };
    let (look_fn, look) = generic.helper(
        "__memo_look",
        &[],
        quote!(__memo_store: #store, #lookup_param),
        looked_ty.clone(),
        look_body,
    );
    let shape = shape(function);
    let shape_ty = quote!(::memo_runtime::__private::FreshShape<R, V>);
    let owned = key.owned(false);
    let call = if forced {
        // `f_refresh`'s call of the body is spanned on the function's name, not on the
        // attribute: when the guess of a free function was wrong (an associated function
        // without `in_impl`), rustc reports one unresolved name per span, and the attribute's
        // must stay the hint that names the fix (see `Names::store`).
        let span = function.item.sig.ident.span();
        let uncached = syn::Ident::new(&names.uncached.to_string(), span);
        let prefix = &names.prefix;
        let receiver = function.receiver.as_ref().map(|r| {
            let token = &r.token;
            quote!(#token,)
        });
        let args = function.params.iter().map(|p| &p.ident);
        let call = quote!(#prefix #uncached(#receiver #(#args),*));
        if function.item.sig.unsafety.is_some() {
            quote!(unsafe { #call })
        } else {
            call
        }
    } else {
        uncached_call(function, names)
    };
    let (miss_fn, compute) = if function.is_async {
        let (miss_fn, miss) = generic.helper(
            "__memo_miss_async",
            &[
                ("R", TokenStream::new()),
                ("F", quote!(::core::future::Future<Output = R>)),
            ],
            quote! {
                __memo_store: #store,
                __memo_looked: #looked_ty,
                __memo_key: #key_ty,
                __memo_compute: F,
                __memo_shape: #shape_ty,
            },
            quote!(impl ::core::future::Future<Output = (R, bool)>),
            quote!(__memo_store.compute_fresh_async(
                __memo_looked,
                __memo_key,
                __memo_compute,
                __memo_shape
            )),
        );
        let compute = quote!(#miss(__memo_store, __memo_looked, #owned, #call, #shape).await);
        (miss_fn, compute)
    } else {
        let (miss_fn, miss) = generic.helper(
            "__memo_miss",
            &[
                ("R", TokenStream::new()),
                ("F", quote!(::core::ops::FnOnce() -> R)),
                ("M", quote!(::core::ops::FnOnce() -> (#key_ty, F))),
            ],
            quote! {
                __memo_store: #store,
                __memo_looked: #looked_ty,
                __memo_make: M,
                __memo_shape: #shape_ty,
            },
            quote!((R, bool)),
            quote! {
                ::memo_runtime::__private::miss(move || {
                    let (__memo_key, __memo_compute) = __memo_make();
                    __memo_store.compute_fresh(__memo_looked, __memo_key, __memo_compute, __memo_shape)
                })
            },
        );
        let compute = quote! {
            #miss(__memo_store, __memo_looked, move || (#owned, move || -> #returns { #call }), #shape)
        };
        (miss_fn, compute)
    };
    let assertions = key.assertions();
    let (prepare, lookup_arg) = (&key.prepare, key.lookup_arg(false));
    let store_call = key.store_call(names);
    let lookup = quote!(#look(__memo_store #lookup_arg));
    let looked = match (forced, &options.force_refresh) {
        (true, _) => quote!(::memo_runtime::__private::Looked::Forced),
        (false, Some(force)) => quote! {
            if #force { ::memo_runtime::__private::Looked::Forced } else { #lookup }
        },
        (false, None) => lookup,
    };
    let finish = finish(function);
    quote! {
        #assertions
        #look_fn
        #miss_fn
        let __memo_store = #store_call;
        #prepare
        let __memo_looked = #looked;
        let (__memo_result, __memo_cached): (#returns, bool) = match __memo_looked {
            ::memo_runtime::__private::Looked::Hit(__memo_hit, __memo_left) => {
                ((#shape.wrap)(__memo_hit, __memo_left), true)
            }
            __memo_looked => #compute,
        };
        #finish
    }
}

/// ```text
/// /// Recomputes [`f`] for these arguments now and replaces its cached value ...
/// #vis [async] fn f_refresh(<f's parameters>) -> <f's return type> { <body(forced)> }
/// ```
pub(super) fn refresh_fn(
    options: &Options,
    function: &Function,
    names: &Names,
    key: &Key,
) -> TokenStream {
    let vis = &function.item.vis;
    let mut sig = function.memo_sig.clone();
    sig.ident = names.refresh.clone();
    let fn_name = function.item.sig.ident.unraw().to_string();
    let link = if function.in_impl {
        format!("[`{fn_name}`](Self::{fn_name})")
    } else {
        format!("[`{fn_name}`]")
    };
    let doc = format!(
        "Runs {link} for these arguments now, whatever the age of its cached value, replaces \
         that value with the result (if it is cached at all: not an `Err` or `None`) and returns \
         it. Concurrent refreshes and misses of the same arguments wait for this computation \
         rather than starting their own; callers that hit meanwhile get the old value."
    );
    let body = body(options, function, names, key, true);
    quote! {
        #[doc = #doc]
        #[allow(dead_code, clippy::needless_lifetimes, clippy::needless_pass_by_value)]
        #vis #sig {
            #body
        }
    }
}
