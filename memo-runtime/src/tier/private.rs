//! Items of `__private` for code generated with a tier option (`disk`, `redis`, `version`).
//! They exist with or without the tier features, so that a missing feature or a missing serde
//! impl is one readable error rather than a cascade.

use std::marker::PhantomData;

/// A codec chosen by [`CodecWith`] (opaque to generated code).
#[cfg(feature = "tier")]
#[derive(Debug)]
pub struct TierCodec<K, V>(pub(crate) crate::tier::codec::Codec<K, V>);

/// Without the tier layer there is no codec.
#[cfg(not(feature = "tier"))]
#[derive(Debug)]
pub struct TierCodec<K, V>(PhantomData<fn(K, V)>);

/// Picks the serde codec when the key serializes and the value (de)serializes, nothing
/// otherwise, by autoref-based dispatch like `WeighWith`: the generated code asserts the
/// bounds separately, on the offending type's token.
#[derive(Debug)]
pub struct CodecWith<K, V>(PhantomData<fn(&K, &V)>);

impl<K, V> CodecWith<K, V> {
    /// The dispatch token.
    pub const fn new() -> Self {
        CodecWith(PhantomData)
    }
}

impl<K, V> Default for CodecWith<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// The serde codec, chosen when it applies.
pub trait SerdeCodec<K, V> {
    /// The codec.
    fn codec(&self) -> Option<TierCodec<K, V>>;
}

#[cfg(feature = "tier")]
impl<K, V> SerdeCodec<K, V> for CodecWith<K, V>
where
    K: serde::Serialize,
    V: serde::Serialize + serde::de::DeserializeOwned,
{
    fn codec(&self) -> Option<TierCodec<K, V>> {
        Some(TierCodec(crate::tier::codec::Codec::serde()))
    }
}

/// No codec: the fallback.
pub trait NoCodec<K, V> {
    /// Nothing.
    fn codec(&self) -> Option<TierCodec<K, V>>;
}

impl<K, V> NoCodec<K, V> for &CodecWith<K, V> {
    fn codec(&self) -> Option<TierCodec<K, V>> {
        None
    }
}

/// What a part of the key of a memoized function with a tier must be.
#[cfg(feature = "tier")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of the key of a cache with a tier: it does not implement `serde::Serialize`",
    label = "this argument is part of the key, which a tier stores",
    note = "with `disk` or `redis`, each key part implements `serde::Serialize` (derive it with serde's `derive` feature)",
    note = "or leave the argument out of the key with `#[exclude]`, or give the key with `key = ..., key_type = ...`"
)]
pub trait TierKey: serde::Serialize {}
#[cfg(feature = "tier")]
impl<T: ?Sized + serde::Serialize> TierKey for T {}
/// Checked only with the tier features.
#[cfg(not(feature = "tier"))]
pub trait TierKey {}
#[cfg(not(feature = "tier"))]
impl<T: ?Sized> TierKey for T {}

/// What the cached value of a memoized function with a tier must be.
#[cfg(feature = "tier")]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be cached in a tier: it does not implement `serde::Serialize` and `serde::Deserialize`",
    label = "this value is stored in a tier",
    note = "with `disk` or `redis`, the cached value implements `serde::Serialize` and `serde::de::DeserializeOwned` (derive them with serde's `derive` feature)"
)]
pub trait TierValue: serde::Serialize + serde::de::DeserializeOwned {}
#[cfg(feature = "tier")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> TierValue for T {}
/// Checked only with the tier features.
#[cfg(not(feature = "tier"))]
pub trait TierValue {}
#[cfg(not(feature = "tier"))]
impl<T: ?Sized> TierValue for T {}

/// Asserts [`TierKey`] where the generated code calls it.
pub const fn assert_tier_key<T: ?Sized + TierKey>() {}

/// Asserts [`TierValue`] where the generated code calls it.
pub const fn assert_tier_value<T: TierValue>() {}
