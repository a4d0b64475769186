//! Free functions of each visibility keep their doc comments and other attributes; the helpers
//! get the function's visibility.

mod api {
    use memo_runtime::faas_cached;

    /// Public, inlined, `must_use`.
    #[faas_cached]
    #[inline]
    #[must_use]
    pub fn public(n: u32) -> u32 {
        n + 1
    }

    /// Crate-visible, with a lint allowed on it.
    #[faas_cached(max_items = 4)]
    #[allow(clippy::needless_pass_by_value)]
    pub(crate) fn crate_visible(text: String) -> usize {
        text.len()
    }

    /// Private: only this module sees it and its helpers.
    #[faas_cached]
    #[inline(always)]
    #[allow(unused_mut)]
    fn private(mut n: u32) -> u32 {
        n *= 2;
        n
    }

    pub(super) fn call_private() -> u32 {
        let n = private(2);
        assert_eq!(private_cache_info().misses, 1);
        n
    }

    pub mod inner {
        /// Visible to the parent module only.
        #[memo_runtime::faas_cached]
        pub(in crate::api) fn restricted(n: u8) -> u8 {
            n
        }

        #[doc = "A doc attribute written out."]
        #[memo_runtime::faas_cached]
        #[cfg_attr(test, allow(dead_code))]
        pub(super) fn for_parent(n: u8) -> u8 {
            restricted(n)
        }
    }

    pub(crate) fn call_inner() -> u8 {
        inner::restricted_cache_clear();
        inner::for_parent(3) + inner::restricted(1) + u8::from(inner::for_parent_invalidate(3))
    }
}

fn main() {
    assert_eq!(api::public(1), 2);
    assert_eq!(api::public_cache_info().misses, 1);
    assert!(api::public_invalidate(1));
    assert_eq!(api::crate_visible("abc".to_owned()), 3);
    assert!(api::crate_visible_cache().contains_key(&("abc".to_owned(),)));
    assert_eq!(api::call_private(), 4);
    assert_eq!(api::call_inner(), 5);
}
