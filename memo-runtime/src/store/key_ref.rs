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
}
