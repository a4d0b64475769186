//! `#[derive(DeepSize)]`: the heap size of a struct or enum is the sum of its fields' heap
//! sizes (the inline size comes from `size_of_val` in the trait's provided method).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::{
    Data, DeriveInput, Field, Fields, GenericParam, Ident, Index, Member, TypePath, WherePredicate,
};

/// ```text
/// #[automatically_derived]
/// impl<T> ::memo_runtime::DeepSize for Name<T> where T: ::memo_runtime::DeepSize, .. {
///     fn heap_size(&self) -> usize {
///         0 + DeepSize::heap_size(&self.a) + ..            // struct
///         match self { Self::V(f0, _) => 0 + heap(f0), .. } // enum; skipped fields bind `_`
///     }
/// }
/// ```
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let body = match &input.data {
        Data::Struct(data) => {
            let (pattern, sum) = fields_sum(&data.fields)?;
            quote! {
                let Self #pattern = self;
                #sum
            }
        }
        Data::Enum(data) => {
            let mut arms = Vec::new();
            for variant in &data.variants {
                let ident = &variant.ident;
                let (pattern, sum) = fields_sum(&variant.fields)?;
                arms.push(quote!(Self::#ident #pattern => #sum,));
            }
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`DeepSize` can be derived for structs and enums, not unions (which field is \
                 live is unknown): implement `DeepSize` by hand",
            ))
        }
    };

    let mut generics = input.generics.clone();
    let used = used_type_params(input);
    let where_clause = generics.make_where_clause();
    for param in used {
        let bound: WherePredicate = syn::parse_quote!(#param: ::memo_runtime::DeepSize);
        where_clause.predicates.push(bound);
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let name = &input.ident;
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics ::memo_runtime::DeepSize for #name #ty_generics #where_clause {
            fn heap_size(&self) -> usize {
                #body
            }
        }
    })
}

/// A pattern binding the fields to measure, and the sum of their heap sizes.
fn fields_sum(fields: &Fields) -> syn::Result<(TokenStream, TokenStream)> {
    let mut bindings = Vec::new();
    let mut terms = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let member = match &field.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(Index::from(i)),
        };
        let binding = format_ident!("__field{}", i);
        if is_skipped(field)? {
            bindings.push(quote!(#member: _));
        } else {
            terms.push(quote!(::memo_runtime::DeepSize::heap_size(#binding)));
            bindings.push(quote!(#member: #binding));
        }
    }
    let pattern = match fields {
        Fields::Unit => TokenStream::new(),
        // Braces work for tuple structs and variants too: `Self { 0: a, 1: _ }`.
        _ => quote!({ #(#bindings,)* }),
    };
    Ok((pattern, quote!(0usize #(+ #terms)*)))
}

/// Whether a field carries `#[deep_size(skip)]`; any other `deep_size` argument is an error.
fn is_skipped(field: &Field) -> syn::Result<bool> {
    let mut skipped = false;
    for attr in &field.attrs {
        if !attr.path().is_ident("deep_size") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skipped = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `deep_size` argument; accepted: `skip` (count only the field's \
                     inline size)",
                ))
            }
        })?;
    }
    Ok(skipped)
}

/// Type parameters that appear in measured fields (outside `PhantomData`): only those need a
/// `DeepSize` bound.
fn used_type_params(input: &DeriveInput) -> Vec<Ident> {
    let params: Vec<Ident> = input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => Some(t.ident.clone()),
            _ => None,
        })
        .collect();
    let mut finder = ParamFinder {
        params: &params,
        found: Vec::new(),
    };
    let fields: Vec<&Field> = match &input.data {
        Data::Struct(s) => s.fields.iter().collect(),
        Data::Enum(e) => e.variants.iter().flat_map(|v| v.fields.iter()).collect(),
        Data::Union(_) => Vec::new(),
    };
    for field in fields {
        if !is_skipped(field).unwrap_or(false) {
            finder.visit_type(&field.ty);
        }
    }
    let found = finder.found;
    params.into_iter().filter(|p| found.contains(p)).collect()
}

struct ParamFinder<'a> {
    params: &'a [Ident],
    found: Vec<Ident>,
}

impl<'ast> Visit<'ast> for ParamFinder<'_> {
    fn visit_type_path(&mut self, ty: &'ast TypePath) {
        if let Some(last) = ty.path.segments.last() {
            if last.ident == "PhantomData" {
                return;
            }
        }
        if ty.qself.is_none() && ty.path.segments.len() == 1 {
            let ident = &ty.path.segments[0].ident;
            if self.params.contains(ident) && !self.found.contains(ident) {
                self.found.push(ident.clone());
            }
        }
        syn::visit::visit_type_path(self, ty);
    }
}
