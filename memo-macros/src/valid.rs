//! Rules across options and the function: each check records an error, none emits tokens.

use syn::{GenericArgument, PathArguments, Type};

use crate::args::Options;
use crate::ast::{Function, Shape};
use crate::ctxt::Ctxt;
use crate::symbol;

/// The most key arguments [`memo_runtime::KeyRef`] supports.
const MAX_KEY_PARTS: usize = 12;

pub(crate) fn check(ctxt: &Ctxt, options: &Options, function: &Function) {
    custom_key(ctxt, options);
    dedupe(ctxt, options);
    key_arity(ctxt, options, function);
    float_keys(ctxt, options, function);
    redis(ctxt, options);
    freshness(ctxt, options, function);
    disk(ctxt, options);
}

/// The options about an entry's age need an age (`ttl`, or a `WithTtl` return), a `Result`
/// for `fallback`, and stampede protection: "one caller recomputes" is the registry's job.
fn freshness(ctxt: &Ctxt, options: &Options, function: &Function) {
    let with_ttl = function.output.with_ttl;
    let has_ttl = options.ttl.is_some() || with_ttl;
    let needs_ttl = [
        (symbol::STALE, options.stale.as_ref().map(|s| &s.tokens)),
        (
            symbol::FALLBACK,
            options.fallback.as_ref().map(|s| &s.tokens),
        ),
        (symbol::REFRESH_AHEAD, options.refresh_ahead.as_ref()),
    ];
    for (name, tokens) in needs_ttl {
        if let (false, Some(tokens)) = (has_ttl, tokens) {
            ctxt.error_spanned_by(
                tokens,
                format!(
                    "`{name}` is about what happens around an entry's expiry, and this function's \
                     entries never expire: add `ttl = ..`, or return `memo_runtime::WithTtl<T>`"
                ),
            );
        }
    }
    if let Some(tokens) = &options.refresh_on_hit {
        if with_ttl {
            ctxt.error_spanned_by(
                tokens,
                "`refresh_on_hit` extends an entry's life by the function's `ttl`, and a \
                 `WithTtl` return gives each value its own: use one or the other",
            );
        } else if options.ttl.is_none() {
            ctxt.error_spanned_by(
                tokens,
                "`refresh_on_hit` extends an entry's life by the TTL on every hit: add \
                 `ttl = ..`",
            );
        }
    }
    if let Some(fallback) = &options.fallback {
        if !matches!(function.output.shape, Shape::Ok | Shape::OkSome) {
            ctxt.error_spanned_by(
                &fallback.tokens,
                "`fallback` returns the expired `Ok` value when recomputing it returns `Err`: \
                 it needs a function that returns a `Result` (with `result` on)",
            );
        }
    }
    if let Some(dedupe) = options.dedupe.as_ref().filter(|d| !d.value) {
        if let Some(name) = options.fresh_option_name(with_ttl) {
            ctxt.error_spanned_by(
                dedupe,
                format!(
                    "`dedupe = false` cannot go with `{name}`: it relies on the registry of \
                     computations in flight (one caller recomputes, the others are served or wait)"
                ),
            );
        }
    }
}

/// `disk_max_size` bounds the disk tier: it needs one.
fn disk(ctxt: &Ctxt, options: &Options) {
    if let (None, Some(size)) = (&options.disk, &options.disk_max_size) {
        ctxt.error_spanned_by(
            &size.tokens,
            "`disk_max_size` needs a disk tier: add `disk = \"/path/to/dir\"` (or `disk = true`), \
             or remove it",
        );
    }
}

