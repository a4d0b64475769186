//! Procedural macros of faas-memo. Use them through `memo_runtime`, which re-exports them:
//! `use memo_runtime::{faas_cached, DeepSize};`.
//!
//! This file holds entry points only: each parses its input, calls one `expand`, and turns
//! errors into `compile_error!` tokens.

#![warn(missing_docs, unreachable_pub)]

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

mod args;
mod ast;
mod ctxt;
mod deep_size;
mod expand;
// The runtime's own parser, so that compile-time and runtime checks of `max_size` agree.
#[allow(dead_code)]
#[path = "../../memo-runtime/src/size_parse.rs"]
mod size_parse;
mod symbol;
mod valid;

/// Derives `memo_runtime::DeepSize` for a struct or an enum: the value's inline size plus the
/// heap bytes owned by each field. See the trait's documentation for the field attributes.
#[proc_macro_derive(DeepSize, attributes(deep_size))]
pub fn derive_deep_size(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    deep_size::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Memoizes a function: its results are kept in a static per-function
/// [`FaasCacheDict`](../memo_runtime/struct.FaasCacheDict.html), keyed on its arguments.
///
/// See the `memo_runtime` crate documentation for the options and the generated helpers.
#[proc_macro_attribute]
pub fn faas_cached(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::faas_cached(args.into(), item.into()).into()
}
