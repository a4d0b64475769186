//! The gate between `#[faas_cached]`'s tier options and the runtime's cargo features: a macro
//! evaluated with this crate's features, so that `redis = ..` without the `redis` feature is
//! one clear error instead of a cascade of missing methods.

/// `__faas_memo_redis!(builder => .calls..)`: the builder with the calls when the `redis`
/// feature is on.
#[cfg(feature = "redis")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faas_memo_redis {
    ($builder:expr => $($calls:tt)*) => {
        $builder $($calls)*
    };
}

/// Without the `redis` feature: the builder alone, and the error that says what to do.
#[cfg(not(feature = "redis"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faas_memo_redis {
    ($builder:expr => $($calls:tt)*) => {{
        ::core::compile_error!(
            "`redis` needs the `redis` cargo feature of memo-runtime: \
             memo-runtime = { version = \"..\", features = [\"redis\"] }"
        );
        $builder
    }};
}

/// `__faas_memo_disk!(builder => .calls..)`: the builder with the calls when the `disk`
/// feature is on.
#[cfg(feature = "disk")]
#[doc(hidden)]
#[macro_export]
macro_rules! __faas_memo_disk {
    ($builder:expr => $($calls:tt)*) => {
        $builder $($calls)*
    };
}

/// Without the `disk` feature: the builder alone, and the error that says what to do.
#[cfg(not(feature = "disk"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __faas_memo_disk {
    ($builder:expr => $($calls:tt)*) => {{
        ::core::compile_error!(
            "`disk` needs the `disk` cargo feature of memo-runtime: \
             memo-runtime = { version = \"..\", features = [\"disk\"] }"
        );
        $builder
    }};
}