/// A float argument in the key: `f32` and `f64` are neither `Hash` nor `Eq`, so the key would
/// fail its bounds with rustc's generic note. Said here, once, on the type, with what to do.
/// Only for types that are certainly not `Hash` (a float, or a reference, slice, array,
/// tuple, `Vec`, `Option`, `Box`, `Rc` or `Arc` of one): a type of one's own that holds a
/// float (`OrderedFloat<f64>`) may implement `Hash` and is left to the bounds, whose notes
/// also speak of floats.
fn float_keys(ctxt: &Ctxt, options: &Options, function: &Function) {
    if options.key.is_some() {
        return;
    }
    let whole_key = bits_key(function);
    for param in function.key_params() {
        let Some(float) = certainly_float(&param.ty) else {
            continue;
        };
        let name = &param.ident;
        let bits = if float == "f32" { "u32" } else { "u64" };
        let fix = if is_float(&param.ty).is_some() {
            let key = whole_key.clone().unwrap_or_else(|| {
                format!("`key = ({name}.to_bits(), ..), key_type = ({bits}, ..)`")
            });
            format!("key it by its bits, {key}, or by a rounded integer")
        } else {
            format!(
                "key it by the bits of its floats (`{float}::to_bits`, a `{bits}`) with \
                 `key = ..., key_type = ...`"
            )
        };
        ctxt.error_spanned_by(
            &param.ty,
            format!(
                "`{name}` cannot be part of the cache key: `{float}` is neither `Hash` nor `Eq` \
                 (`NaN != NaN`); {fix}, or leave it out of the key with `#[exclude]`"
            ),
        );
    }
}

/// The whole `key = .., key_type = ..` that keys every float argument by its bits, when every
/// key argument is a float or a `Copy` scalar (so the expression is exactly what to write):
/// `` `key = (price.to_bits(), region), key_type = (u64, u32)` ``.
fn bits_key(function: &Function) -> Option<String> {
    if function.keyed_receiver().is_some() {
        return None;
    }
    let mut exprs = Vec::new();
    let mut types = Vec::new();
    for param in function.key_params() {
        let name = &param.ident;
        match is_float(&param.ty) {
            Some(float) => {
                exprs.push(format!("{name}.to_bits()"));
                types.push(if float == "f32" { "u32" } else { "u64" }.to_owned());
            }
            None => {
                let scalar = scalar_name(&param.ty)?;
                exprs.push(name.to_string());
                types.push(scalar);
            }
        }
    }
    match (exprs.as_slice(), types.as_slice()) {
        ([expr], [ty]) => Some(format!("`key = {expr}, key_type = {ty}`")),
        _ => Some(format!(
            "`key = ({}), key_type = ({})`",
            exprs.join(", "),
            types.join(", ")
        )),
    }
}

/// The name of a `Copy` scalar type written as a single identifier (`u32`, `bool`, `char`).
fn scalar_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else {
        return None;
    };
    let ident = path.path.get_ident()?.to_string();
    matches!(
        ident.as_str(),
        "u8" | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "bool"
            | "char"
    )
    .then_some(ident)
}

/// `Some("f32")` or `Some("f64")` if `ty` is that float.
fn is_float(ty: &Type) -> Option<&'static str> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let primitive = path.path.segments.len() == 1
        || path
            .path
            .segments
            .iter()
            .rev()
            .nth(1)
            .is_some_and(|s| s.ident == "primitive");
    match last.ident.to_string().as_str() {
        "f32" if primitive => Some("f32"),
        "f64" if primitive => Some("f64"),
        _ => None,
    }
}

/// The float that makes `ty` certainly not `Hash`: a float, or a reference, slice, array,
/// tuple, `Vec`, `VecDeque`, `Option`, `Box`, `Rc` or `Arc` that holds one.
fn certainly_float(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Reference(r) => certainly_float(&r.elem),
        Type::Slice(s) => certainly_float(&s.elem),
        Type::Array(a) => certainly_float(&a.elem),
        Type::Paren(p) => certainly_float(&p.elem),
        Type::Group(g) => certainly_float(&g.elem),
        Type::Tuple(t) => t.elems.iter().find_map(certainly_float),
        Type::Path(path) => is_float(ty).or_else(|| {
            let last = path.path.segments.last()?;
            let wrapper = matches!(
                last.ident.to_string().as_str(),
                "Vec" | "VecDeque" | "Option" | "Box" | "Rc" | "Arc"
            );
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            match args.args.first()? {
                GenericArgument::Type(inner) if wrapper => certainly_float(inner),
                _ => None,
            }
        }),
        _ => None,
    }
}

