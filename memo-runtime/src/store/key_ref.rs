//! Looking up a tuple of owned arguments by a tuple of borrowed ones, without cloning.

use std::hash::{Hash, Hasher};

use hashbrown::Equivalent;

/// A tuple of references that hashes and compares like the tuple of owned values it borrows
/// from: `KeyRef((&str, &u64))` finds the key `(String, u64)`.
///
/// A tuple's `Hash` hashes its fields in order with no prefix, and `Borrow` requires a borrowed
/// form to hash like its owner, so both tuples feed the hasher the same bytes.
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, KeyRef};
///
/// let cache: FaasCacheDict<(String, u64), u32> = FaasCacheDict::new();
/// cache.insert(("fr".to_owned(), 7), 1)?;
/// assert_eq!(cache.get(&KeyRef(("fr", &7u64))), Some(1));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<T>(pub T);

macro_rules! key_ref {
    ($($Q:ident $K:ident $i:tt),+) => {
        impl<'a, $($Q: ?Sized + Hash),+> Hash for KeyRef<($(&'a $Q,)+)> {
            #[inline]
            fn hash<H: Hasher>(&self, state: &mut H) {
                $( self.0.$i.hash(state); )+
            }
        }

        impl<'a, $($Q: ?Sized + Equivalent<$K>, $K),+> Equivalent<($($K,)+)>
            for KeyRef<($(&'a $Q,)+)>
        {
            #[inline]
            fn equivalent(&self, key: &($($K,)+)) -> bool {
                $( self.0.$i.equivalent(&key.$i) )&&+
            }
        }
    };
}

key_ref!(Q0 K0 0);
key_ref!(Q0 K0 0, Q1 K1 1);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6, Q7 K7 7);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6, Q7 K7 7, Q8 K8 8);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6, Q7 K7 7, Q8 K8 8,
         Q9 K9 9);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6, Q7 K7 7, Q8 K8 8,
         Q9 K9 9, Q10 K10 10);
key_ref!(Q0 K0 0, Q1 K1 1, Q2 K2 2, Q3 K3 3, Q4 K4 4, Q5 K5 5, Q6 K6 6, Q7 K7 7, Q8 K8 8,
         Q9 K9 9, Q10 K10 10, Q11 K11 11);

/// An `Option<&Q>` that hashes and compares like the `Option<K>` it borrows from:
/// `OptionRef(Some("fr"))` finds the key `Some("fr".to_owned())`. The lookup form of an
/// `Option<&str>` argument of a memoized function, whose key holds an `Option<String>`.
///
/// Both are `Option`s, whose derived `Hash` feeds the same discriminant, then the payload,
/// which hashes alike since `K: Borrow<Q>`.
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, KeyRef, OptionRef};
///
/// let cache: FaasCacheDict<(Option<String>,), u32> = FaasCacheDict::new();
/// cache.insert((Some("fr".to_owned()),), 1)?;
/// cache.insert((None,), 2)?;
/// assert_eq!(cache.get(&KeyRef((&OptionRef(Some("fr")),))), Some(1));
/// assert_eq!(cache.get(&KeyRef((&OptionRef::<str>(None),))), Some(2));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug)]
pub struct OptionRef<'a, Q: ?Sized>(pub Option<&'a Q>);

impl<Q: ?Sized> Clone for OptionRef<'_, Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q: ?Sized> Copy for OptionRef<'_, Q> {}

impl<Q: ?Sized + Hash> Hash for OptionRef<'_, Q> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<Q: ?Sized + Equivalent<K>, K> Equivalent<Option<K>> for OptionRef<'_, Q> {
    #[inline]
    fn equivalent(&self, key: &Option<K>) -> bool {
        match (self.0, key) {
            (Some(q), Some(k)) => q.equivalent(k),
            (None, None) => true,
            _ => false,
        }
    }
}

