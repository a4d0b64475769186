//! Parsing the options of `#[faas_cached(...)]`, each kept with the tokens it came from so that
//! errors and assertions point at them.

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitBool, LitStr, Token, Type, UnOp};

use crate::ctxt::Ctxt;
use crate::size::parse::parse_byte_size;
use crate::size::percent::parse_percent;
use crate::symbol;

/// The eviction policies `policy = "..."` names.
#[derive(Clone, Copy)]
pub(crate) enum Policy {
    S3Fifo,
    Lru,
}

/// `max_size`: bytes, or a share of the process's memory (`"10%"`) in millionths.
#[derive(Clone, Copy)]
pub(crate) enum MaxSize {
    Bytes(u64),
    Share(u32),
}

/// Where the Redis tier's URL comes from.
pub(crate) enum RedisUrl {
    /// Written in the attribute.
    Literal(LitStr),
    /// `redis = true`: `FAAS_MEMO_REDIS_URL` at run time.
    Env,
}

/// Where the disk tier's directory comes from.
pub(crate) enum DiskDir {
    /// Written in the attribute.
    Literal(LitStr),
    /// `disk = true`: `FAAS_MEMO_DISK_DIR` at run time, else `<temp dir>/faas-memo`.
    Env,
}

/// A validated option value and the tokens that gave it.
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) tokens: TokenStream,
}

#[derive(Default)]
pub(crate) struct Options {
    /// Default time to live, in nanoseconds.
    pub(crate) ttl: Option<Spanned<u64>>,
    pub(crate) max_size: Option<Spanned<MaxSize>>,
    pub(crate) max_items: Option<Spanned<u64>>,
    pub(crate) on_delete: Option<Expr>,
    pub(crate) key: Option<Expr>,
    pub(crate) key_type: Option<Type>,
    pub(crate) name: Option<LitStr>,
    pub(crate) result: Option<LitBool>,
    pub(crate) option: Option<LitBool>,
    pub(crate) dedupe: Option<LitBool>,
    /// In nanoseconds.
    pub(crate) dedupe_timeout: Option<Spanned<u64>>,
    pub(crate) in_impl: bool,
    pub(crate) policy: Option<Policy>,
    /// `redis = "url"` or `redis = true`; `None` also for `redis = false`.
    pub(crate) redis: Option<Spanned<RedisUrl>>,
    /// In nanoseconds.
    pub(crate) redis_timeout: Option<Spanned<u64>>,
    /// `disk = "dir"` or `disk = true`; `None` also for `disk = false`.
    pub(crate) disk: Option<Spanned<DiskDir>>,
    /// In bytes.
    pub(crate) disk_max_size: Option<Spanned<u64>>,
    /// Pins the tiers' namespace (default: a hash of the function's code).
    pub(crate) version: Option<LitStr>,
    /// `memory_budget = false` leaves the process's memory budget.
    pub(crate) memory_budget: Option<LitBool>,
    /// `cached_flag`: the function returns `Cached<T>`; the tokens, for errors.
    pub(crate) cached_flag: Option<TokenStream>,
    /// `refresh_on_hit`: a hit extends the entry's life by the TTL.
    pub(crate) refresh_on_hit: Option<TokenStream>,
    /// `refresh_ahead`: XFetch early recomputation.
    pub(crate) refresh_ahead: Option<TokenStream>,
    /// `fallback = secs`, in nanoseconds.
    pub(crate) fallback: Option<Spanned<u64>>,
    /// `stale = secs`, in nanoseconds.
    pub(crate) stale: Option<Spanned<u64>>,
    /// `force_refresh = <bool expression over the arguments>`.
    pub(crate) force_refresh: Option<Expr>,
    /// `clock = <expression>`: the store's time source (a `MockClock` in tests).
    pub(crate) clock: Option<Expr>,
    /// Names seen, to report duplicates.
    seen: Vec<String>,
}

/// Parses the attribute's arguments. Semantic errors are recorded in `ctxt` (so that all are
/// reported at once); only malformed syntax stops parsing.
pub(crate) fn parse(ctxt: &Ctxt, args: TokenStream) -> Options {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| options.parse_one(ctxt, meta));
    if let Err(err) = parser.parse2(args) {
        ctxt.syn_error(err);
    }
    options
}

