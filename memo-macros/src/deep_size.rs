//! `#[derive(DeepSize)]`: the heap size of a struct or enum is the sum of its fields' heap
//! sizes (the inline size comes from `size_of_val` in the trait's provided `deep_size`).
//!
//! The stages of `#[faas_cached]` in one file, the derive being small: [`Input::from_syn`]
//! reads the input and its `deep_size` attributes, recording every error; [`bounded_types`]
//! finds what the impl must require; [`emit`] writes the impl, and [`fallback`] a stub impl
//! after an error.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericParam, Generics, Ident, Index, Member, Token,
    Type, TypePath, WherePredicate,
};

use crate::ctxt::Ctxt;

/// The attribute.
const DEEP_SIZE: &str = "deep_size";
/// Its one argument, on fields.
const SKIP: &str = "skip";

/// Derives `::memo_runtime::DeepSize`; on error, the errors plus a stub impl.
pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let ctxt = Ctxt::default();
    let parsed = Input::from_syn(&ctxt, input);
    match (ctxt.check(), parsed) {
        (Ok(()), Some(parsed)) => emit(&parsed),
        (Err(errors), _) => {
            let mut tokens = errors.to_compile_error();
            tokens.extend(fallback(input));
            tokens
        }
        // `from_syn` gives nothing only after recording an error; stay quiet rather than panic.
        (Ok(()), None) => fallback(input),
    }
}

/// The derive input, as far as the derive cares.
struct Input<'a> {
    ident: &'a Ident,
    generics: &'a Generics,
    shape: Shape<'a>,
}

enum Shape<'a> {
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

struct Variant<'a> {
    ident: &'a Ident,
    fields: Vec<Field<'a>>,
}

struct Field<'a> {
    /// `name`, or `0` for a tuple field.
    member: Member,
    ty: &'a Type,
    /// `#[deep_size(skip)]`: only the inline size counts.
    skip: bool,
}

impl<'a> Input<'a> {
    /// Reads the input, recording every error in `ctxt`; `None` for a union.
    fn from_syn(ctxt: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        reject_attrs(ctxt, &input.attrs);
        reject_packed(ctxt, &input.attrs);
        let shape = match &input.data {
            Data::Struct(data) => Shape::Struct(fields(ctxt, &data.fields)),
            Data::Enum(data) => Shape::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        reject_attrs(ctxt, &variant.attrs);
                        Variant {
                            ident: &variant.ident,
                            fields: fields(ctxt, &variant.fields),
                        }
                    })
                    .collect(),
            ),
            Data::Union(data) => {
                ctxt.error_spanned_by(
                    data.union_token,
                    "`DeepSize` can be derived for structs and enums, not unions (which field is \
                     live is unknown): implement `DeepSize` by hand",
                );
                return None;
            }
        };
        Some(Input {
            ident: &input.ident,
            generics: &input.generics,
            shape,
        })
    }

    /// The fields of the struct, or of every variant.
    fn fields(&self) -> Vec<&Field<'a>> {
        match &self.shape {
            Shape::Struct(fields) => fields.iter().collect(),
            Shape::Enum(variants) => variants.iter().flat_map(|v| &v.fields).collect(),
        }
    }
}

fn fields<'a>(ctxt: &Ctxt, fields: &'a Fields) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(Index::from(i)),
            },
            ty: &field.ty,
            skip: is_skipped(ctxt, &field.attrs),
        })
        .collect()
}

/// Whether a field carries `#[deep_size(skip)]`; records any other `deep_size` argument.
fn is_skipped(ctxt: &Ctxt, attrs: &[Attribute]) -> bool {
    let mut skip = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident(DEEP_SIZE)) {
        let parsed = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident(SKIP) {
                return Err(meta.error(
                    "unknown `deep_size` argument; accepted: `skip` (count only the field's \
                     inline size)",
                ));
            }
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error("`skip` takes no value: `#[deep_size(skip)]`"));
            }
            if skip {
                return Err(meta.error("duplicate `deep_size` argument `skip`"));
            }
            skip = true;
            Ok(())
        });
        if let Err(error) = parsed {
            ctxt.syn_error(error);
        }
    }
    skip
}

/// `deep_size` attributes on the type or a variant have no meaning: say where they go.
fn reject_attrs(ctxt: &Ctxt, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(DEEP_SIZE)) {
        ctxt.error_spanned_by(
            attr,
            "`deep_size` attributes go on fields: `#[deep_size(skip)]` counts only a field's \
             inline size",
        );
    }
}

