//! `#[faas_cached]` on an `impl` block: it memoizes the block's methods marked
//! `#[faas_cached(...)]`, knowing what an attribute on a method cannot see, that they are in an
//! `impl` block (no `in_impl` needed) and whether it implements a trait.
//!
//! A trait `impl` holds the trait's items only, so the helpers of its memoized methods
//! (`f_cache_info`, `f_invalidate`...) go in an inherent `impl` of the implementing type, with
//! the same generics: `Type::f_cache_info()`. Only a type of this crate can have one, so a
//! trait implemented for a foreign type (`u64`, `Vec<T>`, `&T`), for any `T` (a blanket impl),
//! or with parameters the type does not mention (`impl<T> From<T> for Wrapper`) is an error
//! that says what to do instead.
//!
//! ```text
//! #[faas_cached]
//! impl Trait for Type {                    impl Trait for Type {
//!     #[faas_cached(ttl = 60)]                 fn f(&self, a: A) -> R { /* memoized */ }
//!     fn f(&self, a: A) -> R { body }  =>      fn other(&self) {}
//!     fn other(&self) {}                   }
//! }                                        impl Type {
//!                                              fn f_uncached(&self, a: A) -> R { body }
//!                                              fn f_cache() -> &'static FaasCacheDict<..> {..}
//!                                              fn f_cache_info() -> CacheInfo {..} ..
//!                                          }
//! ```

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{GenericParam, ImplItem, ImplItemFn, ItemFn, ItemImpl, Meta, Type};

use crate::ast::Place;
use crate::ctxt::Ctxt;
use crate::expand::{expand_fn, Expansion};

pub(crate) fn expand(args: TokenStream, mut block: ItemImpl) -> TokenStream {
    let ctxt = Ctxt::default();
    if !args.is_empty() {
        ctxt.error_spanned_by(
            &args,
            "on an `impl` block, `#[faas_cached]` takes no options: write them on each memoized \
             method, `#[faas_cached(ttl = 60)] fn ..`",
        );
    }
    let place = if block.trait_.is_some() {
        Place::TraitImpl
    } else {
        Place::InherentImpl
    };
    if place == Place::TraitImpl && !check_trait_impl(&ctxt, &block) {
        // No inherent `impl` can hold the helpers: the methods stay as they are (unmemoized),
        // so that the error above is the only one.
        for item in &mut block.items {
            if let ImplItem::Fn(method) = item {
                method.attrs.retain(|attr| !is_faas_cached(attr));
            }
        }
        let mut out = ctxt
            .check()
            .err()
            .map_or_else(TokenStream::new, |err| err.into_compile_error());
        out.extend(block.to_token_stream());
        return out;
    }
    let mut helpers = TokenStream::new();
    let mut memoized = 0;
    let mut items = Vec::with_capacity(block.items.len());
    for item in std::mem::take(&mut block.items) {
        let ImplItem::Fn(method) = item else {
            items.push(item);
            continue;
        };
        let (method, args) = take_attribute(&ctxt, method);
        let Some(args) = args else {
            items.push(ImplItem::Fn(method));
            continue;
        };
        memoized += 1;
        let ImplItemFn {
            attrs,
            vis,
            defaultness,
            sig,
            block: body,
        } = method;
        if let Some(default) = defaultness {
            ctxt.error_spanned_by(default, "a `default fn` cannot be memoized");
        }
        let function = ItemFn {
            attrs,
            vis,
            sig,
            block: Box::new(body),
        };
        let Expansion {
            function,
            helpers: next_to_it,
        } = expand_fn(args, function, place);
        items.push(ImplItem::Verbatim(function));
        match place {
            Place::TraitImpl => helpers.extend(next_to_it),
            _ => items.push(ImplItem::Verbatim(next_to_it)),
        }
    }
    block.items = items;
    if memoized == 0 {
        let attribute_span = block.impl_token;
        ctxt.error_spanned_by(
            attribute_span,
            "`#[faas_cached]` on an `impl` block memoizes the methods marked \
             `#[faas_cached]` in it, and none is: mark the methods to memoize",
        );
    }
    let mut out = match ctxt.check() {
        Ok(()) => TokenStream::new(),
        Err(err) => err.into_compile_error(),
    };
    out.extend(block.to_token_stream());
    if !helpers.is_empty() {
        let self_ty = &block.self_ty;
        let (impl_generics, _, where_clause) = block.generics.split_for_impl();
        out.extend(quote! {
            impl #impl_generics #self_ty #where_clause {
                #helpers
            }
        });
    }
    out
}