/// `redis_timeout` is the budget of the Redis tier's calls: it needs one. `version` names the
/// namespace of the tiers: it needs one.
fn redis(ctxt: &Ctxt, options: &Options) {
    if let (false, Some(version)) = (options.has_tier(), &options.version) {
        ctxt.error_spanned_by(
            version,
            "`version` pins the namespace of a second-level tier: add `disk = ..` or `redis = ..`, \
             or remove it",
        );
    }
    if let (None, Some(timeout)) = (&options.redis, &options.redis_timeout) {
        ctxt.error_spanned_by(
            &timeout.tokens,
            "`redis_timeout` needs a Redis tier: add `redis = \"redis://host:6379/0\"` (or \
             `redis = true`), or remove it",
        );
    }
}

/// `key` and `key_type` go together: the static's type must be written out.
fn custom_key(ctxt: &Ctxt, options: &Options) {
    match (&options.key, &options.key_type) {
        (Some(key), None) => ctxt.error_spanned_by(
            key,
            "`key` needs `key_type`: the cache's key type must be named, like \
             `key = user.id, key_type = u64`",
        ),
        (None, Some(ty)) => ctxt.error_spanned_by(
            ty,
            "`key_type` needs `key`: give the expression that computes the key, like \
             `key = user.id, key_type = u64`",
        ),
        _ => {}
    }
}

/// `dedupe_timeout` only matters when concurrent misses are deduplicated.
fn dedupe(ctxt: &Ctxt, options: &Options) {
    if let (Some(dedupe), Some(timeout)) = (&options.dedupe, &options.dedupe_timeout) {
        if !dedupe.value {
            ctxt.error_spanned_by(
                &timeout.tokens,
                "`dedupe_timeout` has no effect with `dedupe = false`: remove one of them",
            );
        }
    }
}

fn key_arity(ctxt: &Ctxt, options: &Options, function: &Function) {
    if options.key.is_some() {
        return;
    }
    let receiver = usize::from(function.keyed_receiver().is_some());
    if let Some(param) = function.key_params().nth(MAX_KEY_PARTS - receiver) {
        ctxt.error_spanned_by(
            &param.ty,
            format!(
                "at most {MAX_KEY_PARTS} arguments can form the key: mark some `#[exclude]`, or \
                 give the key with `key = ..., key_type = ...`"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_recognised_only_where_they_are_certainly_not_hash() {
        let float = |ty: &str| certainly_float(&syn::parse_str(ty).unwrap());
        assert_eq!(float("f64"), Some("f64"));
        assert_eq!(float("&f32"), Some("f32"));
        assert_eq!(float("&[f32]"), Some("f32"));
        assert_eq!(float("(u8, f64)"), Some("f64"));
        assert_eq!(float("[f64; 3]"), Some("f64"));
        assert_eq!(float("Vec<Option<f64>>"), Some("f64"));
        assert_eq!(float("std::primitive::f64"), Some("f64"));
        assert_eq!(float("OrderedFloat<f64>"), None);
        assert_eq!(float("HashMap<String, f64>"), None);
        assert_eq!(float("my::f64"), None);
        assert_eq!(float("u64"), None);
    }

    #[test]
    fn the_whole_bits_key_is_given_when_the_arguments_are_scalars() {
        let key = |item: &str| {
            let ctxt = Ctxt::default();
            let options = crate::args::Options::default();
            let function = Function::from_syn(&ctxt, &options, syn::parse_str(item).unwrap());
            assert!(ctxt.check().is_ok(), "{item}");
            bits_key(&function)
        };
        assert_eq!(
            key("fn tax(price: f64, region: u32) -> f64 { 0.0 }").as_deref(),
            Some("`key = (price.to_bits(), region), key_type = (u64, u32)`")
        );
        assert_eq!(
            key("fn half(x: f32) -> f32 { x }").as_deref(),
            Some("`key = x.to_bits(), key_type = u32`")
        );
        assert_eq!(key("fn f(x: f64, name: &str) -> u8 { 0 }"), None);
    }
}