impl Options {
    fn parse_one(&mut self, ctxt: &Ctxt, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(ident) = meta.path.get_ident() else {
            let path = &meta.path;
            ctxt.error_spanned_by(path, unknown_message(&quote::quote!(#path).to_string()));
            return skip_value(&meta);
        };
        let name = ident.to_string();
        if self.seen.contains(&name) {
            ctxt.error_spanned_by(ident, format!("duplicate option `{name}`"));
            return skip_value(&meta);
        }
        self.seen.push(name.clone());

        match name.as_str() {
            symbol::IN_IMPL => {
                self.in_impl = if meta.input.peek(Token![=]) {
                    bool_value(ctxt, &name, &meta.value()?.parse()?).is_some_and(|b| b.value)
                } else {
                    true
                };
            }
            symbol::TTL => self.ttl = seconds(ctxt, &name, &value(&meta)?),
            symbol::STALE => self.stale = seconds(ctxt, &name, &value(&meta)?),
            symbol::FALLBACK => self.fallback = seconds(ctxt, &name, &value(&meta)?),
            symbol::CACHED_FLAG => self.cached_flag = flag(ctxt, &meta, &name)?,
            symbol::REFRESH_ON_HIT => self.refresh_on_hit = flag(ctxt, &meta, &name)?,
            symbol::REFRESH_AHEAD => self.refresh_ahead = flag(ctxt, &meta, &name)?,
            symbol::FORCE_REFRESH => self.force_refresh = Some(value(&meta)?),
            symbol::CLOCK => self.clock = Some(value(&meta)?),
            symbol::DEDUPE_TIMEOUT => self.dedupe_timeout = seconds(ctxt, &name, &value(&meta)?),
            symbol::MAX_SIZE => self.max_size = byte_size(ctxt, &value(&meta)?),
            symbol::MAX_ITEMS => self.max_items = item_count(ctxt, &value(&meta)?),
            symbol::ON_DELETE => {
                let expr = value(&meta)?;
                match unwrap_group(&expr) {
                    Expr::Path(_) | Expr::Closure(_) => self.on_delete = Some(expr),
                    _ => ctxt.error_spanned_by(
                        &expr,
                        "`on_delete` takes a path to a function `fn(&K, &V, DeleteReason)`, \
                         or a closure",
                    ),
                }
            }
            symbol::KEY => self.key = Some(value(&meta)?),
            symbol::KEY_TYPE => self.key_type = Some(meta.value()?.parse()?),
            symbol::NAME => match unwrap_group(&value(&meta)?) {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => self.name = Some(s.clone()),
                other => ctxt.error_spanned_by(
                    other,
                    "`name` takes a string literal, like `name = \"user_profiles\"`",
                ),
            },
            symbol::RESULT => self.result = bool_value(ctxt, &name, &value(&meta)?),
            symbol::OPTION => self.option = bool_value(ctxt, &name, &value(&meta)?),
            symbol::DEDUPE => self.dedupe = bool_value(ctxt, &name, &value(&meta)?),
            symbol::MEMORY_BUDGET => {
                self.memory_budget = bool_value(ctxt, &name, &value(&meta)?);
            }
            symbol::POLICY => self.policy = policy(ctxt, &value(&meta)?),
            symbol::REDIS => self.redis = redis_url(ctxt, &value(&meta)?),
            symbol::REDIS_TIMEOUT => self.redis_timeout = seconds(ctxt, &name, &value(&meta)?),
            symbol::DISK => self.disk = disk_dir(ctxt, &value(&meta)?),
            symbol::DISK_MAX_SIZE => self.disk_max_size = disk_size(ctxt, &value(&meta)?),
            symbol::VERSION => match unwrap_group(&value(&meta)?) {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) if !s.value().is_empty() => self.version = Some(s.clone()),
                other => ctxt.error_spanned_by(
                    other,
                    "`version` takes a non-empty string literal, like `version = \"2024-06\"`",
                ),
            },
            _ => {
                ctxt.error_spanned_by(ident, unknown_message(&name));
                return skip_value(&meta);
            }
        }
        Ok(())
    }
}

/// A flag: `name` alone or `name = true` gives its tokens, `name = false` nothing.
fn flag(ctxt: &Ctxt, meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<Option<TokenStream>> {
    let path = &meta.path;
    let tokens = quote::quote!(#path);
    if !meta.input.peek(Token![=]) {
        return Ok(Some(tokens));
    }
    let expr: Expr = meta.value()?.parse()?;
    Ok(match unwrap_group(&expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => b.value.then_some(tokens),
        other => {
            ctxt.error_spanned_by(
                other,
                format!("`{name}` is a flag: write `{name}` (or `{name} = true`)"),
            );
            None
        }
    })
}

fn value(meta: &ParseNestedMeta<'_>) -> syn::Result<Expr> {
    meta.value()?.parse()
}

/// Consumes `= <expr>` after an option that is rejected, so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    }
    Ok(())
}

fn unknown_message(name: &str) -> String {
    let accepted = symbol::ALL
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let nearest = symbol::ALL
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .min();
    match nearest {
        Some((distance, candidate)) if distance <= 2 || candidate.starts_with(name) => {
            format!("unknown option `{name}`; did you mean `{candidate}`? accepted: {accepted}")
        }
        _ => format!("unknown option `{name}`; accepted: {accepted}"),
    }
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Looks through the invisible groups that `macro_rules!` wraps around `$e:expr`.
pub(crate) fn unwrap_group(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => unwrap_group(&group.expr),
        Expr::Paren(paren) => unwrap_group(&paren.expr),
        other => other,
    }
}

fn is_negative(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            ..
        })
    )
}

