//! [`Namespace`]: which entries of a shared tier belong to one cache.

use std::fmt;

/// The part of a shared tier that belongs to one cache: a [`name`](Self::name) (for a memoized
/// function, `module::path::function`, or its `name` option) and a [`tag`](Self::tag) that
/// changes when the function's code does.
///
/// For `#[faas_cached]`, the tag is the crate's version and a hash of the function's tokens
/// (its signature and body), so that changing the code makes the old entries unreachable (and
/// a tier reclaims them: the entries of other tags of the same name are stale); the `version =
/// "..."` option replaces it, for results that should survive a code change. A store built by
/// hand has the tag given to [`Builder::version`](crate::Builder::version), empty by default.
///
/// A tier addresses the namespace by [`id`](Self::id), a hash of name and tag that is the same
/// in every process and build, or by its text, [`as_str`](Self::as_str).
///
/// # Examples
///
/// ```
/// use memo_runtime::tier::Namespace;
///
/// let ns = Namespace::new("app::user_profile", "v2");
/// assert_eq!(ns.as_str(), "app::user_profile#v2");
/// assert_eq!(ns.id(), Namespace::new("app::user_profile", "v2").id());
/// assert_ne!(ns.id(), Namespace::new("app::user_profile", "v3").id());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    full: String,
    name_len: usize,
    id: u64,
}

impl Namespace {
    /// The namespace of `name` at `tag`.
    pub fn new(name: &str, tag: &str) -> Self {
        let full = format!("{name}#{tag}");
        // Hashed with a separator that names do not contain, so that `a#b` + `c` and `a` +
        // `b#c` differ.
        let id = crate::tier::codec::stable_hash(format!("{name}\0{tag}").as_bytes());
        Namespace {
            id,
            name_len: name.len(),
            full,
        }
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        &self.full[..self.name_len]
    }

    /// The version tag.
    pub fn tag(&self) -> &str {
        &self.full[self.name_len + 1..]
    }

    /// `name#tag`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// A hash of [`as_str`](Self::as_str), the same in every process and build.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({:?})", self.full)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}
