//! Emits the memoized function and its helpers. [`faas_cached`] runs the checks first; the
//! emitting functions below never validate.

use proc_macro2::{Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, GenericParam, Ident, Meta};

use crate::args::{MaxSize, Options};
use crate::ast::{end_spans, span_of, Function, KeyPart, Place, ReceiverKind, Shape};
use crate::ctxt::Ctxt;

mod fresh;

/// Names of the generated items.
struct Names {
    cache: Ident,
    info: Ident,
    invalidate: Ident,
    clear: Ident,
    reset_stats: Ident,
    uncached: Ident,
    prime: Ident,
    /// The function the generated code calls to reach the store. Under an attribute on the
    /// function, which cannot see the block around it, a hidden one (returning `f_cache()`)
    /// whose name is the hint that rustc prints when the guess was wrong (a macro cannot word rustc's errors):
    /// for a free function, when it is in fact an associated function without `in_impl`
    /// ("cannot find function `__f__in_an_impl_block_write_faas_cached_in_impl`"); for a
    /// method, when the block is a trait impl ("method
    /// `__f__in_a_trait_impl_put_faas_cached_on_the_impl_block_too` is not a member of
    /// trait"). Under `#[faas_cached]` on the block, `f_cache` itself.
    store: Ident,
    refresh: Ident,
    /// `Self::` inside an `impl` block, nothing for a free function.
    prefix: TokenStream,
}

impl Names {
    fn new(function: &Function) -> Names {
        let ident = function.item.sig.ident.unraw();
        let named = |suffix: &str| format_ident!("{}_{}", ident, suffix, span = ident.span());
        Names {
            cache: named("cache"),
            info: named("cache_info"),
            invalidate: named("invalidate"),
            clear: named("cache_clear"),
            reset_stats: named("reset_stats"),
            uncached: named("uncached"),
            prime: named("prime"),
            store: match (function.place, function.in_impl) {
                (Place::Item, false) => format_ident!(
                    "__{}__in_an_impl_block_write_faas_cached_in_impl",
                    ident,
                    span = Span::call_site()
                ),
                (Place::Item, true) => format_ident!(
                    "__{}__in_a_trait_impl_put_faas_cached_on_the_impl_block_too",
                    ident,
                    span = Span::call_site()
                ),
                _ => named("cache"),
            },
            refresh: named("refresh"),
            prefix: if function.in_impl {
                quote!(Self::)
            } else {
                TokenStream::new()
            },
        }
    }
}

/// One memoized function: the function (a method stays in its block) and the items next to it
/// (`f_uncached`, `f_cache` and the helpers).
pub(crate) struct Expansion {
    pub(crate) function: TokenStream,
    pub(crate) helpers: TokenStream,
}

/// `#[faas_cached(args)] item`: checks everything, then emits the memoized function and its
/// helpers, or the errors next to a fallback that keeps the crate's other code compiling. On an
/// `impl` block, see [`crate::impl_block`].
pub(crate) fn faas_cached(args: TokenStream, item: TokenStream) -> TokenStream {
    match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(function)) => {
            let Expansion { function, helpers } = expand_fn(args, function, Place::Item);
            quote!(#function #helpers)
        }
        Ok(syn::Item::Impl(block)) => crate::impl_block::expand(args, block),
        other => {
            let span = match other {
                Ok(item) => item.span(),
                Err(err) => err.span(),
            };
            let mut err = syn::Error::new(
                span,
                "`#[faas_cached]` goes on a function with a body (free, associated or a method), \
                 or on an `impl` block whose methods are marked `#[faas_cached]`",
            )
            .into_compile_error();
            err.extend(item);
            err
        }
    }
}

/// Checks and expands one function, at `place`.
pub(crate) fn expand_fn(args: TokenStream, item: syn::ItemFn, place: Place) -> Expansion {
    let ctxt = Ctxt::default();
    let mut options = crate::args::parse(&ctxt, args);
    if place != Place::Item {
        // The `impl` block says it: no `in_impl` needed.
        options.in_impl = true;
    }
    let mut function = Function::from_syn(&ctxt, &options, item);
    function.place = place;
    crate::valid::check(&ctxt, &options, &function);
    match ctxt.check() {
        Ok(()) => expand(&options, &function),
        Err(err) => {
            let mut expansion = fallback(&function);
            let mut tokens = err.into_compile_error();
            tokens.extend(expansion.function);
            expansion.function = tokens;
            expansion
        }
    }
}

/// The memoized function, and next to it `f_uncached`, `f_cache` and the helpers.
fn expand(options: &Options, function: &Function) -> Expansion {
    let names = Names::new(function);
    let key = Key::new(options, function);
    let memoized = memoized(options, function, &names, &key);
    let uncached = uncached_fn(function, &names);
    let cache = cache_fn(options, function, &names, &key);
    let helpers = helpers(options, function, &names, &key);
    let refresh = fresh::refresh_fn(options, function, &names, &key);
    // The store's function first: in a trait impl without `#[faas_cached]` on the block,
    // rustc's first error then names it, and the fix (see `Names::store`).
    Expansion {
        function: memoized,
        helpers: quote!(#cache #uncached #helpers #refresh),
    }
}

/// What a failed expansion emits: the function unchanged (so that callers and IDEs keep
/// working) and helpers that type-check, next to the errors.
fn fallback(function: &Function) -> Expansion {
    let names = Names::new(function);
    let mut item = function.item.clone();
    let vis = item.vis.clone();
    if function.place == Place::TraitImpl {
        // A trait's method has the trait's visibility; `pub` there was for the helpers.
        item.vis = syn::Visibility::Inherited;
    }
    let (info, clear, reset_stats) = (&names.info, &names.clear, &names.reset_stats);
    Expansion {
        function: item.into_token_stream(),
        helpers: quote! {
            #[allow(dead_code)]
            #vis fn #info() -> ::memo_runtime::CacheInfo {
                ::core::unreachable!("#[faas_cached] reported errors")
            }
            #[allow(dead_code)]
            #vis fn #clear() {}
            #[allow(dead_code)]
            #vis fn #reset_stats() {}
        },
    }
}

