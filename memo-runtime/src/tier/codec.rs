//! Keys and values as bytes: the envelope a tier stores, and the key hash it is found by.
//!
//! **Format: postcard.** Keys and values go through serde into
//! [postcard](https://docs.rs/postcard): a compact, non-self-describing binary format (varint
//! integers, length-prefixed strings and sequences, no field names), so a 1 KiB value costs
//! about 1 KiB and a `(u64, String)` key a few bytes more than its text. It is maintained, has
//! a documented and stable wire format (1.0 since 2022, its specification versioned), needs no
//! schema, and encodes and decodes in one pass without allocating beyond the output. bincode
//! (less compact, its 2.0 wire format differs from 1.x), MessagePack and CBOR (self-describing:
//! field names or tags in every value) and JSON (text) were the alternatives.
//!
//! **The envelope**, version 1, in this order:
//!
//! | bytes | field |
//! | --- | --- |
//! | 1 | magic `0xFA` |
//! | 1 | envelope version (`1`) |
//! | 8 | fingerprint of the key and value types (little-endian) |
//! | 8 | absolute expiry, milliseconds since the Unix epoch, `0` for none (little-endian) |
//! | 4 | length of the key bytes (little-endian) |
//! | n | the key, postcard |
//! | rest | the value, postcard |
//!
//! The full key is stored so that two keys with the same hash are told apart (a collision is a
//! miss, never the other key's value); the type fingerprint so that a value written for other
//! types (a namespace pinned with `version` across a change of the return type) is a miss
//! rather than a misread: postcard would happily decode a `u32` as a `u64`. An entry that fails
//! any check is a miss, and the layer deletes it.
//!
//! **The key hash** is xxh3-64 of the key's postcard bytes: the same in every process, build
//! and platform (unlike std's and aHash's per-process random keys, which protect the memory
//! store against HashDoS). A tier needs no such protection: a forced collision only turns hits
//! into misses.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// First byte of every envelope.
const MAGIC: u8 = 0xFA;
/// The envelope's layout version; a reader skips (and deletes) any other.
pub(crate) const ENVELOPE_VERSION: u8 = 1;
const HEADER: usize = 1 + 1 + 8 + 8 + 4;

/// A hash of `bytes` that is the same in every process, build and platform.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// A key encoded for the tiers: its bytes and their hash.
#[derive(Debug, Clone)]
pub(crate) struct EncodedKey {
    pub(crate) bytes: Vec<u8>,
    pub(crate) hash: u64,
}

/// How the tier layer serializes one store's keys and values, as function pointers created
/// where the serde bounds are known (the builder), so that the store's own methods need none.
pub(crate) struct Codec<K, V> {
    encode_key: fn(&K) -> Result<Vec<u8>, String>,
    encode_value: fn(&V, &mut Vec<u8>) -> Result<(), String>,
    decode_value: fn(&[u8]) -> Result<V, String>,
    fingerprint: u64,
}

impl<K, V> Clone for Codec<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for Codec<K, V> {}

impl<K, V> std::fmt::Debug for Codec<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// What a stored envelope held, once checked against the reader's key and types.
#[derive(Debug)]
pub(crate) enum Decoded<V> {
    /// The value, and its expiry.
    Value(V, Option<SystemTime>),
    /// The entry has expired.
    Expired,
    /// The entry is another key's (a hash collision): leave it.
    OtherKey,
    /// The entry is damaged, of another envelope version or of other types: delete it.
    Invalid(String),
}

impl<K: Serialize, V: Serialize + DeserializeOwned> Codec<K, V> {
    /// The serde codec of `K` and `V`.
    pub(crate) fn serde() -> Self {
        Codec {
            encode_key: |k| postcard::to_allocvec(k).map_err(|e| e.to_string()),
            encode_value: |v, out| {
                postcard::to_extend(v, std::mem::take(out))
                    .map(|bytes| *out = bytes)
                    .map_err(|e| e.to_string())
            },
            decode_value: |bytes| postcard::from_bytes(bytes).map_err(|e| e.to_string()),
            fingerprint: type_fingerprint::<K, V>(),
        }
    }
}

/// A hash of the key and value types' names. `type_name` is not guaranteed stable across
/// compiler versions: a new compiler may thus turn old entries into misses, never into
/// misreads.
fn type_fingerprint<K, V>() -> u64 {
    let names = format!(
        "{}\0{}",
        std::any::type_name::<K>(),
        std::any::type_name::<V>()
    );
    stable_hash(names.as_bytes())
}

impl<K, V> Codec<K, V> {
    pub(crate) fn key(&self, key: &K) -> Result<EncodedKey, String> {
        let bytes = (self.encode_key)(key)?;
        Ok(EncodedKey {
            hash: stable_hash(&bytes),
            bytes,
        })
    }

    /// The envelope of `value` for `key`, expiring at `expires`.
    pub(crate) fn envelope(
        &self,
        key: &EncodedKey,
        value: &V,
        expires: Option<SystemTime>,
    ) -> Result<Vec<u8>, String> {
        let key_len = u32::try_from(key.bytes.len()).map_err(|_| "key over 4 GiB".to_owned())?;
        let mut out = Vec::with_capacity(HEADER + key.bytes.len() + 64);
        out.push(MAGIC);
        out.push(ENVELOPE_VERSION);
        out.extend_from_slice(&self.fingerprint.to_le_bytes());
        out.extend_from_slice(&expiry_millis(expires).to_le_bytes());
        out.extend_from_slice(&key_len.to_le_bytes());
        out.extend_from_slice(&key.bytes);
        (self.encode_value)(value, &mut out)?;
        Ok(out)
    }