/// A slice of references, `&[&Q]`, that hashes and compares like the `Vec<K>` (or `[K]`) it
/// borrows from: `SliceRef(&["a", "b"])` finds the key `vec!["a".to_owned(), "b".to_owned()]`.
/// The lookup form of a `&[&str]` argument of a memoized function, whose key holds a
/// `Vec<String>`.
///
/// A slice hashes its length, then each element in turn; the element types of std that hash a
/// whole slice at once instead (the integers) would hash differently from their references,
/// which is why `#[faas_cached]` refuses `&[&u64]` (take `&[u64]`).
///
/// # Examples
///
/// ```
/// use memo_runtime::{FaasCacheDict, KeyRef, SliceRef};
///
/// let cache: FaasCacheDict<(Vec<String>,), usize> = FaasCacheDict::new();
/// cache.insert((vec!["a".to_owned(), "b".to_owned()],), 2)?;
/// let words: &[&str] = &["a", "b"];
/// assert_eq!(cache.get(&KeyRef((&SliceRef(words),))), Some(2));
/// # Ok::<(), memo_runtime::CacheError>(())
/// ```
#[derive(Debug)]
pub struct SliceRef<'a, Q: ?Sized>(pub &'a [&'a Q]);

impl<Q: ?Sized> Clone for SliceRef<'_, Q> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q: ?Sized> Copy for SliceRef<'_, Q> {}

impl<Q: ?Sized + Hash> Hash for SliceRef<'_, Q> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `<[&Q]>::hash`: the length, then each `&Q`, which hashes as `Q` (references do not
        // override `hash_slice`).
        self.0.hash(state);
    }
}

impl<Q: ?Sized + Equivalent<K>, K> Equivalent<Vec<K>> for SliceRef<'_, Q> {
    #[inline]
    fn equivalent(&self, key: &Vec<K>) -> bool {
        self.0.len() == key.len() && self.0.iter().zip(key).all(|(q, k)| q.equivalent(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn borrowed_tuples_hash_and_compare_like_owned_ones() {
        let state = crate::DefaultHashBuilder::default();
        let owned = ("fr".to_owned(), 7u64, vec![1u8, 2], 'x');
        let bytes: &[u8] = &[1, 2];
        let borrowed = KeyRef(("fr", &7u64, bytes, &'x'));
        assert_eq!(state.hash_one(&owned), state.hash_one(borrowed));
        assert!(borrowed.equivalent(&owned));
        let other = KeyRef(("de", &7u64, bytes, &'x'));
        assert!(!other.equivalent(&owned));
        assert_eq!(
            state.hash_one(("a".to_owned(),)),
            state.hash_one(KeyRef(("a",)))
        );
    }

    #[test]
    fn options_of_references_hash_and_compare_like_owned_options() {
        let state = crate::DefaultHashBuilder::default();
        let some: Option<String> = Some("fr".to_owned());
        let none: Option<String> = None;
        assert_eq!(state.hash_one(&some), state.hash_one(OptionRef(Some("fr"))));
        assert_eq!(
            state.hash_one(&none),
            state.hash_one(OptionRef::<str>(None))
        );
        assert!(OptionRef(Some("fr")).equivalent(&some));
        assert!(!OptionRef(Some("de")).equivalent(&some));
        assert!(!OptionRef::<str>(None).equivalent(&some));
        assert!(OptionRef::<str>(None).equivalent(&none));
        assert!(!OptionRef(Some("fr")).equivalent(&none));
        // `Option<&[u8]>` against `Option<Vec<u8>>`, inside a key tuple.
        let owned = (Some(vec![1u8, 2]), 7u64);
        let bytes: &[u8] = &[1, 2];
        let borrowed = KeyRef((&OptionRef(Some(bytes)), &7u64));
        assert_eq!(state.hash_one(&owned), state.hash_one(borrowed));
        assert!(borrowed.equivalent(&owned));
    }

    #[test]
    fn slices_of_references_hash_and_compare_like_owned_vectors() {
        let state = crate::DefaultHashBuilder::default();
        let owned = vec!["a".to_owned(), "bc".to_owned()];
        let words: &[&str] = &["a", "bc"];
        assert_eq!(state.hash_one(&owned), state.hash_one(SliceRef(words)));
        assert!(SliceRef(words).equivalent(&owned));
        // The same characters split differently, fewer and more elements: all different.
        for other in [&["ab", "c"][..], &["a"], &["a", "bc", ""], &[]] {
            assert!(!SliceRef(other).equivalent(&owned), "{other:?}");
        }
        let empty: Vec<String> = Vec::new();
        assert_eq!(state.hash_one(&empty), state.hash_one(SliceRef::<str>(&[])));
        assert!(SliceRef::<str>(&[]).equivalent(&empty));
        let paths = vec![std::path::PathBuf::from("/tmp")];
        let borrowed: &[&std::path::Path] = &[std::path::Path::new("/tmp")];
        assert_eq!(state.hash_one(&paths), state.hash_one(SliceRef(borrowed)));
    }
}