/// The generated code borrows every field, which a `#[repr(packed)]` type forbids.
fn reject_packed(ctxt: &Ctxt, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let Ok(list) = attr.meta.require_list() else {
            continue; // not ours to diagnose: rustc reports a malformed `repr`
        };
        for token in list.tokens.clone() {
            if matches!(&token, TokenTree::Ident(ident) if ident == "packed") {
                ctxt.error_spanned_by(
                    token,
                    "`DeepSize` cannot be derived for `#[repr(packed)]` types (their fields \
                     cannot be borrowed): implement `DeepSize` by hand",
                );
            }
        }
    }
}

/// Types the impl requires to implement `DeepSize`: each type parameter used in a measured
/// field, or the whole type when a field uses a parameter's associated type (`T::Item`,
/// `<T as Trait>::Output`). In order of first use, each once.
///
/// Parameters used only in `PhantomData<T>` or behind a reference (`&'a T`) are left unbounded:
/// those implement `DeepSize` for every `T`. Skipped fields are not walked.
fn bounded_types(input: &Input<'_>) -> Vec<Type> {
    let params: Vec<&Ident> = input
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(param) => Some(&param.ident),
            _ => None,
        })
        .collect();
    let mut finder = BoundFinder {
        params: &params,
        found: Vec::new(),
    };
    if !params.is_empty() {
        for field in input.fields().into_iter().filter(|f| !f.skip) {
            finder.visit_type(field.ty);
        }
    }
    finder.found
}

struct BoundFinder<'p> {
    params: &'p [&'p Ident],
    found: Vec<Type>,
}

impl BoundFinder<'_> {
    fn add(&mut self, ty: Type) {
        let text = ty.to_token_stream().to_string();
        if !self
            .found
            .iter()
            .any(|t| t.to_token_stream().to_string() == text)
        {
            self.found.push(ty);
        }
    }

    /// `T` or `T::Assoc`: a path that starts at a type parameter.
    fn starts_at_param(&self, ty: &TypePath) -> bool {
        let Some(first) = ty.path.segments.first() else {
            return false;
        };
        ty.qself.is_none()
            && ty.path.leading_colon.is_none()
            && first.arguments.is_none()
            && self.params.contains(&&first.ident)
    }

    /// Whether any token of `tokens` names a type parameter (for types the walk cannot see
    /// into: `<X as Trait>::Y` and macros).
    fn mentions_param(&self, tokens: TokenStream) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => self.params.contains(&&ident),
            TokenTree::Group(group) => self.mentions_param(group.stream()),
            _ => false,
        })
    }
}

impl<'ast> Visit<'ast> for BoundFinder<'_> {
    fn visit_type(&mut self, ty: &'ast Type) {
        match ty {
            // `&T` and `PhantomData<T>` implement `DeepSize` for every `T` (`&mut T` for none:
            // such a field is an error whatever the bounds).
            Type::Reference(_) => {}
            Type::Path(path) if is_phantom_data(path) => {}
            // For `T::Item`, `T::Item: DeepSize` rather than `T: DeepSize`, which may not hold.
            Type::Path(path) if self.starts_at_param(path) => self.add(ty.clone()),
            Type::Path(TypePath { qself: Some(_), .. }) | Type::Macro(_) => {
                if self.mentions_param(ty.to_token_stream()) {
                    self.add(ty.clone());
                }
            }
            _ => syn::visit::visit_type(self, ty),
        }
    }
}

fn is_phantom_data(ty: &TypePath) -> bool {
    ty.path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "PhantomData")
}