    /// Checks and decodes an envelope read for `key` at wall-clock time `now`.
    pub(crate) fn open(&self, key: &EncodedKey, bytes: &[u8], now: SystemTime) -> Decoded<V> {
        let header = match parse_header(bytes) {
            Ok(header) => header,
            Err(why) => return Decoded::Invalid(why),
        };
        if header.fingerprint != self.fingerprint {
            return Decoded::Invalid("written for other key or value types".to_owned());
        }
        if header.key != key.bytes.as_slice() {
            return Decoded::OtherKey;
        }
        let expires = header.expires;
        if expires.is_some_and(|at| at <= now) {
            return Decoded::Expired;
        }
        match (self.decode_value)(header.value) {
            Ok(value) => Decoded::Value(value, expires),
            Err(why) => Decoded::Invalid(format!("value does not decode: {why}")),
        }
    }
}

struct Header<'a> {
    fingerprint: u64,
    expires: Option<SystemTime>,
    key: &'a [u8],
    value: &'a [u8],
}

fn parse_header(bytes: &[u8]) -> Result<Header<'_>, String> {
    if bytes.len() < HEADER || bytes[0] != MAGIC {
        return Err("not a faas-memo envelope".to_owned());
    }
    if bytes[1] != ENVELOPE_VERSION {
        return Err(format!(
            "envelope version {} (this build reads {ENVELOPE_VERSION})",
            bytes[1]
        ));
    }
    let u64_at = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let fingerprint = u64_at(2);
    let expires = match u64_at(10) {
        0 => None,
        millis => Some(UNIX_EPOCH + Duration::from_millis(millis)),
    };
    let mut len = [0; 4];
    len.copy_from_slice(&bytes[18..22]);
    let key_len = u32::from_le_bytes(len) as usize;
    let rest = &bytes[HEADER..];
    if rest.len() < key_len {
        return Err("truncated envelope".to_owned());
    }
    let (key, value) = rest.split_at(key_len);
    Ok(Header {
        fingerprint,
        expires,
        key,
        value,
    })
}

/// Milliseconds since the Unix epoch, rounded up so that an entry never outlives its TTL by
/// less than a millisecond's rounding the wrong way; `0` for no expiry.
pub(crate) fn expiry_millis(expires: Option<SystemTime>) -> u64 {
    match expires {
        None => 0,
        Some(at) => {
            let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
            let millis = since.as_millis() + u128::from(since.subsec_nanos() % 1_000_000 != 0);
            u64::try_from(millis).unwrap_or(u64::MAX).max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> Codec<(u64, String), Vec<u8>> {
        Codec::serde()
    }

    #[test]
    fn an_envelope_round_trips() {
        let codec = codec();
        let key = codec.key(&(7, "fr".to_owned())).unwrap();
        let now = SystemTime::now();
        let expires = now + Duration::from_secs(60);
        let bytes = codec.envelope(&key, &vec![1, 2, 3], Some(expires)).unwrap();
        match codec.open(&key, &bytes, now) {
            Decoded::Value(v, Some(at)) => {
                assert_eq!(v, [1, 2, 3]);
                // Rounded up to the millisecond.
                assert!(at >= expires && at < expires + Duration::from_millis(1));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            codec.open(&key, &bytes, expires + Duration::from_millis(1)),
            Decoded::Expired
        ));
    }

    #[test]
    fn the_key_hash_is_stable() {
        // Fixed for all time: the same key must land on the same row in every build.
        let key = codec().key(&(7, "fr".to_owned())).unwrap();
        assert_eq!(key.bytes, [7, 2, b'f', b'r']);
        assert_eq!(key.hash, stable_hash(&[7, 2, b'f', b'r']));
        assert_eq!(stable_hash(b""), 0x2d06_8005_38d3_94c2);
    }

    #[test]
    fn another_key_with_the_same_hash_is_not_returned() {
        let codec = codec();
        let key = codec.key(&(1, "a".to_owned())).unwrap();
        let bytes = codec.envelope(&key, &vec![9], None).unwrap();
        let mut other = codec.key(&(2, "a".to_owned())).unwrap();
        other.hash = key.hash; // a collision
        assert!(matches!(
            codec.open(&other, &bytes, SystemTime::now()),
            Decoded::OtherKey
        ));
    }

    #[test]
    fn damaged_or_foreign_envelopes_are_invalid() {
        let codec = codec();
        let key = codec.key(&(1, "a".to_owned())).unwrap();
        let good = codec.envelope(&key, &vec![9; 10], None).unwrap();
        let now = SystemTime::now();
        let invalid = |bytes: &[u8]| matches!(codec.open(&key, bytes, now), Decoded::Invalid(_));
        assert!(invalid(b"garbage"));
        assert!(invalid(&good[..HEADER + 2]));
        let mut newer = good.clone();
        newer[1] = ENVELOPE_VERSION + 1;
        assert!(invalid(&newer));
        // The value's length prefix claims more bytes than there are.
        assert!(invalid(&good[..good.len() - 3]));
        // Other types, same bytes.
        let other: Codec<(u64, String), Vec<u16>> = Codec::serde();
        assert!(matches!(
            other.open(&key, &good, now),
            Decoded::Invalid(why) if why.contains("other key or value types")
        ));
    }
}