/// The key: how a hit looks it up by borrowed arguments, how a miss builds it owned, and the
/// generic helpers through which the generated code uses the store.
///
/// Every use of the store that needs the key and value bounds (`get`, `compute_missed`,
/// `remove`, `build_lenient`, `ErasedStatic::get_or_init`) goes through a small generic helper,
/// declared inside the body that calls it, whose type parameters are bounded by `CacheKey` and
/// `CacheValue` only; the body names the concrete types in the call's turbofish, with the
/// user's spans. So when a type misses a bound, the store code type-checks anyway (it is
/// generic) and rustc reports:
/// - in each body, the `assert_cache_key::<T>()` call that precedes the helper call; the helper
///   call's error is the same predicate on the same span (rustc narrows a turbofish bound error
///   to the argument), which rustc suppresses as a duplicate within a body;
/// - across bodies, those assertion errors are identical, which rustc prints once.
///
/// The user sees one error per missing bound, on the argument or return type, worded by the
/// `#[diagnostic::on_unimplemented]` of the assertion traits, instead of `E0599: the method
/// `get` exists but its trait bounds were not satisfied` for every method the expansion calls.
/// The calls that remain concrete (`<T as Clone>::clone`, `<T as ToOwned>::to_owned`, the
/// return type of `f_cache`) are spanned on `T` for the same reason. Two cases keep one more
/// error each: an `async fn` (awaiting the miss helper's future checks its bounds again, on the
/// attribute, in the function and in its `_refresh`), and a value or key type that is not `Send + Sync` without naming a known
/// non-thread-safe std type (the `static` holding the store must be `Sync`; see
/// `ast::names_thread_unsafe_type`).
struct Key {
    /// Statements that compute a custom key first.
    prepare: TokenStream,
    shape: KeyShape,
    /// The value type, with the user's spans.
    value: TokenStream,
}

enum KeyShape {
    /// The tuple of the owned arguments (`()` without any).
    Tuple(Vec<Part>),
    /// `key = expr, key_type = T`: the value of a local `__memo_key: T`.
    Custom(TokenStream),
}

/// One argument (or the receiver) in the key.
struct Part {
    /// The owned type the key holds, spanned on the argument's type.
    owned_ty: TokenStream,
    /// The type a hit looks up by reference (`str` for a `&str` argument).
    lookup_ty: TokenStream,
    /// `&Q`, for a hit.
    lookup: TokenStream,
    /// `&Q` in a helper, whose receiver is always `&self`.
    helper_lookup: TokenStream,
    /// The owned value, for a miss.
    owned: TokenStream,
    /// The owned value in a helper, whose receiver is always `&self`.
    helper_owned: TokenStream,
    /// For a `&T` argument, the spans of the ends of `T`.
    borrowed_spans: Option<(Span, Span)>,
}

