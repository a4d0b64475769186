//! The function being memoized, as the expansion needs it: its receiver, the arguments that
//! form the key and how the key owns them, and what of its return value is cached.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::visit::Visit;
use syn::{
    FnArg, GenericArgument, GenericParam, Ident, ItemFn, Pat, PatIdent, PathArguments, ReturnType,
    Signature, Type, TypeReference,
};

use crate::args::Options;
use crate::ctxt::Ctxt;
use crate::symbol;

pub(crate) struct Function {
    /// The function with `#[exclude]` attributes removed: the body of `<fn>_uncached`.
    pub(crate) item: ItemFn,
    /// The signature of the memoized function: every parameter bound to a plain name (the
    /// [`Param::ident`]s; `mut` and destructuring patterns stay with the body, in
    /// `<fn>_uncached`), `mut self` as `self`.
    pub(crate) memo_sig: Signature,
    pub(crate) is_async: bool,
    pub(crate) receiver: Option<ReceiverArg>,
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
    /// Inside an `impl` block: helpers are associated functions, called as `Self::..`.
    pub(crate) in_impl: bool,
    /// Where the attribute is (set by the caller).
    pub(crate) place: Place,
    /// A key or value type names a std type that is not `Send + Sync` (`Rc`, `RefCell`, a raw
    /// pointer...); see [`names_thread_unsafe_type`].
    pub(crate) maybe_not_thread_safe: bool,
}

/// Where an attribute on a function is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// On the function itself: free, or in an `impl` block the macro cannot see.
    Item,
    /// On a method of an inherent `impl` block that has `#[faas_cached]` too: the helpers are
    /// items of the same block.
    InherentImpl,
    /// On a method of a trait `impl` block that has `#[faas_cached]` too: the function has no
    /// visibility of its own (a `pub` on it is the helpers'), and the helpers go in an
    /// inherent `impl` of the implementing type (a trait impl holds the trait's items only).
    TraitImpl,
}

pub(crate) struct ReceiverArg {
    pub(crate) kind: ReceiverKind,
    pub(crate) excluded: bool,
    /// The `self` token, for spans.
    pub(crate) token: TokenStream,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiverKind {
    Ref,
    RefMut,
    Value,
}

pub(crate) struct Param {
    /// The binding the generated code uses for the whole argument.
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) excluded: bool,
    pub(crate) key: KeyPart,
}

/// How an argument becomes part of the owned key.
pub(crate) enum KeyPart {
    /// `&T`: the key holds `<T as ToOwned>::Owned`. (`&mut T` cannot be part of the key.)
    Borrowed { target: Box<Type> },
    /// `Cow<'_, T>`: the key holds `<T as ToOwned>::Owned`, looked up by `&T`.
    Cow { target: Box<Type> },
    /// `Option<&T>`: the key holds `Option<<T as ToOwned>::Owned>`, looked up by an
    /// `OptionRef<T>`.
    OptionRef { target: Box<Type> },
    /// `&[&T]` (`vec: false`) or `Vec<&T>` (`vec: true`): the key holds
    /// `Vec<<T as ToOwned>::Owned>`, looked up by a `SliceRef<T>`.
    RefSlice { target: Box<Type>, vec: bool },
    /// Any owned type: the key holds a clone.
    Owned,
}

impl KeyPart {
    /// The `T` an argument borrows, for the shapes that own it through `ToOwned`.
    pub(crate) fn target(&self) -> Option<&Type> {
        match self {
            KeyPart::Borrowed { target }
            | KeyPart::Cow { target }
            | KeyPart::OptionRef { target }
            | KeyPart::RefSlice { target, .. } => Some(target),
            KeyPart::Owned => None,
        }
    }