/// `ttl = 60`, `ttl = 0.5`: seconds greater than zero, as nanoseconds.
fn seconds(ctxt: &Ctxt, name: &str, expr: &Expr) -> Option<Spanned<u64>> {
    let accepted = format!("like `{name} = 60` or `{name} = 0.5`");
    let seconds = match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(n) => n as f64,
            Err(err) => {
                ctxt.error_spanned_by(int, format!("`{name}`: {err}"));
                return None;
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => match float.base10_parse::<f64>() {
            Ok(n) => n,
            Err(err) => {
                ctxt.error_spanned_by(float, format!("`{name}`: {err}"));
                return None;
            }
        },
        e if is_negative(e) => {
            ctxt.error_spanned_by(
                e,
                format!("`{name}` must be greater than zero, found a negative number"),
            );
            return None;
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => {
            ctxt.error_spanned_by(
                s,
                format!("`{name}` takes a number of seconds, {accepted}, not a string"),
            );
            return None;
        }
        other => {
            ctxt.error_spanned_by(
                other,
                format!("`{name}` takes a literal number of seconds, {accepted}"),
            );
            return None;
        }
    };
    let nanos = seconds * 1e9;
    if nanos.is_nan() || seconds <= 0.0 {
        ctxt.error_spanned_by(
            expr,
            format!("`{name}` must be greater than zero (omit it for no limit)"),
        );
        return None;
    }
    if nanos < 1.0 {
        ctxt.error_spanned_by(
            expr,
            format!(
                "`{name}` is below the 1 ns resolution of a duration: give at least \
                 `{name} = 0.000000001`"
            ),
        );
        return None;
    }
    if nanos >= u64::MAX as f64 {
        ctxt.error_spanned_by(expr, format!("`{name}` is too large (at most 584 years)"));
        return None;
    }
    Some(Spanned {
        value: nanos as u64,
        tokens: quote::quote!(#expr),
    })
}

/// `max_size = "64M"`, an integer number of bytes, or `"10%"` of the process's memory.
fn byte_size(ctxt: &Ctxt, expr: &Expr) -> Option<Spanned<MaxSize>> {
    let bytes = match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if parse_percent(&s.value()).is_some() => {
            return match parse_percent(&s.value())? {
                Ok(millionths) => Some(Spanned {
                    value: MaxSize::Share(millionths),
                    tokens: quote::quote!(#expr),
                }),
                Err(reason) => {
                    ctxt.error_spanned_by(
                        s,
                        format!("invalid `max_size` {:?}: {reason}", s.value()),
                    );
                    None
                }
            };
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match parse_byte_size(&s.value()) {
            Ok(bytes) => bytes,
            Err(reason) => {
                ctxt.error_spanned_by(s, format!("invalid `max_size` {:?}: {reason}", s.value()));
                return None;
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(0) => {
                ctxt.error_spanned_by(
                    int,
                    "`max_size` must be greater than zero (omit it for no byte bound)",
                );
                return None;
            }
            Ok(bytes) => bytes,
            Err(err) => {
                ctxt.error_spanned_by(int, format!("`max_size`: {err}"));
                return None;
            }
        },
        e if is_negative(e) => {
            ctxt.error_spanned_by(
                e,
                "`max_size` must be greater than zero, found a negative number",
            );
            return None;
        }
        other => {
            ctxt.error_spanned_by(
                other,
                "`max_size` takes a size like \"64M\", \"512K\", \"1.5G\" (binary units, \
                 K = 1024), an integer number of bytes, or a share of the process's memory \
                 like \"10%\"",
            );
            return None;
        }
    };
    Some(Spanned {
        value: MaxSize::Bytes(bytes),
        tokens: quote::quote!(#expr),
    })
}

/// `max_items = 256`: an integer greater than zero.
fn item_count(ctxt: &Ctxt, expr: &Expr) -> Option<Spanned<u64>> {
    match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(0) => ctxt.error_spanned_by(
                int,
                "`max_items` must be at least 1 (omit it for no item bound)",
            ),
            Ok(n) if u32::try_from(n).is_err() => ctxt.error_spanned_by(
                int,
                "`max_items` must be below 2^32; a larger store is better bounded by `max_size`",
            ),
            Ok(n) => {
                return Some(Spanned {
                    value: n,
                    tokens: quote::quote!(#expr),
                })
            }
            Err(err) => ctxt.error_spanned_by(int, format!("`max_items`: {err}")),
        },
        e if is_negative(e) => {
            ctxt.error_spanned_by(e, "`max_items` must be at least 1, found a negative number")
        }
        other => ctxt.error_spanned_by(
            other,
            "`max_items` takes an integer literal, like `max_items = 256`",
        ),
    }
    None
}

/// `policy = "s3fifo"` or `policy = "lru"`, in any case, `-` and `_` ignored (`"LRU"`,
/// `"S3-FIFO"`): the names are the policies' names, as papers and other caches write them.
fn policy(ctxt: &Ctxt, expr: &Expr) -> Option<Policy> {
    const ACCEPTED: &str =
        "`policy` takes \"s3fifo\" (the default) or \"lru\" (case-insensitive, `-` and `_` ignored)";
    match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s
            .value()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "s3fifo" => Some(Policy::S3Fifo),
            "lru" => Some(Policy::Lru),
            _ => {
                ctxt.error_spanned_by(s, format!("unknown policy {:?}: {ACCEPTED}", s.value()));
                None
            }
        },
        other => {
            ctxt.error_spanned_by(other, ACCEPTED);
            None
        }
    }
}

/// `disk = "/path/to/dir"` or `disk = true`.
fn disk_dir(ctxt: &Ctxt, expr: &Expr) -> Option<Spanned<DiskDir>> {
    const ACCEPTED: &str = "`disk` takes a directory like \"/tmp/my-cache\", or `true` to read it \
                            from `FAAS_MEMO_DISK_DIR` at run time (else `<temp dir>/faas-memo`)";
    let tokens = quote::quote!(#expr);
    match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => b.value.then_some(Spanned {
            value: DiskDir::Env,
            tokens,
        }),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if s.value().trim().is_empty() => {
            ctxt.error_spanned_by(s, format!("empty `disk` directory: {ACCEPTED}"));
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(Spanned {
            value: DiskDir::Literal(s.clone()),
            tokens,
        }),
        other => {
            ctxt.error_spanned_by(other, ACCEPTED);
            None
        }
    }
}

/// `disk_max_size = "1G"` or an integer number of bytes (a share of memory says nothing of a
/// disk).
fn disk_size(ctxt: &Ctxt, expr: &Expr) -> Option<Spanned<u64>> {
    const ACCEPTED: &str = "`disk_max_size` takes a size like \"1G\", \"512M\" (binary units, \
                            K = 1024), or an integer number of bytes";
    let bytes = match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) if parse_percent(&s.value()).is_some() => {
            ctxt.error_spanned_by(
                s,
                format!(
                    "invalid `disk_max_size` {:?}: a share of the process's memory does not \
                     bound a disk; {ACCEPTED}",
                    s.value()
                ),
            );
            return None;
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match parse_byte_size(&s.value()) {
            Ok(bytes) => bytes,
            Err(reason) => {
                ctxt.error_spanned_by(
                    s,
                    format!("invalid `disk_max_size` {:?}: {reason}", s.value()),
                );
                return None;
            }
        },
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(0) => {
                ctxt.error_spanned_by(int, "`disk_max_size` must be greater than zero");
                return None;
            }
            Ok(bytes) => bytes,
            Err(err) => {
                ctxt.error_spanned_by(int, format!("`disk_max_size`: {err}"));
                return None;
            }
        },
        other => {
            ctxt.error_spanned_by(other, ACCEPTED);
            return None;
        }
    };
    Some(Spanned {
        value: bytes,
        tokens: quote::quote!(#expr),
    })
}

/// `redis = "redis://host:6379/0"` (also `rediss://` for TLS, `redis+unix://` or `unix://`
/// for a socket) or `redis = true`.
fn redis_url(ctxt: &Ctxt, expr: &Expr) -> Option<Spanned<RedisUrl>> {
    const ACCEPTED: &str = "`redis` takes a URL like \"redis://host:6379/0\" (\"rediss://\" for \
                            TLS, \"redis://:password@host:6379/0\" with a password), or `true` to \
                            read it from `FAAS_MEMO_REDIS_URL` at run time";
    let tokens = quote::quote!(#expr);
    match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => b.value.then_some(Spanned {
            value: RedisUrl::Env,
            tokens,
        }),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match check_redis_url(&s.value()) {
            Ok(()) => Some(Spanned {
                value: RedisUrl::Literal(s.clone()),
                tokens,
            }),
            Err(reason) => {
                ctxt.error_spanned_by(s, format!("invalid `redis` URL {:?}: {reason}", s.value()));
                None
            }
        },
        other => {
            ctxt.error_spanned_by(other, ACCEPTED);
            None
        }
    }
}

/// The checks of a Redis URL that can be made at compile time: a known scheme, a host (or a
/// socket path), a numeric port and database.
fn check_redis_url(url: &str) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("expected a URL starting with `redis://` or `rediss://`".to_owned());
    };
    match scheme {
        "unix" | "redis+unix" => {
            return if rest.starts_with('/') {
                Ok(())
            } else {
                Err("a socket URL needs an absolute path, like `unix:///run/redis.sock`".to_owned())
            };
        }
        "redis" | "rediss" | "valkey" | "valkeys" => {}
        other => {
            return Err(format!(
                "unknown scheme `{other}`; accepted: `redis`, `rediss` (TLS), `unix`"
            ))
        }
    }
    let rest = rest.split(['#', '?']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        // `[::1]:6379`
        Some(v6) => match v6.split_once(']') {
            Some((host, port)) => (host, port.strip_prefix(':')),
            None => return Err("unclosed `[` in the host".to_owned()),
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err("no host".to_owned());
    }
    if let Some(port) = port {
        if port.parse::<u16>().is_err() {
            return Err(format!("the port `{port}` is not a number from 0 to 65535"));
        }
    }
    if !path.is_empty() && path.parse::<u32>().is_err() {
        return Err(format!("the database `{path}` is not a number"));
    }
    Ok(())
}

fn bool_value(ctxt: &Ctxt, name: &str, expr: &Expr) -> Option<LitBool> {
    match unwrap_group(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Some(b.clone()),
        other => {
            ctxt.error_spanned_by(other, format!("`{name}` takes `true` or `false`"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_pick_the_nearest_option() {
        assert!(unknown_message("tll").contains("did you mean `ttl`?"));
        assert!(unknown_message("max_item").contains("did you mean `max_items`?"));
        assert!(!unknown_message("frobnicate").contains("did you mean"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn all_errors_are_collected() {
        let ctxt = Ctxt::default();
        let options = parse(
            &ctxt,
            quote::quote!(ttl = -1, max_size = "64Q", max_items = 3),
        );
        assert_eq!(options.max_items.map(|m| m.value), Some(3));
        let err = ctxt.check().unwrap_err();
        assert_eq!(err.into_iter().count(), 2);
    }

    #[test]
    fn seconds_below_one_nanosecond_are_not_called_zero() {
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(ttl = 1e-10));
        assert!(options.ttl.is_none());
        let message = ctxt.check().unwrap_err().to_string();
        assert!(message.contains("below the 1 ns resolution"), "{message}");
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(ttl = 0.0, dedupe_timeout = 1e-9));
        assert_eq!(options.dedupe_timeout.map(|t| t.value), Some(1));
        let message = ctxt.check().unwrap_err().to_string();
        assert!(message.contains("must be greater than zero"), "{message}");
    }

    #[test]
    fn redis_urls_are_checked() {
        for good in [
            "redis://localhost",
            "redis://127.0.0.1:6379/0",
            "rediss://:pass@cache.example.com:6380/2",
            "redis://user:pass@[::1]:6379",
            "rediss://host:6379/#insecure",
            "unix:///run/redis.sock",
        ] {
            assert_eq!(check_redis_url(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("localhost:6379", "starting with"),
            ("http://localhost", "unknown scheme"),
            ("redis://:6379", "no host"),
            ("redis://host:port", "not a number from"),
            ("redis://host:6379/db", "database"),
            ("unix://relative.sock", "absolute path"),
        ] {
            let err = check_redis_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn policy_names_ignore_case_and_separators() {
        for (written, lru) in [
            ("lru", true),
            ("LRU", true),
            ("Lru", true),
            ("s3fifo", false),
            ("S3-FIFO", false),
            ("s3_fifo", false),
        ] {
            let ctxt = Ctxt::default();
            let options = parse(&ctxt, quote::quote!(policy = #written));
            assert!(ctxt.check().is_ok(), "{written}");
            assert_eq!(
                matches!(options.policy, Some(Policy::Lru)),
                lru,
                "{written}"
            );
            assert!(options.policy.is_some(), "{written}");
        }
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(policy = "fifo"));
        assert!(options.policy.is_none());
        let message = ctxt.check().unwrap_err().to_string();
        assert!(message.contains("case-insensitive"), "{message}");
    }

    #[test]
    fn decimal_looking_size_units_are_rejected_with_a_suggestion() {
        for written in ["64MB", "64 mb", "1.5Gb"] {
            let ctxt = Ctxt::default();
            let options = parse(&ctxt, quote::quote!(max_size = #written));
            assert!(options.max_size.is_none(), "{written}");
            let message = ctxt.check().unwrap_err().to_string();
            assert!(
                message.contains("is ambiguous") && message.contains("iB`"),
                "{written}: {message}"
            );
        }
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(max_size = "64MiB"));
        assert!(ctxt.check().is_ok());
        assert!(matches!(
            options.max_size.map(|m| m.value),
            Some(MaxSize::Bytes(bytes)) if bytes == 64 << 20
        ));
    }

    #[test]
    fn disk_options_are_checked() {
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(disk = "/tmp/c", disk_max_size = "1G"));
        assert!(ctxt.check().is_ok());
        assert!(matches!(
            options.disk.map(|d| d.value),
            Some(DiskDir::Literal(_))
        ));
        assert_eq!(options.disk_max_size.map(|s| s.value), Some(1 << 30));
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(disk = true, disk_max_size = 4096));
        assert!(ctxt.check().is_ok());
        assert!(matches!(options.disk.map(|d| d.value), Some(DiskDir::Env)));
        assert_eq!(options.disk_max_size.map(|s| s.value), Some(4096));
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(disk = false));
        assert!(ctxt.check().is_ok());
        assert!(options.disk.is_none());
        let ctxt = Ctxt::default();
        parse(&ctxt, quote::quote!(disk = 3, disk_max_size = "10%"));
        let message = ctxt.check().unwrap_err().to_string();
        assert!(message.contains("`disk` takes a directory"), "{message}");
    }

    #[test]
    fn fractional_seconds_become_nanoseconds() {
        let ctxt = Ctxt::default();
        let options = parse(&ctxt, quote::quote!(ttl = 0.5, dedupe_timeout = 2));
        assert!(ctxt.check().is_ok());
        assert_eq!(options.ttl.map(|t| t.value), Some(500_000_000));
        assert_eq!(options.dedupe_timeout.map(|t| t.value), Some(2_000_000_000));
    }
}