impl Key {
    fn new(options: &Options, function: &Function) -> Key {
        let value = function.output.value.to_token_stream();
        if let (Some(expr), Some(ty)) = (&options.key, &options.key_type) {
            return Key {
                prepare: quote!(let __memo_key: #ty = #expr;),
                shape: KeyShape::Custom(ty.to_token_stream()),
                value,
            };
        }
        let mut parts = Vec::new();
        if let Some(receiver) = function.keyed_receiver() {
            // The user's `self` token: it resolves to the receiver whatever the hygiene of the
            // code around, and spans errors on it.
            let self_token = &receiver.token;
            let self_ty = quote_spanned!(span_of(self_token)=> Self);
            let lookup = match receiver.kind {
                ReceiverKind::Ref => quote!(#self_token),
                ReceiverKind::RefMut => quote!(&*#self_token),
                ReceiverKind::Value => quote!(&#self_token),
            };
            parts.push(Part {
                owned: clone_call(&self_ty, &lookup),
                helper_owned: clone_call(&self_ty, self_token),
                owned_ty: self_ty.clone(),
                lookup_ty: self_ty,
                lookup,
                helper_lookup: quote!(#self_token),
                borrowed_spans: None,
            });
        }
        for param in function.key_params() {
            let ident = &param.ident;
            let borrowed_spans = param
                .key
                .target()
                .map(|target| end_spans(&target.to_token_stream()));
            let (lookup, owned) = match &param.key {
                KeyPart::Borrowed { target } => {
                    let lookup = quote!(#ident);
                    (lookup.clone(), to_owned_call(target, &lookup))
                }
                KeyPart::Cow { target } => {
                    let lookup = quote!(&*#ident);
                    (lookup.clone(), to_owned_call(target, &lookup))
                }
                KeyPart::OptionRef { target } => {
                    // `Option<&T>` is `Copy`: the key is built from a copy, before the body
                    // takes the argument.
                    let to_owned = to_owned_path(target);
                    (
                        quote!(&::memo_runtime::OptionRef(#ident)),
                        quote!(::core::option::Option::map(#ident, #to_owned)),
                    )
                }
                KeyPart::RefSlice { target, vec } => {
                    let slice = if *vec {
                        quote!(::std::vec::Vec::as_slice(&#ident))
                    } else {
                        quote!(#ident)
                    };
                    let (first, last) = end_spans(&target.to_token_stream());
                    let open = quote_spanned!(first=> ::memo_runtime::__private::owned_vec::<);
                    let close = quote_spanned!(last=> >);
                    (
                        quote!(&::memo_runtime::SliceRef(#slice)),
                        quote!(#open #target #close(#slice)),
                    )
                }
                KeyPart::Owned => (
                    quote!(&#ident),
                    clone_call(&param.ty.to_token_stream(), &quote!(&#ident)),
                ),
            };
            parts.push(Part {
                owned_ty: param.key.owned_type(&param.ty),
                lookup_ty: param.key.lookup_type(&param.ty),
                helper_lookup: lookup.clone(),
                lookup,
                helper_owned: owned.clone(),
                owned,
                borrowed_spans,
            });
        }
        Key {
            prepare: TokenStream::new(),
            shape: KeyShape::Tuple(parts),
            value,
        }
    }

    /// For the first `&T` argument, the spans of the ends of `T`. The key type then names
    /// `<T as ToOwned>::Owned`, which the signature of `f_cache` normalizes: when `T` is not
    /// `Clone`, its error is the assertion's, and printed once if spanned on `T` (see [`Key`]).
    fn borrowed_spans(&self) -> Option<(Span, Span)> {
        match &self.shape {
            KeyShape::Tuple(parts) => parts.iter().find_map(|p| p.borrowed_spans),
            KeyShape::Custom(_) => None,
        }
    }

    /// `[Self::]f_cache()` (or the hidden store function of a free one, see [`Names::store`]),
    /// as the other generated functions call it. Spanned on the attribute: when an associated
    /// function is taken for a free one (it mentions neither `self` nor `Self`, and `in_impl`
    /// is missing), "cannot find function" points there rather than into the signature.
    fn store_call(&self, names: &Names) -> TokenStream {
        let path = self.store_fn(names);
        quote!(#path())
    }

    /// `[Self::]f_cache`, the function item, spanned like [`store_call`](Self::store_call).
    fn store_fn(&self, names: &Names) -> TokenStream {
        let prefix = &names.prefix;
        let cache = Ident::new(&names.store.to_string(), Span::call_site());
        quote!(#prefix #cache)
    }

    /// `[Self::]f_cache`, the function item holding the store (which [`store_fn`](Self::store_fn) may wrap),
    /// spanned like [`store_call`](Self::store_call).
    fn owner_fn(&self, names: &Names) -> TokenStream {
        let prefix = &names.prefix;
        let cache = Ident::new(&names.cache.to_string(), Span::call_site());
        quote!(#prefix #cache)
    }

    /// `&'static FaasCacheDict<K, V>`, the return type of `f_cache`, spanned over the first
    /// `&T` argument's `T` (see `borrowed_spans`).
    fn store_ref(&self) -> TokenStream {
        let (key, value) = (self.ty(), &self.value);
        match self.borrowed_spans() {
            Some((first, last)) => {
                let open = quote_spanned!(first=> &'static ::memo_runtime::FaasCacheDict<);
                let close = quote_spanned!(last=> >);
                quote!(#open #key, #value #close)
            }
            None => quote!(&'static ::memo_runtime::FaasCacheDict<#key, #value>),
        }
    }

    /// The store's key type.
    fn ty(&self) -> TokenStream {
        match &self.shape {
            KeyShape::Tuple(parts) => {
                let types = parts.iter().map(|p| &p.owned_ty);
                quote!((#(#types,)*))
            }
            KeyShape::Custom(ty) => ty.clone(),
        }
    }

    /// The store's type.
    fn store(&self) -> TokenStream {
        let (key, value) = (self.ty(), &self.value);
        quote!(::memo_runtime::FaasCacheDict<#key, #value>)
    }

    /// The owned key, for a miss, or in a helper (`in_helper`), where the receiver is `&self`.
    fn owned(&self, in_helper: bool) -> TokenStream {
        match &self.shape {
            KeyShape::Tuple(parts) => {
                let owned = parts
                    .iter()
                    .map(|p| if in_helper { &p.helper_owned } else { &p.owned });
                quote!((#(#owned,)*))
            }
            KeyShape::Custom(_) => quote!(__memo_key),
        }
    }

    /// The lookup argument of a `get` or `remove` helper, if it takes one: in the memoized
    /// function, or in a helper (`in_helper`), where the receiver is `&self`.
    fn lookup_arg(&self, in_helper: bool) -> TokenStream {
        match &self.shape {
            KeyShape::Tuple(parts) if parts.is_empty() => TokenStream::new(),
            KeyShape::Tuple(parts) => {
                let lookup = parts.iter().map(|p| {
                    if in_helper {
                        &p.helper_lookup
                    } else {
                        &p.lookup
                    }
                });
                quote!(, (#(#lookup,)*))
            }
            KeyShape::Custom(_) => quote!(, &__memo_key),
        }
    }

    /// One assertion per key part and one for the value, each spanned on the user's type, so
    /// that a missing bound reads as one line about that argument. Repeated at the top of every
    /// body that uses the store (see [`Key`]).
    fn assertions(&self) -> TokenStream {
        let mut out = TokenStream::new();
        match &self.shape {
            KeyShape::Tuple(parts) => {
                for ty in parts.iter().map(|p| &p.owned_ty) {
                    let assert = if names_float(ty) {
                        quote!(assert_float_cache_key)
                    } else {
                        quote!(assert_cache_key)
                    };
                    out.extend(quote_spanned!(span_of(ty)=>
                        ::memo_runtime::__private::#assert::<#ty>();
                    ));
                }
            }
            // Its own assertion, worded for a `key_type`.
            KeyShape::Custom(ty) => out.extend(quote_spanned!(span_of(ty)=>
                ::memo_runtime::__private::assert_custom_key::<#ty>();
            )),
        }
        let value = &self.value;
        out.extend(quote_spanned!(span_of(value)=>
            ::memo_runtime::__private::assert_cache_value::<#value>();
        ));
        out
    }

    /// The generic signature of the helpers that use the store; see [`Generic`].
    fn generic(&self) -> Generic {
        let mut params = Vec::new();
        let mut bounds = Vec::new();
        let mut turbofish = Vec::new();
        let (key, lookup_param, lookup) = match &self.shape {
            KeyShape::Tuple(parts) => {
                let keys: Vec<Ident> = (0..parts.len()).map(|i| format_ident!("K{}", i)).collect();
                let queries: Vec<Ident> =
                    (0..parts.len()).map(|i| format_ident!("Q{}", i)).collect();
                for ((k, q), part) in keys.iter().zip(&queries).zip(parts) {
                    // The assertion's trait: the same predicate, so rustc reports it once.
                    let bound = if names_float(&part.owned_ty) {
                        quote!(FloatCacheKey)
                    } else {
                        quote!(CacheKey)
                    };
                    bounds.push(quote!(#k: ::memo_runtime::__private::#bound));
                    bounds.push(quote!(
                        #q: ?::core::marker::Sized + ::core::hash::Hash + ::memo_runtime::Equivalent<#k>
                    ));
                }
                params.extend(keys.iter().map(|k| quote!(#k)));
                params.extend(queries.iter().map(|q| quote!(#q)));
                turbofish.extend(parts.iter().map(|p| p.owned_ty.clone()));
                turbofish.extend(parts.iter().map(|p| p.lookup_ty.clone()));
                if parts.is_empty() {
                    (quote!(()), TokenStream::new(), quote!(&()))
                } else {
                    (
                        quote!((#(#keys,)*)),
                        quote!(__memo_lookup: (#(&#queries,)*),),
                        quote!(&::memo_runtime::KeyRef(__memo_lookup)),
                    )
                }
            }
            KeyShape::Custom(ty) => {
                params.push(quote!(K0));
                // The assertion's trait: the same predicate, so rustc reports it once.
                bounds.push(quote!(K0: ::memo_runtime::__private::CustomCacheKey));
                turbofish.push(ty.clone());
                (
                    quote!(K0),
                    quote!(__memo_lookup: &K0,),
                    quote!(__memo_lookup),
                )
            }
        };
        params.push(quote!(V));
        bounds.push(quote!(V: ::memo_runtime::__private::CacheValue));
        turbofish.push(self.value.clone());
        Generic {
            params,
            bounds,
            turbofish,
            key,
            lookup_param,
            lookup,
        }
    }
}

/// Whether a key part's type names `f32` or `f64` anywhere (`f64`, `&f64`, `(u8, f32)`,
/// `Vec<f64>`): its bound is then asserted with `FloatCacheKey`, the same bounds as `CacheKey`
/// with a message that says how to key a float. A type that names a float and has the bounds
/// (`OrderedFloat<f64>`) compiles as before: only the wording of an error changes.
fn names_float(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "f32" || ident == "f64",
        TokenTree::Group(group) => names_float(&group.stream()),
        _ => false,
    })
}

/// `<T as ToOwned>::to_owned`, spanned like the key part's type, so that a `T` without `Clone`
/// is one error there (see [`Key`]).
fn to_owned_path(target: &syn::Type) -> TokenStream {
    let (first, last) = end_spans(&target.to_token_stream());
    let open = quote_spanned!(first=> <);
    let method = quote_spanned!(last=> as ::std::borrow::ToOwned>::to_owned);
    quote!(#open #target #method)
}

/// `<T as ToOwned>::to_owned(arg)`, spanned like [`to_owned_path`].
fn to_owned_call(target: &syn::Type, arg: &TokenStream) -> TokenStream {
    let path = to_owned_path(target);
    quote!(#path(#arg))
}

/// `<T as Clone>::clone(arg)`, spanned over `T` like the assertion on `T`, so that a `T`
/// without `Clone` is reported once, there (see [`Key`]).
fn clone_call(ty: &TokenStream, arg: &TokenStream) -> TokenStream {
    let (first, last) = end_spans(ty);
    let open = quote_spanned!(first=> <);
    let method = quote_spanned!(last=> as ::core::clone::Clone>::clone);
    quote!(#open #ty #method(#arg))
}

/// A helper generic over the key parts and the value (see [`Key`]): `K0, K1` the owned key
/// parts, `Q0, Q1` what a hit looks them up by, `V` the value.
struct Generic {
    /// `K0, K1, Q0, Q1, V`.
    params: Vec<TokenStream>,
    /// `K0: CacheKey, Q0: ?Sized + Hash + Equivalent<K0>, .., V: CacheValue`.
    bounds: Vec<TokenStream>,
    /// The concrete types for `params`, with the user's spans.
    turbofish: Vec<TokenStream>,
    /// The key type in terms of the parameters: `(K0, K1,)`.
    key: TokenStream,
    /// `__memo_lookup: (&Q0, &Q1,),` or nothing for a key without parts.
    lookup_param: TokenStream,
    /// What the helper passes to `get` or `remove`: `&KeyRef(__memo_lookup)`.
    lookup: TokenStream,
}

impl Generic {
    /// Declares `fn #name<K.., Q.., V, #extra..>(#args) -> #output where #bounds { #body }`
    /// and returns it with the path that calls it with the concrete types, `_` for each extra
    /// parameter (`#name::<P0, .., V, _>`). Each extra parameter comes with its bounds, if any.
    fn helper(
        &self,
        name: &str,
        extra: &[(&str, TokenStream)],
        args: TokenStream,
        output: TokenStream,
        body: TokenStream,
    ) -> (TokenStream, TokenStream) {
        let name = Ident::new(name, Span::call_site());
        let (params, bounds, turbofish) = (&self.params, &self.bounds, &self.turbofish);
        let extra_params = extra
            .iter()
            .map(|(param, _)| Ident::new(param, Span::call_site()));
        let extra_bounds = extra
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(param, b)| {
                let param = Ident::new(param, Span::call_site());
                quote!(#param: #b)
            });
        let infer = extra.iter().map(|_| quote!(_));
        let declaration = quote! {
            #[inline]
            fn #name<#(#params,)* #(#extra_params,)*>(#args) -> #output
            where
                #(#bounds,)*
                #(#extra_bounds,)*
            {
                #body
            }
        };
        let call = quote!(#name::<#(#turbofish,)* #(#infer,)*>);
        (declaration, call)
    }
}

/// ```text
/// #attrs #vis #sig {
///     assert_cache_key::<A>(); ..; assert_cache_value::<V>();         // see `Key`
///     fn __memo_get<K0, Q0, V>(store, lookup: (&Q0,)) -> Option<V> { store.get(&KeyRef(lookup)) }
///     fn __memo_miss<K0, Q0, V, R, F, M>(store, make: M, shape) -> R {
///         miss(move || { let (key, compute) = make(); store.compute_missed(key, compute, shape) })
///     }
///     let __memo_store = [Self::]f_cache();
///     [let __memo_key: KeyType = <key expr>;]
///     if let Some(__memo_hit) = __memo_get::<A, A, V>(__memo_store, (&a,)) {  // no clone on a hit
///         return [Ok|Some](__memo_hit);
///     }
///     __memo_miss::<A, A, V, _, _, _>(__memo_store, move || ((a.clone(),), move || [Self::]f_uncached(a)), shape)
///     // async: __memo_miss_async::<..>(store, key, [Self::]f_uncached(a), shape).await
/// }
/// ```
///
/// The signature is [`Function::memo_sig`]: parameters bound to plain names, which are passed
/// on to `f_uncached`, where the body is.
fn memoized(options: &Options, function: &Function, names: &Names, key: &Key) -> TokenStream {
    // A trait's method has the trait's visibility; a `pub` written on it is the helpers'.
    let vis = if function.place == Place::TraitImpl {
        syn::Visibility::Inherited
    } else {
        function.item.vis.clone()
    };
    let sig = &function.memo_sig;
    let attrs = memoized_attrs(&function.item.attrs);
    if options.fresh_path(function) {
        let body = fresh::body(options, function, names, key, false);
        return quote! {
            #(#attrs)*
            #vis #sig {
                #body
            }
        };
    }
    let returns = &function.output.returns;
    let (wrap_hit, shape) = match function.output.shape {
        Shape::Plain => (quote!(__memo_hit), quote!(PLAIN)),
        Shape::Ok => (quote!(::core::result::Result::Ok(__memo_hit)), quote!(OK)),
        Shape::Some => (
            quote!(::core::option::Option::Some(__memo_hit)),
            quote!(SOME),
        ),
        Shape::OkSome => (
            quote!(::core::result::Result::Ok(::core::option::Option::Some(
                __memo_hit
            ))),
            quote!(OK_SOME),
        ),
    };
    let shape = quote!(::memo_runtime::__private::Shape::#shape);
    let dedupe = options.dedupe.as_ref().is_none_or(|b| b.value);
    let generic = key.generic();
    let (key_ty, lookup_param, lookup) = (&generic.key, &generic.lookup_param, &generic.lookup);
    let store = quote!(&'static ::memo_runtime::FaasCacheDict<#key_ty, V>);

    let (get_fn, get) = generic.helper(
        "__memo_get",
        &[],
        quote!(__memo_store: #store, #lookup_param),
        quote!(::core::option::Option<V>),
        quote!(__memo_store.get(#lookup)),
    );
    let owned = key.owned(false);
    let (miss_fn, compute) = if function.is_async {
        let method = if dedupe {
            quote!(compute_missed_async)
        } else {
            quote!(compute_undeduped_missed_async)
        };
        let (miss_fn, miss) = generic.helper(
            "__memo_miss_async",
            &[
                ("R", TokenStream::new()),
                ("F", quote!(::core::future::Future<Output = R>)),
            ],
            quote! {
                __memo_store: #store,
                __memo_key: #key_ty,
                __memo_compute: F,
                __memo_shape: ::memo_runtime::__private::Shape<R, V>,
            },
            quote!(impl ::core::future::Future<Output = R>),
            quote!(__memo_store.#method(__memo_key, __memo_compute, __memo_shape)),
        );
        let body = uncached_call(function, names);
        let compute = quote! {
            #miss(__memo_store, #owned, #body, #shape).await
        };
        (miss_fn, compute)
    } else {
        let method = if dedupe {
            quote!(compute_missed)
        } else {
            quote!(compute_undeduped_missed)
        };
        // The miss path (building the owned key, computing) runs in a cold function, so that
        // the hit path above stays small enough to inline.
        let (miss_fn, miss) = generic.helper(
            "__memo_miss",
            &[
                ("R", TokenStream::new()),
                ("F", quote!(::core::ops::FnOnce() -> R)),
                ("M", quote!(::core::ops::FnOnce() -> (#key_ty, F))),
            ],
            quote! {
                __memo_store: #store,
                __memo_make: M,
                __memo_shape: ::memo_runtime::__private::Shape<R, V>,
            },
            quote!(R),
            quote! {
                ::memo_runtime::__private::miss(move || {
                    let (__memo_key, __memo_compute) = __memo_make();
                    __memo_store.#method(__memo_key, __memo_compute, __memo_shape)
                })
            },
        );
        let body = uncached_call(function, names);
        let compute = quote! {
            #miss(__memo_store, move || (#owned, move || -> #returns { #body }), #shape)
        };
        (miss_fn, compute)
    };
    let assertions = key.assertions();
    let (prepare, lookup_arg) = (&key.prepare, key.lookup_arg(false));
    let store_call = key.store_call(names);
    quote! {
        #(#attrs)*
        #vis #sig {
            #assertions
            #get_fn
            #miss_fn
            let __memo_store = #store_call;
            #prepare
            if let ::core::option::Option::Some(__memo_hit) = #get(__memo_store #lookup_arg) {
                return #wrap_hit;
            }
            #compute
        }
    }
}

/// The user's attributes for the memoized function. `#[expect(lint)]` becomes
/// `#[allow(lint)]` there: the body, where most lints fire, is in `f_uncached`, which keeps the
/// `expect` (see [`uncached_attrs`]), and an expectation no lint meets is itself a warning.
fn memoized_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .map(|attr| {
            let mut attr = attr.clone();
            if let Meta::List(list) = &mut attr.meta {
                if list.path.is_ident("expect") {
                    list.path = syn::parse_quote!(allow);
                }
            }
            attr
        })
        .collect()
}

/// The user's attributes that also apply to `f_uncached`, which holds the body: lint levels,
/// `cfg`, and those about the body (`must_use`, `track_caller`, `inline`, `cold`). Documentation
/// and other attributes (`deprecated`, `tracing::instrument`, a framework's route) belong to
/// the memoized function only.
fn uncached_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    const KEPT: &[&str] = &[
        "allow",
        "warn",
        "deny",
        "forbid",
        "expect",
        "cfg",
        "cfg_attr",
        "must_use",
        "track_caller",
        "inline",
        "cold",
    ];
    attrs
        .iter()
        .filter(|attr| KEPT.iter().any(|kept| attr.path().is_ident(kept)))
}

/// ```text
/// /// Calls [`f`] without its cache ...
/// #lint_attrs #vis #original_sig_with_name_f_uncached #original_body
/// ```
fn uncached_fn(function: &Function, names: &Names) -> TokenStream {
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &function.item;
    let mut sig = sig.clone();
    sig.ident = names.uncached.clone();
    let fn_name = function.item.sig.ident.unraw().to_string();
    let link = if function.in_impl {
        format!("[`{fn_name}`](Self::{fn_name})")
    } else {
        format!("[`{fn_name}`]")
    };
    let doc = format!(
        "Calls {link} without its cache: runs the body, neither looking up nor storing the \
         result, and counts nothing in `{fn_name}_cache_info()` (like `functools`' \
         `__wrapped__`)."
    );
    let attrs = uncached_attrs(attrs);
    quote! {
        #[doc = #doc]
        #(#attrs)*
        #[allow(dead_code)]
        #vis #sig #block
    }
}

/// `[Self::]f_uncached([self,] a, b)`: the memoized function's miss runs the body through
/// it. Spanned like [`Key::store_call`], for the same reason.
fn uncached_call(function: &Function, names: &Names) -> TokenStream {
    let prefix = &names.prefix;
    let uncached = Ident::new(&names.uncached.to_string(), Span::call_site());
    let receiver = function.receiver.as_ref().map(|r| {
        let token = &r.token;
        quote!(#token,)
    });
    let args = function.params.iter().map(|p| &p.ident);
    let call = quote!(#prefix #uncached(#receiver #(#args),*));
    if function.item.sig.unsafety.is_some() {
        // The caller of an `unsafe fn` upholds its contract for the body too.
        quote!(unsafe { #call })
    } else {
        call
    }
}

/// ```text
/// /// The cache of [`f`] ...
/// #vis fn f_cache() -> &'static FaasCacheDict<K, V> {
///     assert_cache_key::<K1>(); ...; assert_cache_value::<V>();      // see `Key`
///     [assert_deep_size::<K1>(); ...]                              // max_size needs DeepSize
///     fn __memo_build<K0, Q0, V>(builder: Builder<(K0,), V>) -> FaasCacheDict<(K0,), V> { builder.build_lenient() }
///     [const { if let Some(e) = max_size_error::<K, V>(MAX, "f") { panic!("{}", e.as_str()) } };]
///                                                                  // max_size checked at compile time
///     static __MEMO_STORE: LazyLock<FaasCacheDict<K, V>> =
///         LazyLock::new(|| { assert..; __memo_build::<..>(builder) });
///     &__MEMO_STORE
///     // in an impl block, where a static cannot name `Self`:
///     // static __MEMO_STORE: ErasedStatic = ErasedStatic::new();
///     // __memo_build::<.., _, _>(&__MEMO_STORE, Self::f_cache, || builder)
///     //     // get_or_init::<typeof(Self::f_cache), _>: one store per concrete `Self`
/// }
/// ```
fn cache_fn(options: &Options, function: &Function, names: &Names, key: &Key) -> TokenStream {
    let vis = &function.item.vis;
    let cache = &names.cache;
    let store = key.store();
    let key_ty = key.ty();
    let value = &key.value;
    let fn_name = function.item.sig.ident.unraw().to_string();
    let name = match &options.name {
        Some(name) => quote!(#name),
        // In an `impl` block, `module::Type::f`: two types of one module may both have an
        // `f`. Computed when the store is created, never on a call.
        None if function.in_impl => {
            let owner = key.owner_fn(names);
            quote!(::memo_runtime::__private::method_name(#owner, #fn_name))
        }
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };

    let store_ref = key.store_ref();
    let key_assertions = key.assertions();
    let mut assertions = key_assertions.clone();
    // `&[&T]`: `T` must not be an integer under an alias (see `__private::SliceElement`).
    for param in function.key_params() {
        if let KeyPart::RefSlice { target, .. } = &param.key {
            let (first, last) = end_spans(&target.to_token_stream());
            let open = quote_spanned!(first=> ::memo_runtime::__private::SliceElement::<);
            let close = quote_spanned!(last=> >);
            // Spanned on `T`: the error points at the argument.
            let probe = quote_spanned!(first=> (&#open #target #close::new()).element());
            assertions.extend(quote_spanned!(first=> {
                #[allow(unused_imports)]
                use ::memo_runtime::__private::SliceElementFallback as _;
                ::memo_runtime::__private::assert_slice_element::<#target, _>(#probe);
            }));
        }
    }
    let mut builder = quote! {
        <#store>::builder().static_name(#name)
    };
    if let Some(max_items) = &options.max_items {
        let n = Literal::usize_unsuffixed(max_items.value as usize);
        builder.extend(quote!(.max_items(#n)));
    }
    if let Some(max_size) = &options.max_size {
        let span = span_of(&max_size.tokens);
        let parts: Vec<&TokenStream> = match &key.shape {
            KeyShape::Tuple(parts) => parts.iter().map(|p| &p.owned_ty).collect(),
            KeyShape::Custom(ty) => vec![ty],
        };
        for part in parts {
            assertions.extend(quote_spanned!(span_of(part)=>
                ::memo_runtime::__private::assert_deep_size::<#part>();
            ));
        }
        assertions.extend(quote_spanned!(span_of(value)=>
            ::memo_runtime::__private::assert_deep_size::<#value>();
        ));
        let weigher = quote_spanned!(span=> {
            #[allow(unused_imports)]
            use ::memo_runtime::__private::{DeepWeigher as _, InlineWeigher as _};
            (&::memo_runtime::__private::WeighWith::<#key_ty, #value>::new()).weigher()
        });
        match max_size.value {
            MaxSize::Bytes(bytes) => {
                let bytes = Literal::u64_suffixed(bytes);
                // Evaluated when `f_cache` is compiled (`cargo build`, not `cargo check`).
                // Evaluating it in the static's initializer would run it under `cargo check`
                // too, but rustc then reports a missing `DeepSize` without the trait's
                // `on_unimplemented` note. The panic is here, spanned on the option, not in
                // the runtime: rustc then reports it at `max_size`'s value, with no notes
                // pointing into the runtime or `core`.
                assertions.extend(quote_spanned!(span=>
                    const {
                        if let ::core::option::Option::Some(__memo_error) =
                            ::memo_runtime::__private::max_size_error::<#key_ty, #value>(
                                #bytes,
                                #fn_name,
                            )
                        {
                            ::core::panic!("{}", __memo_error.as_str())
                        }
                    };
                ));
                builder.extend(quote_spanned!(span=> .max_size_weighed(#bytes, #weigher)));
            }
            // A share is resolved at run time, against the container's memory: no
            // compile-time check of the fixed overhead (a share too small for it caches
            // nothing, with an error logged).
            MaxSize::Share(millionths) => {
                let millionths = Literal::u32_suffixed(millionths);
                builder.extend(quote_spanned!(span=>
                    .max_size_share_weighed(#millionths, #weigher)
                ));
            }
        }
    }
    if options.max_size.is_none() {
        // Deep sizes for the memory budget, when the types have them (no error otherwise:
        // the store then counts inline sizes, as it does outside the budget).
        builder.extend(quote!(.budget_weigher({
            #[allow(unused_imports)]
            use ::memo_runtime::__private::{DeepWeigher as _, InlineWeigher as _};
            (&::memo_runtime::__private::WeighWith::<#key_ty, #value>::new()).budget_weigher()
        })));
    }
    if let Some(ttl) = &options.ttl {
        let nanos = Literal::u64_suffixed(ttl.value);
        builder.extend(quote!(.default_ttl(::core::time::Duration::from_nanos(#nanos))));
    }
    if let Some(timeout) = &options.dedupe_timeout {
        let nanos = Literal::u64_suffixed(timeout.value);
        builder.extend(quote!(.dedupe_timeout(::core::option::Option::Some(
            ::core::time::Duration::from_nanos(#nanos)
        ))));
    }
    if let Some(policy) = options.policy {
        let policy = match policy {
            crate::args::Policy::S3Fifo => quote!(S3Fifo),
            crate::args::Policy::Lru => quote!(Lru),
        };
        builder.extend(quote!(.policy(::memo_runtime::Policy::#policy)));
    }
    if let Some(budget) = &options.memory_budget {
        builder.extend(quote!(.memory_budget(#budget)));
    }
    if let Some(hook) = &options.on_delete {
        builder.extend(quote_spanned!(hook.span()=> .on_delete(#hook)));
    }
    builder.extend(fresh::builder_calls(options));
    if options.has_tier() {
        let parts: Vec<&TokenStream> = match &key.shape {
            KeyShape::Tuple(parts) => parts.iter().map(|p| &p.owned_ty).collect(),
            KeyShape::Custom(ty) => vec![ty],
        };
        assertions.extend(crate::tier::assertions(&parts, value));
        builder = crate::tier::builder_calls(options, function, builder, &key_ty, value);
    }

    let generic = key.generic();
    let generic_key = &generic.key;
    let generic_store = quote!(::memo_runtime::FaasCacheDict<#generic_key, V>);
    let generic_builder = quote!(::memo_runtime::Builder<#generic_key, V>);
    let make = if function.in_impl || function.maybe_not_thread_safe {
        // Every instantiation of a generic `impl` block shares this one `static`: the slot
        // is keyed on the concrete `Self` too, so each gets its own store even when the store
        // type does not mention the block's type parameters. `Self` is named through the type
        // of the function item `Self::f_cache`, unique per instantiation: written as a path
        // like the `Self::f_cache()` calls, it adds no error of its own when `in_impl` is put
        // on a free function. A free function has no `Self`.
        let owner = if function.in_impl {
            key.owner_fn(names)
        } else {
            quote!(())
        };
        let (build_fn, build) = generic.helper(
            "__memo_build",
            &[
                ("S", TokenStream::new()),
                ("B", quote!(::core::ops::FnOnce() -> #generic_builder)),
            ],
            quote! {
                __memo_slot: &'static ::memo_runtime::__private::ErasedStatic,
                __memo_owner: S,
                __memo_builder: B,
                __memo_this: fn() -> &'static #generic_store,
            },
            quote!(&'static #generic_store),
            quote!(__memo_slot.get_or_init::<S, _>(move || {
                ::memo_runtime::__private::build_memoized(__memo_builder(), __memo_this)
            })),
        );
        let this = key.owner_fn(names);
        quote! {
            #build_fn
            static __MEMO_STORE: ::memo_runtime::__private::ErasedStatic =
                ::memo_runtime::__private::ErasedStatic::new();
            #build(&__MEMO_STORE, #owner, || #builder, #this)
        }
    } else {
        let (build_fn, build) = generic.helper(
            "__memo_build",
            &[],
            quote! {
                __memo_builder: #generic_builder,
                __memo_this: fn() -> &'static #generic_store,
            },
            generic_store,
            quote!(::memo_runtime::__private::build_memoized(
                __memo_builder,
                __memo_this
            )),
        );
        // The initializer is a body of its own: it repeats the assertions (see `Key`). The
        // store registers itself (`caches()`, the memory budget) with a function that reaches
        // it in its `static` once initialized: a closure that names only the `static`, so that
        // it adds no error of its own (naming `f_cache` would, for an associated function
        // without `in_impl`).
        quote! {
            #build_fn
            static __MEMO_STORE: ::memo_runtime::__private::LazyLock<#store> =
                ::memo_runtime::__private::LazyLock::new(|| {
                    #key_assertions
                    #build(#builder, || &*__MEMO_STORE)
                });
            &__MEMO_STORE
        }
    };
    let doc = format!(
        "The cache of [`{fn_name}`](Self::{fn_name}): the whole \
         [`FaasCacheDict`](::memo_runtime::FaasCacheDict) API."
    );
    let doc = if function.in_impl {
        doc
    } else {
        doc.replace("(Self::", "(")
    };
    // The store type spans the user's argument types (see `Key::borrowed_spans`), which clippy
    // would weigh as the user's own.
    // `#[inline]`: every call of the memoized function goes through it (a hit then costs the
    // store lookup and one check that the store exists).
    let cache_fn = quote! {
        #[doc = #doc]
        #[allow(dead_code, clippy::type_complexity)]
        #[inline]
        #vis fn #cache() -> #store_ref {
            #assertions
            #make
        }
    };
    if names.store == names.cache {
        return cache_fn;
    }
    // The hidden function the generated code calls (see `Names::store`), before `f_cache`: in
    // a trait impl, rustc's first error is then about it. `f_cache` holds the store, so that
    // the compile-time checks above fail in a function of a name the user knows.
    let hidden = &names.store;
    let owner = key.owner_fn(names);
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, non_snake_case, clippy::type_complexity)]
        #[inline(always)]
        fn #hidden() -> #store_ref {
            #owner()
        }

        #cache_fn
    }
}

/// Lifetime parameters of the function, which its helpers taking the same arguments need.
fn lifetime_generics(function: &Function) -> TokenStream {
    let lifetimes: Vec<_> = function
        .item
        .sig
        .generics
        .params
        .iter()
        .filter(|p| matches!(p, GenericParam::Lifetime(_)))
        .collect();
    if lifetimes.is_empty() {
        TokenStream::new()
    } else {
        quote!(<#(#lifetimes),*>)
    }
}

/// ```text
/// #vis fn f_cache_info() -> CacheInfo { f_cache().info() }
/// #vis fn f_cache_clear() { f_cache().purge() }
/// #vis fn f_reset_stats() { f_cache().reset_stats() }
/// #vis fn f_prime([&self,] a: A, b: &str, value: V) -> Result<Option<V>, CacheError> {
///     assert_cache_key::<A>(); ..;                                          // see `Key`
///     fn __memo_insert<K0, K1, Q0, Q1, V>(store, key: (K0, K1), value: V) -> Result<..> { store.insert(key, value) }
///     __memo_insert::<A, String, A, str, V>(f_cache(), (a.clone(), b.to_owned()), value)
/// }
/// #vis fn f_invalidate([&self,] a: A, b: &str) -> bool {
///     assert_cache_key::<A>(); ..;                                          // see `Key`
///     fn __memo_remove<K0, K1, Q0, Q1, V>(store, lookup: (&Q0, &Q1)) -> bool { store.remove(&KeyRef(lookup)).is_some() }
///     __memo_remove::<A, String, A, str, V>(f_cache(), (&a, b))
/// }
/// ```
fn helpers(options: &Options, function: &Function, names: &Names, key: &Key) -> TokenStream {
    let vis = &function.item.vis;
    let fn_name = function.item.sig.ident.unraw().to_string();
    let (info, clear, invalidate) = (&names.info, &names.clear, &names.invalidate);
    let reset_stats = &names.reset_stats;
    let link = if function.in_impl {
        format!("[`{fn_name}`](Self::{fn_name})")
    } else {
        format!("[`{fn_name}`]")
    };
    let info_doc = format!("Hits, misses, sizes and bounds of the cache of {link}.");
    let clear_doc = format!(
        "Empties the cache of {link} (delete hooks run; the statistics stay: see \
         `{fn_name}_reset_stats`)."
    );
    let reset_doc = format!(
        "Sets the statistics of the cache of {link} (`{fn_name}_cache_info`) back to zero; \
         the cached entries stay."
    );
    let invalidate_doc = format!(
        "Removes the cached result of {link} for these arguments; `true` if there was one."
    );

    // The invalidate helper takes the arguments the key is made of: all parameters with a
    // custom key (it may use any of them), otherwise the non-excluded ones.
    let custom_key = !key.prepare.is_empty();
    let receiver = function
        .receiver
        .as_ref()
        .filter(|r| custom_key || !r.excluded)
        // `&self` whatever the method takes: invalidating needs no ownership of `self` (a
        // by-value receiver is not consumed) and no exclusive access.
        .map(|_| quote!(&self,));
    let params: Vec<TokenStream> = function
        .params
        .iter()
        .filter(|p| custom_key || !p.excluded)
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: #ty)
        })
        .collect();
    let generic = key.generic();
    let (key_ty, lookup_param, lookup) = (&generic.key, &generic.lookup_param, &generic.lookup);
    let (remove_fn, remove) = generic.helper(
        "__memo_remove",
        &[],
        quote!(__memo_store: &::memo_runtime::FaasCacheDict<#key_ty, V>, #lookup_param),
        quote!(bool),
        quote!(__memo_store.remove(#lookup).is_some()),
    );
    let (insert_fn, insert) = generic.helper(
        "__memo_insert",
        &[],
        quote! {
            __memo_store: &::memo_runtime::FaasCacheDict<#key_ty, V>,
            __memo_key: #key_ty,
            __memo_value: V,
        },
        quote!(::core::result::Result<::core::option::Option<V>, ::memo_runtime::CacheError>),
        quote!(__memo_store.insert(__memo_key, __memo_value)),
    );
    let (assertions, prepare, lookup_arg) = (key.assertions(), &key.prepare, key.lookup_arg(true));
    // With a tier, the entry is removed there too, which takes the owned key (a tier stores
    // it encoded).
    let invalidate_body = if options.has_tier() {
        let (invalidate_fn, invalidate) = generic.helper(
            "__memo_invalidate",
            &[],
            quote!(__memo_store: &::memo_runtime::FaasCacheDict<#key_ty, V>, __memo_key: #key_ty,),
            quote!(bool),
            quote!(__memo_store.invalidate(&__memo_key)),
        );
        let owned = key.owned(true);
        let store_call = key.store_call(names);
        quote!(#invalidate_fn #prepare #invalidate(#store_call, #owned))
    } else {
        let store_call = key.store_call(names);
        quote!(#remove_fn #prepare #remove(#store_call #lookup_arg))
    };
    let store_call = key.store_call(names);
    let generics = lifetime_generics(function);
    let where_clause = &function.item.sig.generics.where_clause;
    let info_and_clear = quote! {
        #[doc = #info_doc]
        #[allow(dead_code)]
        #vis fn #info() -> ::memo_runtime::CacheInfo {
            #assertions
            #store_call.info()
        }

        #[doc = #clear_doc]
        #[allow(dead_code)]
        #vis fn #clear() {
            #assertions
            #store_call.purge()
        }

        #[doc = #reset_doc]
        #[allow(dead_code)]
        #vis fn #reset_stats() {
            #assertions
            #store_call.reset_stats()
        }
    };
    let prime = &names.prime;
    let value_ty = &key.value;
    // The value's parameter: `value`, unless an argument has that name.
    let value = ["value", "cached_value", "__memo_value"]
        .into_iter()
        .map(|name| Ident::new(name, Span::call_site()))
        .find(|name| function.params.iter().all(|p| p.ident != *name))
        .unwrap_or_else(|| Ident::new("__memo_value_", Span::call_site()));
    let owned = key.owned(true);
    let prime_doc = format!(
        "Stores `{value}` as the result of {link} for these arguments, without running it, \
         and returns the value it replaced. For a function whose `Err` or `None` results are not \
         cached, `{value}` is the `Ok` or `Some` value. The entry gets the cache's `ttl`, and \
         may evict others to fit its bounds.\n\n\
         # Errors\n\n\
         [`CacheError::DataTooLarge`](::memo_runtime::CacheError::DataTooLarge) when the entry \
         alone exceeds `max_size`: nothing is stored."
    );
    quote! {
        #info_and_clear

        #[doc = #prime_doc]
        #[allow(dead_code, unused_variables, clippy::needless_lifetimes, clippy::needless_pass_by_value)]
        #vis fn #prime #generics(
            #receiver #(#params,)* #value: #value_ty
        ) -> ::core::result::Result<::core::option::Option<#value_ty>, ::memo_runtime::CacheError>
        #where_clause
        {
            #assertions
            #insert_fn
            #prepare
            #insert(#store_call, #owned, #value)
        }

        #[doc = #invalidate_doc]
        #[allow(dead_code, unused_variables, clippy::needless_lifetimes)]
        #vis fn #invalidate #generics(#receiver #(#params),*) -> bool #where_clause {
            #assertions
            #invalidate_body
        }
    }
    .into_token_stream()
}
