//! Rules across options and the function: each check records an error, none emits tokens.

use crate::args::Options;
use crate::ast::Function;
use crate::ctxt::Ctxt;

/// The most key arguments [`memo_runtime::KeyRef`] supports.
const MAX_KEY_PARTS: usize = 12;

pub(crate) fn check(ctxt: &Ctxt, options: &Options, function: &Function) {
    custom_key(ctxt, options);
    dedupe(ctxt, options);
    key_arity(ctxt, options, function);
    redis(ctxt, options);
}

/// `redis_timeout` is the budget of the Redis tier's calls: it needs one. `version` names the
/// namespace of the tiers: it needs one.
fn redis(ctxt: &Ctxt, options: &Options) {
    if let (false, Some(version)) = (options.has_tier(), &options.version) {
        ctxt.error_spanned_by(
            version,
            "`version` pins the namespace of a second-level tier: add `redis = ..`, or remove it",
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