    /// The type the key holds for an argument of type `ty`. rustc spans a type from its first
    /// token to its last, so `<T as ToOwned>::Owned` (and the `Option` or `Vec` around it) is
    /// given the spans of `T`'s ends: a bound error on it then points at `T` in the user's
    /// signature.
    pub(crate) fn owned_type(&self, ty: &Type) -> TokenStream {
        let Some(target) = self.target() else {
            return quote!(#ty);
        };
        let (first, last) = end_spans(&target.to_token_stream());
        let open = quote_spanned!(first=> <);
        let rest = quote_spanned!(last=> as ::std::borrow::ToOwned>::Owned);
        let owned = quote!(#open #target #rest);
        let close = quote_spanned!(last=> >);
        match self {
            KeyPart::OptionRef { .. } => {
                let wrapper = quote_spanned!(first=> ::core::option::Option<);
                quote!(#wrapper #owned #close)
            }
            KeyPart::RefSlice { .. } => {
                let wrapper = quote_spanned!(first=> ::std::vec::Vec<);
                quote!(#wrapper #owned #close)
            }
            _ => owned,
        }
    }

    /// The type a hit looks the argument up by, without owning it: `str` for `&str` and
    /// `Cow<str>`, `OptionRef<str>` for `Option<&str>`, `SliceRef<str>` for `&[&str]`.
    pub(crate) fn lookup_type(&self, ty: &Type) -> TokenStream {
        match self {
            KeyPart::Borrowed { target } | KeyPart::Cow { target } => quote!(#target),
            // Spanned like `owned_type`: a `T` without `Hash` is then the same error, on the
            // same tokens, as the key part's assertion, which rustc prints once.
            KeyPart::OptionRef { target } => {
                let (first, last) = end_spans(&target.to_token_stream());
                let open = quote_spanned!(first=> ::memo_runtime::OptionRef<'_,);
                let close = quote_spanned!(last=> >);
                quote!(#open #target #close)
            }
            KeyPart::RefSlice { target, .. } => {
                let (first, last) = end_spans(&target.to_token_stream());
                let open = quote_spanned!(first=> ::memo_runtime::SliceRef<'_,);
                let close = quote_spanned!(last=> >);
                quote!(#open #target #close)
            }
            KeyPart::Owned => quote!(#ty),
        }
    }
}

/// Which results are cached.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Every value.
    Plain,
    /// `Ok` values of a `Result`; the store holds the `Ok` type.
    Ok,
    /// `Some` values of an `Option`; the store holds the inner type.
    Some,
    /// `Ok(Some(..))` values of a `Result<Option<T>, E>` (with `option = true`); the store
    /// holds `T`.
    OkSome,
}

pub(crate) struct Output {
    pub(crate) shape: Shape,
    /// `cached_flag`: the memoized function returns `Cached<..>` around the value position
    /// of `returns` (which is the type without it, the body's).
    pub(crate) cached_flag: bool,
    /// The value position holds `WithTtl<value>`: each value has its own TTL.
    pub(crate) with_ttl: bool,
    /// What the store holds.
    pub(crate) value: Type,
    /// What the function returns.
    pub(crate) returns: Type,
}

impl Function {
    pub(crate) fn from_syn(ctxt: &Ctxt, options: &Options, mut item: ItemFn) -> Function {
        check_signature(ctxt, &item);
        let mut receiver = None;
        let mut params = Vec::new();
        let mut memo_sig = item.sig.clone();
        for (i, input) in item.sig.inputs.iter_mut().enumerate() {
            match input {
                FnArg::Receiver(recv) => {
                    let excluded = take_exclude(ctxt, &mut recv.attrs);
                    let kind = match (&recv.reference, recv.mutability) {
                        (Some(_), None) => ReceiverKind::Ref,
                        (Some(_), Some(_)) => ReceiverKind::RefMut,
                        (None, _) => ReceiverKind::Value,
                    };
                    if recv.colon_token.is_some() && !excluded {
                        ctxt.error_spanned_by(
                            &recv.ty,
                            "a typed receiver (`self: Arc<Self>`) cannot be part of the cache \
                             key; use `&self`, or exclude it with `#[exclude]`",
                        );
                    }
                    if let (Some((and, _)), Some(mutability)) = (&recv.reference, &recv.mutability)
                    {
                        if !excluded && options.key.is_none() && recv.colon_token.is_none() {
                            ctxt.error_spanned_by(
                                quote!(#and #mutability),
                                "`&mut self` cannot be part of the cache key: a hit returns the \
                                 cached value without running the body, so its changes to `self` \
                                 would be skipped; take `&self`, or write `#[exclude] &mut self` \
                                 if `self` is not an input of the result",
                            );
                        }
                    }
                    let token = recv.self_token.to_token_stream();
                    receiver = Some(ReceiverArg {
                        kind,
                        excluded,
                        token,
                    });
                }
                FnArg::Typed(arg) => {
                    let excluded = take_exclude(ctxt, &mut arg.attrs);
                    let ident = match &*arg.pat {
                        Pat::Ident(PatIdent {
                            ident,
                            by_ref: None,
                            subpat: None,
                            ..
                        }) => ident.clone(),
                        // `(a, b): (u64, u64)`: the memoized function binds the whole
                        // argument, `<fn>_uncached` destructures it.
                        _ => format_ident!("__memo_arg{}", i),
                    };
                    let key = if excluded || options.key.is_some() {
                        KeyPart::Owned
                    } else {
                        key_part(ctxt, &arg.ty)
                    };
                    params.push(Param {
                        ident,
                        ty: (*arg.ty).clone(),
                        excluded,
                        key,
                    });
                }
            }
        }
        // The memoized function's parameters: the same, minus `#[exclude]`, each a plain
        // binding (`mut` would be unused there).
        let mut typed = params.iter();
        for (memo_input, input) in memo_sig.inputs.iter_mut().zip(&item.sig.inputs) {
            *memo_input = input.clone();
            match memo_input {
                FnArg::Receiver(recv) => {
                    if recv.reference.is_none() {
                        recv.mutability = None;
                    }
                }
                FnArg::Typed(arg) => {
                    // `params` has one entry per typed argument, in order.
                    if let Some(param) = typed.next() {
                        let ident = &param.ident;
                        *arg.pat = syn::parse_quote!(#ident);
                    }
                }
            }
        }
        // `cached_flag`: the memoized function returns `Cached<..>` around the cached value;
        // the body (in `<fn>_uncached`) returns the type without it.
        let cached_depth = options.cached_flag.as_ref().and_then(|flag| {
            let stripped = match &mut item.sig.output {
                ReturnType::Type(_, ty) => strip_wrapper(ty, "Cached", 0).map(|(inner, depth)| {
                    **ty = inner;
                    depth
                }),
                ReturnType::Default => None,
            };
            if stripped.is_none() {
                let at = match &item.sig.output {
                    ReturnType::Type(_, ty) => ty.to_token_stream(),
                    ReturnType::Default => flag.clone(),
                };
                ctxt.error_spanned_by(at, CACHED_FLAG_RETURN);
            }
            stripped
        });
        let mut output = output(ctxt, options, &item.sig.output);
        if let Some(depth) = cached_depth {
            let expected = match output.shape {
                Shape::Plain => 0,
                Shape::Ok | Shape::Some => 1,
                Shape::OkSome => 2,
            };
            if depth != expected {
                ctxt.error_spanned_by(&memo_sig.output, CACHED_FLAG_RETURN);
            }
            output.cached_flag = true;
        }
        // A `WithTtl<T>` value: the store holds `T`, with the TTL the body gives it.
        if let (Some(name), Some(inner)) = last_segment(&output.value) {
            if name == "WithTtl" {
                output.value = inner;
                output.with_ttl = true;
            }
        }
        let mentions_self = {
            let mut finder = SelfFinder(false);
            finder.visit_signature(&item.sig);
            finder.0
        };
        let maybe_not_thread_safe = names_thread_unsafe_type(&output.value)
            || params
                .iter()
                .any(|p| !p.excluded && names_thread_unsafe_type(&p.ty))
            || options
                .key_type
                .as_ref()
                .is_some_and(names_thread_unsafe_type);
        Function {
            memo_sig,
            maybe_not_thread_safe,
            is_async: item.sig.asyncness.is_some(),
            in_impl: options.in_impl || receiver.is_some() || mentions_self,
            place: Place::Item,
            receiver,
            params,
            output,
            item,
        }
    }

    /// Key arguments: non-excluded parameters.
    pub(crate) fn key_params(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.excluded)
    }

    /// Whether `self` is part of the key.
    pub(crate) fn keyed_receiver(&self) -> Option<&ReceiverArg> {
        self.receiver.as_ref().filter(|r| !r.excluded)
    }
}

/// Removes `#[exclude]` from a parameter's attributes; whether it was there.
fn take_exclude(ctxt: &Ctxt, attrs: &mut Vec<syn::Attribute>) -> bool {
    let before = attrs.len();
    attrs.retain(|attr| {
        if !attr.path().is_ident(symbol::EXCLUDE) {
            return true;
        }
        if attr.meta.require_path_only().is_err() {
            ctxt.error_spanned_by(
                &attr.meta,
                "`exclude` takes no value: write `#[exclude]` to leave the argument out of the key",
            );
        }
        false
    });
    attrs.len() != before
}

fn check_signature(ctxt: &Ctxt, item: &ItemFn) {
    let sig = &item.sig;
    if let Some(constness) = &sig.constness {
        ctxt.error_spanned_by(
            constness,
            "a `const fn` cannot be memoized: it cannot use a cache",
        );
    }
    if let Some(variadic) = &sig.variadic {
        ctxt.error_spanned_by(variadic, "a variadic function cannot be memoized");
    }
    for param in &sig.generics.params {
        match param {
            GenericParam::Type(_) | GenericParam::Const(_) => {
                ctxt.error_spanned_by(
                    &sig.generics,
                    "a generic function cannot be memoized: its cache is a `static`, which \
                     cannot be generic; memoize a non-generic function for each concrete type \
                     and call it from the generic one",
                );
                break;
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    let mut impl_trait = ImplTraitFinder(Vec::new());
    for input in &sig.inputs {
        impl_trait.visit_fn_arg(input);
    }
    for found in impl_trait.0.drain(..) {
        ctxt.error_spanned_by(
            found,
            "`impl Trait` makes the function generic, and a memoized function needs one \
             concrete type for its static cache: name a concrete type (an argument can be a \
             `&dyn Trait` marked `#[exclude]`)",
        );
    }
    impl_trait.visit_return_type(&sig.output);
    for found in impl_trait.0 {
        ctxt.error_spanned_by(
            found,
            "the cache's `static` must name the type of the cached value, and an `impl Trait` \
             return type has no name: return a concrete type, or an \
             `Arc<dyn Trait + Send + Sync>`",
        );
    }
}

/// The shapes of borrowing arguments that the key owns, for error messages.
const OWNED_SHAPES: &str =
    "the key owns `&T`, `Option<&T>`, `&[&T]`, `Vec<&T>` and `Cow<T>` when `T` does not borrow";

/// How a key argument of type `ty` is owned by the key; records an error if it cannot be.
fn key_part(ctxt: &Ctxt, ty: &Type) -> KeyPart {
    match ty {
        Type::Reference(TypeReference {
            and_token,
            elem,
            mutability,
            ..
        }) => {
            if let Some(mutability) = mutability {
                mut_error(ctxt, quote!(#and_token #mutability));
            }
            if let Some(part) = ref_slice(ctxt, ty, elem, false) {
                return part;
            }
            if borrows(elem) {
                ctxt.error_spanned_by(
                    ty,
                    format!(
                        "this argument borrows data through more than one reference, so the \
                         cache key cannot own it ({OWNED_SHAPES}): pass an owned type, mark \
                         the argument `#[exclude]`, or give the key with \
                         `key = ..., key_type = ...`"
                    ),
                );
            }
            dyn_error(ctxt, ty, elem);
            KeyPart::Borrowed {
                target: elem.clone(),
            }
        }
        Type::Group(group) => key_part(ctxt, &group.elem),
        Type::Paren(paren) => key_part(ctxt, &paren.elem),
        _ => {
            let borrowing = borrows(ty);
            if let Some(part) = borrowing_path(ctxt, ty, borrowing) {
                return part;
            }
            if !borrowing {
                return KeyPart::Owned;
            }
            ctxt.error_spanned_by(
                ty,
                format!(
                    "this argument type borrows data, so the cache key cannot own it \
                     ({OWNED_SHAPES}): pass an owned type, mark the argument `#[exclude]`, or \
                     give the key with `key = ..., key_type = ...`"
                ),
            );
            KeyPart::Owned
        }
    }
}

fn mut_error(ctxt: &Ctxt, tokens: TokenStream) {
    ctxt.error_spanned_by(
        tokens,
        "a `&mut` argument cannot be part of the cache key: a hit returns the cached value \
         without running the body, so its changes to this argument would be skipped; take `&T`, \
         or mark the argument `#[exclude]` if it is not an input of the result",
    );
}

fn dyn_error(ctxt: &Ctxt, ty: &Type, target: &Type) {
    if let Type::TraitObject(_) = target {
        ctxt.error_spanned_by(
            ty,
            "a `dyn Trait` argument cannot be part of the cache key: mark it `#[exclude]`, or \
             give the key with `key = ..., key_type = ...`",
        );
    }
}

/// `Option<&T>` and `Vec<&T>` (when `borrowing`: the reference is not `'static`), and
/// `Cow<'_, T>` (whose lifetime may be elided), named by their last path segment: the key part
/// that owns them, or `None` for another type.
fn borrowing_path(ctxt: &Ctxt, ty: &Type, borrowing: bool) -> Option<KeyPart> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let (first, None) = (types.next()?, types.next()) else {
        return None;
    };
    let first = ungroup(first);
    match last.ident.to_string().as_str() {
        "Option" if borrowing => {
            let Type::Reference(reference) = first else {
                return None;
            };
            if let Some(mutability) = &reference.mutability {
                let and = &reference.and_token;
                mut_error(ctxt, quote!(#and #mutability));
            }
            if borrows(&reference.elem) {
                return None;
            }
            dyn_error(ctxt, ty, &reference.elem);
            Some(KeyPart::OptionRef {
                target: reference.elem.clone(),
            })
        }
        "Vec" if borrowing => ref_slice(ctxt, ty, first, true),
        // `Cow<'a, T>`, `Cow<'_, T>` or `Cow<T>`. A `Cow<'static, T>` does not borrow: it is
        // an owned key, cloned.
        "Cow" => {
            let is_static = args
                .args
                .iter()
                .any(|a| matches!(a, GenericArgument::Lifetime(lt) if lt.ident == "static"));
            if is_static || borrows(first) {
                return None;
            }
            dyn_error(ctxt, ty, first);
            Some(KeyPart::Cow {
                target: Box::new(first.clone()),
            })
        }
        _ => None,
    }
}

/// `[&T]` behind `&` (`vec: false`), or `&T` as the element of a `Vec` (`vec: true`): the key
/// part that owns it as a `Vec<T::Owned>`, or `None` for another type.
fn ref_slice(ctxt: &Ctxt, ty: &Type, elem: &Type, vec: bool) -> Option<KeyPart> {
    let element = if vec {
        elem
    } else {
        let Type::Slice(slice) = ungroup(elem) else {
            return None;
        };
        ungroup(&slice.elem)
    };
    let Type::Reference(reference) = element else {
        return None;
    };
    if let Some(mutability) = &reference.mutability {
        let and = &reference.and_token;
        mut_error(ctxt, quote!(#and #mutability));
    }
    let target = ungroup(&reference.elem);
    if borrows(target) {
        return None;
    }
    dyn_error(ctxt, ty, target);
    if let Some(int) = integer_name(target) {
        // `[u64]` hashes its elements at once (`Hash::hash_slice`), `[&u64]` one by one: a
        // lookup by the borrowed slice would never find the owned key.
        ctxt.error_spanned_by(
            ty,
            format!(
                "a key part of references to integers cannot be looked up without allocating \
                 (a slice of `{int}` hashes differently from a slice of `&{int}`): take a \
                 `&[{int}]`, mark the argument `#[exclude]`, or give the key with \
                 `key = ..., key_type = ...`"
            ),
        );
    }
    Some(KeyPart::RefSlice {
        target: Box::new(target.clone()),
        vec,
    })
}

/// The name of a primitive integer type (whose `Hash::hash_slice` hashes the whole slice).
fn integer_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else {
        return None;
    };
    let ident = path.path.get_ident()?.to_string();
    const INTEGERS: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
    ];
    INTEGERS.contains(&ident.as_str()).then_some(ident)
}

fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        _ => ty,
    }
}

/// Whether a type holds a reference or a non-`'static` lifetime.
fn borrows(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_reference(&mut self, r: &'ast TypeReference) {
            match &r.lifetime {
                Some(lt) if lt.ident == "static" => syn::visit::visit_type_reference(self, r),
                _ => self.0 = true,
            }
        }
        fn visit_lifetime(&mut self, lt: &'ast syn::Lifetime) {
            if lt.ident != "static" {
                self.0 = true;
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

fn output(ctxt: &Ctxt, options: &Options, output: &ReturnType) -> Output {
    let returns: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if borrows(&returns) {
        ctxt.error_spanned_by(
            &returns,
            "the return value is cached, so it must own its data (`String` rather than `&str`); \
             only `'static` references can be returned",
        );
    }
    let plain = |returns: Type| Output {
        shape: Shape::Plain,
        value: returns.clone(),
        returns,
        cached_flag: false,
        with_ttl: false,
    };
    let (last, first_arg) = last_segment(&returns);
    let flag = |flag: &Option<syn::LitBool>, name: &str| {
        flag.as_ref()
            .map_or(last.as_deref() == Some(name), |b| b.value)
    };
    fn forced(flag: &Option<syn::LitBool>) -> Option<&syn::LitBool> {
        flag.as_ref().filter(|b| b.value)
    }
    let needs_argument = |flag: &syn::LitBool, option: &str, example: &str| {
        ctxt.error_spanned_by(
            flag,
            format!(
                "`{option} = true` needs a return type whose first type argument is the cached \
                 value, like `{example}`; for any other return type, remove `{option} = true` \
                 to cache every value"
            ),
        );
    };

    if flag(&options.result, "Result") {
        let Some(ok) = first_arg else {
            if let Some(result) = forced(&options.result) {
                needs_argument(result, "result", "Result<T, E>");
            }
            return plain(returns);
        };
        // `option = true` on a `Result`: only `Ok(Some(..))` is cached, the store holds `T`.
        if let Some(option) = forced(&options.option) {
            return match last_segment(&ok) {
                (Some(name), Some(value)) if name == "Option" => Output {
                    shape: Shape::OkSome,
                    value,
                    returns,
                    cached_flag: false,
                    with_ttl: false,
                },
                _ => {
                    ctxt.error_spanned_by(
                        option,
                        "`option = true` on a `Result` return type caches only `Ok(Some(..))`, \
                         so the `Ok` type must be an `Option`, like `Result<Option<T>, E>`; \
                         remove `option = true` to cache every `Ok` value",
                    );
                    plain(returns)
                }
            };
        }
        return Output {
            shape: Shape::Ok,
            value: ok,
            returns,
            cached_flag: false,
            with_ttl: false,
        };
    }
    if let Some(option) = forced(&options.option) {
        if last.as_deref() == Some("Result") {
            // `result = false, option = true` on a `Result`: it is not an `Option`.
            ctxt.error_spanned_by(
                option,
                "`option = true` does not apply to a `Result` with `result = false`; remove \
                 `result = false` to cache only `Ok(Some(..))` of a `Result<Option<T>, E>`",
            );
            return plain(returns);
        }
    }
    if flag(&options.option, "Option") {
        let Some(value) = first_arg else {
            if let Some(option) = forced(&options.option) {
                needs_argument(option, "option", "Option<T>");
            }
            return plain(returns);
        };
        return Output {
            shape: Shape::Some,
            value,
            returns,
            cached_flag: false,
            with_ttl: false,
        };
    }
    plain(returns)
}

const CACHED_FLAG_RETURN: &str =
    "`cached_flag` needs `memo_runtime::Cached<..>` around the cached \
     value in the return type: `Cached<T>`, `Result<Cached<T>, E>`, `Option<Cached<T>>` (or \
     `Result<Option<Cached<T>>, E>` with `option = true`); the body returns the type without it";

/// Finds `name<T>` in `ty` at the places a cached value can be (the whole type, the first type
/// argument, the first of the first: `Result<Option<name<T>>, E>`) and returns `ty` with it
/// replaced by `T`, and how deep it was.
fn strip_wrapper(ty: &Type, name: &str, depth: usize) -> Option<(Type, usize)> {
    let (last, first) = last_segment(ty);
    let first = first?;
    if last.as_deref() == Some(name) {
        return Some((first, depth));
    }
    if depth >= 2 {
        return None;
    }
    let (inner, found) = strip_wrapper(&first, name, depth + 1)?;
    let mut out = ty.clone();
    if let Type::Path(path) = &mut out {
        if let Some(PathArguments::AngleBracketed(args)) =
            path.path.segments.last_mut().map(|s| &mut s.arguments)
        {
            if let Some(slot) = args.args.iter_mut().find_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            }) {
                *slot = inner;
            }
        }
    }
    Some((out, found))
}

/// The last path segment's name of a type, and its first generic type argument.
fn last_segment(ty: &Type) -> (Option<String>, Option<Type>) {
    let Type::Path(path) = ty else {
        return (None, None);
    };
    let Some(last) = path.path.segments.last() else {
        return (None, None);
    };
    let first = match &last.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }),
        _ => None,
    };
    (Some(last.ident.to_string()), first)
}

/// Whether `ty` names, anywhere inside, a std type that is never `Send + Sync`: `Rc`,
/// `RefCell`, `Cell`, `UnsafeCell`, `OnceCell`, `rc::Weak` or a raw pointer.
///
/// Such a store cannot be in a `static` (which must be `Sync`), and rustc explains why through
/// every private type inside the store, after the readable `CacheKey`/`CacheValue` error. For
/// these types the expansion keeps the store in an `ErasedStatic`, which is `Sync` whatever it
/// holds, so the readable error is the only one. A user type of the same name (a `Cell` in a
/// grid) is not an error, only a slightly slower hit (a type check per call).
fn names_thread_unsafe_type(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_ptr(&mut self, _: &'ast syn::TypePtr) {
            self.0 = true;
        }
        fn visit_path(&mut self, path: &'ast syn::Path) {
            let mut names = path.segments.iter().map(|s| s.ident.to_string());
            let last = names.next_back();
            let parent = names.next_back();
            match (parent.as_deref(), last.as_deref()) {
                (_, Some("Rc" | "RefCell" | "Cell" | "UnsafeCell" | "OnceCell"))
                | (Some("rc"), Some("Weak")) => self.0 = true,
                _ => syn::visit::visit_path(self, path),
            }
        }
    }
    let mut finder = Finder(false);
    finder.visit_type(ty);
    finder.0
}

struct SelfFinder(bool);

impl<'ast> Visit<'ast> for SelfFinder {
    fn visit_receiver(&mut self, _: &'ast syn::Receiver) {
        self.0 = true;
    }
    fn visit_ident(&mut self, ident: &'ast Ident) {
        if ident == "Self" {
            self.0 = true;
        }
    }
}

struct ImplTraitFinder(Vec<TokenStream>);

impl<'ast> Visit<'ast> for ImplTraitFinder {
    fn visit_type_impl_trait(&mut self, found: &'ast syn::TypeImplTrait) {
        self.0.push(found.to_token_stream());
    }
}

/// A span to blame for the receiver.
pub(crate) fn span_of(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

/// The spans of the first and last tokens, to build tokens that rustc spans over the whole of
/// `tokens` (`Span::join` is unstable in proc macros).
pub(crate) fn end_spans(tokens: &TokenStream) -> (Span, Span) {
    let mut trees = tokens.clone().into_iter();
    let first = trees.next().map_or_else(Span::call_site, |t| t.span());
    let last = trees.last().map_or(first, |t| t.span());
    (first, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_types_that_are_not_thread_safe_are_recognised() {
        let flagged = |ty: &str| names_thread_unsafe_type(&syn::parse_str(ty).unwrap());
        assert!(flagged("Rc<String>"));
        assert!(flagged("Vec<std::rc::Rc<str>>"));
        assert!(flagged("Result<RefCell<u8>, String>"));
        assert!(flagged("*const u8"));
        assert!(flagged("std::rc::Weak<u8>"));
        assert!(!flagged("Arc<String>"));
        assert!(!flagged("std::sync::Weak<u8>"));
        assert!(!flagged("Vec<Mutex<u8>>"));
    }
}
