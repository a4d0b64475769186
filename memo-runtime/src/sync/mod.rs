//! Synchronization: the primitives (in one place so that a model checker can swap them), the
//! read-mostly lock that shards live behind, and the thread numbers that give each reader its
//! own slot of that lock.

pub(crate) mod read_mostly;
pub(crate) mod thread_id;

pub(crate) use parking_lot::Mutex;

/// Aligns a value to its own cache lines so that threads writing neighbouring shards do not
/// invalidate each other's lines (128 bytes: x86 prefetches cache lines in pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