/// Removes the `#[faas_cached(..)]` attribute of a method (any path ending in `faas_cached`);
/// its arguments if it had one.
fn take_attribute(ctxt: &Ctxt, mut method: ImplItemFn) -> (ImplItemFn, Option<TokenStream>) {
    let mut args = None;
    method.attrs.retain(|attr| {
        if !is_faas_cached(attr) {
            return true;
        }
        if args.is_some() {
            ctxt.error_spanned_by(attr, "`#[faas_cached]` twice on one method");
            return false;
        }
        args = Some(match &attr.meta {
            Meta::Path(_) => TokenStream::new(),
            Meta::List(list) => list.tokens.clone(),
            Meta::NameValue(nv) => {
                ctxt.error_spanned_by(
                    nv,
                    "write the options in parentheses: `#[faas_cached(ttl = 60)]`",
                );
                TokenStream::new()
            }
        });
        false
    });
    (method, args)
}

/// `#[faas_cached]`, under any path (`#[memo_runtime::faas_cached(..)]`).
fn is_faas_cached(attr: &syn::Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "faas_cached")
}

/// The helpers of a trait's memoized methods go in an inherent `impl` of the implementing
/// type: it must be a type of this crate, with every parameter of the block in it. Whether it
/// is (errors are recorded in `ctxt`).
fn check_trait_impl(ctxt: &Ctxt, block: &ItemImpl) -> bool {
    let what_to_do = "implement the trait for a type of this crate (a newtype), or memoize an \
                      inherent or free function and call it from the trait's method";
    let self_ty = &*block.self_ty;
    let type_params: Vec<String> = block
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.to_string()),
            _ => None,
        })
        .collect();
    if let Some(name) = foreign_type(self_ty, &type_params) {
        ctxt.error_spanned_by(
            self_ty,
            format!(
                "the helpers of a memoized trait method (`f_cache_info`, `f_invalidate`..) go \
                 in an inherent `impl` of the implementing type, and {name}: {what_to_do}"
            ),
        );
        return false;
    }
    let mut fine = true;
    let mentioned = idents(self_ty.to_token_stream());
    for param in &block.generics.params {
        let ident = match param {
            GenericParam::Type(t) => &t.ident,
            GenericParam::Const(c) => &c.ident,
            // An inherent `impl` may leave a lifetime unconstrained.
            GenericParam::Lifetime(_) => continue,
        };
        if !mentioned.contains(&ident.to_string()) {
            fine = false;
            ctxt.error_spanned_by(
                ident,
                format!(
                    "the helpers of a memoized trait method (`f_cache_info`, `f_invalidate`..) \
                     go in an inherent `impl` of the implementing type, which cannot have \
                     `{ident}`: only the trait mentions it; {what_to_do}"
                ),
            );
        }
    }
    fine
}

/// Why `ty` cannot have an inherent `impl` in this crate, if it is plainly so: a primitive, a
/// std type of the prelude, a reference, tuple, array, slice, pointer, function pointer,
/// trait object, or a type parameter of the block (a blanket impl).
fn foreign_type(ty: &Type, type_params: &[String]) -> Option<String> {
    const STD: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "str", "String", "Vec", "Option", "Result", "Box",
    ];
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            // One segment: `u64`, `T`, `Vec<T>` (a longer path is taken for a local type).
            let [segment] = path.path.segments.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            let ident = segment.ident.to_string();
            if type_params.contains(&ident) {
                Some(format!(
                    "`{ident}` is a type parameter of the block (a blanket impl), which has none"
                ))
            } else if STD.contains(&ident.as_str()) {
                Some(format!(
                    "`{ident}` is a type of the standard library, which only the standard \
                     library can write"
                ))
            } else {
                None
            }
        }
        Type::Group(group) => foreign_type(&group.elem, type_params),
        Type::Paren(paren) => foreign_type(&paren.elem, type_params),
        Type::Path(_) => None,
        _ => Some(
            "this type is not defined in this crate, so this crate cannot write one".to_owned(),
        ),
    }
}

/// Every identifier in `tokens`.
fn idents(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => out.push(ident.to_string()),
            TokenTree::Group(group) => out.extend(idents(group.stream())),
            _ => {}
        }
    }
    out
}
