//! Emits the memoized function and its helpers. [`faas_cached`] runs the checks first; the
//! emitting functions below never validate.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{GenericParam, Ident};

use crate::args::Options;
use crate::ast::{span_of, Function, KeyPart, ReceiverKind, Shape};
use crate::ctxt::Ctxt;

/// Names of the generated items.
struct Names {
    cache: Ident,
    info: Ident,
    invalidate: Ident,
    clear: Ident,
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
            prefix: if function.in_impl {
                quote!(Self::)
            } else {
                TokenStream::new()
            },
        }
    }
}

/// `#[faas_cached(args)] item`: checks everything, then emits the memoized function and its
/// helpers, or the errors next to a fallback that keeps the crate's other code compiling.
pub(crate) fn faas_cached(args: TokenStream, item: TokenStream) -> TokenStream {
    let ctxt = Ctxt::default();
    let options = crate::args::parse(&ctxt, args);
    let item: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(err) => {
            let mut err = syn::Error::new(
                err.span(),
                "`#[faas_cached]` goes on a function with a body (free, associated or a method)",
            )
            .into_compile_error();
            err.extend(item);
            return err;
        }
    };
    let function = Function::from_syn(&ctxt, &options, item);
    crate::valid::check(&ctxt, &options, &function);
    match ctxt.check() {
        Ok(()) => expand(&options, &function),
        Err(err) => {
            let mut tokens = err.into_compile_error();
            tokens.extend(fallback(&function));
            tokens
        }
    }
}

/// The memoized function and its four helpers.
fn expand(options: &Options, function: &Function) -> TokenStream {
    let names = Names::new(function);
    let key = Key::new(options, function);
    let memoized = memoized(options, function, &names, &key);
    let cache = cache_fn(options, function, &names, &key);
    let helpers = helpers(function, &names, &key);
    quote!(#memoized #cache #helpers)
}

/// What a failed expansion emits: the function unchanged (so that callers and IDEs keep
/// working) and helpers that type-check, next to the errors.
fn fallback(function: &Function) -> TokenStream {
    let names = Names::new(function);
    let item = &function.item;
    let vis = &item.vis;
    let (info, clear) = (&names.info, &names.clear);
    quote! {
        #item
        #[allow(dead_code)]
        #vis fn #info() -> ::memo_runtime::CacheInfo {
            ::core::unreachable!("#[faas_cached] reported errors")
        }
        #[allow(dead_code)]
        #vis fn #clear() {}
    }
}

/// The key: its type, the borrowed form a hit looks up, and the owned form a miss stores.
struct Key {
    ty: TokenStream,
    /// Statements that compute a custom key first.
    prepare: TokenStream,
    lookup: TokenStream,
    owned: TokenStream,
    /// `(span, owned type)` of each part, to assert the key bounds on the right token.
    parts: Vec<(proc_macro2::Span, TokenStream)>,
}