/// ```text
/// #[automatically_derived]
/// impl<'a, T, const N: usize> ::memo_runtime::DeepSize for Name<'a, T, N>
/// where
///     T: Clone,                     // the input's own where clause, kept
///     T: ::memo_runtime::DeepSize,  // from `bounded_types`
/// {
///     fn heap_size(&self) -> usize {
///         // a struct: its measured fields (skipped ones are left out), each call spanned on
///         // the field's type
///         ::memo_runtime::DeepSize::heap_size(&self.name)
///             + ::memo_runtime::DeepSize::heap_size(&self.0)
///         // an enum: the live variant's measured fields (`match *self {}` without variants)
///         match self {
///             Self::Unit { .. } => 0,
///             Self::Pair { 0: __field0, .. } => ::memo_runtime::DeepSize::heap_size(__field0),
///         }
///     }
/// }
/// ```
fn emit(input: &Input<'_>) -> TokenStream {
    let body = match &input.shape {
        Shape::Struct(fields) => sum(fields.iter().filter(|f| !f.skip).map(|field| {
            let member = &field.member;
            heap_size_of(field, quote!(&self.#member))
        })),
        // `*self`: an empty match on a reference is not exhaustive.
        Shape::Enum(variants) if variants.is_empty() => quote!(match *self {}),
        Shape::Enum(variants) => {
            let arms = variants.iter().map(emit_arm);
            quote!(match self { #(#arms)* })
        }
    };
    let mut generics = input.generics.clone();
    let bounds = bounded_types(input);
    if !bounds.is_empty() {
        let predicates = &mut generics.make_where_clause().predicates;
        for ty in bounds {
            let bound: WherePredicate = syn::parse_quote!(#ty: ::memo_runtime::DeepSize);
            predicates.push(bound);
        }
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ident = input.ident;
    quote! {
        #[automatically_derived]
        impl #impl_generics ::memo_runtime::DeepSize for #ident #ty_generics #where_clause {
            fn heap_size(&self) -> usize {
                #body
            }
        }
    }
}

/// `Self::Variant { name: __field0, 1: __field1, .. } => heap(__field0) + heap(__field1),`
fn emit_arm(variant: &Variant<'_>) -> TokenStream {
    let ident = variant.ident;
    let (bindings, terms): (Vec<_>, Vec<_>) = variant
        .fields
        .iter()
        .enumerate()
        .filter(|(_, field)| !field.skip)
        .map(|(i, field)| {
            let member = &field.member;
            let name = format_ident!("__field{}", i, span = Span::mixed_site());
            (
                quote!(#member: #name),
                heap_size_of(field, name.to_token_stream()),
            )
        })
        .unzip();
    let total = sum(terms.into_iter());
    // Braces match every variant shape: `Self::Unit { .. }`, `Self::Tuple { 0: a, .. }`.
    quote!(Self::#ident { #(#bindings,)* .. } => #total,)
}

/// `::memo_runtime::DeepSize::heap_size(place)`, spanned on the field's type so that the error
/// for a type without `DeepSize` labels the field. (`<Type as DeepSize>::heap_size` would put
/// the error on the field alone, but loses the trait's note and suggests borrowing the field,
/// which would compile and measure nothing.)
fn heap_size_of(field: &Field<'_>, place: TokenStream) -> TokenStream {
    quote_spanned!(field.ty.span()=> ::memo_runtime::DeepSize::heap_size(#place))
}

/// `a + b + c`, or `0` when nothing is measured.
fn sum(terms: impl Iterator<Item = TokenStream>) -> TokenStream {
    let terms: Vec<TokenStream> = terms.collect();
    if terms.is_empty() {
        quote!(0)
    } else {
        quote!(#(#terms)+*)
    }
}

/// After an error, an impl that measures nothing: the type still implements `DeepSize`, so the
/// error above is the only one instead of one more at every use of the type as a key or value.
fn fallback(input: &DeriveInput) -> TokenStream {
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let ident = &input.ident;
    quote! {
        #[automatically_derived]
        impl #impl_generics ::memo_runtime::DeepSize for #ident #ty_generics #where_clause {
            fn heap_size(&self) -> usize {
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The messages of the errors `input` gives, in order.
    fn errors(input: &DeriveInput) -> Vec<String> {
        let ctxt = Ctxt::default();
        let _ = Input::from_syn(&ctxt, input);
        match ctxt.check() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// The bounds the impl adds, as text.
    fn bounds(input: &DeriveInput) -> Vec<String> {
        let ctxt = Ctxt::default();
        let parsed = Input::from_syn(&ctxt, input).expect("a struct or enum");
        assert!(ctxt.check().is_ok());
        bounded_types(&parsed)
            .iter()
            .map(|ty| ty.to_token_stream().to_string())
            .collect()
    }

    #[test]
    fn a_union_is_an_error_and_still_gets_a_stub_impl() {
        let input: DeriveInput = parse_quote!(
            union Bits {
                a: u32,
                b: f32,
            }
        );
        let messages = errors(&input);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].starts_with("`DeepSize` can be derived for structs and enums"));
        let out = expand(&input).to_string();
        assert!(out.contains("compile_error"));
        assert!(out.contains("impl :: memo_runtime :: DeepSize for Bits"));
    }

    #[test]
    fn every_bad_attribute_is_reported() {
        let input: DeriveInput = parse_quote!(
            #[deep_size(skip)]
            #[repr(C, packed)]
            struct S {
                #[deep_size(ignore)]
                a: u8,
                #[deep_size(skip, skip)]
                b: u8,
                #[deep_size(skip = true)]
                c: u8,
            }
        );
        assert_eq!(
            errors(&input),
            [
                "`deep_size` attributes go on fields: `#[deep_size(skip)]` counts only a \
                 field's inline size",
                "`DeepSize` cannot be derived for `#[repr(packed)]` types (their fields cannot \
                 be borrowed): implement `DeepSize` by hand",
                "unknown `deep_size` argument; accepted: `skip` (count only the field's inline \
                 size)",
                "duplicate `deep_size` argument `skip`",
                "`skip` takes no value: `#[deep_size(skip)]`",
            ]
        );
    }

    #[test]
    fn attributes_on_variants_are_errors() {
        let input: DeriveInput = parse_quote!(
            enum E {
                #[deep_size(skip)]
                A(String),
            }
        );
        assert_eq!(errors(&input).len(), 1);
    }

    #[test]
    fn bounds_only_for_parameters_in_measured_fields() {
        let input: DeriveInput = parse_quote!(
            struct S<'a, T, U, V, W, X, const N: usize>
            where
                T: Clone,
            {
                a: Vec<T>,
                b: &'a U,
                c: ::core::marker::PhantomData<V>,
                #[deep_size(skip)]
                d: W,
                e: [Option<T>; N],
                f: X::Item,
                g: <Vec<X> as IntoIterator>::IntoIter,
            }
        );
        assert_eq!(
            bounds(&input),
            [
                "T",
                "X :: Item",
                "< Vec < X > as IntoIterator > :: IntoIter"
            ]
        );
    }

    #[test]
    fn enum_bounds_cover_every_variant() {
        let input: DeriveInput = parse_quote!(
            enum E<A, B> {
                One(Box<A>),
                Two { b: (u8, B) },
                Three,
            }
        );
        assert_eq!(bounds(&input), ["A", "B"]);
    }

    #[test]
    fn the_impl_keeps_generics_and_where_clause() {
        let input: DeriveInput = parse_quote!(
            struct S<'a, T: Copy, const N: usize>
            where
                T: Clone,
            {
                a: &'a [T; N],
                b: T,
            }
        );
        let item: syn::ItemImpl = syn::parse2(expand(&input)).expect("an impl");
        assert_eq!(
            item.generics.to_token_stream().to_string(),
            "< 'a , T : Copy , const N : usize >"
        );
        assert_eq!(
            item.generics.where_clause.to_token_stream().to_string(),
            "where T : Clone , T : :: memo_runtime :: DeepSize"
        );
        assert_eq!(
            item.self_ty.to_token_stream().to_string(),
            "S < 'a , T , N >"
        );
    }

    #[test]
    fn struct_bodies_sum_measured_fields() {
        let input: DeriveInput = parse_quote!(
            struct S(String, #[deep_size(skip)] Handle, Vec<u8>);
        );
        let out = expand(&input).to_string();
        assert!(out.contains(
            "{ :: memo_runtime :: DeepSize :: heap_size (& self . 0) + :: memo_runtime :: \
             DeepSize :: heap_size (& self . 2) }"
        ));
        let unit: DeriveInput = parse_quote!(
            struct U;
        );
        assert!(expand(&unit).to_string().contains("{ 0 }"));
    }

    #[test]
    fn enum_arms_bind_measured_fields_only() {
        let input: DeriveInput = parse_quote!(
            enum E {
                Unit,
                Tuple(#[deep_size(skip)] Handle, String),
                Named { a: u8 },
            }
        );
        let out = expand(&input).to_string();
        assert!(out.contains("Self :: Unit { .. } => 0 ,"));
        assert!(out.contains(
            "Self :: Tuple { 1 : __field1 , .. } => :: memo_runtime :: DeepSize :: heap_size \
             (__field1) ,"
        ));
        assert!(out.contains("Self :: Named { a : __field0 , .. } =>"));
        let empty: DeriveInput = parse_quote!(
            enum Never {}
        );
        assert!(expand(&empty).to_string().contains("match * self { }"));
    }
}
