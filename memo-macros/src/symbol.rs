//! Names of the attribute's options, in one place.

pub(crate) const TTL: &str = "ttl";
pub(crate) const MAX_SIZE: &str = "max_size";
pub(crate) const MAX_ITEMS: &str = "max_items";
pub(crate) const ON_DELETE: &str = "on_delete";
pub(crate) const KEY: &str = "key";
pub(crate) const KEY_TYPE: &str = "key_type";
pub(crate) const NAME: &str = "name";
pub(crate) const RESULT: &str = "result";
pub(crate) const OPTION: &str = "option";
pub(crate) const DEDUPE: &str = "dedupe";
pub(crate) const DEDUPE_TIMEOUT: &str = "dedupe_timeout";
pub(crate) const IN_IMPL: &str = "in_impl";
pub(crate) const POLICY: &str = "policy";
pub(crate) const REDIS: &str = "redis";
pub(crate) const REDIS_TIMEOUT: &str = "redis_timeout";
pub(crate) const VERSION: &str = "version";
pub(crate) const MEMORY_BUDGET: &str = "memory_budget";
pub(crate) const CACHED_FLAG: &str = "cached_flag";
pub(crate) const REFRESH_ON_HIT: &str = "refresh_on_hit";
pub(crate) const FALLBACK: &str = "fallback";
pub(crate) const FORCE_REFRESH: &str = "force_refresh";
pub(crate) const STALE: &str = "stale";
pub(crate) const REFRESH_AHEAD: &str = "refresh_ahead";
pub(crate) const CLOCK: &str = "clock";
pub(crate) const DISK: &str = "disk";
pub(crate) const DISK_MAX_SIZE: &str = "disk_max_size";

/// Every option, for "did you mean" suggestions and the list in error messages.
pub(crate) const ALL: &[&str] = &[
    TTL,
    MAX_SIZE,
    MAX_ITEMS,
    ON_DELETE,
    KEY,
    KEY_TYPE,
    NAME,
    RESULT,
    OPTION,
    DEDUPE,
    DEDUPE_TIMEOUT,
    IN_IMPL,
    POLICY,
    REDIS,
    REDIS_TIMEOUT,
    VERSION,
    MEMORY_BUDGET,
    CACHED_FLAG,
    REFRESH_ON_HIT,
    FALLBACK,
    FORCE_REFRESH,
    STALE,
    REFRESH_AHEAD,
    CLOCK,
    DISK,
    DISK_MAX_SIZE,
];

/// The parameter attribute that leaves an argument out of the key.
pub(crate) const EXCLUDE: &str = "exclude";