impl Key {
    fn new(options: &Options, function: &Function) -> Key {
        if let (Some(expr), Some(ty)) = (&options.key, &options.key_type) {
            return Key {
                ty: quote!(#ty),
                prepare: quote!(let __memo_key: #ty = #expr;),
                lookup: quote!(&__memo_key),
                owned: quote!(__memo_key),
                parts: vec![(ty.span(), quote!(#ty))],
            };
        }
        let (mut types, mut lookup, mut owned, mut parts) = (vec![], vec![], vec![], vec![]);
        if let Some(receiver) = function.keyed_receiver() {
            types.push(quote!(Self));
            lookup.push(match receiver.kind {
                ReceiverKind::Ref => quote!(self),
                ReceiverKind::RefMut => quote!(&*self),
                ReceiverKind::Value => quote!(&self),
            });
            owned.push(match receiver.kind {
                ReceiverKind::Value => quote!(::core::clone::Clone::clone(&self)),
                _ => quote!(::core::clone::Clone::clone(&*self)),
            });
            parts.push((span_of(&receiver.token), quote!(Self)));
        }
        for param in function.key_params() {
            let ident = &param.ident;
            let owned_ty = param.key.owned_type(&param.ty);
            match &param.key {
                KeyPart::Borrowed { mutable: false, .. } => {
                    lookup.push(quote!(#ident));
                    owned.push(quote!(::std::borrow::ToOwned::to_owned(#ident)));
                }
                KeyPart::Borrowed { mutable: true, .. } => {
                    lookup.push(quote!(&*#ident));
                    owned.push(quote!(::std::borrow::ToOwned::to_owned(&*#ident)));
                }
                KeyPart::Owned => {
                    lookup.push(quote!(&#ident));
                    owned.push(quote!(::core::clone::Clone::clone(&#ident)));
                }
            }
            parts.push((param.ty.span(), owned_ty.clone()));
            types.push(owned_ty);
        }
        let lookup = if lookup.is_empty() {
            quote!(&())
        } else {
            quote!(&::memo_runtime::KeyRef((#(#lookup,)*)))
        };
        Key {
            ty: quote!((#(#types,)*)),
            prepare: TokenStream::new(),
            lookup,
            owned: quote!((#(#owned,)*)),
            parts,
        }
    }
}

fn store_type(function: &Function, key: &Key) -> TokenStream {
    let key_ty = &key.ty;
    let value = &function.output.value;
    quote!(::memo_runtime::FaasCacheDict<#key_ty, #value>)
}

/// ```text
/// #attrs #vis #sig {
///     let __memo_store = [Self::]f_cache();
///     [let __memo_key: KeyType = <key expr>;]
///     if let Some(__memo_hit) = __memo_store.get(&KeyRef((&a, b))) {   // no clone on a hit
///         return [Ok|Some](__memo_hit);
///     }
///     miss(move || __memo_store.compute_missed((a.clone(), b.to_owned()), move || -> R { body }, ..))
///     // async: compute_missed_async(key, async move { body }, shape).await
/// }
/// ```
fn memoized(options: &Options, function: &Function, names: &Names, key: &Key) -> TokenStream {
    let syn::ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = &function.item;
    let (prefix, cache) = (&names.prefix, &names.cache);
    let returns = &function.output.returns;
    let (wrap_hit, shape) = match function.output.shape {
        Shape::Plain => (quote!(__memo_hit), quote!(PLAIN)),
        Shape::Ok => (quote!(::core::result::Result::Ok(__memo_hit)), quote!(OK)),
        Shape::Some => (
            quote!(::core::option::Option::Some(__memo_hit)),
            quote!(SOME),
        ),
    };
    let shape = quote!(::memo_runtime::__private::Shape::#shape);
    let dedupe = options.dedupe.as_ref().map_or(true, |b| b.value);
    let (prepare, lookup, owned) = (&key.prepare, &key.lookup, &key.owned);
    let compute = if function.is_async {
        let method = if dedupe {
            quote!(compute_missed_async)
        } else {
            quote!(compute_undeduped_missed_async)
        };
        quote! {
            __memo_store.#method(
                #owned,
                async move {
                    let __memo_out: #returns = #block;
                    __memo_out
                },
                #shape,
            ).await
        }
    } else {
        let method = if dedupe {
            quote!(compute_missed)
        } else {
            quote!(compute_undeduped_missed)
        };
        // The miss path (building the owned key, computing) lives in a cold function, so that
        // the hit path above stays small enough to inline.
        quote! {
            ::memo_runtime::__private::miss(move || {
                __memo_store.#method(#owned, move || -> #returns #block, #shape)
            })
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            let __memo_store = #prefix #cache();
            #prepare
            if let ::core::option::Option::Some(__memo_hit) = __memo_store.get(#lookup) {
                return #wrap_hit;
            }
            #compute
        }
    }
}

/// ```text
/// /// The cache of [`f`] ...
/// #vis fn f_cache() -> &'static FaasCacheDict<K, V> {
///     assert_cache_key::<K1>(); ...; assert_cache_value::<V>();      // readable bound errors
///     [const { assert_max_size_fits::<K, V>(MAX, NAME.len()) };]   // max_size checked at compile time
///     static __MEMO_STORE: LazyLock<FaasCacheDict<K, V>> = LazyLock::new(|| builder);
///     &__MEMO_STORE
///     // in an impl block, where a static cannot name `Self`:
///     // static __MEMO_STORE: ErasedStatic = ErasedStatic::new(); __MEMO_STORE.get_or_init(|| builder)
/// }
/// ```
fn cache_fn(options: &Options, function: &Function, names: &Names, key: &Key) -> TokenStream {
    let vis = &function.item.vis;
    let cache = &names.cache;
    let store = store_type(function, key);
    let key_ty = &key.ty;
    let value = &function.output.value;
    let fn_name = function.item.sig.ident.unraw().to_string();
    let name = match &options.name {
        Some(name) => quote!(#name),
        None => quote!(::core::concat!(::core::module_path!(), "::", #fn_name)),
    };

    let mut assertions = TokenStream::new();
    for (span, part) in &key.parts {
        assertions.extend(quote_spanned!(*span=>
            ::memo_runtime::__private::assert_cache_key::<#part>();
        ));
    }
    let value_span = match &function.item.sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => function.item.sig.ident.span(),
    };
    assertions.extend(quote_spanned!(value_span=>
        ::memo_runtime::__private::assert_cache_value::<#value>();
    ));

    let mut builder = quote! {
        <#store>::builder().name(#name)
    };
    if let Some(max_items) = &options.max_items {
        let n = Literal::usize_unsuffixed(max_items.value as usize);
        builder.extend(quote!(.max_items(#n)));
    }
    if let Some(max_size) = &options.max_size {
        let bytes = Literal::u64_suffixed(max_size.value);
        let span = span_of(&max_size.tokens);
        for (part_span, part) in &key.parts {
            assertions.extend(quote_spanned!(*part_span=>
                ::memo_runtime::__private::assert_deep_size::<#part>();
            ));
        }
        assertions.extend(quote_spanned!(value_span=>
            ::memo_runtime::__private::assert_deep_size::<#value>();
        ));
        assertions.extend(quote_spanned!(span=>
            const { ::memo_runtime::__private::assert_max_size_fits::<#key_ty, #value>(#bytes, #name.len()) };
        ));
        builder.extend(quote_spanned!(span=> .max_size_weighed(#bytes, {
            #[allow(unused_imports)]
            use ::memo_runtime::__private::{DeepWeigher as _, InlineWeigher as _};
            (&::memo_runtime::__private::WeighWith::<#key_ty, #value>::new()).weigher()
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
    if let Some(hook) = &options.on_delete {
        builder.extend(quote_spanned!(hook.span()=> .on_delete(#hook)));
    }
    builder.extend(quote!(.build_lenient()));

    let make = if function.in_impl {
        quote! {
            static __MEMO_STORE: ::memo_runtime::__private::ErasedStatic =
                ::memo_runtime::__private::ErasedStatic::new();
            __MEMO_STORE.get_or_init(|| #builder)
        }
    } else {
        quote! {
            static __MEMO_STORE: ::memo_runtime::__private::LazyLock<#store> =
                ::memo_runtime::__private::LazyLock::new(|| #builder);
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
    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis fn #cache() -> &'static #store {
            #assertions
            #make
        }
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
/// #vis fn f_invalidate([&self,] a: A, b: &str) -> bool { f_cache().remove(&KeyRef((&a, b))).is_some() }
/// ```
fn helpers(function: &Function, names: &Names, key: &Key) -> TokenStream {
    let vis = &function.item.vis;
    let fn_name = function.item.sig.ident.unraw().to_string();
    let (prefix, cache) = (&names.prefix, &names.cache);
    let (info, clear, invalidate) = (&names.info, &names.clear, &names.invalidate);
    let link = if function.in_impl {
        format!("[`{fn_name}`](Self::{fn_name})")
    } else {
        format!("[`{fn_name}`]")
    };
    let info_doc = format!("Hits, misses, sizes and bounds of the cache of {link}.");
    let clear_doc = format!("Empties the cache of {link} (delete hooks run; counters stay).");
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
        .map(|r| {
            let decl = &r.decl;
            quote!(#decl,)
        });
    let params = function
        .params
        .iter()
        .filter(|p| custom_key || !p.excluded)
        .map(|p| {
            let (ident, ty) = (&p.ident, &p.ty);
            quote!(#ident: #ty)
        });
    let (prepare, lookup) = (&key.prepare, &key.lookup);
    let generics = lifetime_generics(function);
    let where_clause = &function.item.sig.generics.where_clause;
    let info_and_clear = quote! {
        #[doc = #info_doc]
        #[allow(dead_code)]
        #vis fn #info() -> ::memo_runtime::CacheInfo {
            #prefix #cache().info()
        }

        #[doc = #clear_doc]
        #[allow(dead_code)]
        #vis fn #clear() {
            #prefix #cache().purge()
        }
    };
    quote! {
        #info_and_clear

        #[doc = #invalidate_doc]
        #[allow(dead_code, unused_variables, clippy::needless_lifetimes)]
        #vis fn #invalidate #generics(#receiver #(#params),*) -> bool #where_clause {
            #prepare
            #prefix #cache().remove(#lookup).is_some()
        }
    }
    .into_token_stream()
}
